"""A container's /etc/hosts, /etc/resolv.conf and /etc/hostname: docker 20.10's content, and
the in-place writer that updates them under the container's bind mounts.

The content rules follow libnetwork 20.10 (checked against a private dockerd 20.10.24):
- hosts: loopback and IPv6 lines, --add-host lines, --link lines, then one line per address
  of the container (`<ip>\\t<fqdn> <host>` when a domain is known, else `<ip>\\t<host>`). Host
  networking copies the host's /etc/hosts unless --add-host is given.
- resolv.conf, embedded DNS (user networks): `nameserver 127.0.0.11`, the IPv6 nameservers of
  the base file, its search and options lines, plus `ndots:0` unless an ndots option is set.
- resolv.conf otherwise (default bridge, none): the host's file without loopback (and, on a
  network without IPv6, IPv6) nameservers, docker's public resolvers appended when none is
  left; any --dns/--dns-search/--dns-option builds a fresh file instead, the host's values
  filling the parts not given. Host networking copies the host's file unless one is given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

EMBEDDED_DNS = "127.0.0.11"
HOST_RESOLV = Path("/etc/resolv.conf")
SYSTEMD_RESOLV = Path("/run/systemd/resolve/resolv.conf")  # when /etc's is resolved's stub
DEFAULT_IPV4_DNS = ("8.8.8.8", "8.8.4.4")
DEFAULT_IPV6_DNS = ("2001:4860:4860::8888", "2001:4860:4860::8844")

_DEFAULT_HOSTS = (("127.0.0.1", "localhost"), ("::1", "localhost ip6-localhost ip6-loopback"),
                  ("fe00::0", "ip6-localnet"), ("ff00::0", "ip6-mcastprefix"),
                  ("ff02::1", "ip6-allnodes"), ("ff02::2", "ip6-allrouters"))

# resolv.conf grammar as libnetwork's resolvconf package reads it (byte for byte the same
# decisions: which lines are nameservers, which are loopback or IPv6, what search/options are).
_WS = r"[\t\n\f\r ]"  # Go's \s
_NOT_WS = r"[^\t\n\f\r ]"
_V4_PART = r"(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)"
_V4 = rf"(?:{_V4_PART}\.){{3}}{_V4_PART}"
_V6 = r"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%\w+)?"
_LOOPBACK_NS = re.compile(
    rf"^nameserver{_WS}+(?:127\.(?:[0-9]{{1,3}}\.){{2}}[0-9]{{1,3}}|::1$){_WS}*\n*", re.M)
_V6_NS = re.compile(rf"^nameserver{_WS}+{_V6}{_WS}*\n*", re.M)
_NS_ANY = re.compile(rf"^{_WS}*nameserver{_WS}*({_V4}|{_V6}){_WS}*$")
_NS_V4 = re.compile(rf"^{_WS}*nameserver{_WS}*({_V4}){_WS}*$")
_NS_V6 = re.compile(rf"^{_WS}*nameserver{_WS}*({_V6}){_WS}*$")
_SEARCH = re.compile(rf"^{_WS}*search{_WS}*((?:{_NOT_WS}+{_WS}*)*)$")
_OPTIONS = re.compile(rf"^{_WS}*options{_WS}*((?:{_NOT_WS}+{_WS}*)*)$")


def host_name_field(hostname: str, domainname: str) -> str:
    """The names of a container's own hosts line: `fqdn host` when the name has a domain
    (given apart or inside the hostname), else the bare hostname."""
    fqdn = f"{hostname}.{domainname}" if domainname else hostname
    first, dot, _ = fqdn.partition(".")
    return f"{fqdn} {first}" if dot else fqdn


def split_extra_host(entry: str) -> tuple[str, str]:
    """--add-host "name:ip" -> (name, ip); split on the first colon (IPv6 addresses)."""
    name, _, address = entry.partition(":")
    return name, address


def hosts_content(hostname: str, domainname: str, ips: Sequence[str],
                  extra_hosts: Sequence[str] = (), link_lines: Sequence[str] = ()) -> bytes:
    """/etc/hosts of a container with its own network namespace. `ips`: the container's
    addresses in the order its networks were attached; `extra_hosts`: --add-host "name:ip"
    (host-gateway already replaced by the caller); `link_lines`: links.hosts_line() values."""
    lines = [f"{address}\t{names}" for address, names in _DEFAULT_HOSTS]
    for entry in extra_hosts:
        name, address = split_extra_host(entry)
        lines.append(f"{address}\t{name}")
    lines += [line.rstrip("\n") for line in link_lines]
    own = host_name_field(hostname, domainname)
    lines += [f"{address}\t{own}" for address in ips]
    return ("\n".join(lines) + "\n").encode()


def host_mode_hosts(extra_hosts: Sequence[str], host_hosts: bytes) -> bytes:
    """/etc/hosts under --network host: the host's own file, unless --add-host is given
    (then docker's generated file without an address line of the container's)."""
    if not extra_hosts:
        return host_hosts
    return hosts_content("", "", (), extra_hosts)


def hostname_content(hostname: str) -> bytes:
    return (hostname + "\n").encode()


def _lines(content: str) -> Iterable[str]:
    """Lines without their comments (from a '#' to the end of the line)."""
    for line in content.split("\n"):
        yield line.partition("#")[0]


def nameservers(content: str, kind: str = "ip") -> list[str]:
    """The nameserver addresses of a resolv.conf: kind "ip" (both families), "ipv4", "ipv6"."""
    pattern = {"ip": _NS_ANY, "ipv4": _NS_V4, "ipv6": _NS_V6}[kind]
    found = []
    for line in _lines(content):
        match = pattern.match(line)
        if match:
            found.append(match.group(1))
    return found


def _last_fields(content: str, pattern: re.Pattern[str]) -> list[str]:
    fields: list[str] = []
    for line in _lines(content):
        match = pattern.match(line)
        if match:
            fields = match.group(1).split()
    return fields


def search_domains(content: str) -> list[str]:
    """The last search line's domains."""
    return _last_fields(content, _SEARCH)


