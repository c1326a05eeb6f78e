#!/usr/bin/env python3
"""Benchmark: containers through pyengined/pyctl side by side with podman 4.3, ctr 1.6
(containerd) and dockerd 20.10, same busybox image, every container without a network
(`--network none`, pyctl's too: its default is docker's bridge since issue 10; ctr's get a
private network namespace with lo only). tools/bench/network.py measures the networks.

Parts (--parts, default all):
  run      `run --rm busybox true`: the whole client command, the managers ALTERNATING (order
           rotated every round), after warm-up runs; medians and ratios to podman
  parallel 100 containers `seq 100 | xargs -P 8 ... run --rm busybox true`, alternating rounds
  memory   idle memory per running container: N `sleep` containers, then the per-container
           processes (the parent of each container's init: the shim or conmon; plus our shim's
           zygote, shared by all) from /proc/PID/smaps_rollup: RSS, PSS, USS; the first
           container's cost and each further one's ((total(N) - total(1)) / (N - 1))
  startup  `pyctl ps`, `pyctl images` against the engine, the client's share (the interpreter
           importing what the command imports, no daemon call), the interpreter alone, and
           `docker ps` against dockerd
pyctl runs through two engines: one with containerd's Go shim (containerd-shim-runc-v2, the
default), one with ours (containerd-shim-pyrunc-v2 of this checkout, forked by its zygote); a
third with ours grouped (PYSHIM_GROUPING=1: one shim per namespace) for memory. The OCI runtime
is named in each label: pyrunc (this checkout's launcher) or runc 1.1.5 (podman, ctr and
dockerd use runc).

Set-up, all private and removed afterwards: a network namespace of the bench's own (`ip netns
add`, lo up) that every daemon runs in (nsenter --net); pyengined with its own data/exec roots
and socket; containerd with its own config, root, state and sockets (CRI off); podman with
--root/--runroot and containers.conf under the temp dir (cgroupfs, no CNI); dockerd (if
installed: Debian's docker.io is not part of tools/apt-packages.txt) in a private mount
namespace too (its /etc/docker is a private directory: it writes key.json there), with
--bridge=none --iptables=false --ip-masq=false, its own --data-root/--exec-root/pidfile/-H
socket and cgroup parent, running its own containerd. Images: tools/mkimage-busybox's rootfs
through `pyctl import` and `docker import`; the same rootfs as an OCI archive (umoci, skopeo)
through `ctr images import` and `podman load`. Clean-up by id, pid and path.

Usage (root): tools/bench/engine.py [--parts run,parallel,memory,startup] [--runs 15]
              [--rounds 3] [--containers 10] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration" / "dropin"))
sys.path.insert(0, str(REPO / "tests" / "integration" / "shim"))

import dropin_env as env  # noqa: E402 - the shared private containerd/podman set-up
from shims import Memory, smaps  # noqa: E402 - tools/bench/shims.py: smaps_rollup in MB

PYTHONPATH = f"{REPO / 'engine'}:{REPO / 'runtime'}"
sys.path.insert(0, str(REPO / "engine"))
from pyengine.runtime_env import engine_python  # noqa: E402

# The interpreter of the daemon, pyctl and our shim: tools/setup's runtime environment (the
# distribution's python3), as /usr/local/sbin/pyengined runs it; the code is the checkout's.
ENGINE_PYTHON = engine_python()
GO_SHIM = "containerd-shim-runc-v2"
RUNC = "/usr/sbin/runc"
DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"  # docker.io's 20.10 client, else the preinstalled one


def log(message: str) -> None:
    print(f"[engine-bench] {message}", file=sys.stderr, flush=True)


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def timed(argv: list[str], environ: dict[str, str], cwd: str | None = None,
          preexec: Callable[[], None] | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            env=environ, cwd=cwd, timeout=600, preexec_fn=preexec)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise env.DropinError(f"{' '.join(argv)}: exit {result.returncode}: "
                              f"{(result.stderr or result.stdout).strip()[-2000:]}")
    return elapsed


# -- CPU accounting -------------------------------------------------------------------------------
class CpuGroups:
    """A cpuacct cgroup per manager (cgroup v1 here: /sys/fs/cgroup/cpuacct) holding its daemon
    and everything it starts (shims, runtimes, conmon) and its clients; the containers'
    own processes leave for their cgroups (and run `true`)."""

    def __init__(self, tag: str) -> None:
        self.root = Path("/sys/fs/cgroup/cpuacct") / tag
        self.available = self.root.parent.is_dir()

    def path(self, name: str) -> Path:
        return self.root / name.replace(" ", "-")

    def add(self, name: str, pid: int) -> None:
        """Move a running process (all its threads) into `name`'s group."""
        if self.available:
            self.path(name).mkdir(parents=True, exist_ok=True)
            (self.path(name) / "cgroup.procs").write_text(str(pid))

    def joiner(self, name: str) -> Callable[[], None] | None:
        """A preexec_fn moving the new child into `name`'s group before it execs."""
        if not self.available:
            return None
        self.path(name).mkdir(parents=True, exist_ok=True)
        procs = str(self.path(name) / "cgroup.procs")

        def join() -> None:
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        return join

    def usage_ms(self, name: str) -> float:
        return int((self.path(name) / "cpuacct.usage").read_text()) / 1e6

    def remove(self) -> None:
        if self.root.exists():
            groups = [p for p in self.root.iterdir() if p.is_dir()]
            env.wait_for(lambda: all(not (g / "cgroup.procs").read_text().strip()
                                     for g in groups), timeout=15, what="cpuacct groups empty")
            env.remove_empty_dirs([*groups, self.root])


