"""pyengined for container tests: in a network namespace of its own (or the test module's), and
the clean-up by id, pid and path of whatever a test leaves."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shim"))

from engine_harness import Engine
from pyengine.containers.strays import end_stray_shim, processes_in
from pyshim_env import zygote_pid

SHIMS = ("go", "pyrunc")  # containerd's containerd-shim-runc-v2 (the default), ours


class ContainerEngine(Engine):
    """pyengined under `unshare --net` (exec'd: same pid), pyrunc of this checkout by default;
    `module_network` runs the daemon in the test module's network namespace instead
    (tests/fixtures/netns.py: where the registry fixture listens on 127.0.0.1; never the
    machine's), for tests that pull."""

    module_network = False

    def command(self) -> list[str]:
        own = [] if self.module_network else ["unshare", "--net", "--"]
        return [*own, *super().command()]

    def ids(self) -> list[str]:
        result = self.pyctl("ps", "-aq", "--no-trunc")
        return result.stdout.decode().split() if result.returncode == 0 else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def shims_of(cid: str) -> list[int]:
    """Pids of the shims serving `cid` (by the -id in their command line)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    argv = handle.read().split(b"\0")
            except OSError:
                continue
            if b"-id" in argv and cid.encode() in argv:
                found.append(int(entry))
    return found


def install_launcher(directory: Path) -> Path:
    """pyrunc's launcher pointing at this checkout (the installed one points at /work/main)."""
    from pyrunc.launcher import install

    return Path(install(str(directory / "pyrunc")))


def busybox_rootfs(directory: Path) -> Path:
    """The offline busybox image's rootfs tar (tools/mkimage-busybox -o)."""
    from engine_harness import REPO

    path = directory / "rootfs.tar"
    subprocess.run([str(REPO / "tools" / "mkimage-busybox"), "-o", str(path)], check=True,
                   capture_output=True)
    return path


def install_pyrunc_shim(directory: Path) -> Path:
    """containerd-shim-pyrunc-v2's launcher pointing at this checkout."""
    from pyengine.shim.launcher import install

    return Path(install(str(directory / "containerd-shim-pyrunc-v2")))


def stop_zygote(launcher: Path) -> None:
    """The shim zygote of `launcher` (our shims are forked from it), by pid."""
    from pyengine.shim import zygote

    pid = zygote_pid(launcher)
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
    path = zygote.socket_path(str(launcher))
    for leftover in (path, zygote.pid_file(path)):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(leftover)


def shim_config(shim: str, pyrunc_shim: Path) -> dict:
    """The daemon configuration running containers under `shim` (one of SHIMS)."""
    return {"shim-binary": str(pyrunc_shim)} if shim == "pyrunc" else {}


def shim_pid(engine: ContainerEngine, cid: str) -> int:
    """The pid of the shim serving running `cid`: the one process working in its bundle
    (containerd's Go shim writes no pid file there; ours is forked from a zygote)."""
    (pid,) = processes_in(engine.exec_root / "containers" / cid)
    return pid


def restart_crashing_at(engine: ContainerEngine, point: str) -> None:
    """Stop `engine` and start it again with a crash point (engine/pyengine/crashpoints.py)
    set for that start only."""
    engine.stop()
    os.environ["PYENGINE_TEST_CRASH_AT"] = point
    try:
        engine.start()
    finally:
        del os.environ["PYENGINE_TEST_CRASH_AT"]


def cleanup(engine: ContainerEngine) -> None:
    """Containers removed through the daemon while it runs, then whatever is left by path:
    shims by pid, their sockets, rootfs mounts, the runtime's state, the base directory."""
    if engine.process is not None and engine.process.poll() is None:
        ids = engine.ids()
        if ids:
            engine.pyctl("rm", "-f", *ids)
    engine.stop()
    bundles = engine.exec_root / "containers"
    for bundle in bundles.iterdir() if bundles.exists() else []:
        for pid in shims_of(bundle.name):
            os.kill(pid, signal.SIGKILL)
        end_stray_shim(bundle)  # ours, forked from a zygote, carry no -id
        with contextlib.suppress(OSError):
            address = (bundle / "address").read_text().strip().removeprefix("unix://")
            if address.startswith("/run/containerd/s/"):
                os.unlink(address)
        for runtime in ("runc", str(engine.launcher)):
            subprocess.run([runtime, "--root", str(engine.exec_root / "runtime" / "pyengine"),
                            "delete", "--force", bundle.name], capture_output=True, check=False)
        subprocess.run(["umount", "-q", str(bundle / "rootfs")], check=False,
                       stderr=subprocess.DEVNULL)
    for point in mounts_under(engine.base):  # snapshots, rootfs, a build's COPY mounts...
        subprocess.run(["umount", "-l", "-q", point], check=False, stderr=subprocess.DEVNULL)
    shutil.rmtree(engine.base, ignore_errors=True)


def mounts_under(base: Path) -> list[str]:
    """Mount points at or below `base`, deepest first (from this process's mountinfo)."""
    prefix = str(base).rstrip("/") + "/"
    points = []
    with open("/proc/self/mountinfo") as info:
        for line in info:
            point = line.split()[4].replace("\\040", " ")
            if point == prefix[:-1] or point.startswith(prefix):
                points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def crun_binary(directory: Path) -> str:
    """crun as the engine can run it here: crun 1.8 refuses every create on a hybrid cgroup
    host, so there it runs in a private mount namespace with the cgroup2 mount hidden (as
    spec-tests does; the init stays the shim's grandchild: unshare execs); elsewhere the plain
    binary."""
    if not os.path.ismount("/sys/fs/cgroup/unified"):
        return "crun"
    wrapper = directory / "crun"
    wrapper.write_text("#!/bin/sh\n"
                       "exec unshare -m --propagation slave sh -c "
                       "'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec crun \"$@\"' "
                       'crun "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)
