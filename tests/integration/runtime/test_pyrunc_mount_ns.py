"""Containers without a mount namespace of their own, and containers joining one by path: the
pyrunc-specific parts (spec-tests cover what runc does alike). Everything that mounts runs in a
private mount namespace made for the test (unshare), never in the machine's own."""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest
from pyrunc_itest import REPO, Runtime, mounts_referencing

pytestmark = pytest.mark.root

MOUNTINFO = ["cat", "/proc/self/mountinfo"]


def _no_namespaces(config: dict) -> None:
    config["linux"]["namespaces"] = []
    config.pop("hostname", None)
    config["linux"]["maskedPaths"] = []
    config["linux"]["readonlyPaths"] = []


def _root_mount(mountinfo: str) -> list[str]:
    """The fields of the mountinfo line of the reader's / (root and mount point)."""
    for line in mountinfo.splitlines():
        fields = line.split()
        if fields[4] == "/":
            return fields
    raise AssertionError(f"no / in {mountinfo!r}")


@pytest.mark.parametrize("no_pivot", [False, True], ids=["pivot", "no-pivot"])
def test_no_mount_namespace_chroots_and_leaves_runtime_mounts_alone(rt: Runtime,
                                                                    no_pivot: bool) -> None:
    """Without a mount namespace the init is chrooted into the rootfs bind (pivot_root would
    move every process of the runtime's namespace; --no-pivot's MS_MOVE would cover the
    runtime's /), and the propagation of the runtime's own mounts is left as it was (runc 1.1.5
    makes the runtime's / rslave: a shared / whose peers are gone turns private)."""
    b = rt.bundle(MOUNTINFO, _no_namespaces)
    flags = " --no-pivot" if no_pivot else ""
    script = (f"{shlex.join(rt.argv('run', '--bundle', str(b.path)))}{flags} {b.id} && "
              "echo PROPAGATION $(findmnt -no PROPAGATION /)")
    # / shared, as on a systemd host, in a namespace of the test's own
    proc = subprocess.run(["unshare", "-m", "--propagation", "shared", "sh", "-c", script],
                          capture_output=True, text=True, env=rt.env(), cwd=rt.workdir,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    container, _, after = proc.stdout.rpartition("PROPAGATION ")
    root = _root_mount(container)
    assert root[3] == str(rt.rootfs), "the container's / is the rootfs bind"
    assert "ro" in root[5].split(","), "root.readonly holds"
    assert after.strip() == "shared", "the runtime's / must keep its propagation"
    assert mounts_referencing(str(rt.rootfs)) == []


def _launcher_python_dirs(launcher: str) -> list[str]:
    """The stdlib of the interpreter the launcher names and pyrunc's package directory (none
    for a runtime that is not a Python script)."""
    with open(launcher, "rb") as f:
        first = f.readline().decode(errors="replace")
    if not (first.startswith("#!") and "python" in first):
        return []
    python = first[2:].split()[0]
    stdlib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                             "['stdlib'])"], capture_output=True, text=True, check=True)
    return [stdlib.stdout.strip(), str(REPO / "runtime")]


def test_join_mount_namespace_without_the_runtimes_python(rt: Runtime) -> None:
    """The joined mount namespace need not hold pyrunc's Python library: the init imports
    what it needs before joining. The holder hides the library under empty tmpfs mounts."""
    hidden = _launcher_python_dirs(rt.launcher)
    hide = "".join(f"mount -t tmpfs none {shlex.quote(d)} && " for d in hidden)
    holder = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                               f"{hide}echo ready; exec sleep 1000"],
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"ready\n"
        ns = f"/proc/{holder.pid}/ns/mnt"
        want = os.readlink(ns)
        for d in hidden:
            assert os.listdir(f"/proc/{holder.pid}/root{d}") == [], f"{d} not hidden"

        def join(config: dict) -> None:
            config["linux"]["namespaces"] = [
                n for n in config["linux"]["namespaces"] if n["type"] != "mount"]
            config["linux"]["namespaces"].append({"type": "mount", "path": ns})

        b = rt.bundle(["sh", "-c", "readlink /proc/self/ns/mnt; cat /proc/self/mountinfo"],
                      join)
        r = rt("run", "--bundle", str(b.path), b.id)
        assert r.rc == 0, r
        link, _, mountinfo = r.out.partition("\n")
        assert link == want
        assert _root_mount(mountinfo)[3] == str(rt.rootfs)
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert mounts_referencing(str(rt.rootfs)) == []
