"""Hostile bundles (the project's issue 13): symlinks where proc, sysfs or the rootfs itself
must be real directories, a missing cwd on a read-only rootfs, hooks that leave children,
absurd cgroupsPaths, and security settings the host cannot apply. Every refusal is one line
naming the field, and nothing is left behind."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pyrunc_itest import (
    CGROUP_PARENT,
    MARK_VAR,
    Bundle,
    Runtime,
    cgroup_dirs,
    marked_pids,
    remove_cgroup,
)

pytestmark = pytest.mark.root


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def mount_index(b: Bundle, destination: str) -> int:
    return next(i for i, m in enumerate(b.config["mounts"]) if m["destination"] == destination)


def add_mount(config: dict[str, Any], destination: str, kind: str) -> None:
    config["mounts"].append({"destination": destination, "type": kind, "source": kind})


# -- proc and sysfs must be mounted on real directories (CVE-2019-19921) ------------------------
@pytest.mark.parametrize(("dest", "link", "kind", "what"), [
    ("/proc", "/hostdir", "proc", "a symlink"),       # absolute: resolved in the rootfs
    ("/proc", "hostdir", "proc", "a symlink"),        # relative
    ("/sys", "/hostdir", "sysfs", "a symlink"),
    ("/proc", None, "proc", "not a directory"),       # a regular file
])
def test_proc_and_sysfs_refuse_a_symlink_or_file_destination(
        rt: Runtime, dest: str, link: str | None, kind: str, what: str) -> None:
    b = rt.bundle(["true"], own_rootfs=True)
    root = b.path / "rootfs"
    (root / "hostdir").mkdir()
    (root / dest[1:]).rmdir()
    if link is None:
        (root / dest[1:]).write_text("")
    else:
        (root / dest[1:]).symlink_to(link)
    r = rt("run", "--bundle", str(b.path), b.id)
    assert r.rc != 0
    index = mount_index(b, dest)
    assert f"mounts[{index}]: {kind} destination {dest} is {what}" in one_line(r.err)
    assert os.listdir(root / "hostdir") == []  # nothing was mounted or made through the link
    rt.assert_nothing_left(b)


def test_proc_under_a_symlinked_parent_follows_it_inside_the_rootfs(rt: Runtime,
                                                                     tmp_path: Path) -> None:
    """runc 1.1.5 follows a symlinked parent of a proc destination (a relative one lands inside
    the rootfs); pyrunc resolves every parent inside the rootfs, so even an absolute link naming
    a host directory never reaches the host (runc makes the directory on the host there)."""
    host = tmp_path / "host"
    host.mkdir()

    def mutate(c: dict[str, Any]) -> None:
        add_mount(c, "/rel/p", "proc")
        add_mount(c, "/abs/p", "proc")
        c["process"]["args"] = ["cat", "/tmp/p/self/comm", f"{host}/p/self/comm"]

    b = rt.bundle([], mutate, own_rootfs=True)
    root = b.path / "rootfs"
    (root / "rel").symlink_to("tmp")
    (root / "abs").symlink_to(str(host))
    (root / str(host).lstrip("/")).mkdir(parents=True)
    r = rt("run", "--bundle", str(b.path), b.id)
    assert r.rc == 0, r
    assert os.listdir(host) == []
    assert (root / str(host).lstrip("/") / "p").is_dir()  # made inside the rootfs
    assert r.out == "cat\n" * 2  # both are proc mounts


# -- root.path must not go through a symlink ----------------------------------------------------
@pytest.mark.parametrize("layout", ["link", "link-in-between"])
def test_symlinked_root_path_is_refused_before_anything_is_made(rt: Runtime, tmp_path: Path,
                                                                layout: str) -> None:
    host = tmp_path / "hostdir"
    host.mkdir()
    b = rt.bundle(["true"])
    if layout == "link":
        (b.path / "rootfs").symlink_to(host)
        b.config["root"]["path"] = "rootfs"
    else:
        (b.path / "via").symlink_to(tmp_path)
        b.config["root"]["path"] = "via/hostdir"
    b.save()
    r = rt("run", "--bundle", str(b.path), b.id)
    assert r.rc != 0
    assert "root.path" in one_line(r.err) and "symlink" in r.err
    assert os.listdir(host) == []
    rt.assert_nothing_left(b)


def test_a_symlinked_bundle_directory_is_fine(rt: Runtime, tmp_path: Path) -> None:
    """runc takes the bundle's real path (getcwd), so only root.path's own components count."""
    b = rt.bundle(["true"], own_rootfs=True)
    link = tmp_path / "bundle-link"
    link.symlink_to(b.path)
    r = rt("run", "--bundle", str(link), b.id)
    assert r.rc == 0, r


# -- cwd is made before the rootfs turns read-only ------------------------------------------------
def test_missing_cwd_on_a_readonly_rootfs(rt: Runtime) -> None:
    def mutate(c: dict[str, Any]) -> None:
        c["root"]["readonly"] = True
        c["process"]["cwd"] = "/new/work/dir"

    b = rt.bundle(["pwd"], mutate, own_rootfs=True)
    r = rt("run", "--bundle", str(b.path), b.id)
    assert (r.rc, r.out) == (0, "/new/work/dir\n"), r
    assert (b.path / "rootfs" / "new" / "work" / "dir").is_dir()


# -- a hook killed on its timeout takes its children with it --------------------------------------
def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] != b"Z"


@pytest.mark.parametrize("kind", ["createRuntime", "poststart"])
def test_hook_timeout_kills_the_hooks_children(rt: Runtime, tmp_path: Path, kind: str) -> None:
    pidfile = tmp_path / "child.pid"
    script = f"sleep 1000 & echo $! > {pidfile}; wait"

    def mutate(c: dict[str, Any]) -> None:
        hook = {"path": "/bin/sh", "args": ["sh", "-c", script], "timeout": 1,
                "env": [f"{MARK_VAR}={rt.mark}"]}
        c.setdefault("hooks", {})[kind] = [hook]

    b = rt.bundle(["true"], mutate)
    r = rt("run", "--bundle", str(b.path), b.id)
    assert "timed out" in r.err, r
    child = int(pidfile.read_text())
    assert not _alive(child)
    assert marked_pids(rt.mark) == []


# -- cgroupsPath: nothing made for a path the kernel cannot take ---------------------------------
@pytest.mark.parametrize(("tail", "message"), [
    ("/".join(["c" * 100] * 50), "PATH_MAX"),  # refused before any mkdir
    ("a/cgroup.procs/x", "cgroup"),  # fails half-way (under a file): what was made goes
])
def test_unusable_cgroups_path_leaves_no_cgroup(rt: Runtime, tail: str, message: str) -> None:
    b = rt.bundle(["true"])
    top = f"/{CGROUP_PARENT}/{b.id}"
    b.config["linux"]["cgroupsPath"] = f"{top}/{tail}"
    b.save()
    try:
        r = rt("run", "--bundle", str(b.path), b.id)
        assert r.rc != 0
        assert cgroup_dirs(top) == []
        assert message in one_line(r.err)
    finally:
        remove_cgroup(top)


# -- a limit the kernel refuses names its member of linux.resources ------------------------------
@pytest.mark.parametrize(("section", "value", "field"), [
    ("memory", {"limit": 1}, "linux.resources.memory"),  # below what the cgroup already uses
    ("cpu", {"cpus": "4095"}, "linux.resources.cpu"),  # a CPU no machine of this kind has
])
def test_kernel_refusing_a_limit_names_the_field(rt: Runtime, section: str, value: dict,
                                                 field: str) -> None:
    def mutate(c: dict[str, Any]) -> None:
        c["linux"].setdefault("resources", {})[section] = value

    b = rt.bundle(["true"], mutate)
    r = rt("run", "--bundle", str(b.path), b.id)
    assert r.rc != 0
    assert field in one_line(r.err), r.err
    assert marked_pids(rt.mark) == []


# -- personality, I/O priority and scheduler are applied, never ignored ---------------------------
def test_personality_io_priority_and_scheduler_reach_the_process(rt: Runtime) -> None:
    """runc 1.1.5 ignores all three (it knows none of them); pyrunc applies them."""
    def mutate(c: dict[str, Any]) -> None:
        c["linux"]["personality"] = {"domain": "LINUX32"}
        c["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 5}
        c["process"]["scheduler"] = {"policy": "SCHED_BATCH", "nice": 7}

    b = rt.bundle(["sh", "-c", "cat /proc/self/personality; uname -m; ionice;"
                   " cat /proc/self/stat"], mutate)
    r = rt("run", "--bundle", str(b.path), b.id)
    assert r.rc == 0, r
    persona, machine, io, stat = r.out.splitlines()
    assert int(persona, 16) == 0x0008  # PER_LINUX32
    assert machine in ("i686", "armv8l")
    assert io == "best-effort: prio 5"
    fields = stat[stat.rfind(")") + 2:].split()
    assert int(fields[19 - 3]) == 7  # nice (field 19 of proc_pid_stat(5))
    assert int(fields[41 - 3]) == 3  # policy: SCHED_BATCH


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda c: c["linux"].update(personality={"domain": "LINUX", "flags": ["X"]}),
     "linux.personality.flags"),
    (lambda c: c["linux"].update(personality={"domain": "PER_SVR4"}),
     "linux.personality.domain"),
    (lambda c: c["process"].update(ioPriority={"class": "IOPRIO_CLASS_NONE", "priority": 0}),
     "process.ioPriority.class"),
    (lambda c: c["process"].update(ioPriority={"class": "IOPRIO_CLASS_BE", "priority": 8}),
     "process.ioPriority.priority"),
    (lambda c: c["process"].update(scheduler={"policy": "SCHED_NOPE"}),
     "process.scheduler.policy"),
    (lambda c: c["process"].update(scheduler={"policy": "SCHED_OTHER", "flags": ["NOPE"]}),
     "process.scheduler.flags"),
])
def test_bad_process_attributes_are_refused_up_front(rt: Runtime, mutate: Any,
                                                     field: str) -> None:
    b = rt.bundle(["true"], mutate)
    r = rt("run", "--bundle", str(b.path), b.id)
    assert r.rc != 0
    assert field in one_line(r.err)
    rt.assert_nothing_left(b)


def test_a_scheduler_the_kernel_refuses_fails_the_create(rt: Runtime) -> None:
    """SCHED_DEADLINE with runtime > deadline is EINVAL: an error naming the field."""
    b = rt.bundle(["true"], lambda c: c["process"].update(scheduler={
        "policy": "SCHED_DEADLINE", "runtime": 2_000_000, "deadline": 1_000_000,
        "period": 1_000_000}))
    r = rt("run", "--bundle", str(b.path), b.id)
    assert r.rc != 0
    assert "process.scheduler" in one_line(r.err) and "Invalid argument" in r.err
    rt.assert_nothing_left(b)


# -- security settings this host cannot apply are refused ----------------------------------------
def _apparmor_on_host() -> bool:
    try:
        return (os.path.isdir("/sys/kernel/security/apparmor") and
                Path("/sys/module/apparmor/parameters/enabled").read_text().startswith("Y"))
    except OSError:
        return False


def _selinux_on_host() -> bool:
    return os.path.exists("/sys/fs/selinux/enforce")


def _resctrl_on_host() -> bool:
    return any(" - resctrl " in line for line in open("/proc/self/mountinfo"))


@pytest.mark.parametrize(("mutate", "field", "host_has"), [
    (lambda c: c["process"].update(apparmorProfile="unconfined"), "process.apparmorProfile",
     _apparmor_on_host),
    (lambda c: c["process"].update(selinuxLabel="system_u:system_r:container_t:s0"),
     "process.selinuxLabel", _selinux_on_host),
    (lambda c: c["linux"].update(mountLabel="system_u:object_r:container_file_t:s0"),
     "linux.mountLabel", _selinux_on_host),
    (lambda c: c["linux"].update(intelRdt={"closID": "pyrunc-itest"}), "linux.intelRdt",
     _resctrl_on_host),
])
def test_security_settings_the_host_cannot_apply(rt: Runtime, mutate: Any, field: str,
                                                 host_has: Any) -> None:
    b = rt.bundle(["true"], mutate)
    r = rt("run", "--bundle", str(b.path), b.id)
    if field == "process.apparmorProfile" and host_has():
        assert r.rc == 0, r  # applied: "unconfined" exists wherever AppArmor does
        return
    assert r.rc != 0
    line = one_line(r.err)
    assert field in line
    assert ("not enabled on this host" in line or "no resctrl" in line) != host_has(), line
    rt.assert_nothing_left(b)


@pytest.mark.parametrize(("flag", "host_has"), [("--apparmor", _apparmor_on_host),
                                                ("--process-label", _selinux_on_host)])
def test_exec_security_flags_the_host_cannot_apply(rt: Runtime, tmp_path: Path, flag: str,
                                                   host_has: Any) -> None:
    b = rt.bundle(["sleep", "1000"])
    assert rt("run", "-d", "--bundle", str(b.path), b.id).rc == 0
    value = "unconfined" if flag == "--apparmor" else "system_u:system_r:container_t:s0"
    r = rt("exec", flag, value, b.id, "true")
    if flag == "--apparmor" and host_has():
        assert r.rc == 0, r
    else:
        assert r.rc != 0 and flag in one_line(r.err)
    process_file = tmp_path / "process.json"
    process_file.write_text(json.dumps(dict(b.config["process"], args=["true"])))
    r = rt("exec", "--process", str(process_file), flag, value, b.id)
    assert r.rc != 0 and flag in one_line(r.err) and "--process" in r.err


def test_features_say_what_this_host_applies(rt: Runtime) -> None:
    r = rt("features")
    assert r.rc == 0, r
    linux = r.json()["linux"]
    assert linux["apparmor"] == {"enabled": _apparmor_on_host()}
    assert linux["selinux"] == {"enabled": False}


# -- nothing but proc over /proc, nothing inside it but lxcfs' files (runc's checkProcMount) ------
@pytest.mark.parametrize(("mount", "refused"), [
    ({"destination": "/proc/sys", "type": "bind", "source": "HOST", "options": ["rbind"]},
     "inside /proc"),
    ({"destination": "/proc/fs", "type": "devpts", "source": "devpts"}, "inside /proc"),
    ({"destination": "/sneaky/sys", "type": "bind", "source": "HOST", "options": ["rbind"]},
     "inside /proc"),  # /sneaky is a symlink to proc: resolved first
    ({"destination": "/proc", "type": "bind", "source": "HOST", "options": ["rbind"]},
     "not a proc filesystem"),
    ({"destination": "/proc/meminfo", "type": "bind", "source": "HOSTFILE",
      "options": ["bind"]}, None),  # lxcfs-style
    ({"destination": "/proc", "type": "bind", "source": "/proc", "options": ["rbind"]}, None),
    ({"destination": "/proc/fs", "type": "tmpfs", "source": "tmpfs"}, None),
])
def test_mounts_on_or_inside_proc(rt: Runtime, tmp_path: Path, mount: dict[str, Any],
                                  refused: str | None) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "file").write_text("MemTotal: 1 kB\n")
    mount = dict(mount, source=mount["source"].replace("HOSTFILE", str(host / "file"))
                 .replace("HOST", str(host)))
    b = rt.bundle(["true"], lambda c: c["mounts"].append(mount), own_rootfs=True)
    (b.path / "rootfs" / "sneaky").symlink_to("proc")
    r = rt("run", "--bundle", str(b.path), b.id)
    if refused is None:
        assert r.rc == 0, r
        return
    assert r.rc != 0
    index = len(b.config["mounts"]) - 1
    assert f"mounts[{index}]: destination {mount['destination']}" in one_line(r.err)
    assert refused in r.err
    rt.assert_nothing_left(b)
