"""The v2 device program: encoding and verdicts, checked with a small BPF interpreter."""

from __future__ import annotations

import struct

import pytest
from cgroup_fakes import rules as rule_list
from pyrunc.cgroups.devices import DEFAULT_ALLOWED, container_rules, normalize, v1_line
from pyrunc.cgroups.v2.ebpf import (
    ACC_MKNOD,
    ACC_READ,
    ACC_WRITE,
    DEV_BLOCK,
    DEV_CHAR,
    device_program,
    evaluate,
    insn,
)
from pyrunc.errors import ConfigError
from pyrunc.spec.model import DeviceRule

RW = ACC_READ | ACC_WRITE


def verdict(rules: list, kind: int, major: int, minor: int, access: int) -> int:
    return evaluate(device_program(rules), kind, major, minor, access)


def test_insn_encoding_matches_struct_bpf_insn() -> None:
    raw = insn(0x61, dst=2, src=1, off=4, imm=-1)
    assert raw == struct.pack("<BBhi", 0x61, 0x12, 4, -1)
    assert len(raw) == 8


def test_empty_rules_deny_everything() -> None:
    assert verdict([], DEV_CHAR, 1, 3, ACC_READ) == 0


def test_runc_defaults_allow_null_and_mknod_only() -> None:
    rules = container_rules(rule_list([{"allow": False, "access": "rwm"}]))
    assert verdict(rules, DEV_CHAR, 1, 3, RW) == 1
    assert verdict(rules, DEV_CHAR, 136, 7, RW) == 1
    assert verdict(rules, DEV_CHAR, 1, 11, ACC_READ) == 0      # /dev/kmsg
    assert verdict(rules, DEV_BLOCK, 8, 0, ACC_MKNOD) == 1     # b *:* m
    assert verdict(rules, DEV_BLOCK, 8, 0, ACC_READ) == 0


def test_last_matching_rule_wins() -> None:
    rules = [normalize(rule({"allow": True, "access": "rwm"})),
             normalize(rule({"allow": False, "type": "c", "major": 1, "minor": 11})),
             normalize(rule({"allow": True, "type": "c", "major": 1, "minor": 11,
                             "access": "r"}))]
    assert verdict(rules, DEV_CHAR, 1, 11, ACC_READ) == 1
    assert verdict(rules, DEV_CHAR, 1, 11, RW) == 0    # write is not in the last rule
    assert verdict(rules, DEV_CHAR, 4, 1, RW) == 1     # allow-all underneath


def test_wildcard_rule_cuts_earlier_rules() -> None:
    rules = [normalize(rule({"allow": True, "type": "c", "major": 1, "minor": 3})),
             normalize(rule({"allow": False, "access": "rwm"}))]
    program = device_program(rules)
    assert evaluate(program, DEV_CHAR, 1, 3, ACC_READ) == 0
    assert len(program) == 8 * 8   # prologue (6) + return (2): the earlier rule is dead code


def test_type_and_wildcard_major_minor() -> None:
    rules = [normalize(rule({"allow": True, "type": "b", "major": 8, "access": "r"}))]
    assert verdict(rules, DEV_BLOCK, 8, 17, ACC_READ) == 1
    assert verdict(rules, DEV_CHAR, 8, 17, ACC_READ) == 0
    assert verdict(rules, DEV_BLOCK, 9, 0, ACC_READ) == 0


def test_big_device_numbers_compare_as_u32() -> None:
    # beyond the kernel's 12-bit majors (a config is refused), but the program must compare
    # whatever a rule holds as u32
    rules = [normalize(DeviceRule(allow=True, type="c", major=3_000_000_000, minor=1))]
    assert verdict(rules, DEV_CHAR, 3_000_000_000, 1, ACC_READ) == 1


def test_rule_validation_and_v1_spelling() -> None:
    with pytest.raises(ConfigError):
        rule({"allow": True, "type": "x"})
    with pytest.raises(ConfigError):
        rule({"allow": True, "access": "rx"})
    assert v1_line(normalize(rule({"allow": True, "type": "c", "major": 136, "access": "wr"}))) == \
        "c 136:* rw"
    assert v1_line(normalize(rule({"allow": False}))) == "a"
    assert DEFAULT_ALLOWED[2] == (True, "c", 1, 3, "rwm")


def test_linux_devices_nodes_get_no_rule_of_their_own() -> None:
    """runc 1.1.5's: a linux.devices node is usable as the spec's rules say, no more."""
    rules = container_rules(rule_list([{"allow": True, "type": "c", "major": 10,
                                        "minor": 229, "access": "r"}]))
    assert rules[0] == (True, "c", 10, 229, "r")
    assert rules[1:] == list(DEFAULT_ALLOWED)


def rule(data: dict) -> DeviceRule:
    return rule_list([data])[0]


def test_a_spec_device_path_drops_the_default_rule_of_that_path() -> None:
    """runc 1.1.5's createDevices: a default device whose path a linux.devices node has is
    dropped (the spec's takes priority), so a read-only --device /dev/null stays read-only."""
    from pyrunc.cgroups.devices import DEFAULT_ALLOWED, container_rules

    every = container_rules(None)
    assert every == list(DEFAULT_ALLOWED)
    without_null = container_rules(None, device_paths=("/dev/null", "/dev/fuse"))
    assert (True, "c", 1, 3, "rwm") not in without_null
    assert len(without_null) == len(DEFAULT_ALLOWED) - 1
    assert (True, "c", 136, -1, "rwm") in container_rules(None, device_paths=("/dev/pts/0",))
