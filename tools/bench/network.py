#!/usr/bin/env python3
"""Benchmark: container networking through pyengined/pyctl side by side with podman 4.3 (its CNI
bridge) and dockerd 20.10 (its docker0 bridge), in one run, with ratios (issue 10, Performance).

Parts (--parts, default all):
  server      which server is not the bottleneck: busybox `nc -l` > /dev/null against
              network_server.py's sink, 1 GiB over 127.0.0.1 (nc reads 1 KiB at a time)
  throughput  host -> container TCP throughput, "host" being the daemon's network namespace: a
              Python client (1 MiB sendall buffers, --seconds per run) to a sink in the
              container (tools/bench/network_server.py), through the published port on
              127.0.0.1 (-p 127.0.0.1:18001:5001) and straight to the container's address; the
              same for podman's and dockerd's published ports (dockerd's loopback goes through
              its userland docker-proxy) and, as the ceiling, to the same server on 127.0.0.1
              in the namespace itself; medians of --runs runs, the paths alternating.
              Targets: ours published >= 0.8 x ours direct, and >= podman published; the
              ratios are the medians of each round's ratio, with their range.
  latency     the same paths: connect + 1-byte echo + close, --connections per path (in 3
              alternating rounds), median and 90th percentile.
  run         `run --rm busybox true` with `--network bridge` and `--network none`: pyctl,
              podman (CNI bridge), dockerd (docker0), alternating rounds after warm-up runs;
              medians; ours vs the faster peer (target <= 1.0x).
  connect     `network connect NET2 CONTAINER` (then `network disconnect`, timed too) of a
              running container, for pyctl, podman and docker; medians; ours vs docker.
A manager whose step fails (e.g. a feature not built yet) is reported with its error and left
out of that part; the others still run.

Isolation: the bench re-executes itself under `unshare --mount --net --propagation private`,
so every mount it makes is private and its own namespace has only lo. There it mounts a tmpfs
on /run/netns (the namespaces it creates with `ip netns add` are seen by nobody else), an
overlay on /var/lib whose upper layer is a tmpfs of its own (podman's libcni keeps its cache in
/var/lib/cni, host-local IPAM under /var/lib/cni/networks, containers/image its blob cache:
none of it reaches the machine's disk), a tmpfs on /run/containerd/s (containerd shims'
sockets). Each manager's daemon runs in a network namespace of its own, where its bridge,
veths and iptables rules are made: pyengined, podman (every podman call enters it: podman
has no daemon, the CLI and conmon do the CNI work) and dockerd (tools/bench/engine.py's
private dockerd, with its bridge). podman: private --root/--runroot and containers.conf
(tests/integration/dropin/dropin_env.py's) with the CNI backend, Debian's plugins
(/usr/lib/cni) and a network config directory of the bench's own holding its default
network (cni-podman0, 10.88.0.0/16, as Debian's but with IPAM data in the bench's directory).
Clients that open sockets run on a short-lived thread that setns()'d into the manager's
namespace. Clean-up (always, also after a failure): every container through its manager, the
daemons by pid, the namespaces, mounts and directories by path.

Images: tools/mkimage-busybox's rootfs (busybox:latest) and the same plus Debian's python3.11
(the interpreter, the shared libraries ldd names and the standard-library modules the server
imports) and network_server.py (netbench:latest), imported into each manager.

Usage (root): tools/bench/network.py [--parts server,throughput,latency,run,connect] [--runs 9]
              [--seconds 1.0] [--connections 300] [--run-rounds 11]
              [--pyctl-runtime pyrunc|runc] [--json]
Prints a table, then the figures as one JSON line (--json: the JSON line only).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

import engine  # tools/bench/engine.py: the private pyengined, dockerd, podman set-ups
from engine import Engine, Manager, Netns, loadavg, timed

sys.path.insert(0, str(engine.REPO / "engine"))
from pyengine.network.nsenter import run_in_netns  # this checkout's engine

env = engine.env
REPO = engine.REPO
T = TypeVar("T")

DEBIAN_PYTHON = "/usr/bin/python3.11"
SERVER = Path(__file__).resolve().with_name("network_server.py")
SERVER_IN_IMAGE = "/srv/network_server.py"
SINK_PORT, ECHO_PORT = 5001, 5002  # in the container
HOST_SINK, HOST_ECHO = 18001, 18002  # published on 127.0.0.1
LOOP_SINK, LOOP_ECHO = 19001, 19002  # the reference server on 127.0.0.1, no container
NC_PORT = 19003  # busybox nc, in the server part
PATH_ENV = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CLONE_NEWNET = 0x40000000
CNI_PLUGINS = "/usr/lib/cni"
SECOND_NET = "nbnet2"
# what `pyctl network connect` imports: the client's share of its time, without the call
CONNECT_IMPORTS = ("pyengine.cli.main, pyengine.cli.verb_network_connect, "
                   "pyengine.cli.wire.channel, pyengine.api.networks_pb2")


def log(message: str) -> None:
    print(f"[network-bench] {message}", file=sys.stderr, flush=True)


# -- network namespaces --------------------------------------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)


def _setns_fd(fd: int, what: str) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns into {what}: {os.strerror(err)}")


def _setns(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        _setns_fd(fd, path)
    finally:
        os.close(fd)


@contextlib.contextmanager
def entered(path: str) -> Iterator[None]:
    """The calling thread in `path`'s network namespace for the block: the processes it starts
    meanwhile are born there (setns is per thread)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _setns(path)
        try:
            yield
        finally:
            _setns_fd(own, "the bench's own namespace")
    finally:
        os.close(own)


