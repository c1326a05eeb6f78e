"""list, pause/resume, the six lifecycle hooks, user namespaces, and the hot path's imports
during real create/start/state calls."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from pyrunc_itest import Runtime, cgroup_dirs, wait_until

pytestmark = pytest.mark.root

SLEEP = ["sleep", "1000"]
RUNC_LIST_HEADER = "ID          PID         STATUS      BUNDLE      CREATED     OWNER"


def test_list_formats(rt: Runtime) -> None:
    r = rt("list")
    assert r.rc == 0 and r.out == RUNC_LIST_HEADER + "\n"  # runc's empty table, byte for byte
    assert rt("list", "-q").out == ""
    assert rt("list", "--format", "json").out.strip() in ("null", "[]")

    a = rt.bundle(SLEEP)
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(a.path), a.id).rc == 0
    assert rt("run", "--detach", "--bundle", str(b.path), b.id).rc == 0
    ids = sorted([a.id, b.id])
    assert rt("list", "-q").out.split() == ids
    assert rt("list", "--quiet").out.split() == ids

    for args in (("--format", "json"), ("--format=json",), ("-f", "json")):
        items = json.loads(rt("list", *args).out)
        assert sorted(i["id"] for i in items) == ids
        for item in items:
            assert {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created",
                    "owner"} <= set(item)
            st = rt.state(item["id"])
            assert (item["pid"], item["status"], item["bundle"]) == \
                (st["pid"], st["status"], st["bundle"])
            assert item["owner"] == "root"
    statuses = {i["id"]: i["status"] for i in json.loads(rt("list", "-f", "json").out)}
    assert statuses == {a.id: "created", b.id: "running"}

    lines = rt("list").out.splitlines()
    assert lines[0].split() == RUNC_LIST_HEADER.split()
    starts = [m.start() for m in re.finditer(r"\S+", lines[0])]
    rows = {}
    for line in lines[1:]:
        cells = line.split()
        assert len(cells) == 6, line
        assert [m.start() for m in re.finditer(r"\S+", line)] == starts, (lines[0], line)
        rows[cells[0]] = cells
    assert sorted(rows) == ids
    assert rows[a.id][2] == "created" and rows[b.id][2] == "running"
    assert rows[a.id][3] == str(a.path) and rows[a.id][5] == "root"


def test_list_bad_format(rt: Runtime) -> None:
    r = rt("list", "--format", "yaml")
    assert r.rc != 0 and "yaml" in r.err


def _freezer_state(cgroups_path: str) -> str:
    """FROZEN or THAWED: the v1 freezer's state, or cgroup.events on a cgroup v2-only machine.
    A container's missing freezer file is a failure, not a reason to skip."""
    relative = cgroups_path.strip("/")
    if os.path.ismount("/sys/fs/cgroup/freezer"):
        return Path(f"/sys/fs/cgroup/freezer/{relative}/freezer.state").read_text().strip()
    assert os.path.exists("/sys/fs/cgroup/cgroup.controllers"), "no v1 freezer and not cgroup v2"
    events = Path(f"/sys/fs/cgroup/{relative}/cgroup.events").read_text().splitlines()
    return "FROZEN" if "frozen 1" in events else "THAWED"


