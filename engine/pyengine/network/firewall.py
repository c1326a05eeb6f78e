"""The daemon's firewall: iptables (Debian's iptables-nft) chains of our own, rebuilt whole from
the recorded state by one `iptables-restore --noflush -w` per change.

nat table
  PYENGINE-DNAT          jumped from PREROUTING and OUTPUT with `-m addrtype --dst-type LOCAL`:
                         one DNAT per published port (host_ip 0.0.0.0: every local address,
                         127.0.0.1 included; else `-d host_ip`).
  PYENGINE-POSTROUTING   jumped from POSTROUTING: per bridge `-s subnet ! -o bridge -j
                         MASQUERADE` (outbound NAT, not for internal networks or masquerade
                         off); `-o bridge -m addrtype --src-type LOCAL -j MASQUERADE` (the host,
                         127.0.0.1 included, reaching a published port: the container sees the
                         gateway's address); `-s subnet -o bridge -m conntrack --ctstate DNAT -j
                         MASQUERADE` (a container reaching a published port of its own bridge,
                         itself included: the reply comes back through us, no br_netfilter).
filter table
  PYENGINE-FORWARD       jumped first from FORWARD: internal bridges drop everything crossing
                         their edge; a packet leaving a bridge for another interface goes through
                         PYENGINE-ISOLATION, which drops it when that interface is another of our
                         bridges; then replies and DNATed packets into a bridge, and everything
                         from a bridge (to itself or, unless internal, outside) are accepted.

Sysctls these rules need in the daemon's namespace (netcore's sysctl helper sets them):
net.ipv4.ip_forward=1 (bridge traffic is routed), net.ipv4.conf.<bridge>.route_localnet=1 (a
packet from 127.0.0.1 DNATed to a container may leave through the bridge; without it the kernel
drops it as a martian and loopback-published ports do not answer).

The builders are pure functions of the state (unit tests read their text); Firewall runs them
through an IptablesRunner (a Protocol: unit tests fake it). The jumps from the built-in chains
are checked (`iptables -C`) once per Firewall and per remove_all, and inserted in the same
restore when missing, so repeated applies never duplicate them.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pyengine.errors import FailedPrecondition, InvalidArgument

DNAT_CHAIN = "PYENGINE-DNAT"
POSTROUTING_CHAIN = "PYENGINE-POSTROUTING"
FORWARD_CHAIN = "PYENGINE-FORWARD"
ISOLATION_CHAIN = "PYENGINE-ISOLATION"
CHAINS = {"nat": (DNAT_CHAIN, POSTROUTING_CHAIN), "filter": (FORWARD_CHAIN, ISOLATION_CHAIN)}
LOCAL_DST = ("-m", "addrtype", "--dst-type", "LOCAL")


@dataclass(frozen=True)
class Jump:
    """A rule of ours in a built-in chain."""

    table: str
    chain: str
    rule: tuple[str, ...]


JUMPS = (
    Jump("nat", "PREROUTING", (*LOCAL_DST, "-j", DNAT_CHAIN)),
    Jump("nat", "OUTPUT", (*LOCAL_DST, "-j", DNAT_CHAIN)),
    Jump("nat", "POSTROUTING", ("-j", POSTROUTING_CHAIN)),
    Jump("filter", "FORWARD", ("-j", FORWARD_CHAIN)),
)
_IFNAME = re.compile(r"[A-Za-z0-9_.-]{1,15}")


@dataclass(frozen=True)
class BridgeRules:
    """One bridge network: its Linux bridge, IPv4 subnet (CIDR), --internal, and whether its
    traffic leaving the machine is masqueraded (com.docker.network.bridge.enable_ip_masquerade)."""

    bridge: str
    subnet: str
    internal: bool = False
    masquerade: bool = True


@dataclass(frozen=True)
class DnatRule:
    """One published port: host_ip ("" or 0.0.0.0: every local address):host_port/proto to
    container_ip:container_port behind bridge."""

    host_ip: str
    host_port: int
    proto: str
    container_ip: str
    container_port: int
    bridge: str


def rules_text(bridges: Sequence[BridgeRules], dnats: Sequence[DnatRule],
               jumps: Sequence[Jump] = ()) -> str:
    """iptables-restore input (for --noflush) that rebuilds our chains to exactly this state,
    inserting `jumps` (the missing ones) at the top of their built-in chains."""
    for b in bridges:
        _check_bridge(b)
    for d in dnats:
        _check_dnat(d)
    nat = [f"-A {DNAT_CHAIN} {_dnat(d)}" for d in dnats]
    for b in bridges:
        if b.masquerade and not b.internal:
            nat.append(f"-A {POSTROUTING_CHAIN} -s {b.subnet} ! -o {b.bridge} -j MASQUERADE")
        nat.append(f"-A {POSTROUTING_CHAIN} -o {b.bridge} -m addrtype --src-type LOCAL "
                   "-j MASQUERADE")
        nat.append(f"-A {POSTROUTING_CHAIN} -s {b.subnet} -o {b.bridge} -m conntrack "
                   "--ctstate DNAT -j MASQUERADE")
    filt: list[str] = []
    for b in bridges:
        if b.internal:
            filt.append(f"-A {FORWARD_CHAIN} -i {b.bridge} ! -o {b.bridge} -j DROP")
            filt.append(f"-A {FORWARD_CHAIN} -o {b.bridge} ! -i {b.bridge} -j DROP")
    for b in bridges:
        if not b.internal:  # an internal one dropped all of it above
            filt.append(f"-A {FORWARD_CHAIN} -i {b.bridge} ! -o {b.bridge} -j "
                        f"{ISOLATION_CHAIN}")
        filt.append(f"-A {ISOLATION_CHAIN} -o {b.bridge} -j DROP")
    for b in bridges:
        filt.append(f"-A {FORWARD_CHAIN} -o {b.bridge} -m conntrack --ctstate "
                    "RELATED,ESTABLISHED -j ACCEPT")
        if not b.internal:
            filt.append(f"-A {FORWARD_CHAIN} -o {b.bridge} -m conntrack --ctstate DNAT "
                        "-j ACCEPT")
        filt.append(f"-A {FORWARD_CHAIN} -i {b.bridge} -j ACCEPT")
    body = {"nat": nat, "filter": filt}
    out: list[str] = []
    for table, chains in CHAINS.items():
        out.append(f"*{table}")
        out.extend(f":{chain} - [0:0]" for chain in chains)  # created, or flushed
        out.extend(body[table])
        out.extend(f"-I {j.chain} 1 {' '.join(j.rule)}" for j in jumps if j.table == table)
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def removal_text(jumps: Sequence[Jump]) -> str:
    """iptables-restore input (for --noflush) that deletes `jumps` (the present ones) and our
    chains; chains that do not exist are created and deleted, so it always succeeds."""
    out: list[str] = []
    for table, chains in CHAINS.items():
        out.append(f"*{table}")
        out.extend(f"-D {j.chain} {' '.join(j.rule)}" for j in jumps if j.table == table)
        out.extend(f":{chain} - [0:0]" for chain in chains)
        out.extend(f"-X {chain}" for chain in chains)
        out.append("COMMIT")
    return "\n".join(out) + "\n"


class IptablesRunner(Protocol):
    def restore(self, text: str) -> None:
        """Feed text to `iptables-restore --noflush -w`; FailedPrecondition when it fails."""

    def has_rule(self, jump: Jump) -> bool:
        """Whether the rule is in its chain (`iptables -C`)."""


class CommandRunner:
    """The real runner: iptables-restore and iptables in the calling thread's namespace."""

    def __init__(self, restore: str = "iptables-restore", iptables: str = "iptables") -> None:
        self._restore, self._iptables = restore, iptables

    def restore(self, text: str) -> None:
        done = self._run([self._restore, "--noflush", "-w"], text)
        if done.returncode != 0:
            raise FailedPrecondition(f"firewall: {self._restore} failed: {_last(done.stderr)}")

    def has_rule(self, jump: Jump) -> bool:
        done = self._run([self._iptables, "-w", "-t", jump.table, "-C", jump.chain,
                          *jump.rule], None)
        if done.returncode == 0:
            return True
        # 1: no such rule; 2 "... does not exist": a chain (ours) is missing
        if done.returncode == 1 or "does not exist" in done.stderr:
            return False
        raise FailedPrecondition(f"firewall: {self._iptables} -C {jump.chain} failed: "
                                 f"{_last(done.stderr)}")

    @staticmethod
    def _run(argv: list[str], text: str | None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(argv, input=text, capture_output=True, text=True,
                                  check=False)
        except OSError as e:
            raise FailedPrecondition(f"firewall: cannot run {argv[0]}: {e.strerror}") from None


class Firewall:
    """Our chains, rebuilt whole on each apply (serialised: one restore at a time)."""

    def __init__(self, runner: IptablesRunner | None = None) -> None:
        self._runner: IptablesRunner = runner or CommandRunner()
        self._lock = threading.Lock()
        self._jumps_checked = False

    def apply(self, bridges: Sequence[BridgeRules], dnats: Sequence[DnatRule]) -> None:
        with self._lock:
            missing: list[Jump] = []
            if not self._jumps_checked:
                missing = [j for j in JUMPS if not self._runner.has_rule(j)]
            self._runner.restore(rules_text(bridges, dnats, missing))
            self._jumps_checked = True

    def remove_all(self) -> None:
        """Delete our jumps (every copy) and chains: the tables as if we had never run."""
        with self._lock:
            self._jumps_checked = False
            for _ in range(10):  # copies a crashed older daemon may have left
                present = [j for j in JUMPS if self._runner.has_rule(j)]
                self._runner.restore(removal_text(present))
                if not present:
                    return
            raise FailedPrecondition("firewall: our jumps keep coming back")


def _dnat(d: DnatRule) -> str:
    dest = "" if d.host_ip in ("", "0.0.0.0") else f"-d {d.host_ip}/32 "
    return (f"{dest}-p {d.proto} -m {d.proto} --dport {d.host_port} -j DNAT "
            f"--to-destination {d.container_ip}:{d.container_port}")


def _check_bridge(b: BridgeRules) -> None:
    _check_ifname(b.bridge)
    try:
        net = ipaddress.ip_network(b.subnet, strict=False)
    except ValueError:
        raise InvalidArgument(f"firewall: bridge {b.bridge}: invalid subnet {b.subnet!r}") \
            from None
    if net.version != 4:
        raise InvalidArgument(f"firewall: bridge {b.bridge}: IPv6 subnet {b.subnet} is not "
                              "supported")


def _check_dnat(d: DnatRule) -> None:
    _check_ifname(d.bridge)
    what = f"firewall: port {d.host_ip}:{d.host_port}/{d.proto}"
    if d.proto not in ("tcp", "udp"):
        raise InvalidArgument(f"{what}: unsupported protocol")
    if not (0 < d.host_port < 65536 and 0 < d.container_port < 65536):
        raise InvalidArgument(f"{what}: port out of range")
    for ip in (d.host_ip or "0.0.0.0", d.container_ip):
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            raise InvalidArgument(f"{what}: invalid IPv4 address {ip!r}") from None


def _check_ifname(name: str) -> None:
    if not _IFNAME.fullmatch(name):
        raise InvalidArgument(f"firewall: invalid bridge name {name!r}")


def _last(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no error text"