def in_netns(path: str, fn: Callable[[], T]) -> T:
    """`fn()` on a fresh thread that entered `path`'s namespace first (the engine's nsenter):
    the sockets it opens live there. Re-raises what it raised."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return run_in_netns(fd, fn)
    finally:
        os.close(fd)


def mask_host_state(base: Path) -> None:
    """In our private mount namespace: /run/netns, /var/lib (overlay, tmpfs upper) and
    containerd's shim socket directory become ours alone."""
    env.run(["mount", "-t", "tmpfs", "-o", "mode=755", "netbench-netns", "/run/netns"])
    layer = base / "varlib"
    layer.mkdir()
    env.run(["mount", "-t", "tmpfs", "netbench-varlib", str(layer)])
    (layer / "upper").mkdir()
    (layer / "work").mkdir()
    env.run(["mount", "-t", "overlay", "netbench-varlib", "-o",
             f"lowerdir=/var/lib,upperdir={layer / 'upper'},workdir={layer / 'work'}",
             "/var/lib"])
    if os.path.isdir("/run/containerd/s"):
        env.run(["mount", "-t", "tmpfs", "netbench-shims", "/run/containerd/s"])


# -- the client ----------------------------------------------------------------------------------
def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def send_for(addr: tuple[str, int], seconds: float, limit: int) -> float:
    """Bytes per second from here to the sink at `addr`: 1 MiB sendall()s for `seconds` (or
    `limit` bytes when set), the clock stopped by the sink's byte count after EOF."""
    chunk = memoryview(bytearray(1 << 20))
    with socket.create_connection(addr, timeout=60) as sock:
        sent = 0
        started = time.perf_counter()
        deadline = started + seconds
        while (sent < limit) if limit else (time.perf_counter() < deadline):
            sock.sendall(chunk)
            sent += len(chunk)
        sock.shutdown(socket.SHUT_WR)
        received = int.from_bytes(_recv_exact(sock, 8), "big")
        elapsed = time.perf_counter() - started
    if received != sent:
        raise ConnectionError(f"sink at {addr[0]}:{addr[1]} got {received} of {sent} bytes")
    return sent / elapsed