def resolv_options(content: str) -> list[str]:
    """The last options line's options."""
    return _last_fields(content, _OPTIONS)


def is_loopback(address: str) -> bool:
    return address.startswith("127.") or address == "::1"


def filter_resolv(content: str, ipv6: bool) -> str:
    """The host's resolv.conf as a container may use it: loopback nameservers dropped (they
    are the host's, unreachable from the container's namespace), IPv6 ones too on a network
    without IPv6; docker's public resolvers appended when no nameserver is left."""
    cleaned = _LOOPBACK_NS.sub("", content)
    if not ipv6:
        cleaned = _V6_NS.sub("", cleaned)
    if not nameservers(cleaned):
        servers = DEFAULT_IPV4_DNS + (DEFAULT_IPV6_DNS if ipv6 else ())
        cleaned += "\n" + "\n".join(f"nameserver {s}" for s in servers)
    return cleaned


def build_resolv(servers: Sequence[str], search: Sequence[str],
                 options: Sequence[str]) -> str:
    """A resolv.conf made from parts: search (unless it is only "."), nameservers, options."""
    out = ""
    if search and " ".join(search).strip(" ") != ".":
        out += "search " + " ".join(search) + "\n"
    out += "".join(f"nameserver {s}\n" for s in servers)
    if options and " ".join(options).strip(" "):
        out += "options " + " ".join(options) + "\n"
    return out


def _sets_ndots(options: Sequence[str]) -> bool:
    for option in options:
        if "ndots" in option:
            _, _, value = option.partition(":")
            return value.isdigit()
    return False


def resolv_content(embedded: bool, dns: Sequence[str] = (), dns_search: Sequence[str] = (),
                   dns_options: Sequence[str] = (), host_resolv: str = "", *,
                   host_mode: bool = False, ipv6: bool = False) -> bytes:
    """/etc/resolv.conf of a container. `embedded`: on a user-defined network (the embedded
    DNS at 127.0.0.11 serves it); `host_resolv`: the host's resolv.conf text (read_host_resolv);
    `host_mode`: --network host; `ipv6`: the container's network has IPv6."""
    custom = bool(dns or dns_search or dns_options)
    if host_mode and not custom:
        return host_resolv.encode()
    if custom:
        base = build_resolv(dns or nameservers(host_resolv),
                            dns_search or search_domains(host_resolv),
                            dns_options or resolv_options(host_resolv))
    else:
        # libnetwork filters twice: at sandbox set-up (IPv6 kept) and again when the endpoint
        # joins its network (with the network's IPv6 setting); the fallback servers the first
        # pass may add are what the second sees.
        base = filter_resolv(filter_resolv(host_resolv, True), ipv6)
    if not embedded or host_mode:
        return base.encode()
    options = resolv_options(base)
    if not _sets_ndots(options):
        options.append("ndots:0")
    return build_resolv([EMBEDDED_DNS, *nameservers(base, "ipv6")], search_domains(base),
                        options).encode()


def host_resolv_path(etc_resolv: Path = HOST_RESOLV) -> Path:
    """The host resolv.conf docker starts from: systemd-resolved's full file when /etc's only
    names resolved's stub (127.0.0.53), which no container can reach."""
    try:
        content = etc_resolv.read_text(errors="replace")
    except OSError:
        return etc_resolv
    return SYSTEMD_RESOLV if nameservers(content) == ["127.0.0.53"] else etc_resolv


def read_host_resolv(path: Path | None = None) -> str:
    """The host's resolv.conf text ("" when there is none: docker's fallback servers apply)."""
    try:
        return (path or host_resolv_path()).read_text(errors="replace")
    except OSError:
        return ""


def write_in_place(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace the content of `path` keeping its inode: the file is bind-mounted into a
    running container, so a rename would leave the container on the old file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW,
                 mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
