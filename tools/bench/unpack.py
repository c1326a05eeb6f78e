#!/usr/bin/env python3
"""Benchmark: unpacking a ~70 MB two-layer image, ours vs `umoci unpack` vs `tar -xf`.

The image is Debian bookworm minbase plus python3-flask as two gzip layers. It is taken from
tools/.cache/bench-flask/layout (tag "flask", built by tools/bench/pull.py) when present,
otherwise built once into tools/.cache/unpack-bench (debootstrap --variant=minbase, then
apt-get install --no-install-recommends python3-flask in an overlay over it; layer 1 is the
minbase tree, layer 2 the overlay's upper directory, both written by pyengine.archive and added
with `umoci raw add-layer`). Building needs root and the Debian mirror from apt's sources.

The layout is copied to tmpfs, then each run unpacks, alternating the order, into a fresh
directory on tmpfs, deleted after the measurement:
  ours   a fresh process (this file's --unpack-once mode: python startup included) applying
         both layers with pyengine.archive.apply_layer (whiteouts removed, diff_ids checked);
         gzip goes through ISA-L when the isal package is installed
  ours-zlib  (with --zlib) the same with Python's zlib forced, as without isal
  umoci  `umoci unpack --image LAYOUT:TAG DIR`
  tar    `tar -xf LAYER -C DIR` for each gzip layer (GNU tar runs gzip -d in a child)
Prints the median wall time of each and the ratios ours/umoci (target <= 0.8) and ours/tar
(target <= 1.1).

Usage: tools/bench/unpack.py [--runs 7] [--zlib] [--json] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "engine"))

SHARED_LAYOUT = (REPO_ROOT / "tools" / ".cache" / "bench-flask" / "layout", "flask")
OWN_CACHE = REPO_ROOT / "tools" / ".cache" / "unpack-bench"
OWN_LAYOUT = (OWN_CACHE / "layout", "flask")
SUITE = "bookworm"
TMPFS = Path("/dev/shm")


def log(message: str) -> None:
    print(f"[unpack-bench] {message}", file=sys.stderr, flush=True)


def run(*args: object, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed: {result.stderr.strip()[-2000:]}")
    return result


# -- the image ---------------------------------------------------------------------------------
def read_manifest(layout: Path, tag: str) -> tuple[list[tuple[Path, str]], list[str]]:
    """([(layer blob path, media type)], diff_ids) of layout:tag."""
    index = json.loads((layout / "index.json").read_text())
    for desc in index["manifests"]:
        if desc.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            manifest = json.loads(_blob(layout, desc["digest"]).read_text())
            config = json.loads(_blob(layout, manifest["config"]["digest"]).read_text())
            layers = [(_blob(layout, d["digest"]), d["mediaType"]) for d in manifest["layers"]]
            return layers, config["rootfs"]["diff_ids"]
    raise KeyError(f"{layout}: no tag {tag}")


def _blob(layout: Path, digest: str) -> Path:
    algorithm, hexdigest = digest.split(":", 1)
    return layout / "blobs" / algorithm / hexdigest


def _usable(layout: Path, tag: str) -> bool:
    try:
        layers, _ = read_manifest(layout, tag)
    except (OSError, KeyError, ValueError):
        return False
    return len(layers) == 2 and all(path.is_file() for path, _ in layers)


def debian_mirror() -> str:
    """The bookworm mirror from apt's sources (deb822 or one-line format)."""
    paths = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in paths:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for stanza in text.split("\n\n"):
            fields = dict(line.split(":", 1) for line in stanza.splitlines()
                          if ":" in line and not line.startswith("#"))
            if SUITE in fields.get("Suites", "").split() and fields.get("URIs", "").strip():
                return fields["URIs"].split()[0]
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
                return parts[1]
    raise SystemExit("no Debian bookworm mirror found in /etc/apt/sources.list*")


def _drop_apt_caches(rootfs: Path) -> None:
    for pattern in ("var/lib/apt/lists/*", "var/cache/apt/archives/*.deb", "var/cache/apt/*.bin"):
        for path in rootfs.glob(pattern):
            if path.is_file():
                path.unlink()


def build_image() -> tuple[Path, str]:
    """Build the two-layer image into OWN_CACHE (about a minute)."""
    from pyengine.archive import diff, export_tar
    if os.geteuid() != 0:
        raise SystemExit("building the bench image needs root (debootstrap, chroot, mount)")
    shutil.rmtree(OWN_CACHE, ignore_errors=True)
    work = OWN_CACHE / "build"
    base, upper, overlay_work, merged = (work / n for n in ("base", "upper", "work", "merged"))
    for d in (upper, overlay_work, merged):
        d.mkdir(parents=True)
    log("debootstrap --variant=minbase (about 30 s)")
    run("debootstrap", "--variant=minbase", SUITE, base, debian_mirror())
    _drop_apt_caches(base)
    run("mount", "-t", "overlay", "overlay", "-o",
        f"lowerdir={base},upperdir={upper},workdir={overlay_work}", merged)
    try:
        resolv = merged / "etc/resolv.conf"
        original = resolv.read_bytes() if resolv.is_file() else None
        shutil.copy("/etc/resolv.conf", resolv)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive",
               "LC_ALL": "C"}
        log("apt-get install python3-flask in an overlay over minbase")
        run("chroot", merged, "apt-get", "update", "-q", env=env)
        run("chroot", merged, "apt-get", "install", "-y", "-q", "--no-install-recommends",
            "python3-flask", env=env)
        if original is not None:
            resolv.write_bytes(original)
        _drop_apt_caches(merged)
    finally:
        run("umount", merged)
    layout, tag = OWN_LAYOUT
    run("umoci", "init", "--layout", layout)
    run("umoci", "new", "--image", f"{layout}:{tag}")
    for name, writer in (("layer1.tar", lambda out: export_tar(base, out)),
                         ("layer2.tar", lambda out: diff(None, upper, out))):
        with open(work / name, "wb") as out:
            writer(out)
        run("umoci", "raw", "add-layer", "--image", f"{layout}:{tag}", work / name)
    run("umoci", "gc", "--layout", layout)
    shutil.rmtree(work)
    return layout, tag