def test_pause_resume(rt: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "out"
    b = rt.bundle(["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /dev/null; done"])
    with open(out, "wb") as f:
        assert rt("run", "--detach", "--bundle", str(b.path), b.id, stdout=f).rc == 0
    r = rt("pause", b.id)
    assert (r.rc, r.out, r.err) == (0, "", "")
    st = rt.state(b.id)
    assert st["status"] == "paused" and st["pid"] > 0
    assert _freezer_state(b.cgroups_path) == "FROZEN"
    assert [i["status"] for i in json.loads(rt("list", "-f", "json").out)] == ["paused"]
    r = rt("start", b.id)
    assert r.rc != 0 and "paused" in r.err
    r = rt("resume", b.id)
    assert (r.rc, r.out, r.err) == (0, "", "")
    assert rt.state(b.id)["status"] == "running"
    assert _freezer_state(b.cgroups_path) == "THAWED"
    r = rt("resume", b.id)
    assert r.rc != 0 and "not paused" in r.err
    assert rt("pause", b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    r = rt("delete", "--force", b.id)  # a paused container must still be force-deletable
    assert (r.rc, r.out) == (0, ""), r
    os.waitpid(pid, 0)
    rt.assert_nothing_left(b)


def test_pause_a_stopped_container(rt: Runtime) -> None:
    b = rt.bundle(["true"])
    assert rt("run", "--keep", "--bundle", str(b.path), b.id).rc == 0
    r = rt("pause", b.id)
    assert r.rc != 0 and "not running" in r.err


# -- hooks ---------------------------------------------------------------------------------
HOOK_KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart",
              "poststop")


def _recording_hooks(hostdir: Path, fail: str | None = None) -> dict[str, list[dict[str, Any]]]:
    hooks = {}
    for kind in HOOK_KINDS:
        # startContainer runs inside the container (after pivot_root): the host dir is bound
        # at /hookout there; the others see the host path
        d = "/hookout" if kind == "startContainer" else str(hostdir)
        script = (f'cat > {d}/{kind}.json; echo "$HOOKVAR $0 $1" > {d}/{kind}.env; '
                  f"echo {kind} >> {d}/order.{kind}")
        if kind == fail:
            script += "; exit 3"
        hooks[kind] = [{"path": "/bin/sh", "args": ["sh", "-c", script, "arg0", "arg1"],
                        "env": [f"HOOKVAR=v-{kind}"], "timeout": 20}]
    return hooks


def _hook_bundle(rt: Runtime, hostdir: Path, args: list[str], fail: str | None = None):
    hostdir.mkdir(mode=0o777)

    def mutate(c: dict) -> None:
        c["hooks"] = _recording_hooks(hostdir, fail)
        c["mounts"].append({"destination": "/hookout", "type": "bind", "source": str(hostdir),
                            "options": ["rbind", "rw"]})
        c["annotations"] = {"org.example.test": "hooks"}

    return rt.bundle(args, mutate)


def _ran(hostdir: Path) -> set[str]:
    return {p.name.split(".", 1)[1] for p in hostdir.glob("order.*")}


def test_hooks_get_the_state_and_run_in_order(rt: Runtime, tmp_path: Path) -> None:
    hostdir = tmp_path / "hooks"
    b = _hook_bundle(rt, hostdir, ["sh", "-c", "echo payload > /hookout/payload; exec sleep 1000"])
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    assert _ran(hostdir) == {"prestart", "createRuntime", "createContainer"}
    assert rt("start", b.id).rc == 0
    wait_until(lambda: (hostdir / "payload").exists(), what="payload")
    assert _ran(hostdir) == {"prestart", "createRuntime", "createContainer", "startContainer",
                             "poststart"}
    # (poststart vs. the user process's exec: test_poststart_runs_after_the_user_process...)
    assert rt("kill", b.id, "9").rc == 0
    os.waitpid(pid, 0)
    assert "poststop" not in _ran(hostdir)
    assert rt("delete", b.id).rc == 0
    assert _ran(hostdir) == set(HOOK_KINDS)

    expected_status = {"prestart": "creating", "createRuntime": "creating",
                       "createContainer": "creating", "startContainer": "created",
                       "poststart": "running", "poststop": "stopped"}
    for kind in HOOK_KINDS:
        st = json.loads((hostdir / f"{kind}.json").read_text())
        assert st["id"] == b.id, (kind, st)
        assert st["bundle"] == str(b.path), (kind, st)
        assert st["status"] == expected_status[kind], (kind, st)
        assert st["ociVersion"], (kind, st)
        assert st.get("annotations") == {"org.example.test": "hooks"}, (kind, st)
        if kind in ("prestart", "createRuntime", "poststart"):
            assert st["pid"] == pid, (kind, st)
        assert (hostdir / f"{kind}.env").read_text() == f"v-{kind} arg0 arg1\n", kind
        assert (hostdir / f"order.{kind}").read_text() == f"{kind}\n"  # ran once
    rt.assert_nothing_left(b)


def test_failing_poststart_and_poststop_only_warn(rt: Runtime, tmp_path: Path) -> None:
    hostdir = tmp_path / "hooks"
    b = _hook_bundle(rt, hostdir, SLEEP, fail="poststart")
    b.config["hooks"]["poststop"][0]["args"][2] += "; exit 4"
    b.save()
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    r = rt("start", b.id)
    assert r.rc == 0, r
    assert rt.state(b.id)["status"] == "running"
    r = rt("delete", "--force", b.id)
    assert r.rc == 0, r
    os.waitpid(pid, 0)
    assert "poststop" in _ran(hostdir)
    rt.assert_nothing_left(b)


def test_failing_start_container_hook_stops_the_container(rt: Runtime, tmp_path: Path) -> None:
    hostdir = tmp_path / "hooks"
    b = _hook_bundle(rt, hostdir, ["sh", "-c", "echo payload > /hookout/payload"],
                     fail="startContainer")
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    rt("start", b.id)
    _, status = os.waitpid(pid, 0)
    assert status != 0
    assert not (hostdir / "payload").exists()  # the user process never ran
    assert rt.state(b.id)["status"] == "stopped"
    assert rt("delete", b.id).rc == 0


# -- user namespace ------------------------------------------------------------------------
def test_user_namespace_mappings(rt: Runtime, tmp_path: Path) -> None:
    host_uid, host_gid = 100000, 200000

    def mutate(c: dict) -> None:
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": host_uid, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": host_gid, "size": 65536}]
        c["mounts"] = [m for m in c["mounts"] if m["type"] != "cgroup"]

    b = rt.bundle(["sh", "-c", "id -u; id -g; cat /proc/self/uid_map; exec sleep 1000"], mutate)
    out = tmp_path / "out"
    with open(out, "wb") as f:
        r = rt("create", "--bundle", str(b.path), b.id, stdout=f, stderr=f)
    assert r.rc == 0, out.read_text()
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    text = wait_until(lambda: out.read_text().count("\n") >= 3 and out.read_text(), what="ids")
    lines = text.split("\n")
    assert lines[0] == "0" and lines[1] == "0", text
    assert lines[2].split() == ["0", str(host_uid), "65536"], text
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f)
    assert status["Uid"].split()[0] == str(host_uid)
    assert status["Gid"].split()[0] == str(host_gid)
    with open(f"/proc/{pid}/uid_map") as f:
        assert f.read().split() == ["0", str(host_uid), "65536"]
    assert os.readlink(f"/proc/{pid}/ns/user") != os.readlink("/proc/self/ns/user")
    assert rt("delete", "--force", b.id).rc == 0
    os.waitpid(pid, 0)
    rt.assert_nothing_left(b)