# -- the network namespace -----------------------------------------------------------------------
class Netns:
    def __init__(self, name: str) -> None:
        self.name = name
        self.path = f"/run/netns/{name}"

    def create(self) -> None:
        env.run(["ip", "netns", "add", self.name])
        env.run(["ip", "-n", self.name, "link", "set", "lo", "up"])

    def remove(self) -> None:
        if os.path.exists(self.path):
            env.run(["ip", "netns", "delete", self.name], check=False)


def spawn(argv: list[str], log_path: Path, environ: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                env=environ, start_new_session=True)


# -- pyengined -----------------------------------------------------------------------------------
class Engine:
    """pyengined of this checkout, in the bench's netns, with one shim binary."""

    def __init__(self, base: Path, shim: str, runtime: str, pyctl: Path,
                 extra_env: dict[str, str] | None = None, log_level: str = "debug",
                 extra_args: tuple[str, ...] = ()) -> None:
        self.base = base
        self.log_level = log_level
        self.extra_args = extra_args  # more daemon flags (e.g. --docker-api)
        self.shim = shim
        self.runtime = runtime
        self.pyctl_path = pyctl
        self.extra_env = extra_env or {}
        self.socket = base / "run" / "pyengine.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        return dict(os.environ, PYENGINE_HOST=f"unix://{self.socket}",
                    PYCTL_CONFIG=str(self.base / "client"))

    def start(self) -> None:
        self.base.mkdir(parents=True)
        config = self.base / "daemon.json"
        config.write_text(json.dumps({"default-runtime": self.runtime}))
        environ = dict(os.environ, PYTHONPATH=PYTHONPATH, **self.extra_env)
        self.process = spawn([ENGINE_PYTHON, "-m", "pyengine.daemon",
                              "-H", f"unix://{self.socket}", "--data-root",
                              str(self.base / "data"), "--exec-root", str(self.base / "run"),
                              "--shim-binary", self.shim, "--config-file", str(config),
                              "--log-level", self.log_level, *self.extra_args],
                             self.base / "daemon.log", environ)
        env.wait_for(lambda: self.socket.exists() or self.process.poll() is not None,
                     timeout=60, what="pyengined to listen")
        env.wait_for(lambda: self.pyctl("version", check=False).returncode == 0
                     or self.process.poll() is not None, timeout=60, what="pyengined")
        if self.process.poll() is not None:
            raise env.DropinError(f"pyengined exited: {self.log()}")

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.base / "daemon.log").read_text()[-3000:]
        return ""

    def argv(self, *args: str) -> list[str]:
        return [str(self.pyctl_path), *args]

    def pyctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return env.run(self.argv(*args), check=check, env=self.env, timeout=120)

    def stop(self) -> None:
        """Containers removed through the daemon, the daemon stopped; then by id whatever is
        left: shims and container processes by pid, cgroups, mounts."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                ids = self.pyctl("ps", "-aq", "--no-trunc", check=False).stdout.split()
                if ids:
                    self.pyctl("rm", "-f", *ids, check=False)
            env.terminate(self.process.pid, grace=30)
            self.process.wait()
        bundles = self.base / "run" / "containers"
        for bundle in bundles.iterdir() if bundles.exists() else []:
            for pid in env.pids_with_arg(bundle.name):
                env.terminate(pid, grace=5)
            cgroups = list(Path("/sys/fs/cgroup").glob(f"*/pyengine/{bundle.name}"))
            for cgroup in cgroups:
                with contextlib.suppress(OSError):
                    for pid in (cgroup / "cgroup.procs").read_text().split():
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(int(pid), signal.SIGKILL)
            env.wait_for(lambda cs=cgroups: not any(  # bound per bundle
                (c / "cgroup.procs").exists() and (c / "cgroup.procs").read_text().strip()
                for c in cs), timeout=10, what=f"container {bundle.name} to end")
            env.remove_empty_dirs(cgroups)
        env.unmount_all_under(self.base)


# -- dockerd -------------------------------------------------------------------------------------
class Dockerd:
    """dockerd in a private mount namespace; without networking (--bridge=none, no iptables) unless
    `bridge`: then its default bridge docker0 and its iptables rules, made in the network
    namespace it is started in (tools/bench/network.py starts it in one of its own)."""

    def __init__(self, base: Path, bridge: bool = False) -> None:
        self.base = base
        self.bridge = bridge
        self.socket = base / "docker.sock"
        self.cgroup_parent = f"pebench-docker-{os.getpid()}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        return dict(os.environ, DOCKER_HOST=f"unix://{self.socket}",
                    DOCKER_CONFIG=str(self.base / "client"))

    def start(self) -> None:
        etc = self.base / "etc-docker"
        etc.mkdir(parents=True)
        network = ("" if self.bridge else
                   "--bridge=none --iptables=false --ip-masq=false --ip-forward=false ")
        script = (f"mount --bind {etc} /etc/docker && exec {DOCKERD} "
                  f"--data-root {self.base / 'data'} --exec-root {self.base / 'exec'} "
                  f"--pidfile {self.base / 'dockerd.pid'} -H unix://{self.socket} {network}"
                  f"--storage-driver overlay2 --cgroup-parent /{self.cgroup_parent} "
                  "--exec-opt native.cgroupdriver=cgroupfs")
        self.process = spawn(["unshare", "--mount", "--propagation",
                              "private", "--", "sh", "-c", script], self.base / "dockerd.log",
                             dict(os.environ))
        env.wait_for(lambda: self.docker("version", check=False).returncode == 0
                     or self.process.poll() is not None, timeout=60, what="dockerd")
        if self.process.poll() is not None:
            raise env.DropinError(f"dockerd exited: "
                                  f"{(self.base / 'dockerd.log').read_text()[-3000:]}")

    def argv(self, *args: str) -> list[str]:
        return [DOCKER, *args]

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return env.run(self.argv(*args), check=check, env=self.env, timeout=120)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            ids = self.docker("ps", "-aq", check=False).stdout.split()
            if ids:
                self.docker("rm", "-f", *ids, check=False)
            env.terminate(self.process.pid, grace=30)  # its containerd goes with it
            self.process.wait()
        for pid in env.pids_with_arg(str(self.base / "exec" / "containerd" /
                                         "containerd.sock.ttrpc")):
            env.terminate(pid, grace=5)
        env.unmount_all_under(self.base)
        env.remove_empty_dirs(list(Path("/sys/fs/cgroup").glob(f"*/{self.cgroup_parent}")))


# -- the bench -----------------------------------------------------------------------------------
@dataclass
class Manager:
    label: str
    argv: Callable[[str], list[str]]  # a `run --rm IMAGE true` command for a unique name
    environ: dict[str, str]
    cwd: str | None = None
    group: str = ""  # its cpuacct group (CpuGroups)


class Bench:
    def __init__(self, base: Path, opts: argparse.Namespace) -> None:
        self.base = base
        self.opts = opts
        self.containerd = env.Containerd(base / "containerd", namespace=f"pebench{os.getpid()}")
        self.podman = env.Podman(base / "podman")
        self.engines: dict[str, Engine] = {}
        self.dockerd: Dockerd | None = None
        self.counter = 0
        self.python = ENGINE_PYTHON
        self.cpu = CpuGroups(f"pebench-{os.getpid()}")

    # -- set-up --------------------------------------------------------------------------------
    def setup(self) -> None:
        bin_dir = self.base / "bin"
        bin_dir.mkdir()
        environ = dict(os.environ, PYTHONPATH=PYTHONPATH)
        for module, name in (("pyrunc.launcher", "pyrunc"),
                             ("pyengine.shim.launcher", "containerd-shim-pyrunc-v2"),
                             ("pyengine.cli.launcher", "pyctl")):
            env.run([self.python, "-m", module, str(bin_dir / name)], env=environ)
        self.pyctl = bin_dir / "pyctl"
        self.pyrunc = str(bin_dir / "pyrunc")
        ours = str(bin_dir / "containerd-shim-pyrunc-v2")
        log("building the busybox image")
        rootfs = self.base / "rootfs.tar"
        env.run([str(REPO / "tools" / "mkimage-busybox"), "-o", str(rootfs)])
        archive = env.build_busybox_archive(self.base / "image")
        wanted = set(self.opts.parts)
        shims = {"go": GO_SHIM, "ours": ours}
        grouped = "memory" in wanted and self.opts.grouped
        for name, shim in (*shims.items(), *((("grouped", ours),) if grouped else ())):
            log(f"starting pyengined ({name} shim)")
            engine = Engine(self.base / f"engine-{name}", shim, self.pyrunc,
                            self.pyctl, {"PYSHIM_GROUPING": "1"} if name == "grouped" else None)
            self.engines[name] = engine
            engine.start()
            assert engine.process is not None
            self.cpu.add(f"pyctl {name}-shim", engine.process.pid)
            engine.pyctl("import", "-c", 'CMD ["sh"]', str(rootfs), "busybox:latest")
        log("starting a private containerd")
        self.containerd.base.mkdir(parents=True)
        self.containerd.start()
        assert self.containerd.process is not None
        self.cpu.add("ctr runc", self.containerd.process.pid)
        self.containerd.import_image(archive)
        log("setting up podman")
        self.podman.setup()
        self.podman.load(archive)
        if os.access(DOCKERD, os.X_OK):
            log("starting a private dockerd")
            self.dockerd = Dockerd(self.base / "docker")
            self.dockerd.start()
            assert self.dockerd.process is not None
            self.cpu.add("docker runc", self.dockerd.process.pid)  # and its containerd
            self.dockerd.docker("import", "-c", 'CMD ["sh"]', str(rootfs), "busybox:latest")
        else:
            log(f"dockerd skipped: {DOCKERD} is missing (Debian's docker.io is not installed; "
                "install it for the bench only, its service masked)")

    def teardown(self) -> None:
        for step in (*(e.stop for e in self.engines.values()),
                     self.containerd.stop if self.containerd.process else None,
                     self.podman.stop if self.podman.conf.exists() else None,
                     self.dockerd.stop if self.dockerd else None, self._stop_zygote,
                     self.cpu.remove):
            if step is not None:
                try:
                    step()
                except Exception as err:  # one failed step must not keep the rest
                    log(f"clean-up: {type(err).__name__}: {err}")

    def _stop_zygote(self) -> None:
        """Our zygotes (one per version of the shim's code) and any shim forked from them left
        running: their command line names our launcher."""
        launcher = self.base / "bin" / "containerd-shim-pyrunc-v2"
        for pid in env.pids_with_arg(str(launcher)):
            env.terminate(pid, grace=5)

    # -- managers ------------------------------------------------------------------------------
    def name(self) -> str:
        self.counter += 1
        return f"pebench-{os.getpid()}-{self.counter}"

    def managers(self) -> list[Manager]:
        out = []
        for shim in ("go", "ours"):
            engine = self.engines[shim]
            for runtime in ("pyrunc", "runc"):
                runtime_arg = self.pyrunc if runtime == "pyrunc" else RUNC
                out.append(Manager(f"pyctl {shim}-shim {runtime}",
                                   _fixed(engine.argv("run", "--rm", "--network", "none",
                                                      "--runtime", runtime_arg,
                                                      "busybox", "true")),
                                   engine.env, group=f"pyctl {shim}-shim"))
        out.append(Manager("podman runc", lambda _n: self.podman.argv(
            "run", "--rm", "--network", "none", env.IMAGE, "true", runtime=RUNC),
            self.podman.env, str(self.podman.base), group="podman runc"))
        out.append(Manager("ctr runc", lambda n: self.containerd.ctr_argv(
            "run", "--rm", "--runc-binary", RUNC, env.IMAGE, n, "true"), dict(os.environ),
            group="ctr runc"))
        if self.dockerd is not None:
            dockerd = self.dockerd
            out.append(Manager("docker runc", lambda _n: dockerd.argv(
                "run", "--rm", "--network", "none", "busybox", "true"), dockerd.env,
                group="docker runc"))
        return out

    @staticmethod
    def alternate(managers: list[Manager], rounds: int, warmup: int,
                  one: Callable[[Manager], float]) -> dict[str, list[float]]:
        """Warm-up runs, then `rounds` rounds of every manager, the order rotated each round."""
        for _ in range(warmup):
            for m in managers:
                one(m)
        samples: dict[str, list[float]] = {m.label: [] for m in managers}
        for round_no in range(rounds):
            shift = round_no % len(managers)
            for m in managers[shift:] + managers[:shift]:
                samples[m.label].append(one(m))
        return samples

    @staticmethod
    def summary(samples: dict[str, list[float]], unit: float) -> dict[str, dict[str, float]]:
        medians = {k: statistics.median(v) * unit for k, v in samples.items()}
        anchor = medians.get("podman runc")
        return {k: {"median": round(v, 1 if unit > 1 else 2),
                    "vs_podman": round(v / anchor, 2) if anchor else 0.0}
                for k, v in medians.items()}

    def run_rm(self) -> dict[str, object]:
        log(f"run --rm: {self.opts.runs} alternating rounds (load {loadavg()})")
        samples = self.alternate(self.managers(), self.opts.runs, 2,
                                 lambda m: timed(m.argv(self.name()), m.environ, m.cwd))
        return {"ms": self.summary(samples, 1000), "load": loadavg()}

    def cpu_time(self) -> dict[str, object]:
        """CPU time per `run --rm` of each manager's whole pipeline (its cpuacct group: client,
        daemon, shim, runtime, conmon), the runs in a row: what bounds the throughput of
        `parallel` on a machine whose CPUs are busy."""
        if not self.cpu.available:
            return {"skipped": "no cpuacct cgroup hierarchy"}
        runs = self.opts.runs
        log(f"cpu: {runs} runs each (load {loadavg()})")
        out: dict[str, float] = {}
        for m in self.managers():
            join = self.cpu.joiner(m.group)
            timed(m.argv(self.name()), m.environ, m.cwd, join)  # warm-up
            before = self.cpu.usage_ms(m.group)
            for _ in range(runs):
                timed(m.argv(self.name()), m.environ, m.cwd, join)
            out[m.label] = round((self.cpu.usage_ms(m.group) - before) / runs, 1)
        return {"cpu_ms_per_run": out, "load": loadavg()}

    def parallel(self) -> dict[str, object]:
        count = self.opts.parallel

        def hundred(m: Manager) -> float:
            prefix = self.name()
            script = self.base / f"{prefix}.sh"
            argv = " ".join(shlex.quote(a) for a in m.argv(f"{prefix}-NAME"))
            script.write_text("#!/bin/sh\nexec " + argv.replace("NAME", '"$1"') + "\n")
            script.chmod(0o755)
            try:
                return timed(["sh", "-c", f"seq {count} | xargs -P 8 -n 1 {script}"],
                             m.environ, m.cwd)
            finally:
                script.unlink()

        log(f"parallel: {self.opts.rounds} rounds of {count} (load {loadavg()})")
        samples = self.alternate(self.managers(), self.opts.rounds, 0, hundred)
        return {"s": self.summary(samples, 1), "load": loadavg()}

    # -- memory --------------------------------------------------------------------------------
    def memory(self) -> dict[str, object]:
        n = self.opts.containers
        results: dict[str, object] = {}
        for label in ("go", "ours", "grouped"):
            if label in self.engines:
                results[f"pyctl {label}-shim"] = self._memory_engine(self.engines[label], n,
                                                                     label != "go")
        results["podman conmon"] = self._memory_podman(n)
        results["load"] = loadavg()
        return results

    def _per_container(self, pids: list[int], shared: list[int]) -> Memory:
        processes = sorted({parent_of(p) for p in pids} | set(shared))
        parts = [smaps(p) for p in processes]
        return Memory(sum(m.rss for m in parts), sum(m.pss for m in parts),
                      sum(m.uss for m in parts))

    def _figures(self, totals: dict[int, Memory], n: int) -> dict[str, object]:
        first, last = totals[1], totals[n]
        extra = Memory(*((b - a) / (n - 1) for a, b in
                         zip(asdict(first).values(), asdict(last).values(), strict=True)))
        return {k: {f: round(v, 2) for f, v in asdict(m).items()}
                for k, m in (("first", first), ("per_extra", extra), (f"total_{n}", last))}

    def _zygote(self) -> list[int]:
        import pyshim_env

        sys.path[:0] = [str(REPO / "engine")]
        pid = pyshim_env.zygote_pid(self.base / "bin" / "containerd-shim-pyrunc-v2")
        return [pid] if pid else []

    def _memory_engine(self, engine: Engine, n: int, ours: bool) -> dict[str, object]:
        ids: list[str] = []
        totals: dict[int, Memory] = {}
        try:
            for count in (1, n):
                while len(ids) < count:
                    ids.append(engine.pyctl("run", "-d", "--network", "none", "busybox",
                                            "sleep", "100000")
                               .stdout.strip())
                time.sleep(1)  # not a measurement: let start-up garbage settle
                pids = [int(engine.pyctl("inspect", "-f", "{{.State.Pid}}", i).stdout)
                        for i in ids]
                totals[count] = self._per_container(pids, self._zygote() if ours else [])
                log(f"{engine.shim}: {count} containers: {totals[count]}")
        finally:
            if ids:
                engine.pyctl("rm", "-f", *ids, check=False)
        return self._figures(totals, n)

    def _memory_podman(self, n: int) -> dict[str, object]:
        names: list[str] = []
        totals: dict[int, Memory] = {}
        try:
            for count in (1, n):
                while len(names) < count:
                    names.append(self.name())
                    self.podman.podman("run", "-d", "--network", "none", "--name", names[-1],
                                       env.IMAGE, "sleep", "100000", runtime=RUNC)
                time.sleep(1)
                pids = [int(self.podman.podman("inspect", "-f", "{{.State.Pid}}", name,
                                               runtime=RUNC).stdout) for name in names]
                totals[count] = self._per_container(pids, [])
                log(f"conmon: {count} containers: {totals[count]}")
        finally:
            if names:
                self.podman.podman("rm", "-f", "-t", "0", *names, check=False, timeout=120)
        return self._figures(totals, n)

    # -- start-up ------------------------------------------------------------------------------
    def startup(self) -> dict[str, object]:
        engine = self.engines["go"]
        python = client_imports(self.pyctl, "")[0]
        commands: dict[str, tuple[list[str], dict[str, str]]] = {
            "pyctl ps": (engine.argv("ps"), engine.env),
            "pyctl images": (engine.argv("images"), engine.env),
            "client imports (no call)": (client_imports(
                self.pyctl, "pyengine.cli.main, pyengine.cli.verb_ps, pyengine.cli.verb_images"),
                engine.env),
            "python -IS -c pass": ([python, "-IS", "-c", "pass"], engine.env),
        }
        if self.dockerd is not None:
            commands["docker ps"] = (self.dockerd.argv("ps"), self.dockerd.env)
            commands["docker images"] = (self.dockerd.argv("images"), self.dockerd.env)
        managers = [Manager(k, _fixed(a), e) for k, (a, e) in commands.items()]
        samples = self.alternate(managers, self.opts.runs * 2, 3,
                                 lambda m: timed(m.argv(""), m.environ))
        medians = {k: round(statistics.median(v) * 1000, 1) for k, v in samples.items()}
        return {"ms": medians, "load": loadavg()}


def client_imports(pyctl: Path, modules: str) -> list[str]:
    """A command importing `modules` as pyctl's launcher would (its interpreter, -IS, its
    sys.path), then doing nothing: the client's share of a verb, without the call."""
    head = pyctl.read_text().split("\n")
    python = head[0].removeprefix("#!").split()[0]
    path_setup = next(line for line in head if line.startswith("sys.path"))
    return [python, "-IS", "-c", f"import sys; {path_setup}; import {modules}"]


