#!/usr/bin/env python3
"""Benchmark: memory of our shim (containerd-shim-pyrunc-v2) against containerd's Go shim
(containerd-shim-runc-v2), side by side under one private containerd 1.6, same busybox image.

For each shim, N idle containers (`ctr run -d ... sleep`), N = 1 then 10, and each shim
process' memory from /proc/PID/smaps_rollup (what smem reports): RSS, PSS, and USS (private
clean + private dirty). Reported: the total for N containers, the first container's cost and
the cost of each further one ((total(10) - total(1)) / 9), and the ratios ours / Go.
Issue 9's target: per container, PSS and USS <= the Go shim's (measured 3.5 / 2.4 MB).
Ours: by default one shim process serves all the containers of a namespace
(engine/pyengine/shim/group.py; `--no-grouping`: one per container), forked from a warm zygote
(engine/pyengine/shim/zygote.py; `--no-zygote`: forked by `start`), whose memory is counted.
Also the shim's import cost: the median wall time of `python -IS` importing the daemon's
modules, minus that of `python -IS -c pass`.

Set-up as tests/integration/shim does (private containerd, offline image, this checkout's
launchers in its opt/bin); everything is removed afterwards, containers by id, shims by pid.

Usage (root): tools/bench/shims.py [--max 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration" / "shim"))
sys.path.insert(0, str(REPO_ROOT / "engine"))

from pyengine.runtime_env import engine_python  # noqa: E402 (the shim's interpreter)
from pyshim_env import (  # noqa: E402 (the shared private set-up)
    env,
    install_launchers,
    shim_pids,
    stop_shims,
    zygote_pid,
)

GO_SHIM = "/usr/bin/containerd-shim-runc-v2"
MB = 1024 * 1024


@dataclass
class Memory:
    rss: float  # MB
    pss: float
    uss: float


def log(message: str) -> None:
    print(f"[shims-bench] {message}", file=sys.stderr, flush=True)


def smaps(pid: int) -> Memory:
    fields: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1]) * 1024
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return Memory(fields.get("Rss", 0) / MB, fields.get("Pss", 0) / MB, uss / MB)


def total(pids: list[int]) -> Memory:
    parts = [smaps(p) for p in pids]
    return Memory(sum(m.rss for m in parts), sum(m.pss for m in parts),
                  sum(m.uss for m in parts))


def measure(daemon: env.Containerd, name: str, runtime: str, counts: list[int],
            shared: list[int]) -> dict[int, Memory]:
    """Memory of the shims (found by their working directory, a task bundle) plus the
    processes in `shared` (our zygote), for each count of idle containers."""
    ids: list[str] = []
    results: dict[int, Memory] = {}
    try:
        for count in counts:
            while len(ids) < count:
                container_id = f"{name}-{os.getpid()}-{len(ids)}"
                ids.append(container_id)
                daemon.ctr("run", "-d", "--runtime", runtime, env.IMAGE, container_id,
                           "sleep", "100000")
            time.sleep(1)  # not a measurement: let start-up garbage settle
            pids = shim_pids(daemon)
            if not pids or len(pids) > count:
                raise env.DropinError(f"{name}: {len(pids)} shims for {count} containers")
            log(f"{name}: {count} containers in {len(pids)} shim processes")
            results[count] = total(pids + shared)
            log(f"{name}: {count} containers: {results[count]}")
    finally:
        for container_id in ids:
            daemon.remove(container_id)
    return results


def import_cost(python: str, runs: int = 11) -> float:
    """Median ms of importing the shim daemon's modules, beyond the bare interpreter."""
    import google.protobuf

    paths = [str(REPO_ROOT / "engine"), str(Path(google.protobuf.__file__).parents[2])]
    code = f"import sys; sys.path[:0] = {paths!r}; import pyengine.shim.server_main"

    def median(argv: list[str]) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(argv, check=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1000

    return median([python, "-IS", "-c", code]) - median([python, "-IS", "-c", "pass"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-zygote", action="store_true",
                        help="each shim forked by its own `start` (PYSHIM_NO_ZYGOTE)")
    parser.add_argument("--grouping", action="store_true",
                        help="one shim per namespace (PYSHIM_GROUPING=1; default: per container)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("shims.py: needs root", file=sys.stderr)
        return 1
    base = env.make_base("shims-bench-")
    daemon = env.Containerd(base / "containerd", namespace=f"shimbench{os.getpid()}")
    try:
        daemon.base.mkdir(parents=True)
        ours = install_launchers(daemon.opt_bin, engine_python())
        python = Path(ours).read_text().splitlines()[0].removeprefix("#!").split()[0]
        archive = env.build_busybox_archive(base / "image")
        if args.no_zygote:
            os.environ["PYSHIM_NO_ZYGOTE"] = "1"  # containerd passes it on to `start`
        if args.grouping:
            os.environ["PYSHIM_GROUPING"] = "1"
        daemon.start()
        daemon.import_image(archive)
        counts = [1, args.max]
        figures = {"go": measure(daemon, "go", GO_SHIM, counts, [])}
        if not args.no_zygote:  # started by the first `start`: warm it up first
            daemon.ctr("run", "--rm", "--runtime", str(ours), env.IMAGE, "warmup", "true")
        zygote = zygote_pid(ours)
        figures["ours"] = measure(daemon, "ours", str(ours), counts,
                                  [zygote] if zygote else [])
        imports_ms = import_cost(python)
    finally:
        try:
            daemon.stop()
        finally:
            stop_shims(daemon, daemon.opt_bin / "containerd-shim-pyrunc-v2")
            env.remove_tree(base)
    report: dict[str, object] = {"import_ms": round(imports_ms, 1)}
    for name, by_count in figures.items():
        first, last = by_count[1], by_count[args.max]
        extra = Memory(*((b - a) / (args.max - 1) for a, b in
                         zip(asdict(first).values(), asdict(last).values(), strict=True)))
        report[name] = {"first": asdict(first), "per_extra": asdict(extra),
                        f"total_{args.max}": asdict(last)}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'MB':<24}{'RSS':>8}{'PSS':>8}{'USS':>8}")
    for name in ("go", "ours"):
        entry = report[name]
        assert isinstance(entry, dict)
        for key in ("first", "per_extra", f"total_{args.max}"):
            m = entry[key]
            print(f"{name + ' ' + key:<24}{m['rss']:>8.1f}{m['pss']:>8.1f}{m['uss']:>8.1f}")
    go, ours_ = report["go"], report["ours"]
    assert isinstance(go, dict) and isinstance(ours_, dict)
    for key in ("first", "per_extra"):
        ratios = [ours_[key][k] / go[key][k] if go[key][k] else float("inf")
                  for k in ("rss", "pss", "uss")]
        print(f"{'ratio ours/go ' + key:<24}" + "".join(f"{r:>8.2f}" for r in ratios))
    print(f"shim daemon imports: {imports_ms:.1f} ms beyond `python -IS -c pass`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
