#!/usr/bin/env python3
"""Benchmark: pyctl's start-up, the client's share shown separately (issue 9: `pyctl ps` and
`pyctl images` <= 40 ms; the docker CLI's `docker images` took 18 ms on this kind of machine).

Starts a private pyengined (own socket, data and exec roots under a temp dir), writes pyctl's
lean launcher to the temp dir (``python -m pyengine.cli.launcher``), and times with hyperfine
(``-N``, no shell), each command against that daemon:
  pyctl ps / images / version   the launcher (python -IS), the whole command
  pyctl ps (no daemon)          the same against a socket nobody listens on: the client's
                                share, from exec to its connect (and the error it prints)
  pyctl images (site)           ``python -m pyengine.cli images``: the same with `site`
  python -IS -c pass            the interpreter alone
  client imports                python -IS importing the transport (pyengine.cli.wire) and the
                                lean messages (images_lean), i.e. what talking gRPC costs
  protobuf imports              images_pb2, what pyctl no longer imports on these verbs
then the daemon's share: one `images` RPC on a fresh connection (connect, HTTP/2 handshake,
call), timed in a loop in one process.

Usage (root): tools/bench/cli.py [--runs 30] [--warmup 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "engine"))
from pyengine.runtime_env import engine_python  # noqa: E402

# the daemon's and pyctl's interpreter: tools/setup's runtime environment (the distribution's)
ENGINE_PYTHON = engine_python()


def start_daemon(base: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=f"{REPO / 'engine'}:{REPO / 'runtime'}")
    sock = base / "pyengine.sock"
    log = open(base / "daemon.log", "wb")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen([ENGINE_PYTHON, "-m", "pyengine.daemon", "-H", f"unix://{sock}",
                             "--data-root", str(base / "data"), "--exec-root",
                             str(base / "run")], env=env, stdout=log, stderr=log,
                            start_new_session=True)
    log.close()
    deadline = time.monotonic() + 60
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"pyengined did not start: {(base / 'daemon.log').read_text()}")
        time.sleep(0.05)
    return proc


RPC_LOOP = """
import time
from pyengine.api import images_lean as api
from pyengine.cli.client import Client, resolve_host
times = []
for _ in range(N):
    t = time.perf_counter()
    client = Client(resolve_host(None))
    client.lean(api.ImagesService).List(api.ListImagesRequest())
    client.close()
    times.append(time.perf_counter() - t)
times.sort()
print(times[len(times) // 2] * 1000, sum(times) / len(times) * 1000, times[0] * 1000)
"""


def rpc_time(python: str, head: str, env: dict[str, str], n: int = 200) -> dict[str, float]:
    """The daemon's share: one images RPC on a new connection, median and mean over n."""
    out = subprocess.run([python, "-IS", "-c", head + RPC_LOOP.replace("range(N)", f"range({n})")],
                         env=env, check=True, capture_output=True, text=True).stdout.split()
    return {"median_ms": round(float(out[0]), 2), "mean_ms": round(float(out[1]), 2),
            "stddev_ms": 0.0, "min_ms": round(float(out[2]), 2), "cpu_ms": 0.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    if not shutil.which("hyperfine"):
        raise SystemExit("hyperfine is not installed")
    base = Path(tempfile.mkdtemp(prefix="pe-bench-", dir="/tmp"))
    daemon = start_daemon(base)
    try:
        launcher = base / "pyctl"
        subprocess.run([ENGINE_PYTHON, "-m", "pyengine.cli.launcher", str(launcher)],
                       env=dict(os.environ, PYTHONPATH=f"{REPO / 'engine'}:{REPO / 'runtime'}"),
                       check=True,
                       capture_output=True)
        python = launcher.read_text().split("\n", 1)[0][2:].split()[0]
        path_setup = launcher.read_text().split("sys.path[0:0] = ", 1)[1].split("\n", 1)[0]
        head = f"import gc; gc.disable(); import sys; sys.path[0:0] = {path_setup}; "
        dead = f"unix://{base / 'nobody.sock'}"
        commands = {
            "pyctl ps": f"{launcher} ps",
            "pyctl images": f"{launcher} images",
            "pyctl version": f"{launcher} version",
            "pyctl images (site)": f"{ENGINE_PYTHON} -m pyengine.cli images",
            "python -IS -c pass": f"{python} -IS -c pass",
            "client imports": (f"{python} -IS -c \"{head}import pyengine.cli.wire.channel, "
                               "pyengine.api.images_lean\""),
            "protobuf imports": f"{python} -IS -c \"{head}import pyengine.api.images_pb2\"",
        }
        no_daemon = {  # exit 1 (cannot connect): hyperfine -i
            "pyctl ps (no daemon)": f"{launcher} -H {dead} ps",
            "pyctl images (no daemon)": f"{launcher} -H {dead} images",
        }
        env = dict(os.environ, PYENGINE_HOST=f"unix://{base / 'pyengine.sock'}",
                   PYTHONPATH=str(REPO / "engine"))
        results = {}
        for table, extra in ((commands, []), (no_daemon, ["-i"])):
            out = base / "hyperfine.json"
            args = ["hyperfine", "-N", "--style", "none", "--warmup", str(opts.warmup),
                    "--runs", str(opts.runs), "--export-json", str(out), *extra]
            for name, command in table.items():
                args += ["-n", name, command]
            subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
            results.update({r["command"]: {"mean_ms": round(r["mean"] * 1000, 1),
                                           "median_ms": round(r["median"] * 1000, 1),
                                           "stddev_ms": round(r["stddev"] * 1000, 1),
                                           "min_ms": round(r["min"] * 1000, 1),
                                           "cpu_ms": round((r["user"] + r["system"]) * 1000,
                                                           1)}
                            for r in json.loads(out.read_text())["results"]})
        results["daemon: images RPC, fresh connection"] = rpc_time(python, head, env)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        shutil.rmtree(base, ignore_errors=True)
    if opts.json:
        print(json.dumps(results, indent=2))
        return 0
    print("| command | median ms | mean ms | stddev | min ms | CPU ms (user+sys) |\n"
          "|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['median_ms']} | {r['mean_ms']} | {r['stddev_ms']} "
              f"| {r['min_ms']} | {r['cpu_ms'] or ''} |")
    print("| docker images (anchor, issue 9) | 18 | | | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