def send_to_nc(addr: tuple[str, int], size: int, proc: subprocess.Popen[bytes]) -> float:
    """Bytes per second to a `nc -l` that writes them to /dev/null: the clock stops when it
    has read everything and exited."""
    chunk = memoryview(bytearray(1 << 20))
    deadline = time.monotonic() + 10
    while True:  # nc listens a moment after it starts
        try:
            sock = socket.create_connection(addr, timeout=60)
            break
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    with sock:
        started = time.perf_counter()
        for _ in range(size // len(chunk)):
            sock.sendall(chunk)
        sock.shutdown(socket.SHUT_WR)
        proc.wait(timeout=120)
    return size / (time.perf_counter() - started)


def echo_times(addr: tuple[str, int], count: int) -> list[float]:
    """Seconds per connect + 1-byte echo + close, `count` connections one after another."""
    out = []
    for _ in range(count):
        started = time.perf_counter()
        with socket.create_connection(addr, timeout=10) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(b"x")
            if sock.recv(1) != b"x":
                raise ConnectionError(f"echo at {addr[0]}:{addr[1]} answered nothing")
        out.append(time.perf_counter() - started)
    return out


def wait_for_echo(addr: tuple[str, int], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            echo_times(addr, 1)
            return
        except OSError as err:
            if time.monotonic() > deadline:
                raise env.DropinError(f"server at {addr[0]}:{addr[1]}: {err}") from err
            time.sleep(0.1)


# -- the python image ----------------------------------------------------------------------------
def python_files() -> list[str]:
    """Debian's python3.11, the shared libraries it loads and the modules the server imports."""
    code = ("import sys, os, socket\n"
            "print('\\n'.join(sorted({m.__file__ for m in list(sys.modules.values())"
            " if getattr(m, '__file__', None)})))")
    modules = env.run([DEBIAN_PYTHON, "-I", "-S", "-c", code]).stdout.split()
    libraries = [word for line in env.run(["ldd", DEBIAN_PYTHON]).stdout.splitlines()
                 for word in line.split() if word.startswith("/")]
    return [DEBIAN_PYTHON, *libraries, *modules]


def build_python_rootfs(busybox: Path, out: Path) -> None:
    """busybox's rootfs plus python_files() at their own paths (symlinks followed) and the
    server, as a rootfs tarball."""
    with tarfile.open(busybox) as src, tarfile.open(out, "w", dereference=True) as dst:
        have: set[str] = set()
        for member in src.getmembers():
            dst.addfile(member, src.extractfile(member) if member.isfile() else None)
            have.add(member.name.removeprefix("./").rstrip("/"))

        def parents(path: str) -> None:
            parts = path.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                directory = "/".join(parts[:depth])
                if directory not in have:
                    info = tarfile.TarInfo(f"./{directory}")
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    dst.addfile(info)
                    have.add(directory)

        extra = [(path, path.lstrip("/")) for path in python_files()]
        extra.append((str(SERVER), SERVER_IN_IMAGE.lstrip("/")))
        for source, name in extra:
            if name in have:
                continue
            parents(name)
            info = dst.gettarinfo(source, f"./{name}")
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            with open(source, "rb") as f:
                dst.addfile(info, f)
            have.add(name)
        parents("usr/lib/python3.11/lib-dynload/x")  # quiets "platform dependent libraries"


def container_ip(inspect_json: str) -> str:
    """The first IPv4 address in a docker-shaped `inspect` (pyctl, podman, docker)."""
    data = json.loads(inspect_json)
    settings = (data[0] if isinstance(data, list) else data).get("NetworkSettings") or {}
    for network in (settings.get("Networks") or {}).values():
        if network.get("IPAddress"):
            return str(network["IPAddress"])
    if settings.get("IPAddress"):
        return str(settings["IPAddress"])
    raise env.DropinError(f"no container address in inspect: {inspect_json[:400]}")


# -- podman on its CNI bridge --------------------------------------------------------------------
class CniPodman(env.Podman):
    """dropin_env's private podman with the CNI backend: Debian's plugins, a network config
    directory of ours holding the default network; every call made in `netns`."""

    def __init__(self, base: Path, netns: str) -> None:
        super().__init__(base)
        self.netns = netns

    def setup(self) -> None:
        super().setup()
        conf = self.conf.read_text()
        plugins = f'cni_plugin_dirs = ["{self.base}/no-cni-plugins"]\n'
        for old in ('netns = "none"\n', plugins):
            if old not in conf:
                raise env.DropinError(f"dropin_env's containers.conf changed: no {old!r}")
        conf = conf.replace('netns = "none"\n', 'netns = "bridge"\n').replace(
            plugins, f'cni_plugin_dirs = ["{CNI_PLUGINS}"]\nnetwork_backend = "cni"\n'
                     'default_network = "podman"\n')
        self.conf.write_text(conf)
        (self.base / "ipam").mkdir()
        (self.base / "cni" / "87-podman-bridge.conflist").write_text(json.dumps({
            "cniVersion": "0.4.0", "name": "podman", "plugins": [
                {"type": "bridge", "bridge": "cni-podman0", "isGateway": True, "ipMasq": True,
                 "hairpinMode": True,
                 "ipam": {"type": "host-local", "dataDir": str(self.base / "ipam"),
                          "routes": [{"dst": "0.0.0.0/0"}],
                          "ranges": [[{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]]}},
                {"type": "portmap", "capabilities": {"portMappings": True}},
                {"type": "firewall"}, {"type": "tuning"}]}))

    def podman(self, *args: str, runtime: str | None = None, check: bool = True,
               timeout: float = env.DEFAULT_TIMEOUT, **kw: object) -> subprocess.CompletedProcess:
        with entered(self.netns):
            return super().podman(*args, runtime=runtime or engine.RUNC, check=check,
                                  timeout=timeout, **kw)


# -- the bench -----------------------------------------------------------------------------------
@dataclass
class Side:
    """One manager: how to call it, where its daemon's namespace is."""
    name: str  # pyctl | podman | docker
    netns: str
    argv: Callable[..., list[str]]
    environ: dict[str, str]
    cwd: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def call(self, *args: str, check: bool = True,
             timeout: float = 120) -> subprocess.CompletedProcess:
        with entered(self.netns):
            return env.run(self.argv(*args), check=check, env=self.environ, cwd=self.cwd,
                           timeout=timeout)

    def timed(self, *args: str) -> float:
        with entered(self.netns):
            return timed(self.argv(*args), self.environ, self.cwd)


@dataclass(frozen=True)
class Route:
    label: str
    netns: str
    sink: tuple[str, int]
    echo: tuple[str, int]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def _short(err: BaseException) -> str:
    """An error on one line, its end kept (a command's stderr ends with the cause)."""
    text = " ".join(str(err).split())
    if len(text) > 360:
        text = f"{text[:120]} ... {text[-220:]}"
    return f"{type(err).__name__}: {text}"


class NetBench:
    def __init__(self, base: Path, opts: argparse.Namespace) -> None:
        self.base = base
        self.opts = opts
        tag = f"nb{os.getpid()}"
        self.netns = {name: Netns(f"{tag}-{name}") for name in ("pyctl", "podman", "docker")}
        self.engine: Engine | None = None
        self.podman: CniPodman | None = None
        self.dockerd: engine.Dockerd | None = None
        self.sides: dict[str, Side] = {}
        self.reference: subprocess.Popen[bytes] | None = None
        self.counter = 0

    # -- set-up --------------------------------------------------------------------------------
    def setup(self) -> None:
        mask_host_state(self.base)
        for ns in self.netns.values():
            ns.create()
        bin_dir = self.base / "bin"
        bin_dir.mkdir()
        environ = dict(os.environ, PYTHONPATH=engine.PYTHONPATH)
        for module, name in (("pyrunc.launcher", "pyrunc"), ("pyengine.cli.launcher", "pyctl")):
            env.run([engine.ENGINE_PYTHON, "-m", module, str(bin_dir / name)], env=environ)
        log("building the images")
        busybox = self.base / "busybox.tar"
        env.run([str(REPO / "tools" / "mkimage-busybox"), "-o", str(busybox)])
        python = self.base / "netbench.tar"
        build_python_rootfs(busybox, python)
        images = ((busybox, "busybox:latest"), (python, "netbench:latest"))

        log("starting pyengined")
        runtime = str(bin_dir / "pyrunc") if self.opts.pyctl_runtime == "pyrunc" else engine.RUNC
        self.engine = Engine(self.base / "engine", engine.GO_SHIM, runtime,
                             bin_dir / "pyctl", log_level="info")  # as dockerd's default
        with entered(self.netns["pyctl"].path):
            self.engine.start()
        ours = self.engine
        self.sides["pyctl"] = Side("pyctl", self.netns["pyctl"].path, ours.argv, ours.env)
        log("setting up podman (CNI)")
        self.podman = CniPodman(self.base / "podman", self.netns["podman"].path)
        self.podman.setup()
        podman = self.podman
        self.sides["podman"] = Side(
            "podman", podman.netns, lambda *a: podman.argv(*a, runtime=engine.RUNC), podman.env,
            str(podman.base))
        if os.access(engine.DOCKERD, os.X_OK):
            log("starting a private dockerd (bridge)")
            self.dockerd = engine.Dockerd(self.base / "docker", bridge=True)
            with entered(self.netns["docker"].path):
                self.dockerd.start()
            self.sides["docker"] = Side("docker", self.netns["docker"].path, self.dockerd.argv,
                                        self.dockerd.env)
        else:
            log(f"dockerd skipped: {engine.DOCKERD} is missing")
        for side in self.sides.values():
            for tar, name in images:
                side.call("import", "-c", 'CMD ["sh"]', "-c", PATH_ENV, str(tar), name)

    def teardown(self) -> None:
        steps: list[Callable[[], None]] = []
        if self.reference is not None:
            steps.append(self._stop_reference)
        if self.engine is not None:
            steps.append(self.engine.stop)
        if self.podman is not None and self.podman.conf.exists():
            steps.append(self.podman.stop)
        if self.dockerd is not None:
            steps.append(self.dockerd.stop)
        steps.extend(ns.remove for ns in self.netns.values())
        for step in steps:
            try:
                step()
            except Exception as err:  # one failed step must not keep the rest
                log(f"clean-up: {type(err).__name__}: {err}")

    def _stop_reference(self) -> None:
        """The reference server and the child it forked: its own process group."""
        assert self.reference is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.reference.pid, signal.SIGKILL)
        self.reference.wait()

    def name(self, what: str) -> str:
        self.counter += 1
        return f"nb-{what}-{os.getpid()}-{self.counter}"

    def image(self, side: Side, name: str) -> str:
        return f"localhost/{name}" if side.name == "podman" else name

    # -- throughput and latency ----------------------------------------------------------------
    def paths(self) -> tuple[list[Route], dict[str, str]]:
        """A server container per manager (published on 127.0.0.1 and by address), and the
        reference server on 127.0.0.1 in pyengined's namespace."""
        paths: list[Route] = []
        errors: dict[str, str] = {}
        ns = self.netns["pyctl"].path
        with entered(ns), open(self.base / "reference.log", "ab") as out:
            self.reference = subprocess.Popen(
                [DEBIAN_PYTHON, "-I", "-S", "-B", str(SERVER), "127.0.0.1", str(LOOP_SINK),
                 str(LOOP_ECHO)], stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                start_new_session=True)
        in_netns(ns, lambda: wait_for_echo(("127.0.0.1", LOOP_ECHO)))
        paths.append(Route("loopback, no container", ns, ("127.0.0.1", LOOP_SINK),
                           ("127.0.0.1", LOOP_ECHO)))
        for side in self.sides.values():
            try:
                name = self.name("server")
                side.call("run", "-d", "--name", name,
                          "-p", f"127.0.0.1:{HOST_SINK}:{SINK_PORT}",
                          "-p", f"127.0.0.1:{HOST_ECHO}:{ECHO_PORT}",
                          self.image(side, "netbench:latest"), DEBIAN_PYTHON, "-I", "-S", "-B",
                          SERVER_IN_IMAGE)
                ip = container_ip(side.call("inspect", name).stdout)
                for echo in ((ip, ECHO_PORT), ("127.0.0.1", HOST_ECHO)):
                    in_netns(side.netns, partial(wait_for_echo, echo))
            except Exception as err:
                errors[side.name] = _short(err)
                log(f"{side.name}: no server: {errors[side.name]}")
                continue
            paths.append(Route(f"{side.name} published", side.netns, ("127.0.0.1", HOST_SINK),
                               ("127.0.0.1", HOST_ECHO)))
            paths.append(Route(f"{side.name} direct", side.netns, (ip, SINK_PORT),
                               (ip, ECHO_PORT)))
        return paths, errors

    def server_choice(self) -> dict[str, object]:
        """Which server is not the bottleneck: busybox `nc -l` (what the busybox image has)
        against network_server.py's sink, both on 127.0.0.1 in pyengined's namespace, the same
        client and byte count, alternating."""
        ns = self.netns["pyctl"].path
        size = 1 << 30

        def nc(_m: Manager) -> float:
            with entered(ns):
                proc = subprocess.Popen(["busybox", "nc", "-l", "-p", str(NC_PORT)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            try:
                return in_netns(ns, partial(send_to_nc, ("127.0.0.1", NC_PORT), size, proc))
            finally:
                env.terminate(proc.pid, grace=5)
                proc.wait()

        def ours(_m: Manager) -> float:
            return in_netns(ns, partial(send_for, ("127.0.0.1", LOOP_SINK), 0, size))

        log("server: busybox nc vs network_server.py on loopback")
        samples = engine.Bench.alternate(
            [Manager("busybox nc -l", engine._fixed([]), {}),
             Manager("network_server.py sink", engine._fixed([]), {})], 3, 1,
            lambda m: nc(m) if m.label.startswith("busybox") else ours(m))
        return {"gbit_s": {k: round(statistics.median(v) * 8 / 1e9, 2)
                           for k, v in samples.items()}}

    def transfer(self, paths: list[Route]) -> dict[str, object]:
        opts = self.opts
        log(f"throughput: {opts.runs} alternating rounds of {len(paths)} paths "
            f"(load {loadavg()})")
        by_label = {p.label: p for p in paths}
        samples = engine.Bench.alternate(
            [Manager(p.label, engine._fixed([]), {}) for p in paths], opts.runs, 1,
            lambda m: in_netns(by_label[m.label].netns, lambda: send_for(
                by_label[m.label].sink, opts.seconds, opts.bytes)))
        gbit = {k: round(statistics.median(v) * 8 / 1e9, 2) for k, v in samples.items()}
        pairs = {"pyctl published / pyctl direct (>= 0.8)": ("pyctl published", "pyctl direct"),
                 "pyctl published / podman published (>= 1.0)":
                     ("pyctl published", "podman published"),
                 "pyctl direct / podman direct": ("pyctl direct", "podman direct"),
                 "podman published / podman direct": ("podman published", "podman direct"),
                 "docker published / docker direct": ("docker published", "docker direct")}
        # each round's ratio (the two runs minutes apart at most, under the same load): their
        # median is the figure, their range says how far the load moved it
        ratios: dict[str, float | None] = {}
        ranges: dict[str, list[float]] = {}
        for label, (a, b) in pairs.items():
            if a in samples and b in samples:
                each = [x / y for x, y in zip(samples[a], samples[b], strict=True)]
                ratios[label] = round(statistics.median(each), 3)
                ranges[label] = [round(min(each), 3), round(max(each), 3)]
            else:
                ratios[label] = None
        return {"gbit_s": gbit, "ratios": ratios, "ratio_ranges": ranges}

    def latency(self, paths: list[Route]) -> dict[str, object]:
        rounds = 3
        per_round = max(1, self.opts.connections // rounds)
        log(f"latency: {rounds} alternating rounds of {per_round} connections per path")
        by_label = {p.label: p for p in paths}
        pooled: dict[str, list[float]] = {p.label: [] for p in paths}

        def one(m: Manager) -> float:
            times = in_netns(by_label[m.label].netns,
                             lambda: echo_times(by_label[m.label].echo, per_round))
            pooled[m.label].extend(times)
            return statistics.median(times)

        engine.Bench.alternate([Manager(p.label, engine._fixed([]), {}) for p in paths],
                               rounds, 1, one)
        figures = {k: {"median_ms": _ms(statistics.median(v)),
                       "p90_ms": _ms(statistics.quantiles(v, n=10)[-1])}
                   for k, v in pooled.items()}
        med = {k: v["median_ms"] for k, v in figures.items()}
        return {"ms": figures, "ratios": {
            "pyctl published / pyctl direct": _ratio(med.get("pyctl published"),
                                                     med.get("pyctl direct")),
            "pyctl published / podman published": _ratio(med.get("pyctl published"),
                                                          med.get("podman published"))}}

    # -- run --rm ------------------------------------------------------------------------------
    def run_rm(self) -> dict[str, object]:
        managers: list[Manager] = []
        sides: dict[str, Side] = {}
        errors: dict[str, str] = {}
        for side in self.sides.values():
            for network in ("bridge", "none"):
                label = f"{side.name} {network}"
                args = ("run", "--rm", "--network", network, self.image(side, "busybox:latest"),
                        "true")
                try:
                    side.timed(*args)  # a first run: does it work at all?
                except Exception as err:
                    errors[label] = _short(err)
                    log(f"{label}: left out: {errors[label]}")
                    continue
                managers.append(Manager(label, engine._fixed(list(args)), side.environ))
                sides[label] = side
        rounds = self.opts.run_rounds
        log(f"run --rm: {rounds} alternating rounds of {len(managers)} (load {loadavg()})")
        samples = engine.Bench.alternate(managers, rounds, 2,
                                         lambda m: sides[m.label].timed(*m.argv("")))
        ms = {k: _ms(statistics.median(v)) for k, v in samples.items()}
        ratios: dict[str, float | None] = {}
        for network in ("bridge", "none"):
            peers = [ms[k] for k in (f"podman {network}", f"docker {network}") if k in ms]
            ratios[f"pyctl {network} / faster peer {network} (<= 1.0)"] = _ratio(
                ms.get(f"pyctl {network}"), min(peers) if peers else None)
        overhead = {side: round(ms[f"{side} bridge"] - ms[f"{side} none"], 1)
                    for side in self.sides if f"{side} bridge" in ms and f"{side} none" in ms}
        return {"ms": ms, "bridge_minus_none_ms": overhead, "ratios": ratios,
                "errors": errors, "load": loadavg()}

    # -- network connect -----------------------------------------------------------------------
    def connect(self) -> dict[str, object]:
        managers: list[Manager] = []
        sides: dict[str, Side] = {}
        containers: dict[str, str] = {}
        errors: dict[str, str] = {}
        disconnects: dict[str, list[float]] = {}
        versions: dict[str, list[float]] = {}  # the client's own cost: `version`, one call
        client_only: list[float] = []
        assert self.engine is not None
        imports = engine.client_imports(self.engine.pyctl_path, CONNECT_IMPORTS)
        try:
            for side in self.sides.values():
                try:
                    side.call("network", "create", SECOND_NET)
                    name = self.name("conn")
                    side.call("run", "-d", "--name", name, self.image(side, "busybox:latest"),
                              "sleep", "100000")
                    containers[side.name] = name
                    side.timed("network", "connect", SECOND_NET, name)
                    side.timed("network", "disconnect", SECOND_NET, name)
                except Exception as err:
                    errors[side.name] = _short(err)
                    log(f"{side.name}: connect left out: {errors[side.name]}")
                    continue
                managers.append(Manager(side.name, engine._fixed([]), side.environ))
                sides[side.name] = side
                disconnects[side.name] = []
                versions[side.name] = []

            def one(m: Manager) -> float:
                side, name = sides[m.label], containers[m.label]
                took = side.timed("network", "connect", SECOND_NET, name)
                disconnects[m.label].append(side.timed("network", "disconnect", SECOND_NET, name))
                versions[m.label].append(side.timed("version"))
                if m.label == "pyctl":  # the client's share: what the verb imports
                    client_only.append(timed(imports, side.environ))
                return took

            rounds = self.opts.connect_rounds
            log(f"connect: {rounds} alternating rounds of {len(managers)}")
            samples = engine.Bench.alternate(managers, rounds, 1, one)
        finally:
            for side_name, name in containers.items():
                self.sides[side_name].call("rm", "-f", name, check=False)
            for side in self.sides.values():
                side.call("network", "rm", SECOND_NET, check=False)
        connect_ms = {k: _ms(statistics.median(v)) for k, v in samples.items()}
        disconnect_ms = {k: _ms(statistics.median(v)) for k, v in disconnects.items() if v}
        version_ms = {k: _ms(statistics.median(v)) for k, v in versions.items() if v}
        if client_only:
            version_ms["pyctl connect's imports, no call"] = _ms(statistics.median(client_only))
        return {"connect_ms": connect_ms, "disconnect_ms": disconnect_ms,
                "version_ms": version_ms, "ratios": {
            "pyctl connect / docker connect": _ratio(connect_ms.get("pyctl"),
                                                     connect_ms.get("docker")),
            "pyctl connect / podman connect": _ratio(connect_ms.get("pyctl"),
                                                     connect_ms.get("podman"))},
            "errors": errors, "load": loadavg()}

    # -- all -----------------------------------------------------------------------------------
    def measure(self) -> dict[str, object]:
        report: dict[str, object] = {"setup": {
            "pyctl": "pyengined of this checkout, containerd-shim-runc-v2, "
                     f"{self.opts.pyctl_runtime}",
            "podman": "podman 4.3 (CNI bridge cni-podman0: bridge, portmap, firewall, tuning), "
                      "runc",
            "docker": "dockerd 20.10 (docker0, iptables, userland-proxy on), its containerd, "
                      "runc"}, "load_before": loadavg()}
        parts = self.opts.parts
        if {"server", "throughput", "latency"} & set(parts):
            paths: list[Route] = []
            try:
                paths, errors = self.paths()
                report["servers_failed"] = errors
                if "server" in parts:
                    report["server"] = self.server_choice()
                if "throughput" in parts:
                    report["throughput"] = self.transfer(paths)
                if "latency" in parts:
                    report["latency"] = self.latency(paths)
            finally:
                for side in self.sides.values():
                    ids = side.call("ps", "-aq", check=False).stdout.split()
                    if ids:
                        side.call("rm", "-f", *ids, check=False)
        for part, run in (("run", self.run_rm), ("connect", self.connect)):
            if part in parts:
                try:
                    report[part] = run()
                except Exception as err:
                    report[part] = {"error": _short(err)}
                log(f"{part}: {json.dumps(report[part])}")
        report["load_after"] = loadavg()
        report["targets_met"] = {
            label: target_met(label, value)
            for part in report.values() if isinstance(part, dict)
            for label, value in (part.get("ratios") or {}).items()
            if target_met(label, value) is not None}
        return report


def target_met(label: str, value: float | None) -> bool | None:
    """A ratio's label ends with its target, "(>= 0.8)" or "(<= 1.0)"; None: no target or no
    figure."""
    if value is None or not label.endswith(")") or " (" not in label:
        return None
    op, _, bound = label.rsplit(" (", 1)[1].rstrip(")").partition(" ")
    if op not in (">=", "<="):
        return None
    return value >= float(bound) if op == ">=" else value <= float(bound)


SIDES = ("pyctl", "podman", "docker")


def _grid(title: str, rows: list[tuple[str, list[object]]], columns: tuple[str, ...]) -> None:
    """A table: a title row naming the columns, then one row per label."""
    print(f"{title:<40}" + "".join(f"{c:>12}" for c in columns))
    for label, cells in rows:
        print(f"  {label:<38}" + "".join(
            f"{'-' if c is None else c:>12}" for c in cells))


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def print_table(report: dict[str, object]) -> None:
    for name, what in _dict(report.get("setup")).items():
        print(f"{name}: {what}")
    choice = _dict(_dict(report.get("server")).get("gbit_s"))
    if choice:
        _grid("server on loopback, Gbit/s", [(k, [v]) for k, v in choice.items()], ("median",))
    rate = _dict(_dict(report.get("throughput")).get("gbit_s"))
    lat = _dict(_dict(report.get("latency")).get("ms"))

    def echo(label: str) -> str | None:
        figures = _dict(lat.get(label))
        return f"{figures['median_ms']}/{figures['p90_ms']}" if figures else None

    if rate or lat:
        rows = [(f"{side}{' (docker-proxy)' if side == 'docker' else ''}",
                 [rate.get(f"{side} published"), rate.get(f"{side} direct"),
                  echo(f"{side} published"), echo(f"{side} direct")]) for side in SIDES]
        rows.append(("loopback, no container", [rate.get("loopback, no container"), None,
                                                 echo("loopback, no container"), None]))
        _grid("host -> container", rows, ("Gbit/s pub", "Gbit/s dir", "ms pub", "ms dir"))
        print("  (Gbit/s: medians; ms: connect + 1-byte echo, median/p90)")
    run = _dict(_dict(report.get("run")).get("ms"))
    if run:
        over = _dict(_dict(report.get("run")).get("bridge_minus_none_ms"))
        _grid("run --rm busybox true, ms (median)",
              [(f"--network {n}", [run.get(f"{side} {n}") for side in SIDES])
               for n in ("bridge", "none")] + [("bridge - none", [over.get(s) for s in SIDES])],
              SIDES)
    conn = _dict(report.get("connect"))
    if conn:
        client = _dict(conn.get("version_ms"))
        _grid("network connect, ms (median)", [
            ("connect", [_dict(conn.get("connect_ms")).get(s) for s in SIDES]),
            ("disconnect", [_dict(conn.get("disconnect_ms")).get(s) for s in SIDES]),
            ("version (client + 1 call)", [client.get(s) for s in SIDES]),
            ("pyctl connect's imports (no call)",
             [client.get("pyctl connect's imports, no call"), None, None])], SIDES)
    for part in ("throughput", "latency", "run", "connect"):
        figures = _dict(report.get(part))
        ranges = _dict(figures.get("ratio_ranges"))
        for label, value in _dict(figures.get("ratios")).items():
            ratio = value if isinstance(value, float) else None
            verdict = target_met(label, ratio)
            bounds = ranges.get(label)
            spread = (f" (rounds {bounds[0]}-{bounds[1]})" if isinstance(bounds, list) else "")
            noise = isinstance(bounds, list) and verdict is False and any(
                target_met(label, b) for b in bounds)
            print(f"{part} ratio {label}: {value}{spread}" +
                  ("" if verdict is None else "  ok" if verdict else
                   "  MISSED (some rounds met it: within the noise)" if noise else "  MISSED"))
        for label, value in _dict(figures.get("errors")).items():
            print(f"{part}: {label} left out: {value}")
        if "error" in figures:
            print(f"{part}: failed: {figures['error']}")
    for label, value in _dict(report.get("servers_failed")).items():
        print(f"servers: {label} left out: {value}")
    print(f"load average before/after: {report.get('load_before')} / {report.get('load_after')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--parts", default="server,throughput,latency,run,connect")
    parser.add_argument("--runs", type=int, default=9, help="throughput runs per path")
    parser.add_argument("--seconds", type=float, default=1.0, help="per throughput run")
    parser.add_argument("--bytes", type=int, default=0, help="per throughput run, not seconds")
    parser.add_argument("--connections", type=int, default=300, help="per latency path")
    parser.add_argument("--run-rounds", type=int, default=11)
    parser.add_argument("--connect-rounds", type=int, default=7)
    parser.add_argument("--pyctl-runtime", choices=("pyrunc", "runc"), default="pyrunc",
                        help="pyengined's default runtime (the peers use runc)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--private", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    opts.parts = opts.parts.split(",")
    if os.geteuid() != 0:
        print("network.py: needs root", file=sys.stderr)
        return 1
    return engine.run_private(opts.private, "netbench-", lambda base: NetBench(base, opts),
                              None if opts.json else print_table)


if __name__ == "__main__":
    sys.exit(main())
