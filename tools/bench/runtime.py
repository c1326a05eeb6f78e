#!/usr/bin/env python3
"""Benchmark: pyrunc vs runc on the same busybox bundle, side by side.

Scenarios (each a fresh container id, both runtimes alternating which goes first every round):
  run      `R run --bundle B ID` of /bin/true (create + start + wait + delete in one call)
  lifecycle  `R create --bundle B --pid-file P ID`, `R start ID`, wait for the init to exit
           (this process is a child subreaper, like containerd's shim), `R delete ID`
  state    `R state ID` of a created container
Also timed, for context: the interpreter's floor, `python -I -S -c pass` (pyrunc's launcher
interpreter), in the same rounds.

Wall time per call from fork to reap; peak RSS is wait4's ru_maxrss (KiB) of the runtime process
(Linux reports the maximum over the process and the descendants it reaped). A process started by
Python inherits the forking process's RSS high-water mark into ru_maxrss (vfork/fork + exec), so
each call goes through a tiny C helper (compiled here with gcc) that forks, execs the runtime,
times it and reports wait4's rusage; without gcc the RSS column is left empty.
Reports median, p90 and min wall time, the median CPU time (user+sys of the runtime process and
the children it reaped: load on a shared machine inflates it far less than wall time), the
pyrunc/runc ratios and peak RSS, plus the load average (compare runs taken under similar load).

pyrunc runs through its lean launcher (`python -m pyrunc.launcher`, absolute interpreter, -IS)
written from this checkout, as containerd/podman would call it. Each runtime uses its own --root
in a temporary directory; every container is force-deleted and the directory removed at the end.

Usage: tools/bench/runtime.py [--runs 30] [--warmup 3] [--json] [--pyrunc PATH] [--runc PATH]
                              [--scenario run|lifecycle|state ...]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNC = "/usr/sbin/runc"
SCENARIOS = ("run", "lifecycle", "state")
PR_SET_CHILD_SUBREAPER = 36


def log(message: str) -> None:
    print(f"[runtime-bench] {message}", file=sys.stderr, flush=True)


class Call:
    """One finished runtime invocation."""

    __slots__ = ("cpu_seconds", "maxrss_kib", "seconds", "status")

    def __init__(self, seconds: float, maxrss_kib: int, status: int,
                 cpu_seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.maxrss_kib = maxrss_kib
        self.status = status
        self.cpu_seconds = cpu_seconds


MEASURE_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
/* measure FD ARGV...: fork+exec ARGV, wait4; writes
   "<wall ns> <maxrss KiB> <wait status> <user+sys us>" to FD */
int main(int argc, char **argv) {
    struct timespec a, b;
    struct rusage ru;
    int status, fd;
    if (argc < 3) return 2;
    fd = atoi(argv[1]);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid == 0) { execv(argv[2], argv + 2); _exit(127); }
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) return 2;
    clock_gettime(CLOCK_MONOTONIC, &b);
    dprintf(fd, "%lld %ld %d %lld\n", (long long)(b.tv_sec - a.tv_sec) * 1000000000LL
            + (b.tv_nsec - a.tv_nsec), ru.ru_maxrss, status,
            (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL
            + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    return 0;
}
"""
_measure_helper: str | None = None


def build_measure_helper(workdir: Path) -> str | None:
    source = workdir / "measure.c"
    source.write_text(MEASURE_C)
    binary = workdir / "measure"
    try:
        subprocess.run(["gcc", "-O2", "-o", str(binary), str(source)], check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError) as err:
        log(f"no gcc ({err}): RSS not measured")
        return None
    return str(binary)