def _fixed(argv: list[str]) -> Callable[[str], list[str]]:
    """A command that takes no per-run name."""
    return lambda _name: argv


def print_table(report: dict[str, object]) -> None:
    for part, figures in report.items():
        if not isinstance(figures, dict):
            continue
        print(f"== {part} (load average {figures.get('load', '?')})")
        for key, value in figures.items():
            if key == "load":
                continue
            if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
                for label, row in value.items():
                    print(f"  {key} {label:<34}" +
                          "".join(f" {k}={v}" for k, v in row.items()))
            else:
                print(f"  {key}: {value}")


@contextlib.contextmanager
def private_base(prefix: str = "pebench-") -> Iterator[Path]:
    """A temporary directory of the bench's, unmounted below and removed afterwards."""
    base = env.make_base(prefix)
    try:
        yield base
    finally:
        env.remove_tree(base)


class PrivateBench(Protocol):
    """A bench that `run_private` sets up, measures and tears down."""

    def setup(self) -> None: ...
    def measure(self) -> dict[str, object]: ...
    def teardown(self) -> None: ...


def run_private(private: bool, prefix: str, bench_of: Callable[[Path], PrivateBench],
                table: Callable[[dict[str, object]], None] | None) -> int:
    """The bench in a mount and network namespace of its own: outside (not `private`), this
    re-executes the script under `unshare --mount --net --propagation private` with
    `--private` and passes SIGTERM/SIGINT on; inside, lo up, a temporary directory
    /tmp/PREFIX* removed afterwards, the bench set up, measured and always torn down; prints
    `table` (unless None: --json) and the report as one JSON line."""
    if not private:
        inner = subprocess.Popen(["unshare", "--mount", "--net", "--propagation", "private",
                                  "--", sys.executable, *sys.argv, "--private"])
        for signum in (signal.SIGTERM, signal.SIGINT):  # it cleans up, then exits
            signal.signal(signum, lambda num, _frame: inner.send_signal(num))
        return inner.wait()
    env.run(["ip", "link", "set", "lo", "up"])
    with private_base(prefix) as base:
        bench = bench_of(base)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            bench.setup()
            report = bench.measure()
        finally:
            bench.teardown()
    if table is not None:
        table(report)
    print(json.dumps(report))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="memory,run,cpu,parallel,startup")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=100)
    parser.add_argument("--containers", type=int, default=10)
    parser.add_argument("--no-grouped", dest="grouped", action="store_false")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--in-netns", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    opts.parts = opts.parts.split(",")
    if os.geteuid() != 0:
        print("engine.py: needs root", file=sys.stderr)
        return 1
    if not opts.in_netns:  # the bench itself, with every daemon and client, in a new netns
        netns = Netns(f"pebench-{os.getpid()}")
        netns.create()
        try:
            return subprocess.run(["nsenter", f"--net={netns.path}", "--", sys.executable,
                                   *sys.argv, "--in-netns"], check=False).returncode
        finally:
            netns.remove()
    report: dict[str, object] = {"load_before": loadavg()}
    with private_base() as base:
        bench = Bench(base, opts)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            bench.setup()
            parts = {"run": bench.run_rm, "parallel": bench.parallel, "cpu": bench.cpu_time,
                     "memory": bench.memory, "startup": bench.startup}
            for name in opts.parts:
                report[name] = parts[name]()
                log(f"{name}: {json.dumps(report[name])}")
        finally:
            bench.teardown()
    print(json.dumps(report, indent=2) if opts.json else "", end="")
    if not opts.json:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
