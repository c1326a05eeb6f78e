"""The firewall's iptables-restore text (NAT for published ports and loopback, masquerade,
isolation of bridges, internal networks) and the runner protocol: jumps inserted once, never
duplicated, removed with every chain of ours; inputs that could inject rules refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyengine.errors import FailedPrecondition, InvalidArgument
from pyengine.network.firewall import (
    JUMPS,
    BridgeRules,
    CommandRunner,
    DnatRule,
    Firewall,
    Jump,
    removal_text,
    rules_text,
)

DEFAULT = BridgeRules("pyengine0", "172.17.0.0/16")
USER = BridgeRules("br-0123456789ab", "172.18.0.0/16")
INTERNAL = BridgeRules("br-internal", "10.9.0.0/24", internal=True)
WEB = DnatRule("0.0.0.0", 8080, "tcp", "172.17.0.2", 80, "pyengine0")
DNS = DnatRule("127.0.0.1", 5353, "udp", "172.18.0.3", 53, "br-0123456789ab")


class FakeRunner:
    """Keeps the jumps a real table would hold, applying restore texts' -I/-D lines."""

    def __init__(self, present: tuple[Jump, ...] = ()) -> None:
        self.present: list[Jump] = list(present)
        self.texts: list[str] = []
        self.checks = 0

    def restore(self, text: str) -> None:
        self.texts.append(text)
        table = ""
        for line in text.splitlines():
            if line.startswith("*"):
                table = line[1:]
            for j in JUMPS:
                if j.table != table:
                    continue
                if line == f"-I {j.chain} 1 {' '.join(j.rule)}":
                    self.present.append(j)
                elif line == f"-D {j.chain} {' '.join(j.rule)}":
                    self.present.remove(j)

    def has_rule(self, jump: Jump) -> bool:
        self.checks += 1
        return jump in self.present


def lines(text: str, table: str) -> list[str]:
    block = text.split(f"*{table}\n", 1)[1].split("COMMIT\n", 1)[0]
    return block.splitlines()


def test_published_ports_and_masquerade() -> None:
    text = rules_text([DEFAULT, USER], [WEB, DNS])
    assert lines(text, "nat") == [
        ":PYENGINE-DNAT - [0:0]",
        ":PYENGINE-POSTROUTING - [0:0]",
        # every local address (127.0.0.1 too) for 0.0.0.0; one address otherwise
        "-A PYENGINE-DNAT -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80",
        "-A PYENGINE-DNAT -d 127.0.0.1/32 -p udp -m udp --dport 5353 -j DNAT "
        "--to-destination 172.18.0.3:53",
        "-A PYENGINE-POSTROUTING -s 172.17.0.0/16 ! -o pyengine0 -j MASQUERADE",
        "-A PYENGINE-POSTROUTING -o pyengine0 -m addrtype --src-type LOCAL -j MASQUERADE",
        "-A PYENGINE-POSTROUTING -s 172.17.0.0/16 -o pyengine0 -m conntrack --ctstate DNAT "
        "-j MASQUERADE",
        "-A PYENGINE-POSTROUTING -s 172.18.0.0/16 ! -o br-0123456789ab -j MASQUERADE",
        "-A PYENGINE-POSTROUTING -o br-0123456789ab -m addrtype --src-type LOCAL "
        "-j MASQUERADE",
        "-A PYENGINE-POSTROUTING -s 172.18.0.0/16 -o br-0123456789ab -m conntrack "
        "--ctstate DNAT -j MASQUERADE",
    ]
    assert text.endswith("COMMIT\n") and text.count("COMMIT\n") == 2


