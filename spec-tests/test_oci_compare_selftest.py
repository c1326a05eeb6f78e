"""Self-test of the differential machinery: normalisation and known-difference matching."""

from __future__ import annotations

from spectest.compare import (
    Context,
    KnownDifference,
    differences,
    flatten,
    normalize,
    unexplained,
)

HOST = {"cgroup": "cgroup:[1]", "ipc": "ipc:[2]", "mnt": "mnt:[3]", "net": "net:[4]",
        "pid": "pid:[5]", "time": "time:[6]", "user": "user:[7]", "uts": "uts:[8]"}


def report(cid: str, pid: int, pipe: int) -> dict:
    return {
        "namespaces": {"pid": "pid:[99]", "pid_for_children": "pid:[99]", "net": "net:[4]",
                       "uid_map": "         0          0 4294967295\n"},
        "pid": {"pid": pid, "ppid": 0},
        "fds": {"0": "/dev/null", "1": f"pipe:[{pipe}]", "2": "/tmp/#123 (deleted)"},
        "mounts": [{"target": "/", "root": f"/tmp/spectest-x/bundles/{cid}", "fstype": "ext4"},
                   {"target": "/dev", "root": "/", "fstype": "tmpfs"},
                   {"target": "/dev", "root": "/", "fstype": "tmpfs"}],
        "cgroup": {"memory": f"/spectest-{cid}"},
    }


def norm(cid: str, pid: int, pipe: int) -> dict:
    ctx = Context(cid=cid, bundle=f"/tmp/spectest-x/bundles/{cid}", workdir="/tmp/spectest-x",
                  host_ns=HOST)
    return normalize(report(cid, pid, pipe), ctx)


def test_run_specific_values_normalise_away():
    a, b = norm("st1-aaaa", 1, 100), norm("st2-bbbb", 1, 200)
    assert differences(a, b) == []
    assert a["namespaces"]["pid"] == "new" and a["namespaces"]["net"] == "host"
    assert a["namespaces"]["uid_map"] == "0 0 4294967295"
    assert a["mounts"]["order"] == ["/", "/dev", "/dev#2"]
    assert a["fds"] == {"0": "/dev/null", "1": "pipe", "2": "<tmpfile>"}


def test_real_differences_are_found():
    a, b = norm("st1-aaaa", 1, 100), norm("st2-bbbb", 7, 100)
    b["mounts"]["/dev#2"]["fstype"] = "devtmpfs"
    found = {d.path: (d.ours, d.reference) for d in differences(a, b)}
    assert found == {"pid.pid": (1, "<pid>"), "mounts[/dev#2].fstype": ("tmpfs", "devtmpfs")}


def test_flatten_brackets_odd_keys():
    assert flatten({"paths": {"/proc/kcore": {"exists": True}}, "a": {"b": 1}}) == {
        "paths[/proc/kcore].exists": True, "a.b": 1}


def test_known_differences_match_exact_paths_with_brackets():
    a, b = norm("st1-aaaa", 1, 100), norm("st2-bbbb", 1, 100)
    b["mounts"]["/dev"]["root"] = "/x"
    diffs = differences(a, b)
    known = [KnownDifference("sc", "mounts[/dev].root", "why")]
    assert unexplained("pyrunc", "sc", diffs, known) == []
    assert unexplained("pyrunc", "other", diffs, known) == diffs
    wildcard = [KnownDifference("*", "mounts*.root", "why", runtime="crun")]
    assert unexplained("pyrunc", "sc", diffs, wildcard) == diffs
    assert unexplained("crun", "sc", diffs, wildcard) == []
