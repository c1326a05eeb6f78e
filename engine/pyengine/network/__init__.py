"""The network domain: bridge networks, container endpoints (veth, address, route), published
ports, embedded DNS and the files /etc/hosts, /etc/hostname and /etc/resolv.conf of containers.

service.py (NetworkService) is the domain; model.py its values; the rest are its parts."""