def timed(argv: list[str], cwd: str) -> Call:
    """Run argv with stdio on /dev/null; wall time fork→reap and ru_maxrss via wait4."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        if _measure_helper is None:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdin=devnull, stdout=devnull, stderr=devnull, cwd=cwd)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: keep Popen quiet
            return Call(seconds, 0, proc.returncode, usage.ru_utime + usage.ru_stime)
        report_r, report_w = os.pipe()
        try:
            proc = subprocess.Popen([_measure_helper, str(report_w), *argv], stdin=devnull,
                                    stdout=devnull, stderr=devnull, cwd=cwd,
                                    pass_fds=(report_w,))
        except BaseException:
            os.close(report_r)
            os.close(report_w)
            raise
        os.close(report_w)
        with os.fdopen(report_r) as report:
            text = report.read()
        if proc.wait() != 0 or not text:
            raise SystemExit(f"measure helper failed for {argv}")
        ns, maxrss, status, cpu_us = (int(x) for x in text.split())
        return Call(ns / 1e9, maxrss, os.waitstatus_to_exitcode(status), cpu_us / 1e6)
    finally:
        os.close(devnull)


class Runtime:
    def __init__(self, name: str, binary: str, root: Path) -> None:
        self.name = name
        self.binary = binary
        self.root = str(root)
        self.ids: list[str] = []

    def argv(self, *args: str) -> list[str]:
        return [self.binary, "--root", self.root, *args]

    def new_id(self, scenario: str) -> str:
        cid = f"bench-{self.name}-{scenario}-{uuid.uuid4().hex[:10]}"
        self.ids.append(cid)
        return cid

    def call(self, workdir: str, *args: str, check: bool = True) -> Call:
        result = timed(self.argv(*args), workdir)
        if check and result.status != 0:
            err = subprocess.run(self.argv(*args), capture_output=True, text=True, cwd=workdir)
            raise SystemExit(f"{self.name} {' '.join(args)} failed with {result.status}: "
                             f"{err.stderr.strip()[-1000:]}")
        return result

    def cleanup(self) -> None:
        for cid in self.ids:
            subprocess.run(self.argv("delete", "--force", cid), capture_output=True, timeout=60)


def set_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def make_bundle(workdir: Path) -> Path:
    bundle = workdir / "bundle"
    bundle.mkdir()
    subprocess.run([str(REPO_ROOT / "tools" / "mkrootfs-busybox"), str(bundle / "rootfs")],
                   check=True, capture_output=True)
    subprocess.run([RUNC, "spec"], cwd=bundle, check=True, capture_output=True)
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = ["/bin/true"]
    (bundle / "config.json").write_text(json.dumps(config, indent=2))
    return bundle


def write_launcher(dest: Path) -> str:
    subprocess.run([sys.executable, "-m", "pyrunc.launcher", str(dest)], check=True,
                   capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "runtime")})
    return str(dest)


# -- scenarios ---------------------------------------------------------------------------------
def scenario_run(rt: Runtime, bundle: Path, workdir: str) -> dict[str, Call]:
    cid = rt.new_id("run")
    return {"run": rt.call(workdir, "run", "--bundle", str(bundle), cid)}


def scenario_lifecycle(rt: Runtime, bundle: Path, workdir: str) -> dict[str, Call]:
    cid = rt.new_id("life")
    pid_file = os.path.join(workdir, f"{cid}.pid")
    create = rt.call(workdir, "create", "--bundle", str(bundle), "--pid-file", pid_file, cid)
    start_t = time.perf_counter()
    start = rt.call(workdir, "start", cid)
    with open(pid_file) as f:
        pid = int(f.read())
    reap(pid)  # the init is our child (subreaper): wait for /bin/true to exit
    waited = time.perf_counter() - start_t - start.seconds
    delete = rt.call(workdir, "delete", cid)
    os.unlink(pid_file)
    total = Call(create.seconds + start.seconds + waited + delete.seconds,
                 max(create.maxrss_kib, start.maxrss_kib, delete.maxrss_kib), 0,
                 create.cpu_seconds + start.cpu_seconds + delete.cpu_seconds)
    return {"create+start+delete": total, "create": create, "start": start, "delete": delete}


class StateScenario:
    """A created container per runtime, queried with `state` every round."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def __call__(self, rt: Runtime, bundle: Path, workdir: str) -> dict[str, Call]:
        if rt.name not in self.ids:
            cid = rt.new_id("state")
            rt.call(workdir, "create", "--bundle", str(bundle), cid)
            self.ids[rt.name] = cid
        return {"state": rt.call(workdir, "state", self.ids[rt.name])}


# -- statistics --------------------------------------------------------------------------------
def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 9 // 10) - 1)]  # nearest rank


def summarise(samples: dict[str, dict[str, list[Call]]], names: list[str]) -> dict:
    out: dict = {}
    for metric in samples[names[0]]:
        row: dict = {}
        for name in names:
            calls = samples[name][metric]
            secs = [c.seconds for c in calls]
            row[name] = {
                "runs": len(calls),
                "median_ms": round(statistics.median(secs) * 1000, 2),
                "p90_ms": round(p90(secs) * 1000, 2),
                "min_ms": round(min(secs) * 1000, 2),
                "cpu_median_ms": round(statistics.median(c.cpu_seconds for c in calls) * 1000, 2),
                "peak_rss_kib": max(c.maxrss_kib for c in calls),
                "median_rss_kib": int(statistics.median(c.maxrss_kib for c in calls)),
            }
        a, b = row[names[0]], row[names[1]]
        row["ratio_median"] = round(a["median_ms"] / b["median_ms"], 2)
        row["ratio_p90"] = round(a["p90_ms"] / b["p90_ms"], 2)
        row["ratio_cpu"] = round(a["cpu_median_ms"] / b["cpu_median_ms"], 2) \
            if b["cpu_median_ms"] else None
        row["ratio_peak_rss"] = round(a["peak_rss_kib"] / b["peak_rss_kib"], 2)
        out[metric] = row
    return out