def test_bridges_are_isolated_from_each_other() -> None:
    assert lines(rules_text([DEFAULT, USER], []), "filter") == [
        ":PYENGINE-FORWARD - [0:0]",
        ":PYENGINE-ISOLATION - [0:0]",
        "-A PYENGINE-FORWARD -i pyengine0 ! -o pyengine0 -j PYENGINE-ISOLATION",
        "-A PYENGINE-ISOLATION -o pyengine0 -j DROP",
        "-A PYENGINE-FORWARD -i br-0123456789ab ! -o br-0123456789ab -j PYENGINE-ISOLATION",
        "-A PYENGINE-ISOLATION -o br-0123456789ab -j DROP",
        "-A PYENGINE-FORWARD -o pyengine0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A PYENGINE-FORWARD -o pyengine0 -m conntrack --ctstate DNAT -j ACCEPT",
        "-A PYENGINE-FORWARD -i pyengine0 -j ACCEPT",
        "-A PYENGINE-FORWARD -o br-0123456789ab -m conntrack --ctstate RELATED,ESTABLISHED "
        "-j ACCEPT",
        "-A PYENGINE-FORWARD -o br-0123456789ab -m conntrack --ctstate DNAT -j ACCEPT",
        "-A PYENGINE-FORWARD -i br-0123456789ab -j ACCEPT",
    ]


def test_internal_network_neither_leaves_nor_is_entered_nor_masqueraded() -> None:
    text = rules_text([INTERNAL, BridgeRules("br-nomasq", "10.8.0.0/24", masquerade=False)], [])
    nat, filt = lines(text, "nat"), lines(text, "filter")
    assert not [line for line in nat if "! -o" in line]
    assert filt[2:4] == ["-A PYENGINE-FORWARD -i br-internal ! -o br-internal -j DROP",
                         "-A PYENGINE-FORWARD -o br-internal ! -i br-internal -j DROP"]
    assert "-A PYENGINE-FORWARD -o br-internal -m conntrack --ctstate DNAT -j ACCEPT" not in filt
    assert "-A PYENGINE-ISOLATION -o br-internal -j DROP" in filt  # others may not enter it
    assert "-A PYENGINE-FORWARD -i br-internal -j ACCEPT" in filt  # to itself
    # masquerade off still lets the host and published ports work
    assert ("-A PYENGINE-POSTROUTING -o br-nomasq -m addrtype --src-type LOCAL -j MASQUERADE"
            in nat)


def test_no_state_empties_our_chains() -> None:
    assert rules_text([], []) == ("*nat\n:PYENGINE-DNAT - [0:0]\n:PYENGINE-POSTROUTING - [0:0]\n"
                                  "COMMIT\n*filter\n:PYENGINE-FORWARD - [0:0]\n"
                                  ":PYENGINE-ISOLATION - [0:0]\nCOMMIT\n")


def test_jumps_are_inserted_once() -> None:
    runner = FakeRunner()
    fw = Firewall(runner)
    fw.apply([DEFAULT], [WEB])
    first = runner.texts[0]
    assert "-I PREROUTING 1 -m addrtype --dst-type LOCAL -j PYENGINE-DNAT" in first
    assert "-I OUTPUT 1 -m addrtype --dst-type LOCAL -j PYENGINE-DNAT" in first
    assert "-I POSTROUTING 1 -j PYENGINE-POSTROUTING" in first
    assert "-I FORWARD 1 -j PYENGINE-FORWARD" in lines(first, "filter")
    # the jumps come after our chains exist (created by the chain lines of the same table)
    nat = lines(first, "nat")
    assert nat.index(":PYENGINE-DNAT - [0:0]") < nat.index(
        "-I PREROUTING 1 -m addrtype --dst-type LOCAL -j PYENGINE-DNAT")
    checks = runner.checks
    fw.apply([DEFAULT], [])
    assert runner.checks == checks and "\n-I" not in runner.texts[1]
    assert sorted(runner.present, key=JUMPS.index) == list(JUMPS)
    # a new daemon finds the jumps its predecessor left and adds none
    again = Firewall(runner)
    again.apply([DEFAULT], [WEB])
    assert "\n-I" not in runner.texts[-1] and len(runner.present) == len(JUMPS)
    # one missing (someone deleted it): only that one is inserted
    runner.present.remove(JUMPS[3])
    Firewall(runner).apply([], [])
    assert [line for line in runner.texts[-1].splitlines() if line.startswith("-I")] == \
        ["-I FORWARD 1 -j PYENGINE-FORWARD"]


