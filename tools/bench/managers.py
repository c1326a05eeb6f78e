#!/usr/bin/env python3
"""Benchmark: pyrunc vs Debian's runc under real managers, and pyrunc's memory.

Sets up privately (as the drop-in tests do, tests/integration/dropin/dropin_env.py): a busybox
image built offline from busybox-static (umoci + skopeo, OCI archive), a containerd 1.6 of its
own (own config, sockets, root and state under a temp dir, CRI disabled) and podman with private
--root/--runroot and containers.conf. pyrunc is its launcher (``python -m pyrunc.launcher``),
installed as ``runc`` in a directory of its own (podman then passes --log, as for runc).

Time (wall clock of the whole manager command, the runtimes ALTERNATING, first one swapped every
round, same image, after warm-up runs):
  podman   ``podman --runtime RUNTIME run --rm IMAGE true``
  ctr      ``ctr run --rm --runc-binary RUNTIME IMAGE ID true``
Reports the medians and the ratio pyrunc/runc (target <= 1.25).

Memory:
  verbs    the peak RSS (ru_maxrss, via ``/usr/bin/time -f %M``) and wall time (%e, 10 ms
           resolution) of every runtime call made by podman and ctr during a few ``run --rm``
           (a wrapper script named ``runc`` runs the runtime under time and appends to a log),
           per verb, for pyrunc and runc
  init     VmRSS and VmHWM of the container's init while it waits for ``start`` (after
           ``create``, before exec'ing the user process), calling the runtime directly on a
           busybox bundle
Prints a table; ``--json`` prints the figures as JSON instead.

Usage (root): tools/bench/managers.py [--runs 15] [--warmup 2] [--memory-runs 3] [--json]
                                      [--only podman|ctr]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration" / "dropin"))

import dropin_env as env  # noqa: E402  (the shared private set-up)

TIME = "/usr/bin/time"
TARGET_RATIO = 1.25


def log(message: str) -> None:
    print(f"[managers-bench] {message}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, base: Path, runs: int, warmup: int, memory_runs: int) -> None:
        self.base = base
        self.runs = runs
        self.warmup = warmup
        self.memory_runs = memory_runs
        self.containerd = env.Containerd(base / "containerd", namespace=f"bench{os.getpid()}")
        self.podman = env.Podman(base / "podman")
        self.runtimes: dict[str, str] = {}
        self.counter = 0

    # -- set-up ------------------------------------------------------------------------------
    def setup(self, managers: list[str]) -> None:
        log("building the busybox image")
        archive = env.build_busybox_archive(self.base / "image")
        pyrunc = env.install_pyrunc(self.base / "pyrunc-bin")
        self.runtimes = {"runc": env.RUNC, "pyrunc": str(pyrunc)}
        if "ctr" in managers:
            log("starting a private containerd")
            self.containerd.base.mkdir(parents=True)
            self.containerd.start()
            self.containerd.import_image(archive)
        if "podman" in managers:
            log("setting up podman")
            self.podman.setup()
            self.podman.load(archive)

    def teardown(self) -> None:
        if self.containerd.process is not None:
            self.containerd.stop()
        if self.podman.conf.exists():
            self.podman.stop()

    # -- commands ----------------------------------------------------------------------------
    def argv(self, manager: str, runtime_path: str) -> list[str]:
        if manager == "podman":
            return self.podman.argv("run", "--rm", env.IMAGE, "true", runtime=runtime_path)
        self.counter += 1
        return self.containerd.ctr_argv("run", "--rm", "--runc-binary", runtime_path,
                                        env.IMAGE, f"bench-{os.getpid()}-{self.counter}", "true")

    def timed(self, manager: str, runtime_path: str) -> float:
        argv = self.argv(manager, runtime_path)
        started = time.perf_counter()
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                env=self.podman.env, timeout=120)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            raise env.DropinError(f"{' '.join(argv)}: exit {result.returncode}: "
                                  f"{result.stderr.strip()[-2000:]}")
        return elapsed

    # -- time --------------------------------------------------------------------------------
    def measure_time(self, manager: str) -> dict:
        order = ["runc", "pyrunc"]
        for _ in range(self.warmup):
            for name in order:
                self.timed(manager, self.runtimes[name])
        samples: dict[str, list[float]] = {name: [] for name in order}
        for round_no in range(self.runs):
            for name in order if round_no % 2 == 0 else order[::-1]:
                samples[name].append(self.timed(manager, self.runtimes[name]))
        medians = {name: statistics.median(values) for name, values in samples.items()}
        ratio = medians["pyrunc"] / medians["runc"]
        log(f"{manager}: runc {medians['runc'] * 1000:.0f} ms, pyrunc "
            f"{medians['pyrunc'] * 1000:.0f} ms, ratio {ratio:.2f}")
        return {"runs": self.runs, "median_s": medians, "ratio": ratio,
                "target": TARGET_RATIO, "met": ratio <= TARGET_RATIO,
                "samples_s": samples}

    # -- memory: every runtime call under /usr/bin/time ---------------------------------------
    def measure_verbs(self, manager: str) -> dict:
        result = {}
        for name, path in self.runtimes.items():
            wrapper_dir = self.base / f"timed-{name}"
            wrapper_dir.mkdir(exist_ok=True)
            calls = wrapper_dir / "calls.log"
            calls.write_text("")
            wrapper = wrapper_dir / "runc"
            # "KiB seconds argv...": %C quotes nothing, which is fine here
            wrapper.write_text(f'#!/bin/sh\nexec {TIME} -a -o {calls} -f "%M %e %C" {path} "$@"\n')
            wrapper.chmod(0o755)
            for _ in range(self.memory_runs):
                self.timed(manager, str(wrapper))
            result[name] = per_verb(calls.read_text())
        return result

    # -- memory: the init waiting for start ---------------------------------------------------
    def measure_init(self) -> dict:
        bundle = self.base / "bundle"
        env.run([str(REPO_ROOT / "tools" / "mkrootfs-busybox"), str(bundle / "rootfs")])
        env.run([env.RUNC, "spec", "--bundle", str(bundle)])
        config_path = bundle / "config.json"
        config = json.loads(config_path.read_text())
        config["process"]["terminal"] = False
        config["process"]["args"] = ["/bin/true"]
        config_path.write_text(json.dumps(config))
        result = {}
        for name, path in self.runtimes.items():
            root = self.base / f"state-{name}"
            figures: dict[str, list[int]] = {"VmRSS_kB": [], "VmHWM_kB": []}
            for run_no in range(max(self.memory_runs, 3)):
                container_id = f"initrss-{name}-{os.getpid()}-{run_no}"
                pid_file = self.base / f"{container_id}.pid"
                base_argv = [path, "--root", str(root)]
                try:
                    # the init inherits create's stdio: no pipes, or waiting for EOF never ends
                    quiet([*base_argv, "create", "--bundle", str(bundle), "--pid-file",
                           str(pid_file), container_id], self.base)
                    pid = int(pid_file.read_text())
                    status = read_status(pid)
                    for key in figures:
                        figures[key].append(status[key.removesuffix("_kB")])
                    quiet([*base_argv, "start", container_id], self.base)
                finally:
                    subprocess.run([*base_argv, "delete", "--force", container_id],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, timeout=60)
            result[name] = {key: statistics.median(values) for key, values in figures.items()}
        return result


def quiet(argv: list[str], scratch: Path) -> None:
    """Run a runtime verb with stdio on /dev/null and a file (never pipes); raise on failure."""
    errors = scratch / "stderr.txt"
    with open(errors, "w+") as stderr:
        code = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=stderr, timeout=60).returncode
        stderr.seek(0)
        if code != 0:
            raise env.DropinError(f"{' '.join(argv)}: exit {code}: {stderr.read()[-2000:]}")


def per_verb(text: str) -> dict[str, dict]:
    """``KiB seconds argv...`` lines -> {verb: {calls, max_rss_kib, median_s}}; the verb is the
    first word that is not a flag or a flag's value."""
    rss: dict[str, list[int]] = {}
    elapsed: dict[str, list[float]] = {}
    valued = {"--root", "--log", "--log-format", "--criu", "--rootless"}
    for line in text.splitlines():
        words = line.split()
        if len(words) < 4 or not words[0].isdigit():
            continue  # time's "Command exited with non-zero status" lines
        argv, verb, skip = words[3:], "?", False
        for word in argv:
            if skip:
                skip = False
                continue
            if word.startswith("-"):
                skip = word in valued
                continue
            verb = word
            break
        rss.setdefault(verb, []).append(int(words[0]))
        elapsed.setdefault(verb, []).append(float(words[1]))
    return {verb: {"calls": len(rss[verb]), "max_rss_kib": max(rss[verb]),
                   "median_s": statistics.median(elapsed[verb])} for verb in rss}


