"""Containerd 1.6 with our shim: a private daemon (the drop-in tests' dropin_env.Containerd: own
config, root, state and sockets, CRI off, its opt/bin first on its PATH), the offline busybox
image imported with `ctr images import`, and launchers of this checkout's shim and pyrunc in
opt/bin, so `--runtime io.containerd.pyrunc.v2` finds our shim and our shim finds pyrunc."""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration" / "dropin"))

import dropin_env as env  # noqa: E402 - found through the path added above

SHIM_NAME = "containerd-shim-pyrunc-v2"
RUNTIME = "io.containerd.pyrunc.v2"
_counter = itertools.count()


def install_launchers(opt_bin: Path, python: str | None = None) -> Path:
    """This checkout's shim and pyrunc launchers in containerd's opt/bin; the shim's path.
    The shim runs on `python` (the benchmarks: the runtime environment's), else on this one.

    The shim is also installed as containerd-shim-runc-v2 there (first on this private
    containerd's PATH): `ctr run` passes --runc-binary (containerd.runc.v1.Options) only to
    runtime io.containerd.runc.v2, so that is how a test makes our shim run runc."""
    opt_bin.mkdir(parents=True, exist_ok=True)
    pythonpath = f"{REPO_ROOT / 'runtime'}:{REPO_ROOT / 'engine'}"
    environ = dict(os.environ, PYTHONPATH=pythonpath)
    env.run([python or sys.executable, "-m", "pyengine.shim.launcher", str(opt_bin / SHIM_NAME)],
            env=environ)
    env.run([sys.executable, "-m", "pyrunc.launcher", str(opt_bin / "pyrunc")], env=environ)
    os.link(opt_bin / SHIM_NAME, opt_bin / "containerd-shim-runc-v2")
    return opt_bin / SHIM_NAME


class ShimCtr:
    """ctr on the private containerd, running containers with our shim."""

    def __init__(self, daemon: env.Containerd, runtime: str, runc_binary: str | None) -> None:
        self.daemon = daemon
        self.runtime = runtime  # our shim: a path, or the runtime name containerd resolves
        self.runc_binary = runc_binary  # --runc-binary, else the shim's default (pyrunc)
        self.created: list[str] = []

    def new_id(self, what: str) -> str:
        container_id = f"{what}-{os.getpid()}-{next(_counter)}"
        self.created.append(container_id)
        return container_id

    def run_argv(self, container_id: str, *cmd: str, flags: tuple[str, ...] = ()) -> list[str]:
        extra = ("--runc-binary", self.runc_binary) if self.runc_binary else ()
        return self.daemon.ctr_argv("run", "--runtime", self.runtime, *extra, *flags, env.IMAGE,
                                    container_id, *cmd)

    def run(self, *cmd: str, flags: tuple[str, ...] = ("--rm",), what: str = "run",
            input: str | None = None) -> subprocess.CompletedProcess:
        return env.run(self.run_argv(self.new_id(what), *cmd, flags=flags), check=False,
                       input=input)

    def start(self, what: str, *cmd: str, flags: tuple[str, ...] = ()) -> str:
        """`ctr run -d`: a running container's id."""
        container_id = self.new_id(what)
        started = env.run(self.run_argv(container_id, *cmd, flags=("-d", *flags)), check=False)
        assert started.returncode == 0, started.stderr
        return container_id

    def ctr(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return self.daemon.ctr(*args, check=check)

    def status(self, container_id: str) -> str:
        return self.daemon.tasks().get(container_id, (0, "NONE"))[1]

    def cleanup(self) -> None:
        for container_id in self.created:
            self.daemon.remove(container_id)


class Events:
    """`ctr events` on the daemon while the block runs: the topics seen per container."""

    def __init__(self, daemon: env.Containerd) -> None:
        self.daemon = daemon
        self.output = bytearray()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Events:
        self.process = subprocess.Popen(self.daemon.ctr_argv("events"), stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        probes = itertools.count()

        def subscribed() -> bool:  # ctr subscribes asynchronously: label until it sees one
            self.daemon.ctr("namespaces", "label", self.daemon.namespace,
                            f"pyshim-probe={next(probes)}")
            self._read(0.2)
            return b"/namespaces/update" in self.output

        try:
            env.wait_for(subscribed, what="ctr events to subscribe")
        except BaseException:
            self.__exit__()
            raise
        return self

    def _read(self, wait: float) -> None:
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        if select.select([fd], [], [], wait)[0]:
            self.output.extend(os.read(fd, 65536))

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def topics(self, container_id: str) -> list[str]:
        # "<date> <time> <zone> UTC <namespace> <topic> <event as JSON>"
        return [line.split()[5] for line in self.output.decode().splitlines()
                if f'"{container_id}"' in line]

    def wait_for(self, container_id: str, topic: str) -> list[str]:
        """Read events until `topic` shows for `container_id`; its topics so far."""
        def seen() -> bool:
            self._read(0.1)
            return topic in self.topics(container_id)

        env.wait_for(seen, what=f"event {topic} of {container_id}")
        return self.topics(container_id)


def shim_pids(daemon: env.Containerd) -> list[int]:
    """Our shims serving this daemon: processes working in one of its task bundles (forked
    from the zygote, their command line is the zygote's)."""
    tasks = str(daemon.state / "io.containerd.runtime.v2.task") + "/"
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            if cwd.startswith(tasks):
                found.append(int(entry))
    return found


def zygote_pid(launcher: Path) -> int | None:
    """The shim zygote serving `launcher`'s shims (and its links'), if one runs."""
    from pyengine.shim import zygote

    path = zygote.socket_path(str(launcher))
    try:
        pid = int(Path(zygote.pid_file(path)).read_text())
    except (OSError, ValueError):
        return None
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    return pid if b"zygote" in argv and path.encode() in argv else None


def stop_shims(daemon: env.Containerd, launcher: Path) -> None:
    """Our shims left running for this daemon, then the zygote of `launcher`: by pid."""
    from pyengine.shim import zygote

    for pid in shim_pids(daemon):
        env.terminate(pid, grace=5)
    pid = zygote_pid(launcher)
    if pid is not None:
        env.terminate(pid, grace=5)
    path = zygote.socket_path(str(launcher))
    for leftover in (path, zygote.pid_file(path)):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(leftover)
