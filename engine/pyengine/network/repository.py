"""The network domain's tables (migration 4) over the engine's one `Database`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from pyengine.errors import AlreadyExists, FailedPrecondition, NotFound
from pyengine.network import ipam
from pyengine.network.model import IpamPool, Network, PortMapping
from pyengine.store import Database
from pyengine.store.read_cache import ReadCache

NET_COLUMNS = ("id, name, driver, created, bridge, internal, mtu, pools, labels, options, ipv6, "
               "ipam_options")
EP_COLUMNS = ("e.container_id, e.network_id, e.container_name, e.position, e.endpoint_id, "
              "e.ip, e.aliases, e.links, e.mac, e.host_ifname, e.ifname, a.address, e.ip6, "
              "e.link_local, e.driver_opts, a6.address")
NET_MARKS = ",".join("?" * len(NET_COLUMNS.split(",")))
V6 = "'%:%'"  # an IPv6 address (ip_allocations holds both families)


@dataclass
class EndpointRecord:
    """A container's endpoint on a network: its config from create/connect, and while the
    container runs, its links' names and its address."""

    container_id: str
    network_id: str
    container_name: str
    position: int  # the order the container joined its networks in: eth0, eth1, ...
    endpoint_id: str
    ip: str = ""  # requested (--ip)
    aliases: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    mac: str = ""  # requested (--mac-address)
    host_ifname: str = ""  # "" while not attached
    ifname: str = ""
    address: str = ""  # held from start to exit
    ip6: str = ""  # requested (--ip6)
    link_local: tuple[str, ...] = ()
    driver_opts: dict[str, str] = field(default_factory=dict)
    address6: str = ""  # held from start to exit on an IPv6 network

    @property
    def active(self) -> bool:
        return bool(self.address)


def _network(row: tuple) -> Network:
    (nid, name, driver, created, bridge, internal, mtu, pools, labels, options, ipv6,
     ipam_options) = row
    return Network(id=nid, name=name, driver=driver, created=created, bridge=bridge,
                   pools=[IpamPool(**p) for p in json.loads(pools)], internal=bool(internal),
                   labels=json.loads(labels), options=json.loads(options), mtu=mtu,
                   ipv6=bool(ipv6), ipam_options=json.loads(ipam_options))


def _endpoint(row: tuple) -> EndpointRecord:
    (cid, nid, cname, position, eid, ip, aliases, links, mac, host_ifname, ifname,
     address, ip6, link_local, driver_opts, address6) = row
    return EndpointRecord(cid, nid, cname, position, eid, ip, tuple(json.loads(aliases)),
                          tuple(json.loads(links)), mac, host_ifname, ifname, address or "",
                          ip6, tuple(json.loads(link_local)), json.loads(driver_opts),
                          address6 or "")


_EP_SELECT = (f"SELECT {EP_COLUMNS} FROM endpoints e LEFT JOIN ip_allocations a "
              "ON a.network_id = e.network_id AND a.container_id = e.container_id "
              f"AND a.address NOT LIKE {V6} LEFT JOIN ip_allocations a6 "
              "ON a6.network_id = e.network_id AND a6.container_id = e.container_id "
              f"AND a6.address LIKE {V6}")


class NetworkRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.rows = ReadCache(db)  # its tables are written by it alone

    # -- networks ---------------------------------------------------------------------------

    def add_network(self, n: Network) -> None:
        with self.rows.transaction() as conn:
            if conn.execute("SELECT 1 FROM networks WHERE name=?", (n.name,)).fetchone():
                raise AlreadyExists(f"network with name {n.name} already exists")
            conn.execute(f"INSERT INTO networks({NET_COLUMNS}) VALUES ({NET_MARKS})",
                         _network_row(n))

    def update_network(self, n: Network) -> None:
        with self.rows.transaction() as conn:
            conn.execute("DELETE FROM networks WHERE id=?", (n.id,))
            conn.execute(f"INSERT INTO networks({NET_COLUMNS}) VALUES ({NET_MARKS})",
                         _network_row(n))

    def networks(self) -> list[Network]:
        rows = self.rows.query(f"SELECT {NET_COLUMNS} FROM networks ORDER BY created, name")
        return [_network(r) for r in rows]

    def network(self, nid: str) -> Network:
        rows = self.rows.query(f"SELECT {NET_COLUMNS} FROM networks WHERE id=?", (nid,))
        if not rows:
            raise NotFound(f"network {nid} not found")
        return _network(rows[0])

    def find(self, ref: str) -> Network:
        """By exact name, exact id, then a unique id prefix (docker's order)."""
        for column in ("name", "id"):
            rows = self.rows.query(f"SELECT {NET_COLUMNS} FROM networks WHERE {column}=?",
                                 (ref,))
            if rows:
                return _network(rows[0])
        if ref:
            rows = self.rows.query(f"SELECT {NET_COLUMNS} FROM networks WHERE id LIKE ? "
                                 "ESCAPE '\\'", (_like_prefix(ref),))
            if len(rows) == 1:
                return _network(rows[0])
            if len(rows) > 1:
                raise FailedPrecondition(
                    f"network {ref} is ambiguous ({len(rows)} matches found based on ID "
                    "prefix)")
        raise NotFound(f"network {ref} not found")

    def remove_network(self, n: Network, check: Callable[[list[EndpointRecord]], None]
                       ) -> None:
        """Forget `n` once `check` accepted its endpoints (it raises to refuse), atomically."""
        with self.rows.transaction() as conn:
            rows = conn.execute(f"{_EP_SELECT} WHERE e.network_id=?", (n.id,)).fetchall()
            check([_endpoint(r) for r in rows])
            conn.execute("DELETE FROM ip_allocations WHERE network_id=?", (n.id,))
            conn.execute("DELETE FROM endpoints WHERE network_id=?", (n.id,))
            conn.execute("DELETE FROM networks WHERE id=?", (n.id,))

    # -- endpoints --------------------------------------------------------------------------

    def add_endpoint(self, e: EndpointRecord) -> EndpointRecord:
        """Record `e` after the container's other endpoints (its position is set here)."""
        with self.rows.transaction() as conn:
            if conn.execute("SELECT 1 FROM endpoints WHERE container_id=? AND network_id=?",
                            (e.container_id, e.network_id)).fetchone():
                raise AlreadyExists(f"endpoint with name {e.container_name} already exists "
                                    "in network")
            row = conn.execute("SELECT COALESCE(MAX(position), -1) FROM endpoints "
                               "WHERE container_id=?", (e.container_id,)).fetchone()
            e.position = int(row[0]) + 1
            conn.execute(
                "INSERT INTO endpoints(container_id, network_id, container_name, position, "
                "endpoint_id, ip, aliases, links, mac, host_ifname, ifname, ip6, link_local, "
                "driver_opts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (e.container_id, e.network_id, e.container_name, e.position, e.endpoint_id,
                 e.ip, json.dumps(list(e.aliases)), json.dumps(list(e.links)), e.mac,
                 e.host_ifname, e.ifname, e.ip6, json.dumps(list(e.link_local)),
                 json.dumps(e.driver_opts, sort_keys=True)))
        return e

    def remove_endpoint(self, cid: str, nid: str) -> None:
        with self.rows.transaction() as conn:
            conn.execute("DELETE FROM ip_allocations WHERE container_id=? AND network_id=?",
                         (cid, nid))
            conn.execute("DELETE FROM endpoints WHERE container_id=? AND network_id=?",
                         (cid, nid))

    def endpoints_of(self, cid: str) -> list[EndpointRecord]:
        rows = self.rows.query(f"{_EP_SELECT} WHERE e.container_id=? ORDER BY e.position",
                             (cid,))
        return [_endpoint(r) for r in rows]

    def endpoints_on(self, nid: str) -> list[EndpointRecord]:
        rows = self.rows.query(f"{_EP_SELECT} WHERE e.network_id=? ORDER BY e.container_name",
                             (nid,))
        return [_endpoint(r) for r in rows]

    def all_endpoints(self) -> list[EndpointRecord]:
        return [_endpoint(r) for r in self.rows.query(_EP_SELECT)]

    def set_name(self, cid: str, name: str) -> None:
        with self.rows.transaction() as conn:
            conn.execute("UPDATE endpoints SET container_name=? WHERE container_id=?",
                         (name, cid))

    def claim(self, cid: str, n: Network, requested: str = "", host_ifname: str = "",
              ifname: str = "", requested6: str = "",
              aliases: tuple[str, ...] | None = None) -> tuple[str, str]:
        """The addresses of `n` for `cid`'s endpoint (ipam.allocate over those held): IPv4,
        and IPv6 on an IPv6 network (else ""), recorded with the endpoint's link names (and
        its `aliases`, when given), in one transaction: two starts never get one address.
        Addresses `cid` already holds on `n` are kept."""
        with self.rows.transaction() as conn:
            held = {ipam.is_v6(r[0]): str(r[0]) for r in conn.execute(
                "SELECT address FROM ip_allocations WHERE network_id=? AND container_id=?",
                (n.id, cid))}
            taken = [r[0] for r in conn.execute(
                "SELECT address FROM ip_allocations WHERE network_id=?", (n.id,))]
            wanted = [(n.pools[0], requested, False)]
            if n.pool6 is not None:
                wanted.append((n.pool6, requested6, True))
            out = []
            for pool, asked, v6 in wanted:
                address = held.get(v6, "")
                if not address:
                    address = ipam.allocate(pool, [a for a in taken if ipam.is_v6(a) == v6],
                                            asked, n.name)
                    conn.execute("INSERT INTO ip_allocations(network_id, address, "
                                 "container_id) VALUES (?,?,?)", (n.id, address, cid))
                out.append(address)
            conn.execute("UPDATE endpoints SET host_ifname=?, ifname=? "
                         "WHERE container_id=? AND network_id=?",
                         (host_ifname, ifname, cid, n.id))
            if aliases is not None:
                conn.execute("UPDATE endpoints SET aliases=? WHERE container_id=? AND "
                             "network_id=?", (json.dumps(list(aliases)), cid, n.id))
        return out[0], out[1] if len(out) > 1 else ""

    def taken(self, nid: str) -> set[str]:
        return {r[0] for r in self.rows.query(
            "SELECT address FROM ip_allocations WHERE network_id=?", (nid,))}

    def deactivate(self, cid: str, nid: str | None = None) -> None:
        """Addresses released and links forgotten: of one endpoint, or all of `cid`'s."""
        where, args = ("container_id=?", (cid,)) if nid is None else \
            ("container_id=? AND network_id=?", (cid, nid))
        with self.rows.transaction() as conn:
            conn.execute(f"DELETE FROM ip_allocations WHERE {where}", args)
            conn.execute(f"UPDATE endpoints SET host_ifname='', ifname='' WHERE {where}",
                         args)

    def forget_container(self, cid: str) -> None:
        with self.rows.transaction() as conn:
            for table in ("ip_allocations", "endpoints", "port_mappings"):
                conn.execute(f"DELETE FROM {table} WHERE container_id=?", (cid,))

    def containers_holding(self) -> set[str]:
        """Ids of containers holding an address or a port."""
        rows = self.rows.query("SELECT container_id FROM ip_allocations UNION "
                             "SELECT container_id FROM port_mappings")
        return {r[0] for r in rows}

    # -- ports ------------------------------------------------------------------------------

    def add_ports(self, cid: str, ports: list[PortMapping]) -> None:
        with self.rows.transaction() as conn:
            for p in ports:
                held = conn.execute("SELECT container_id FROM port_mappings WHERE host_ip=? "
                                    "AND host_port=? AND proto=?",
                                    (p.host_ip, p.host_port, p.proto)).fetchone()
                if held is not None:
                    raise FailedPrecondition(f"Bind for {p.host_ip or '0.0.0.0'}:{p.host_port} "
                                             "failed: port is already allocated")
                conn.execute("INSERT INTO port_mappings(container_id, host_ip, host_port, "
                             "proto, container_port) VALUES (?,?,?,?,?)",
                             (cid, p.host_ip, p.host_port, p.proto, p.container_port))

    def ports_of(self, cid: str) -> list[PortMapping]:
        rows = self.rows.query("SELECT container_port, proto, host_ip, host_port FROM "
                             "port_mappings WHERE container_id=? ORDER BY container_port, "
                             "proto, host_ip, host_port", (cid,))
        return [PortMapping(*r) for r in rows]

    def all_ports(self) -> dict[str, list[PortMapping]]:
        out: dict[str, list[PortMapping]] = {}
        for cid, cport, proto, hip, hport in self.rows.query(
                "SELECT container_id, container_port, proto, host_ip, host_port FROM "
                "port_mappings ORDER BY container_id, container_port"):
            out.setdefault(cid, []).append(PortMapping(cport, proto, hip, hport))
        return out

    def release_ports(self, cid: str) -> None:
        with self.rows.transaction() as conn:
            conn.execute("DELETE FROM port_mappings WHERE container_id=?", (cid,))


def _network_row(n: Network) -> tuple:
    return (n.id, n.name, n.driver, n.created, n.bridge, int(n.internal), n.mtu,
            json.dumps([{"subnet": p.subnet, "gateway": p.gateway, "ip_range": p.ip_range,
                         **({"auto": True} if p.auto else {}),
                         **({} if p.gateway_given else {"gateway_given": False}),
                         **({"aux": p.aux} if p.aux else {})}
                        for p in n.pools]),
            json.dumps(n.labels, sort_keys=True), json.dumps(n.options, sort_keys=True),
            int(n.ipv6), json.dumps(n.ipam_options, sort_keys=True))


def _like_prefix(ref: str) -> str:
    escaped = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
