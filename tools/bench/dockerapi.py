#!/usr/bin/env python3
"""Benchmark: the Docker Engine API on pyengined (issue 12, Performance): the docker CLI 28
against pyengined's REST edge side by side with the same CLI against dockerd 20.10, and pyctl
(the gRPC edge) against the same pyengined, in one run, on the same images; medians and ratios.

Clients (labels):
  docker->dockerd     the docker CLI, DOCKER_HOST=dockerd's socket (the reference)
  docker->pyengined   the docker CLI, DOCKER_HOST=pyengined's --docker-api socket
  pyctl->pyengined    pyctl, PYENGINE_HOST=pyengined's gRPC socket
Parts (--parts, default all), every client in alternating rounds (order rotated each round)
after warm-up runs:
  run-none    `run --rm --network none busybox true`
  run-bridge  `run --rm busybox true` (the default bridge: docker0, pyengined's bridge)
  parallel    100 of run-none through `seq 100 | xargs -P 8`, --rounds rounds
  pull        `pull` of the walk-through's web image (Debian bookworm + python3-flask, two
              layers, ~50 MB gzip'd: python-sized) from a registry on 127.0.0.1; the image
              removed (untimed) after each pull, so every pull is cold
  ps          `ps` (a client's start-up plus one list call), 10x the rounds of the others:
              the daemons' share is ~0.25 ms of a ~10 ms run, so fewer rounds give ratios
              that swing +-3% from run to run
Targets: docker->pyengined / docker->dockerd <= 1.0, and docker->pyengined / pyctl->pyengined
<= 1.1 (the REST edge adds at most 10% over pyctl). A client whose first run of a part fails (an
endpoint not there yet) is reported with its error and left out of that part.

Isolation (tools/bench/network.py's): the bench re-executes itself under `unshare --mount --net`;
each daemon runs in a network namespace of its own (its bridge, veths, iptables rules there),
with a docker-registry on its 127.0.0.1; the two registries serve one storage directory into
which skopeo pushed the image once (from the demo's archive: tools/demo keeps
pyengine-demo/{debian,redis,web,nginx} in /var/cache/pyengine-demo; run `tools/demo --only app`
once to make it). pyengined of this checkout (containerd-shim-runc-v2, --pyctl-runtime pyrunc
or runc), dockerd with its own data/exec roots, containerd and cgroup parent. busybox: the rootfs
of tools/mkimage-busybox, imported by each daemon's own client. Everything is removed afterwards
(containers through their daemon, daemons and registries by pid, namespaces, mounts, directories).

Usage (root): tools/bench/dockerapi.py [--parts run-none,run-bridge,parallel,pull,ps]
              [--runs 9] [--rounds 3] [--parallel 100] [--pull-runs 9]
              [--pyctl-runtime pyrunc|runc] [--json]
Prints a table, then the figures as one JSON line (--json: the JSON line only).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import network  # tools/bench/network.py: namespaces, the private mount set-up

import engine  # tools/bench/engine.py: the private pyengined and dockerd
from engine import Engine, Manager, Netns, loadavg, timed

sys.path.insert(0, str(engine.REPO))
from tests.fixtures.registry import RegistryServer  # the tests' docker-registry runner

env = engine.env
REPO = engine.REPO
DOCKER_CLI = shutil.which("docker") or "/usr/local/bin/docker"  # the docker CLI 28
DEMO_CACHE = Path(os.environ.get("PYENGINE_DEMO_CACHE", "/var/cache/pyengine-demo"))
PULL_IMAGE = "pyengine-demo/web:latest"  # in the demo's archive
CLIENTS = ("docker->dockerd", "docker->pyengined", "pyctl->pyengined")
PARTS = ("run-none", "run-bridge", "parallel", "pull", "ps")
PS_ROUNDS = 10  # ps runs this many times the --runs rounds (see "ps" above)
RUN_ARGS = {"run-none": ("run", "--rm", "--network", "none", "busybox", "true"),
            "run-bridge": ("run", "--rm", "busybox", "true"),
            "ps": ("ps",)}


def log(message: str) -> None:
    print(f"[dockerapi-bench] {message}", file=sys.stderr, flush=True)


@dataclass
class Client:
    """One client of one daemon: its command line and environment, and the daemon's network
    namespace and registry."""
    label: str
    argv: Callable[..., list[str]]
    environ: dict[str, str]
    netns: str
    registry: str = ""  # host:port of the registry in the daemon's namespace

    def call(self, *args: str, check: bool = True,
             timeout: float = 600) -> subprocess.CompletedProcess:
        return env.run(self.argv(*args), check=check, env=self.environ, timeout=timeout)

    def timed(self, *args: str) -> float:
        return timed(self.argv(*args), self.environ)


def docker_argv(*args: str) -> list[str]:
    return [DOCKER_CLI, *args]


def demo_archive() -> Path:
    found = sorted(glob.glob(str(DEMO_CACHE / "images-*.tar")), key=os.path.getmtime)
    if not found:
        raise env.DropinError(f"no demo images archive in {DEMO_CACHE}: run "
                              "`tools/demo --only app` once")
    return Path(found[-1])


def _ms(seconds: float) -> float:
    """Milliseconds to 0.01 (ps is ~10 ms: 0.1 would hide a 1% difference in its ratio)."""
    return round(seconds * 1000, 2)


class ApiBench:
    def __init__(self, base: Path, opts: argparse.Namespace) -> None:
        self.base = base
        self.opts = opts
        tag = f"ab{os.getpid()}"
        self.netns = {name: Netns(f"{tag}-{name}") for name in ("pyengined", "dockerd")}
        self.engine: Engine | None = None
        self.dockerd: engine.Dockerd | None = None
        self.registries: list[RegistryServer] = []
        self.clients: dict[str, Client] = {}
        self.counter = 0

    # -- set-up --------------------------------------------------------------------------------
    def setup(self) -> None:
        network.mask_host_state(self.base)
        for ns in self.netns.values():
            ns.create()
        bin_dir = self.base / "bin"
        bin_dir.mkdir()
        environ = dict(os.environ, PYTHONPATH=engine.PYTHONPATH)
        for module, name in (("pyrunc.launcher", "pyrunc"), ("pyengine.cli.launcher", "pyctl")):
            env.run([engine.ENGINE_PYTHON, "-m", module, str(bin_dir / name)], env=environ)
        busybox = self.base / "busybox.tar"
        env.run([str(REPO / "tools" / "mkimage-busybox"), "-o", str(busybox)])

        log("starting pyengined (with --docker-api)")
        runtime = str(bin_dir / "pyrunc") if self.opts.pyctl_runtime == "pyrunc" else engine.RUNC
        api_socket = self.base / "engine" / "run" / "docker.sock"
        self.engine = Engine(self.base / "engine", engine.GO_SHIM, runtime, bin_dir / "pyctl",
                             log_level="info", extra_args=("--docker-api", f"unix://{api_socket}"))
        ours = self.engine
        with network.entered(self.netns["pyengined"].path):
            ours.start()
        ours.pyctl("import", "-c", 'CMD ["sh"]', str(busybox), "busybox:latest")
        client_dir = str(self.base / "docker-client")
        self.clients["pyctl->pyengined"] = Client("pyctl->pyengined", ours.argv, ours.env,
                                                  self.netns["pyengined"].path)
        self.clients["docker->pyengined"] = Client(
            "docker->pyengined", docker_argv,
            dict(os.environ, DOCKER_HOST=f"unix://{api_socket}", DOCKER_CONFIG=client_dir),
            self.netns["pyengined"].path)

        if os.access(engine.DOCKERD, os.X_OK):
            log("starting a private dockerd (bridge)")
            self.dockerd = engine.Dockerd(self.base / "docker", bridge=True)
            with network.entered(self.netns["dockerd"].path):
                self.dockerd.start()
            self.dockerd.docker("import", "-c", 'CMD ["sh"]', str(busybox), "busybox:latest")
            self.clients["docker->dockerd"] = Client(
                "docker->dockerd", docker_argv,
                dict(os.environ, DOCKER_HOST=f"unix://{self.dockerd.socket}",
                     DOCKER_CONFIG=client_dir), self.netns["dockerd"].path)
        else:
            log(f"dockerd left out: {engine.DOCKERD} is missing")
        if "pull" in self.opts.parts:
            self._registries()

    def _registries(self) -> None:
        """A registry in each daemon's namespace, both serving one storage directory; the
        image pushed once by skopeo from the demo's archive."""
        archive = demo_archive()
        storage = self.base / "registry-storage"
        storage.mkdir()
        for name in self.netns:
            root = self.base / f"registry-{name}"
            root.mkdir()
            (root / "storage").symlink_to(storage)
            server = RegistryServer(root=root)
            with network.entered(self.netns[name].path):
                self.registries.append(server.start())
            for client in self.clients.values():
                if client.netns == self.netns[name].path:
                    client.registry = server.host
        first = self.registries[0]
        log(f"pushing {PULL_IMAGE} from {archive.name} to the registries' storage")
        with network.entered(self.netns["pyengined"].path):
            env.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                     f"docker-archive:{archive}:{PULL_IMAGE}",
                     f"docker://{first.host}/bench/web:latest"], timeout=600)

    def teardown(self) -> None:
        steps: list[Callable[[], None]] = [r.stop for r in self.registries]
        if self.engine is not None:
            steps.append(self.engine.stop)
        if self.dockerd is not None:
            steps.append(self.dockerd.stop)
        steps.extend(ns.remove for ns in self.netns.values())
        for step in steps:
            try:
                step()
            except Exception as err:  # one failed step must not keep the rest
                log(f"clean-up: {type(err).__name__}: {err}")

    # -- parts ---------------------------------------------------------------------------------
    def working(self, part: str, first: Callable[[Client], object],
                errors: dict[str, str]) -> list[Client]:
        """The clients whose first try of `part` works; the others' errors in `errors`."""
        out = []
        for label in CLIENTS:
            client = self.clients.get(label)
            if client is None:
                continue
            try:
                first(client)
            except Exception as err:
                errors[label] = network._short(err)
                log(f"{part}: {label} left out: {errors[label]}")
                continue
            out.append(client)
        return out

    def simple(self, part: str) -> dict[str, object]:
        """A command of RUN_ARGS, timed per client in alternating rounds."""
        args = RUN_ARGS[part]
        errors: dict[str, str] = {}
        clients = self.working(part, lambda c: c.timed(*args), errors)
        runs = self.opts.runs * (PS_ROUNDS if part == "ps" else 1)
        log(f"{part}: {runs} alternating rounds of {len(clients)} (load {loadavg()})")
        by_label = {c.label: c for c in clients}
        samples = engine.Bench.alternate(
            [Manager(c.label, engine._fixed([]), c.environ) for c in clients], runs, 2,
            lambda m: by_label[m.label].timed(*args))
        return self.figures({k: _ms(statistics.median(v)) for k, v in samples.items()}, "ms",
                            errors)

    def parallel(self) -> dict[str, object]:
        count = self.opts.parallel
        args = RUN_ARGS["run-none"]
        errors: dict[str, str] = {}
        clients = self.working("parallel", lambda c: c.timed(*args), errors)
        by_label = {c.label: c for c in clients}

        def hundred(m: Manager) -> float:
            client = by_label[m.label]
            command = " ".join(shlex.quote(a) for a in client.argv(*args))
            script = f"seq {count} | xargs -P 8 -I{{}} {command}"
            return timed(["sh", "-c", script], client.environ)

        log(f"parallel: {self.opts.rounds} rounds of {count} (load {loadavg()})")
        samples = engine.Bench.alternate(
            [Manager(c.label, engine._fixed([]), c.environ) for c in clients],
            self.opts.rounds, 0, hundred)
        return self.figures({k: round(statistics.median(v), 2) for k, v in samples.items()},
                            "s", errors)

    def pull(self) -> dict[str, object]:
        errors: dict[str, str] = {}

        def reference(client: Client) -> str:
            return f"{client.registry}/bench/web:latest"

        def one(client: Client) -> float:
            took = client.timed("pull", reference(client))
            client.call("rmi", reference(client))  # untimed: the next pull is cold again
            return took

        clients = self.working("pull", one, errors)
        by_label = {c.label: c for c in clients}
        log(f"pull: {self.opts.pull_runs} alternating rounds of {len(clients)} "
            f"(load {loadavg()})")
        samples = engine.Bench.alternate(
            [Manager(c.label, engine._fixed([]), c.environ) for c in clients],
            self.opts.pull_runs, 0, lambda m: one(by_label[m.label]))
        figures = self.figures({k: round(statistics.median(v), 2) for k, v in samples.items()},
                               "s", errors)
        figures["image"] = f"{PULL_IMAGE} of {demo_archive().name}: " + self._image_size()
        return figures

    def _image_size(self) -> str:
        """The pushed image's compressed size, from the registry's manifest."""
        if not self.registries:
            return "?"
        import urllib.request
        request = urllib.request.Request(
            f"{self.registries[0].url}/v2/bench/web/manifests/latest",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                               "application/vnd.oci.image.manifest.v1+json"})

        def fetch() -> dict[str, object]:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return dict(json.loads(answer.read()))

        manifest = network.in_netns(self.netns["pyengined"].path, fetch)
        layers = manifest.get("layers")
        sizes = [int(layer["size"]) for layer in layers] if isinstance(layers, list) else []
        return f"{len(sizes)} layers, {sum(sizes) / 1e6:.1f} MB compressed"

    @staticmethod
    def figures(values: dict[str, float], unit: str, errors: dict[str, str]
                ) -> dict[str, object]:
        rest, ref, grpc = (values.get(label) for label in
                           ("docker->pyengined", "docker->dockerd", "pyctl->pyengined"))
        return {unit: values, "ratios": {
            "docker->pyengined / docker->dockerd (<= 1.0)": network._ratio(rest, ref),
            "docker->pyengined / pyctl->pyengined (<= 1.1)": network._ratio(rest, grpc)},
            "errors": errors, "load": loadavg()}

    def measure(self) -> dict[str, object]:
        assert self.engine is not None
        report: dict[str, object] = {"setup": {
            "docker": f"docker CLI {self.docker_version()}",
            "pyengined": f"this checkout, containerd-shim-runc-v2, {self.opts.pyctl_runtime}",
            "dockerd": "dockerd 20.10 (docker0, iptables, userland-proxy on), its containerd, "
                       "runc"}, "load_before": loadavg()}
        for part in self.opts.parts:
            try:
                if part == "parallel":
                    report[part] = self.parallel()
                elif part == "pull":
                    report[part] = self.pull()
                else:
                    report[part] = self.simple(part)
            except Exception as err:
                report[part] = {"error": network._short(err)}
            log(f"{part}: {json.dumps(report[part])}")
        report["load_after"] = loadavg()
        report["targets_met"] = {
            f"{part} {label}": network.target_met(label, value)
            for part, figures in report.items() if isinstance(figures, dict)
            for label, value in (figures.get("ratios") or {}).items()
            if network.target_met(label, value) is not None}
        return report

    @staticmethod
    def docker_version() -> str:
        out = env.run([DOCKER_CLI, "version", "--format", "{{.Client.Version}}"], check=False)
        return out.stdout.strip() or "?"