def image_source(rebuild: bool) -> tuple[Path, str]:
    if not rebuild:
        for layout, tag in (SHARED_LAYOUT, OWN_LAYOUT):
            if _usable(layout, tag):
                return layout, tag
    return build_image()


# -- the contenders ----------------------------------------------------------------------------
def unpack_once(layout: Path, tag: str, dest: Path, force_zlib: bool = False) -> None:
    """Our unpack, in this process (the timed child)."""
    from pyengine.archive import apply_layer
    if force_zlib:
        import zlib

        from pyengine.archive import decompress
        decompress._inflate = zlib
    layers, diff_ids = read_manifest(layout, tag)
    dest.mkdir()
    for (blob, media_type), expected in zip(layers, diff_ids, strict=True):
        with open(blob, "rb") as stream:
            result = apply_layer(stream, media_type, dest, whiteouts="remove")
        if result.diff_id != expected:
            raise SystemExit(f"diff_id mismatch for {blob}: {result.diff_id} != {expected}")


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {result.stderr.strip()[-2000:]}")
    return elapsed


def contenders(layout: Path, tag: str, with_zlib: bool) -> dict[str, object]:
    layers, _ = read_manifest(layout, tag)
    python = os.path.realpath(sys.executable)

    def ours(dest: Path, mode: str = "--unpack-once") -> float:
        return timed([python, str(Path(__file__).resolve()), mode, str(layout), tag, str(dest)])

    def ours_zlib(dest: Path) -> float:
        return ours(dest, "--unpack-once-zlib")

    def umoci(dest: Path) -> float:
        return timed(["umoci", "unpack", "--image", f"{layout}:{tag}", str(dest)])

    def tar(dest: Path) -> float:
        dest.mkdir()
        start = time.perf_counter()
        for blob, _ in layers:
            run("tar", "-xf", blob, "-C", dest)
        return time.perf_counter() - start

    methods = {"ours": ours, "umoci": umoci, "tar": tar}
    if with_zlib:
        methods["ours-zlib"] = ours_zlib
    return methods


def bench(runs: int, rebuild: bool, with_zlib: bool) -> dict:
    layout, tag = image_source(rebuild)
    layers, _ = read_manifest(layout, tag)
    compressed = sum(path.stat().st_size for path, _ in layers)
    log(f"image {layout}:{tag}: {len(layers)} layers, {compressed / 1e6:.1f} MB compressed")
    scratch = Path(tempfile.mkdtemp(prefix="pyengine-unpack-bench-", dir=TMPFS))
    try:
        local = scratch / "layout"
        shutil.copytree(layout, local)
        methods = contenders(local, tag, with_zlib)
        names = list(methods)
        times: dict[str, list[float]] = {n: [] for n in names}
        for i in range(runs):
            order = names[i % len(names):] + names[:i % len(names)]
            for name in order:
                dest = scratch / f"{name}-{i}"
                times[name].append(methods[name](dest))  # type: ignore[operator]
                shutil.rmtree(dest)
                time.sleep(0.2)
            log(f"run {i + 1}/{runs}: " + ", ".join(f"{n} {times[n][-1]:.3f}s" for n in names))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    medians = {n: statistics.median(t) for n, t in times.items()}
    results = {"image": f"{layout}:{tag}", "compressed_bytes": compressed, "runs": runs,
               "load_average": os.getloadavg(), "times": times, "medians": medians,
               "ratio_ours_umoci": medians["ours"] / medians["umoci"],
               "ratio_ours_tar": medians["ours"] / medians["tar"]}
    if with_zlib:
        results["ratio_ours_zlib_umoci"] = medians["ours-zlib"] / medians["umoci"]
        results["ratio_ours_zlib_tar"] = medians["ours-zlib"] / medians["tar"]
    return results


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] in ("--unpack-once", "--unpack-once-zlib"):
        unpack_once(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]),
                    force_zlib=sys.argv[1] == "--unpack-once-zlib")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--zlib", action="store_true",
                        help="also time ours with Python's zlib instead of ISA-L")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached image")
    args = parser.parse_args()
    results = bench(args.runs, args.rebuild, args.zlib)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    m = results["medians"]
    load = ", ".join(f"{x:.1f}" for x in results["load_average"])
    print(f"image: {results['image']} ({results['compressed_bytes'] / 1e6:.1f} MB compressed),"
          f" {results['runs']} alternating runs on tmpfs (load average after: {load})")
    for name in m:
        print(f"  {name:9s} median {m[name]:.3f} s")
    print(f"  ours/umoci = {results['ratio_ours_umoci']:.2f} (target <= 0.8)")
    print(f"  ours/tar   = {results['ratio_ours_tar']:.2f} (target <= 1.1)")
    if "ratio_ours_zlib_tar" in results:
        print(f"  ours-zlib/umoci = {results['ratio_ours_zlib_umoci']:.2f}, "
              f"ours-zlib/tar = {results['ratio_ours_zlib_tar']:.2f}")


if __name__ == "__main__":
    main()
