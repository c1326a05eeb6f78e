"""linux.seccomp: a filter is installed (Seccomp: 2) and its rules apply to the process."""

from __future__ import annotations

from spectest.probe import observe


def test_seccomp_errno_rule(make):
    ctr = make()
    ctr.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    }
    report = observe(ctr, "all")
    assert report["ids"]["Seccomp"] == "2"
    assert report["cwd"] is None, "getcwd must fail under the filter"
    assert report["hostname"]["hostname"] == "spectest", "other syscalls still work"


def test_no_seccomp_without_config(make):
    assert observe(make(), "ids")["ids"]["Seccomp"] == "0"