# -- hot path ------------------------------------------------------------------------------
FORBIDDEN = {"re", "json", "typing", "enum", "subprocess", "shutil", "signal", "dataclasses",
             "socket", "jsonschema", "site"}


def _imports(rt: Runtime, *args: str) -> set[str]:
    python = os.path.realpath(sys.executable)
    with tempfile.TemporaryFile("w+") as err:  # not a pipe: the container inherits stderr
        proc = subprocess.run([python, "-I", "-S", "-X", "importtime", rt.launcher, "--root",
                               rt.root, *args], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=err, env=rt.env(), timeout=60)
        err.seek(0)
        text = err.read()
    assert proc.returncode == 0, text[-2000:]
    names = set()
    for line in text.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def test_hot_path_imports_during_real_calls(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    for args in (("create", "--bundle", str(b.path), "--pid-file", str(rt.workdir / "pid"),
                  b.id), ("start", b.id), ("state", b.id), ("kill", b.id, "9")):
        loaded = _imports(rt, *args)
        assert "pyrunc.cli.main" in loaded
        assert not FORBIDDEN & loaded, (args[0], sorted(FORBIDDEN & loaded))
    pid = int((rt.workdir / "pid").read_text())
    os.waitpid(pid, 0)
    loaded = _imports(rt, "delete", b.id)
    assert not FORBIDDEN & loaded, ("delete", sorted(FORBIDDEN & loaded))
    assert cgroup_dirs(b.cgroups_path) == []


def test_poststart_runs_after_the_user_process_was_executed(rt: Runtime, tmp_path: Path) -> None:
    """runtime-spec: poststart hooks are called after the user-specified process is executed and
    before `start` returns. A slow startContainer hook delays that exec: poststart must still see
    the user process (not the runtime's init) behind the state's pid."""
    seen = tmp_path / "poststart-saw"

    def mutate(c: dict) -> None:
        c["hooks"] = {
            "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 1"]}],
            "poststart": [{"path": "/bin/sh", "args": [
                "sh", "-c", "pid=$(sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p'); "
                f"tr '\\0' ' ' < /proc/$pid/cmdline > {seen}"]}],
        }

    b = rt.bundle(["sleep", "1000"], mutate)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    r = rt("start", b.id)
    assert r.rc == 0, r
    assert seen.read_text().strip() == "sleep 1000", seen.read_text()


