#!/usr/bin/env python3
"""Benchmark: pyengine's registry pull vs ``skopeo copy docker://... oci:DIR``, side by side.

The image: Debian bookworm minbase (debootstrap) plus python3-flask installed in a chroot of a
copy, as two gzip layers (~70 MB) built with umoci. It is built once and cached under
tools/.cache/bench-flask (gitignored); building needs root and the Debian mirror from apt's
sources (about a minute).

Each run starts a private docker-registry on 127.0.0.1 (fresh storage), pushes the image
with skopeo, then alternates N times: our pull (a fresh ``python -S`` process importing only
pyengine) and skopeo's, each into a fresh directory on tmpfs, measuring wall time
and the peak RSS of the pulling process (wait4). Prints medians and the ratio ours/skopeo.

Usage: tools/bench/pull.py [--runs 5] [--rebuild] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = REPO_ROOT / "tools" / ".cache" / "bench-flask"
LAYOUT = CACHE / "layout"
TAG = "flask"
SUITE = "bookworm"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run(*args, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed: {result.stderr.strip()[-2000:]}")
    return result


def debian_mirror() -> str:
    """The Debian mirror apt uses here (deb822 .sources or one-line sources.list)."""
    candidates = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in candidates:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":
            for stanza in text.split("\n\n"):
                fields = dict(
                    line.split(":", 1) for line in stanza.splitlines()
                    if ":" in line and not line.startswith("#")
                )
                suites = fields.get("Suites", "").split()
                uri = fields.get("URIs", "").strip()
                if SUITE in suites and uri:
                    return uri.split()[0]
        else:
            for line in text.splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
                    return parts[1]
    raise SystemExit("no Debian bookworm mirror found in /etc/apt/sources.list*")


# -- building the image (once) ---------------------------------------------------------------
def build_image() -> None:
    if os.geteuid() != 0:
        raise SystemExit("building the bench image needs root (debootstrap, chroot)")
    shutil.rmtree(CACHE, ignore_errors=True)
    CACHE.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="bench-build-", dir=CACHE))
    base = work / "base"
    mirror = debian_mirror()
    log(f"debootstrap --variant=minbase {SUITE} from {mirror} (about 30 s)")
    run("debootstrap", "--variant=minbase", SUITE, base, mirror)
    _clean_apt(base)
    run("umoci", "init", "--layout", LAYOUT)
    image = f"{LAYOUT}:{TAG}"
    run("umoci", "new", "--image", image)
    log("layer 1: the minbase rootfs")
    run("umoci", "insert", "--image", image, base, "/")
    log("layer 2: python3-flask installed in a chroot of a copy")
    bundle = work / "bundle"
    run("umoci", "unpack", "--image", image, bundle)
    rootfs = bundle / "rootfs"
    _apt_install_in_chroot(rootfs, ["python3-flask"])
    run("umoci", "repack", "--image", image, bundle)
    run("umoci", "config", "--image", image, "--config.cmd", "python3",
        "--config.env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    run("umoci", "gc", "--layout", LAYOUT)
    shutil.rmtree(work, ignore_errors=True)
    manifest = _manifest()
    sizes = [layer["size"] for layer in manifest["layers"]]
    log(f"built: {len(sizes)} layers, {sum(sizes) / 1e6:.1f} MB compressed")


def _clean_apt(rootfs: Path) -> None:
    for pattern in ("var/lib/apt/lists/*", "var/cache/apt/archives/*.deb", "var/cache/apt/*.bin"):
        for path in rootfs.glob(pattern):
            if path.is_file():
                path.unlink()


def _apt_install_in_chroot(rootfs: Path, packages: list[str]) -> None:
    mounts = []
    try:
        run("mount", "-t", "proc", "proc", rootfs / "proc")
        mounts.append(rootfs / "proc")
        run("mount", "--rbind", "/dev", rootfs / "dev")
        run("mount", "--make-rslave", rootfs / "dev")
        mounts.append(rootfs / "dev")
        resolv = rootfs / "etc" / "resolv.conf"
        original = resolv.read_bytes() if resolv.is_file() else None
        shutil.copy("/etc/resolv.conf", resolv)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive",
               "LC_ALL": "C"}
        run("chroot", rootfs, "apt-get", "update", "-q", env=env)
        run("chroot", rootfs, "apt-get", "install", "-y", "-q", "--no-install-recommends",
            *packages, env=env)
        run("chroot", rootfs, "apt-get", "clean", env=env)
        if original is not None:
            resolv.write_bytes(original)
    finally:
        for mount in reversed(mounts):
            subprocess.run(["umount", "-R", "-l", str(mount)], check=False)
    _clean_apt(rootfs)


def _manifest() -> dict:
    index = json.loads((LAYOUT / "index.json").read_text())
    digest = index["manifests"][0]["digest"]
    return json.loads((LAYOUT / "blobs" / "sha256" / digest.split(":")[1]).read_text())


# -- the registry ----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_registry(root: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'storage'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: bench\n"
    )
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2):
                return process, f"127.0.0.1:{port}"
        except (urllib.error.URLError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("docker-registry did not start") from None
            time.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


# -- measuring -------------------------------------------------------------------------------
class Child:
    """Popen that collects rusage itself (communicate() reaps before we can wait4)."""

    last_start = 0.0  # wall-clock time of the last exec (to split start-up from the pull)
    last_end = 0.0

    @staticmethod
    def run(argv: list[str], env: dict | None = None) -> tuple[float, int, str, float]:
        Child.last_start, Child.last_end = time.time(), 0.0
        start = time.perf_counter()
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            os.dup2(write_fd, 1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            try:
                os.execvpe(argv[0], argv, env or os.environ)
            finally:
                os._exit(127)
        os.close(write_fd)
        chunks = []
        while chunk := os.read(read_fd, 65536):
            chunks.append(chunk)
        os.close(read_fd)
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter() - start
        Child.last_end = time.time()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{argv} exited with {os.waitstatus_to_exitcode(status)}")
        cpu = usage.ru_utime + usage.ru_stime
        return elapsed, usage.ru_maxrss, b"".join(chunks).decode(), cpu


#: The measured child: only what a pull needs is imported (no argparse/urllib of this file).
CHILD_CODE = """
import time
started = time.time()
import sys
sys.path.insert(0, sys.argv[1])
from pyengine.content import ContentStore
from pyengine.registry import RegistryClient, RegistryConfig
imported = time.time()
with RegistryClient(RegistryConfig(certs_dir=None)) as client:
    client.pull(sys.argv[2], ContentStore(sys.argv[3]))
