"""A damaged state.json (the fuzz's kinds: empty, truncated, random bytes, wrong types and
ranges, missing while the directory exists) and cgroup paths the system cannot name (a NUL, a
lone surrogate) must not wedge an id nor leave a live container behind: `delete --force` kills
the init and removes its cgroups and state (found through the cgroup.json copy), or fails loudly
naming the container and keeps the state; `state` and `list` answer without a traceback, and
`list` still lists the healthy containers."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from pyrunc_itest import Bundle, Runtime, cgroup_dirs, gone, reap_children

pytestmark = pytest.mark.root

SLEEP = ["sleep", "1000"]


def _set(key: str, value: object) -> Callable[[dict], bytes]:
    return lambda rec: json.dumps({**rec, key: value}).encode()


def _without(key: str) -> Callable[[dict], bytes]:
    return lambda rec: json.dumps({k: v for k, v in rec.items() if k != key}).encode()


# kind -> the damaged state.json, made from the healthy record (None: the file is removed)
DAMAGE: dict[str, Callable[[dict], bytes | None]] = {
    "empty": lambda rec: b"",
    "truncated": lambda rec: json.dumps(rec).encode()[:len(json.dumps(rec)) // 2],
    "random-bytes": lambda rec: random.Random(13).randbytes(300),
    "not-utf8": lambda rec: b'{"id": "\xff\xfe"}',
    "null": lambda rec: b"null",
    "list": lambda rec: b"[]",
    "string": lambda rec: b'"x"',
    "deep-nesting": lambda rec: b"[" * 100000,
    "nan": lambda rec: json.dumps(rec).encode().replace(b'"pid"', b'"pid": NaN, "x"', 1),
    "wrong-id": _set("id", "someone-else"),
    "pid_start-wrong": lambda rec: json.dumps({**rec, "pid_start": rec["pid_start"] + 1}).encode(),
    "pid_start-string": lambda rec: json.dumps({**rec, "pid_start": str(rec["pid_start"])}
                                               ).encode(),
    "pid-string": lambda rec: json.dumps({**rec, "pid": str(rec["pid"])}).encode(),
    "pid-negative": _set("pid", -1),
    "pid-huge": _set("pid", 2**40),
    "pid-bool": _set("pid", True),
    "pid-missing": _without("pid"),
    "status-bogus": _set("status", "exploded"),
    "cgroup-missing": _without("cgroup"),
    "cgroup-garbage": _set("cgroup", "x"),
    "cgroup-relative-paths": lambda rec: json.dumps(
        {**rec, "cgroup": {**rec["cgroup"], "paths": {"": "relative"}}}).encode(),
    "bundle-number": _set("bundle", 5),
    "hooks-garbage": _set("hooks", {"poststop": "x"}),
    "missing": lambda rec: None,
}
# every kind is cleaned through cgroup.json; without it the container's processes cannot be
# found, and delete must say so and keep the state
LOUD = {"random-bytes-no-copy"}


def _damage(rt: Runtime, b: Bundle, kind: str) -> None:
    d = Path(rt.root) / b.id
    rec = json.loads((d / "state.json").read_text())
    if kind == "random-bytes-no-copy":
        (d / "cgroup.json").unlink()
        kind = "random-bytes"
    data = DAMAGE[kind](rec)
    (d / "state.json").unlink()
    if data is not None:
        (d / "state.json").write_bytes(data)


@pytest.mark.parametrize("kind", [*DAMAGE, *LOUD])
def test_damaged_state(rt: Runtime, kind: str) -> None:
    healthy = rt.bundle(SLEEP)
    assert rt("run", "--detach", "--bundle", str(healthy.path), healthy.id).rc == 0
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    _damage(rt, b, kind)

    r = rt("state", b.id)
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) <= 1, r
    if r.rc:
        assert b.id in r.err, r

    r = rt("list", "--format", "json")
    assert r.rc == 0 and "Traceback" not in r.err, r
    listed = [c["id"] for c in r.json()]
    assert healthy.id in listed, r
    if b.id not in listed:
        assert b.id in r.err, r  # named on stderr, as runc does

    r = rt("delete", "--force", b.id)
    assert "Traceback" not in r.err, r
    reap_children()
    if kind in LOUD:
        assert r.rc != 0 and len(r.err.strip().splitlines()) == 1, r
        assert b.id in r.err and "damaged state" in r.err, r
        assert os.path.isdir(os.path.join(rt.root, b.id))  # left for a later retry
        assert not gone(pid)
    else:
        assert (r.rc, r.out) == (0, ""), r
        assert not os.path.exists(os.path.join(rt.root, b.id))
        assert gone(pid), "the init survived delete --force"
        assert cgroup_dirs(b.cgroups_path) == []
    assert rt.state(healthy.id)["status"] == "running"


def test_write_leftovers_are_removed(rt: Runtime) -> None:
    """A write killed between creating its temp file and the rename leaves the temp file: it
    is never read, and goes with the directory."""
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    d = Path(rt.root) / b.id
    (d / "state.json.tmp4242").write_bytes(b'{"id": "half')
    assert rt.state(b.id)["status"] == "created"
    assert rt("delete", "--force", b.id).rc == 0
    reap_children()
    rt.assert_nothing_left(b)


# -- cgroup paths the system cannot name --------------------------------------------------------
UNNAMEABLE = {"nul": "\x00", "lone-surrogate": "\ud800"}


@pytest.mark.parametrize("kind", UNNAMEABLE)
def test_create_with_an_unnameable_cgroups_path_leaves_nothing(rt: Runtime, kind: str) -> None:
    b = rt.bundle(SLEEP)
    b.config["linux"]["cgroupsPath"] += UNNAMEABLE[kind] + "x"
    b.save()  # json escapes both (\u0000, \ud800)
    r = rt("create", "--bundle", str(b.path), b.id)
    assert r.rc != 0 and "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1, r
    reap_children()
    assert not os.path.exists(os.path.join(rt.root, b.id)), r
    assert rt("create", "--bundle", str(b.path), b.id).rc != 0  # the id is not wedged


@pytest.mark.parametrize("copy", [True, False])
@pytest.mark.parametrize("kind", UNNAMEABLE)
def test_delete_force_removes_what_a_crashed_create_left(rt: Runtime, kind: str,
                                                         copy: bool) -> None:
    """What a create that crashed (or was killed) after recording such a cgroup left: the
    record (with or without its cgroup.json copy, which older versions did not write)."""
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    d = Path(rt.root) / b.id
    rec = json.loads((d / "state.json").read_text())
    assert rt("delete", "--force", b.id).rc == 0
    reap_children()
    bad = {**rec["cgroup"], "paths": {k: v + UNNAMEABLE[kind] for k, v in
                                      rec["cgroup"]["paths"].items()}}
    bad["created"] = [p + UNNAMEABLE[kind] for p in bad.get("created") or ()]
    rec = {k: v for k, v in rec.items() if k not in ("pid", "pid_start")}
    d.mkdir(mode=0o700)
    (d / "state.json").write_text(json.dumps({**rec, "status": "creating", "creator": [1, 0],
                                              "cgroup": bad}))
    if copy:
        (d / "cgroup.json").write_text(json.dumps(bad))
    r = rt("state", b.id)
    assert (r.rc, r.json()["status"]) == (0, "stopped"), r
    r = rt("delete", "--force", b.id)
    assert (r.rc, r.out, r.err) == (0, "", ""), r
    rt.assert_nothing_left(b)


def test_delete_of_a_bundle_whose_config_cannot_be_read(rt: Runtime) -> None:
    """Nothing in delete needs the bundle."""
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    (b.path / "config.json").write_bytes(b"\xff")
    r = rt("delete", "--force", b.id)
    assert (r.rc, r.out, r.err) == (0, "", ""), r
    reap_children()
    rt.assert_nothing_left(b)