def test_hooks_run_in_the_right_namespaces(rt: Runtime, tmp_path: Path) -> None:
    """prestart, createRuntime, poststart, poststop: the runtime's namespaces; createContainer
    and startContainer: the container's (runtime-spec config.md, POSIX hooks)."""
    hostdir = tmp_path / "ns"
    hostdir.mkdir(mode=0o777)

    def mutate(c: dict) -> None:
        c["hooks"] = {}
        for kind in HOOK_KINDS:
            d = "/hookout" if kind == "startContainer" else str(hostdir)
            c["hooks"][kind] = [{"path": "/bin/sh", "args": [
                "sh", "-c", f"readlink /proc/self/ns/mnt > {d}/{kind}.mnt; "
                f"readlink /proc/self/ns/uts > {d}/{kind}.uts"]}]
        c["mounts"].append({"destination": "/hookout", "type": "bind", "source": str(hostdir),
                            "options": ["rbind", "rw"]})

    b = rt.bundle(SLEEP, mutate)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    container = {ns: os.readlink(f"/proc/{pid}/ns/{ns}") for ns in ("mnt", "uts")}
    host = {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in ("mnt", "uts")}
    assert rt("start", b.id).rc == 0
    assert rt("delete", "--force", b.id).rc == 0
    os.waitpid(pid, 0)
    for kind in HOOK_KINDS:
        want = container if kind in ("createContainer", "startContainer") else host
        for ns in ("mnt", "uts"):
            got = (hostdir / f"{kind}.{ns}").read_text().strip()
            assert got == want[ns], (kind, ns, got, want[ns])


def _logging_hook(log: Path, name: str, fail: bool = False) -> dict:
    """A hook that appends its name to ``log`` (and fails after, if asked)."""
    return {"path": "/bin/sh",
            "args": ["sh", "-c", f"echo {name} >> {log}" + ("; exit 1" if fail else "")]}


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook_stops_the_chain_and_runs_poststop(rt: Runtime, tmp_path: Path,
                                                               kind: str) -> None:
    """runtime-spec lifecycle: a failing prestart/createRuntime/createContainer hook → error,
    the later hooks of that kind do not run, the container is destroyed (step 12) and the
    poststop hooks are invoked (step 13). runc does the same."""
    log = tmp_path / "hooks.log"
    log.write_text("")

    def rec(name: str, fail: bool = False) -> dict:
        return _logging_hook(log, name, fail)

    def mutate(c: dict) -> None:
        c["hooks"] = {kind: [rec(f"{kind}-1"), rec(f"{kind}-2", fail=True), rec(f"{kind}-3")],
                      "poststop": [rec("poststop")]}

    b = rt.bundle(["sh", "-c", f"echo payload >> {log}"], mutate, own_rootfs=True)
    r = rt("create", "--bundle", str(b.path), b.id)
    assert r.rc != 0 and kind in r.err
    ran = log.read_text().split()
    assert ran[:2] == [f"{kind}-1", f"{kind}-2"], ran
    assert f"{kind}-3" not in ran and "payload" not in ran, ran
    assert "poststop" in ran, f"poststop hooks were not invoked after a failed create: {ran}"
    rt.assert_nothing_left(b)


def test_failing_poststart_or_poststop_hook_does_not_stop_the_rest(rt: Runtime,
                                                                   tmp_path: Path) -> None:
    """poststart/poststop: a failure is a warning; the remaining hooks still run."""
    log = tmp_path / "hooks.log"
    log.write_text("")

    def rec(name: str, fail: bool = False) -> dict:
        return _logging_hook(log, name, fail)

    def mutate(c: dict) -> None:
        c["hooks"] = {"poststart": [rec("poststart-1", fail=True), rec("poststart-2")],
                      "poststop": [rec("poststop-1", fail=True), rec("poststop-2")]}

    b = rt.bundle(SLEEP, mutate)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    assert rt.state(b.id)["status"] == "running"
    assert rt("delete", "--force", b.id).rc == 0
    os.waitpid(pid, 0)
    assert log.read_text().split() == ["poststart-1", "poststart-2", "poststop-1", "poststop-2"]
    rt.assert_nothing_left(b)