print(started, imported, time.time())
"""


def tmpfs_root() -> Path:
    for candidate in ("/dev/shm", "/run"):
        if Path(candidate).is_dir() and os.statvfs(candidate).f_bavail * os.statvfs(
            candidate
        ).f_frsize > 1 << 30:
            return Path(candidate)
    return Path(tempfile.gettempdir())


def bench(runs: int, as_json: bool) -> None:
    manifest = _manifest()
    sizes = [layer["size"] for layer in manifest["layers"]]
    work = Path(tempfile.mkdtemp(prefix="bench-pull-"))
    process, host = start_registry(work)
    try:
        reference = f"{host}/bench/flask:latest"
        run("skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{LAYOUT}:{TAG}",
            f"docker://{reference}")
        scratch = Path(tempfile.mkdtemp(prefix="bench-pull-", dir=tmpfs_root()))
        python = sys.executable
        # An installed package has its bytecode compiled; this environment may set
        # PYTHONDONTWRITEBYTECODE, so compile explicitly (into gitignored __pycache__).
        run(python, "-m", "compileall", "-q", REPO_ROOT / "engine" / "pyengine")
        ours, theirs, ours_rss, theirs_rss, inproc = [], [], [], [], []
        ours_cpu, theirs_cpu = [], []
        phases: list[tuple[float, float, float]] = []  # (start-up + imports, pull, exit)
        for i in range(runs):
            for which in ("ours", "skopeo") if i % 2 == 0 else ("skopeo", "ours"):
                dest = scratch / f"{which}-{i}"
                if which == "ours":
                    argv = [python, "-S", "-c", CHILD_CODE, str(REPO_ROOT / "engine"),
                            reference, str(dest)]
                    elapsed, rss, out, cpu = Child.run(argv)
                    ours_cpu.append(cpu)
                    ours.append(elapsed)
                    ours_rss.append(rss)
                    _started, imported, finished = map(float, out.split())
                    inproc.append(finished - imported)
                    phases.append((imported - Child.last_start, finished - imported,
                                   Child.last_end - finished))
                else:
                    argv = ["skopeo", "copy", "--quiet", "--src-tls-verify=false",
                            f"docker://{reference}", f"oci:{dest}:latest"]
                    elapsed, rss, _, cpu = Child.run(argv)
                    theirs_cpu.append(cpu)
                    theirs.append(elapsed)
                    theirs_rss.append(rss)
                shutil.rmtree(dest, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    finally:
        stop(process)
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "load_average": os.getloadavg(),
        "image": {"layers": len(sizes), "compressed_bytes": sum(sizes)},
        "runs": runs,
        "ours_s": ours,
        "skopeo_s": theirs,
        "ours_median_s": statistics.median(ours),
        "ours_inprocess_median_s": statistics.median(inproc),
        "skopeo_median_s": statistics.median(theirs),
        "ratio": statistics.median(ours) / statistics.median(theirs),
        "inprocess_ratio": statistics.median(inproc) / statistics.median(theirs),
        "ours_startup_median_s": statistics.median(p[0] for p in phases),
        "ours_exit_median_s": statistics.median(p[2] for p in phases),
        "ours_cpu_median_s": statistics.median(ours_cpu),
        "skopeo_cpu_median_s": statistics.median(theirs_cpu),
        "ours_peak_rss_mib": max(ours_rss) / 1024,
        "skopeo_peak_rss_mib": max(theirs_rss) / 1024,
    }
    if as_json:
        print(json.dumps(result, indent=2))
        return
    mb = sum(sizes) / 1e6
    print(f"image: {len(sizes)} gzip layers, {mb:.1f} MB compressed; {runs} alternating runs; "
          f"destination on {tmpfs_root()}")
    print(f"{'':24}{'median s':>10}{'MB/s':>8}{'peak RSS MiB':>14}{'CPU s':>8}")
    print(f"{'pyengine pull':24}{result['ours_median_s']:>10.3f}"
          f"{mb / result['ours_median_s']:>8.0f}{result['ours_peak_rss_mib']:>14.1f}"
          f"{result['ours_cpu_median_s']:>8.3f}")
    print(f"{'  start-up + imports':24}{result['ours_startup_median_s']:>10.3f}")
    print(f"{'  pull (in-process)':24}{result['ours_inprocess_median_s']:>10.3f}")
    print(f"{'  interpreter exit':24}{result['ours_exit_median_s']:>10.3f}")
    print(f"{'skopeo copy':24}{result['skopeo_median_s']:>10.3f}"
          f"{mb / result['skopeo_median_s']:>8.0f}{result['skopeo_peak_rss_mib']:>14.1f}"
          f"{result['skopeo_cpu_median_s']:>8.3f}")
    print(f"ratio pyengine/skopeo: {result['ratio']:.2f} (target <= 1.0); in-process part "
          f"(what the running daemon pays) / skopeo: {result['inprocess_ratio']:.2f}")
    load = result["load_average"]
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"({os.cpu_count()} CPUs): figures are only comparable within one run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached image")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.rebuild or not (LAYOUT / "index.json").is_file():
        build_image()
    if args.build_only:
        return
    bench(args.runs, args.json)


if __name__ == "__main__":
    main()