def bench(runs: int, warmup: int, pyrunc: str | None, runc: str, scenarios: list[str]) -> dict:
    global _measure_helper
    set_subreaper()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="runtime-bench-") as tmp:
        workdir = Path(tmp)
        workdir.chmod(0o755)
        _measure_helper = build_measure_helper(workdir)
        bundle = make_bundle(workdir)
        runtimes = [
            Runtime("pyrunc", pyrunc or write_launcher(workdir / "bin" / "pyrunc"),
                    workdir / "root-pyrunc"),
            Runtime("runc", runc, workdir / "root-runc"),
        ]
        names = [r.name for r in runtimes]
        funcs = {"run": scenario_run, "lifecycle": scenario_lifecycle, "state": StateScenario()}
        samples: dict[str, dict[str, list[Call]]] = {n: {} for n in names}
        floor: list[Call] = []
        python = os.path.realpath(sys.executable)
        try:
            for i in range(warmup + runs):
                call = timed([python, "-I", "-S", "-c", "pass"], str(workdir))
                if i >= warmup:
                    floor.append(call)
                order = runtimes if i % 2 == 0 else runtimes[::-1]
                for scenario in scenarios:
                    for rt in order:
                        result = funcs[scenario](rt, bundle, str(workdir))
                        if i >= warmup:
                            for metric, call in result.items():
                                samples[rt.name].setdefault(metric, []).append(call)
                if (i + 1) % 10 == 0:
                    log(f"round {i + 1}/{warmup + runs}")
        finally:
            for rt in runtimes:
                rt.cleanup()
            with contextlib.suppress(ChildProcessError):
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
    return {
        "runs": runs,
        "warmup": warmup,
        "cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "runtimes": {r.name: r.binary for r in runtimes},
        "python": sys.version.split()[0],
        "results": summarise(samples, names),
        "python_floor": {
            "command": f"{python} -I -S -c pass",
            "median_ms": round(statistics.median(c.seconds for c in floor) * 1000, 2),
            "p90_ms": round(p90([c.seconds for c in floor]) * 1000, 2),
            "cpu_median_ms": round(statistics.median(c.cpu_seconds for c in floor) * 1000, 2),
            "peak_rss_kib": max(c.maxrss_kib for c in floor),
        },
    }


def print_table(report: dict) -> None:
    names = list(report["runtimes"])
    print(f"runs={report['runs']} (after {report['warmup']} warm-up), alternating; "
          f"cpus={report['cpus']}; load average before {report['loadavg_before']}, "
          f"after {report['loadavg_after']}")
    head = f"{'metric':<22}{'runtime':<8}{'median ms':>10}{'p90 ms':>9}{'min ms':>9}" \
           f"{'CPU ms':>9}{'peak RSS KiB':>14}"
    print(head)
    print("-" * len(head))
    for metric, row in report["results"].items():
        for name in names:
            r = row[name]
            print(f"{metric:<22}{name:<8}{r['median_ms']:>10.2f}{r['p90_ms']:>9.2f}"
                  f"{r['min_ms']:>9.2f}{r['cpu_median_ms']:>9.2f}{r['peak_rss_kib']:>14}")
        cpu = f"{row['ratio_cpu']:>9.2f}" if row["ratio_cpu"] is not None else f"{'-':>9}"
        print(f"{'':<22}{'ratio':<8}{row['ratio_median']:>10.2f}{row['ratio_p90']:>9.2f}"
              f"{'':>9}{cpu}{row['ratio_peak_rss']:>14.2f}")
    fl = report["python_floor"]
    print(f"(ratio = {names[0]}/{names[1]}; target <= 1.5 for run and create+start+delete; CPU "
          "excludes children a runtime leaves to others, e.g. the init after create)")
    print(f"interpreter floor `python -I -S -c pass`: median {fl['median_ms']:.2f} ms, "
          f"p90 {fl['p90_ms']:.2f} ms, CPU {fl['cpu_median_ms']:.2f} ms, "
          f"peak RSS {fl['peak_rss_kib']} KiB")


def main() -> None:
    if os.geteuid() != 0:
        raise SystemExit("runtime bench: needs root")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="measured rounds (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured rounds first")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--pyrunc", help="pyrunc binary (default: a launcher for this checkout)")
    parser.add_argument("--runc", default=RUNC, help=f"runc binary (default {RUNC})")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS,
                        help="scenario(s) to run (default: all)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    report = bench(args.runs, args.warmup, args.pyrunc, args.runc,
                   args.scenario or list(SCENARIOS))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