def test_remove_all_deletes_every_copy_and_our_chains() -> None:
    runner = FakeRunner(present=(*JUMPS, JUMPS[0]))  # a duplicate left by an old daemon
    fw = Firewall(runner)
    fw.remove_all()
    assert runner.present == []
    assert "-D PREROUTING -m addrtype --dst-type LOCAL -j PYENGINE-DNAT" in runner.texts[0]
    assert runner.texts[-1] == removal_text([])
    for chain in ("PYENGINE-DNAT", "PYENGINE-POSTROUTING", "PYENGINE-FORWARD",
                  "PYENGINE-ISOLATION"):
        assert f"-X {chain}" in runner.texts[-1]
    # after remove_all the next apply checks and inserts the jumps again
    fw.apply([], [])
    assert len(runner.present) == len(JUMPS)


@pytest.mark.parametrize("bridges, dnats", [
    ([BridgeRules("br0 -j ACCEPT", "10.0.0.0/24")], []),
    ([BridgeRules("a-very-long-bridge-name", "10.0.0.0/24")], []),
    ([BridgeRules("br0", "10.0.0.0/24\n-A INPUT -j DROP")], []),
    ([BridgeRules("br0", "fd00::/64")], []),
    ([], [DnatRule("0.0.0.0", 80, "sctp", "10.0.0.2", 80, "br0")]),
    ([], [DnatRule("0.0.0.0", 0, "tcp", "10.0.0.2", 80, "br0")]),
    ([], [DnatRule("0.0.0.0", 80, "tcp", "10.0.0.2", 65536, "br0")]),
    ([], [DnatRule("::1", 80, "tcp", "10.0.0.2", 80, "br0")]),
    ([], [DnatRule("0.0.0.0", 80, "tcp", "10.0.0.2 -j ACCEPT", 80, "br0")]),
])
def test_bad_input_is_refused_and_nothing_runs(bridges: list[BridgeRules],
                                               dnats: list[DnatRule]) -> None:
    runner = FakeRunner(present=JUMPS)
    with pytest.raises(InvalidArgument, match=r"^firewall: "):
        Firewall(runner).apply(bridges, dnats)
    assert runner.texts == []


def _script(path: Path, body: str) -> str:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_command_runner_reads_iptables_exit_codes(tmp_path: Path) -> None:
    jump = JUMPS[0]
    assert CommandRunner(iptables="true").has_rule(jump)
    assert not CommandRunner(iptables="false").has_rule(jump)  # 1: no such rule
    gone = _script(tmp_path / "gone", "echo \"Chain 'PYENGINE-DNAT' does not exist\" >&2; exit 2")
    assert not CommandRunner(iptables=gone).has_rule(jump)
    broken = _script(tmp_path / "broken", "echo 'Permission denied (you must be root)' >&2; "
                                          "exit 4")
    with pytest.raises(FailedPrecondition, match=r"^firewall: .* -C PREROUTING failed: "
                                                 r"Permission denied \(you must be root\)$"):
        CommandRunner(iptables=broken).has_rule(jump)


def test_command_runner_errors_are_one_line(tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    restore = _script(tmp_path / "restore",
                      f"cat > {seen}; echo \"$@\" >> {seen}; echo 'iptables-restore: "
                      "line 3 failed' >&2; exit 1")
    with pytest.raises(FailedPrecondition) as e:
        CommandRunner(restore=restore).restore("*nat\nCOMMIT\n")
    assert str(e.value) == f"firewall: {restore} failed: iptables-restore: line 3 failed"
    assert seen.read_text() == "*nat\nCOMMIT\n--noflush -w\n"
    with pytest.raises(FailedPrecondition, match=r"^firewall: cannot run /nonexistent/ipt"):
        CommandRunner(restore="/nonexistent/iptables-restore").restore("")