def print_table(report: dict[str, object]) -> None:
    for name, what in network._dict(report.get("setup")).items():
        print(f"{name}: {what}")
    rows = []
    for part in PARTS:
        figures = network._dict(report.get(part))
        unit = "s" if "s" in figures else "ms"
        values = network._dict(figures.get(unit))
        if values:
            rows.append((f"{part} ({unit}, median)", [values.get(c) for c in CLIENTS]))
    print(f"{'':<28}" + "".join(f"{c:>20}" for c in CLIENTS))
    for label, cells in rows:
        print(f"{label:<28}" + "".join(f"{'-' if c is None else c:>20}" for c in cells))
    for part in PARTS:
        figures = network._dict(report.get(part))
        if "image" in figures:
            print(f"{part}: {figures['image']}")
        for label, value in network._dict(figures.get("ratios")).items():
            verdict = network.target_met(label, value if isinstance(value, float) else None)
            print(f"{part} ratio {label}: {value}" +
                  ("" if verdict is None else "  ok" if verdict else "  MISSED"))
        for label, value in network._dict(figures.get("errors")).items():
            print(f"{part}: {label} left out: {value}")
        if "error" in figures:
            print(f"{part}: failed: {figures['error']}")
    print(f"load average before/after: {report.get('load_before')} / {report.get('load_after')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--runs", type=int, default=9, help=f"rounds of run-* (ps: {PS_ROUNDS}x)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of parallel")
    parser.add_argument("--parallel", type=int, default=100)
    # 9: a multiple of the three clients, so each pulls as often right after each other's rmi
    # (the rotation's positions); a pull's time depends on what was just deleted (host-facts)
    parser.add_argument("--pull-runs", type=int, default=9)
    parser.add_argument("--pyctl-runtime", choices=("pyrunc", "runc"), default="pyrunc",
                        help="pyengined's default runtime (dockerd uses runc)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--private", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    opts.parts = opts.parts.split(",")
    unknown = set(opts.parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if os.geteuid() != 0:
        print("dockerapi.py: needs root", file=sys.stderr)
        return 1
    return engine.run_private(opts.private, "apibench-", lambda base: ApiBench(base, opts),
                              None if opts.json else print_table)


if __name__ == "__main__":
    sys.exit(main())