def read_status(pid: int) -> dict[str, int]:
    status = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            status[key] = int(value.split()[0])
    return status


def seconds(figures: dict) -> str:
    return f"{figures['median_s']:.3f}" if "median_s" in figures else "-"


def print_table(report: dict) -> None:
    print(f"{'time (median wall clock)':<34}{'runc':>10}{'pyrunc':>10}{'ratio':>8}  target")
    for manager, data in report["time"].items():
        median = data["median_s"]
        print(f"{manager + ' run --rm true (n=' + str(data['runs']) + ')':<34}"
              f"{median['runc'] * 1000:>8.0f}ms{median['pyrunc'] * 1000:>8.0f}ms"
              f"{data['ratio']:>8.2f}  <= {data['target']} {'ok' if data['met'] else 'MISSED'}")
    for manager, per_runtime in report.get("verbs", {}).items():
        print(f"\nruntime calls made by {manager} (/usr/bin/time: peak RSS %M, median wall %e)")
        verbs = sorted(set(per_runtime["runc"]) | set(per_runtime["pyrunc"]))
        print(f"{'verb':<10}{'runc KiB':>10}{'pyrunc KiB':>12}{'runc s':>9}{'pyrunc s':>10}")
        for verb in verbs:
            runc, pyrunc = per_runtime["runc"].get(verb, {}), per_runtime["pyrunc"].get(verb, {})
            print(f"{verb:<10}{runc.get('max_rss_kib', '-'):>10}"
                  f"{pyrunc.get('max_rss_kib', '-'):>12}"
                  f"{seconds(runc):>9}{seconds(pyrunc):>10}")
    if "init_waiting_for_start_kib" in report:
        print("\ncontainer init blocked before exec'ing the user process (KiB, median)")
        print(f"{'':<12}{'runc':>10}{'pyrunc':>10}")
        init = report["init_waiting_for_start_kib"]
        for key in ("VmRSS_kB", "VmHWM_kB"):
            print(f"{key.removesuffix('_kB'):<12}{init['runc'][key]:>10.0f}"
                  f"{init['pyrunc'][key]:>10.0f}")
    print(f"\nload average at the end: {report['loadavg']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--memory-runs", type=int, default=3)
    parser.add_argument("--only", choices=["podman", "ctr"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("managers.py needs root (containerd, podman and the runtimes run as root)")
    managers = [args.only] if args.only else ["podman", "ctr"]
    base = env.make_base("bench-managers-")
    bench = Bench(base, args.runs, args.warmup, args.memory_runs)
    report: dict = {"time": {}, "verbs": {}}
    try:
        bench.setup(managers)
        report["runtimes"] = dict(bench.runtimes)
        report["loadavg_start"] = os.getloadavg()
        for manager in managers:
            report["time"][manager] = bench.measure_time(manager)
        for manager in managers:
            report["verbs"][manager] = bench.measure_verbs(manager)
        report["init_waiting_for_start_kib"] = bench.measure_init()
        report["loadavg"] = os.getloadavg()
    finally:
        bench.teardown()
        env.remove_tree(base)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
