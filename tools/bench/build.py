#!/usr/bin/env python3
"""Benchmark: `pyctl build` side by side with `buildah bud`, dockerd 20.10's classic builder and
BuildKit, the same small Dockerfile, in one run, with ratios (issue 11, Performance).

The Dockerfile is tests/integration/engine_build/fixtures/small (FROM busybox; ENV, WORKDIR; a
COPY of three files; one RUN; LABEL, EXPOSE, CMD), built by each builder
  cold    the base image present, the build cache empty: before each cold build (not timed)
          the previous result is removed and the cache pruned (`pyctl rmi` + `pyctl builder
          prune -a -f`; `docker rmi` (the classic builder's cache is its intermediate images)
          + `docker builder prune -a -f` (BuildKit's); `buildah rmi` + `buildah rmi --prune`)
  cached  the same build again right after: every step a cache hit
Rounds alternate the builders (order rotated every round) after a warm-up round; the figures
are medians of the whole client command's wall time. Ratios: pyctl / BuildKit and pyctl /
each other builder, cold and cached; the issue's targets: cold <= BuildKit's, cached <= 0.1 s.
A builder whose build fails (e.g. `pyctl build` not there yet) is reported with its error and
left out; the others still run.

Builders: pyctl (pyengined of this checkout, its default runtime pyrunc unless --pyctl-runtime
runc); buildah 1.28 (`bud --layers --isolation chroot --pull=never`, a storage root of the
bench's own); dockerd 20.10 (tools/bench/engine.py's private dockerd, with its default bridge
for RUN) driven by Debian's docker.io 20.10 client: `DOCKER_BUILDKIT=0` (classic) and
`DOCKER_BUILDKIT=1` (BuildKit; the 28.x CLI wants buildx, which is not installed). `-q` for
pyctl and docker, `-q` for buildah: no progress rendering in the figures.
The same base image everywhere: tools/mkimage-busybox's rootfs imported into pyengined, saved
with `pyctl save`, loaded into dockerd (`docker load`) and buildah (`buildah pull
docker-archive:`): the same image ID for all.

Isolation: the bench re-executes itself under `unshare --mount --net --propagation private`:
every daemon and build container is in that network namespace (lo, and the bridges pyengined
and dockerd make there), mounts are private, containerd shims' sockets go to a tmpfs on
/run/containerd/s. Clean-up (always): the daemons by pid, mounts and directories by path.

Usage (root): tools/bench/build.py [--runs 7] [--builders pyctl,buildah,classic,buildkit]
              [--pyctl-runtime pyrunc|runc] [--json]
Prints a table, then the figures as one JSON line (--json: the JSON line only).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import engine  # tools/bench/engine.py: the private pyengined and dockerd set-ups
from engine import Dockerd, Engine, loadavg, timed

env = engine.env
REPO = engine.REPO
CONTEXT = REPO / "tests" / "integration" / "engine_build" / "fixtures" / "small"
BUILDAH = shutil.which("buildah") or "/usr/bin/buildah"
TAG = "benchapp:latest"
BUILDERS = ("pyctl", "buildah", "classic", "buildkit")
TARGET_CACHED_S = 0.1


def log(message: str) -> None:
    print(f"[build-bench] {message}", file=sys.stderr, flush=True)


@dataclass
class Builder:
    """One builder: the timed build command, and the untimed reset to "cache empty"."""

    name: str
    build: list[str]
    environ: dict[str, str]
    resets: list[list[str]]
    verbose: list[str]  # the same build with its progress, for the check of "cold"
    hit: str  # what that progress shows for a cache hit
    errors: list[str] = field(default_factory=list)

    def reset(self) -> None:
        for argv in self.resets:  # the image may not exist: failures here are fine
            subprocess.run(argv, env=self.environ, capture_output=True, timeout=300,
                           stdin=subprocess.DEVNULL, check=False)

    def timed(self) -> float:
        return timed(self.build, self.environ)

    def check_cold(self) -> None:
        """After a reset, nothing comes from a cache (else "cold" would not be); after a
        build, everything does. Not timed: once, before the rounds."""
        self.reset()
        for expect_hits in (False, True):
            done = subprocess.run(self.verbose, env=self.environ, capture_output=True,
                                  text=True, timeout=300, stdin=subprocess.DEVNULL)
            if done.returncode != 0:
                raise env.DropinError(f"{' '.join(self.verbose)}: exit {done.returncode}: "
                                      f"{done.stderr.strip()[-800:]}")
            if (self.hit in done.stdout + done.stderr) != expect_hits:
                raise env.DropinError(f"{self.name}: {'no' if expect_hits else 'a'} cache hit "
                                      f"({self.hit!r}) in a {'cached' if expect_hits else 'cold'}"
                                      f" build:\n{(done.stdout + done.stderr)[-1500:]}")


class BuildBench:
    def __init__(self, base: Path, opts: argparse.Namespace) -> None:
        self.base = base
        self.opts = opts
        self.engine: Engine | None = None
        self.dockerd: Dockerd | None = None
        self.buildah_root = base / "buildah"
        self.builders: list[Builder] = []
        self.skipped: dict[str, str] = {}

    # -- set-up ----------------------------------------------------------------------------------
    def setup(self) -> None:
        wanted = set(self.opts.builders)
        if os.path.isdir("/run/containerd/s"):
            env.run(["mount", "-t", "tmpfs", "buildbench-shims", "/run/containerd/s"])
        bin_dir = self.base / "bin"
        bin_dir.mkdir()
        environ = dict(os.environ, PYTHONPATH=engine.PYTHONPATH)
        for module, name in (("pyrunc.launcher", "pyrunc"), ("pyengine.cli.launcher", "pyctl")):
            env.run([engine.ENGINE_PYTHON, "-m", module, str(bin_dir / name)], env=environ)
        context = self.base / "context"
        shutil.copytree(CONTEXT, context)
        rootfs = self.base / "rootfs.tar"
        env.run([str(REPO / "tools" / "mkimage-busybox"), "-o", str(rootfs)])

        log("starting pyengined")
        runtime = str(bin_dir / "pyrunc") if self.opts.pyctl_runtime == "pyrunc" else engine.RUNC
        ours = Engine(self.base / "engine", engine.GO_SHIM, runtime, bin_dir / "pyctl",
                      log_level="info")
        self.engine = ours
        ours.start()
        ours.pyctl("import", "-c", 'CMD ["sh"]', str(rootfs), "busybox:latest")
        archive = self.base / "busybox-image.tar"
        ours.pyctl("save", "-o", str(archive), "busybox:latest")
        base_id = ours.pyctl("image", "inspect", "-f", "{{.Id}}", "busybox").stdout.strip()
        if "pyctl" in wanted:
            self.builders.append(Builder(
                "pyctl", ours.argv("build", "-q", "-t", TAG, str(context)), ours.env,
                [ours.argv("rmi", TAG), ours.argv("builder", "prune", "-a", "-f")],
                ours.argv("build", "-t", TAG, str(context)), " CACHED\n"))

        if "buildah" in wanted:
            log("loading busybox into buildah")
            self.buildah("pull", "-q", f"docker-archive:{archive}")
            bud = ("bud", "--layers", "--isolation", "chroot", "--pull=never", "-t", TAG)
            self.builders.append(Builder(
                "buildah", self.buildah_argv(*bud, "-q", str(context)), dict(os.environ),
                [self.buildah_argv("rmi", "-f", TAG), self.buildah_argv("rmi", "--prune", "-f")],
                self.buildah_argv(*bud, str(context)), "Using cache"))

        if wanted & {"classic", "buildkit"}:
            if not os.access(engine.DOCKERD, os.X_OK):
                self.skipped["docker"] = f"{engine.DOCKERD} is not installed"
            else:
                log("starting a private dockerd")
                self.dockerd = Dockerd(self.base / "docker", bridge=True)
                self.dockerd.start()
                self.dockerd.docker("load", "-i", str(archive))
                theirs = self.dockerd.docker("image", "inspect", "-f", "{{.Id}}",
                                             "busybox").stdout.strip()
                if theirs != base_id:
                    raise env.DropinError(f"docker load gave {theirs}, pyctl has {base_id}")
                for name, flag in (("classic", "0"), ("buildkit", "1")):
                    if name in wanted:
                        self.builders.append(self._docker(name, flag, context))

    def _docker(self, name: str, buildkit: str, context: Path) -> Builder:
        assert self.dockerd is not None
        environ = dict(self.dockerd.env, DOCKER_BUILDKIT=buildkit)
        tag = f"{name}-{TAG}"
        verbose = ["--progress=plain"] if buildkit == "1" else []
        return Builder(name, self.dockerd.argv("build", "-q", "-t", tag, str(context)), environ,
                       [self.dockerd.argv("rmi", "-f", tag),
                        self.dockerd.argv("builder", "prune", "-a", "-f")],
                       self.dockerd.argv("build", *verbose, "-t", tag, str(context)),
                       " CACHED\n" if buildkit == "1" else "Using cache")

    def buildah_argv(self, *args: str) -> list[str]:
        return [BUILDAH, "--root", str(self.buildah_root / "root"), "--runroot",
                str(self.buildah_root / "runroot"), "--storage-driver", "overlay", *args]

    def buildah(self, *args: str) -> subprocess.CompletedProcess:
        return env.run(self.buildah_argv(*args), timeout=300)

    def teardown(self) -> None:
        steps: list[Callable[[], object]] = []
        if self.engine is not None:
            steps.append(self.engine.stop)
        if self.dockerd is not None:
            steps.append(self.dockerd.stop)
        if self.buildah_root.exists():
            steps += [lambda: env.run(self.buildah_argv("rm", "--all"), check=False),
                      lambda: env.run(self.buildah_argv("rmi", "--all", "-f"), check=False)]
        for step in steps:
            try:
                step()
            except Exception as err:  # one failed step must not keep the rest
                log(f"clean-up: {type(err).__name__}: {err}")

    # -- the measurement -------------------------------------------------------------------------
    def one(self, builder: Builder) -> tuple[float, float] | None:
        """Cold then cached, or None (and the error kept) when the build fails."""
        builder.reset()
        try:
            return builder.timed(), builder.timed()
        except (env.DropinError, subprocess.TimeoutExpired) as err:
            builder.errors.append(str(err).strip()[-800:])
            return None

    def measure(self) -> dict[str, object]:
        report: dict[str, object] = {"load_before": loadavg()}
        builders = list(self.builders)
        log(f"checking that a reset empties each cache, and a warm-up round (load {loadavg()})")
        for b in builders:
            try:
                b.check_cold()
            except (env.DropinError, subprocess.TimeoutExpired) as err:
                b.errors.append(str(err).strip()[-800:])
            if b.errors or self.one(b) is None:
                log(f"{b.name} left out: {b.errors[-1]}")
        builders = [b for b in builders if not b.errors]
        cold: dict[str, list[float]] = {b.name: [] for b in builders}
        cached: dict[str, list[float]] = {b.name: [] for b in builders}
        log(f"{self.opts.runs} alternating rounds of {', '.join(cold)} (load {loadavg()})")
        for round_no in range(self.opts.runs):
            shift = round_no % max(1, len(builders))
            for b in builders[shift:] + builders[:shift]:
                if b.errors:
                    continue
                pair = self.one(b)
                if pair is None:
                    log(f"{b.name} failed in round {round_no}: {b.errors[-1]}")
                    continue
                cold[b.name].append(pair[0])
                cached[b.name].append(pair[1])
        report["cold_s"] = cold_s = _medians(cold)
        report["cached_s"] = cached_s = _medians(cached)
        report["runs"] = {k: len(v) for k, v in cold.items()}
        report["ratios"] = _ratios(cold_s, cached_s)
        report["errors"] = {b.name: b.errors[-1] for b in self.builders if b.errors}
        report["skipped"] = self.skipped
        report["load_after"] = loadavg()
        return report


def _medians(samples: dict[str, list[float]]) -> dict[str, float]:
    return {k: round(statistics.median(v), 3) for k, v in samples.items() if v}


def _ratios(cold: dict[str, float], cached: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    if "pyctl" not in cold:
        return out
    for other in BUILDERS[1:]:
        if other in cold:
            out[f"cold pyctl/{other}"] = round(cold["pyctl"] / cold[other], 2)
        if other in cached:
            out[f"cached pyctl/{other}"] = round(cached["pyctl"] / cached[other], 2)
    return out


def print_table(report: dict[str, object]) -> None:
    cold = _dict(report.get("cold_s"))
    cached = _dict(report.get("cached_s"))
    print(f"build of {CONTEXT.relative_to(REPO)}, medians of "
          f"{report.get('runs')} rounds, seconds")
    print(f"  {'builder':<10} {'cold':>8} {'cached':>8}")
    for name in BUILDERS:
        if name in cold:
            print(f"  {name:<10} {cold[name]:>8.3f} {cached.get(name, float('nan')):>8.3f}")
    ratios = _dict(report.get("ratios"))
    for label, value in ratios.items():
        print(f"  ratio {label}: {value}")
    if "pyctl" in cold and "buildkit" in cold:
        met = cold["pyctl"] <= cold["buildkit"]
        print(f"  target cold <= BuildKit's: {'ok' if met else 'MISSED'}")
    if "pyctl" in cached:
        met = cached["pyctl"] <= TARGET_CACHED_S
        print(f"  target cached <= {TARGET_CACHED_S} s: {'ok' if met else 'MISSED'}")
    for label, value in {**_dict(report.get("errors")), **_dict(report.get("skipped"))}.items():
        print(f"  {label} left out: {value}")
    print(f"load average before/after: {report.get('load_before')} / {report.get('load_after')}")


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="alternating rounds")
    parser.add_argument("--builders", default=",".join(BUILDERS))
    parser.add_argument("--pyctl-runtime", choices=("pyrunc", "runc"), default="pyrunc")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--private", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    opts.builders = [b for b in opts.builders.split(",") if b]
    unknown = set(opts.builders) - set(BUILDERS)
    if unknown:
        parser.error(f"unknown builders {sorted(unknown)} (of {', '.join(BUILDERS)})")
    if os.geteuid() != 0:
        print("build.py: needs root", file=sys.stderr)
        return 1
    return engine.run_private(opts.private, "buildbench-", lambda base: BuildBench(base, opts),
                              None if opts.json else print_table)


if __name__ == "__main__":
    sys.exit(main())
