"""Real peers of `pyctl build` and what the build tests compare with them.

- `Buildah`: Debian's buildah with a storage root of its own (overlay, under a temporary
  directory; chroot isolation: no runtime, no network set-up), its base images given as
  docker-archives made by `pyctl save`, its results exported the same way.
- `ArchiveImage` / `rootfs_listing`: a docker-archive read without unpacking it (manifest.json's
  config and layers), the layers applied in order with their whiteouts (`.wh.NAME`,
  `.wh..wh..opq`) into a listing of the image's files: path -> type, mode, owner, size, content
  hash, link target. Two builders that made "the same files" give equal listings (mtimes are
  not compared: every builder stamps its own).
- `Progress`: the BuildKit-plain-style progress of `pyctl build` (`#N [k/n] COPY ...`,
  `#N CACHED`) read back per step; `pyctl_build` runs it.
- `demo_images`: the walk-through's Debian images (pyengine-demo/web with Flask,
  pyengine-demo/nginx) loaded from the archive tools/demo keeps in /var/cache/pyengine-demo, made
  first (by `tools/demo --only app`, in the machine's network namespace: it reaches Debian's
  mirror once) when that archive is missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

from tests.fixtures.demo_archive import demo_archive

REPO = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BUILDAH = shutil.which("buildah") or "/usr/bin/buildah"

# The config fields the issue names for "the same config"
CONFIG_FIELDS = ("Cmd", "Env", "WorkingDir", "ExposedPorts", "Volumes", "Labels")


# -- docker-archives --------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One path of an image's root filesystem, as the comparison sees it."""

    kind: str  # "file", "dir", "symlink", "char", "block", "fifo"
    mode: int  # permission bits with setuid/setgid/sticky
    uid: int
    gid: int
    size: int  # files only (0 otherwise)
    digest: str  # sha256 of a file's content, "" otherwise
    target: str  # a symlink's target, "" otherwise


@dataclass(frozen=True)
class ArchiveImage:
    """The one image of a docker-archive: its config document and its layer members."""

    path: Path
    config: dict
    layers: tuple[str, ...]
    repo_tags: tuple[str, ...]

    @classmethod
    def read(cls, path: Path) -> ArchiveImage:
        with tarfile.open(path) as archive:
            manifest = json.load(_member(archive, "manifest.json"))
            if len(manifest) != 1:
                raise AssertionError(f"{path}: {len(manifest)} images, expected one")
            (item,) = manifest
            config = json.load(_member(archive, item["Config"]))
        return cls(path, config, tuple(item["Layers"]), tuple(item.get("RepoTags") or ()))

    def fields(self, names: Iterable[str] = CONFIG_FIELDS) -> dict[str, object]:
        section = self.config.get("config") or {}
        return {name: section.get(name) for name in names}


def _member(archive: tarfile.TarFile, name: str) -> IO[bytes]:
    handle = archive.extractfile(name)
    if handle is None:
        raise AssertionError(f"{archive.name!r}: {name} is not a file")
    return handle


def _kind(member: tarfile.TarInfo) -> str:
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    if member.ischr():
        return "char"
    if member.isblk():
        return "block"
    if member.isfifo():
        return "fifo"
    return "file"


def _clean(name: str) -> str:
    path = PurePosixPath("/", name.removeprefix("./"))
    return str(path)


def _drop(listing: dict[str, Entry], path: str, keep_self: bool = False) -> None:
    prefix = path.rstrip("/") + "/"
    for existing in [p for p in listing if p.startswith(prefix)]:
        del listing[existing]
    if not keep_self:
        listing.pop(path, None)


def rootfs_listing(image: ArchiveImage) -> dict[str, Entry]:
    """The image's files after all its layers, whiteouts applied (OCI/docker layer rules: a
    layer's whiteouts remove what the layers below have; an opaque directory hides all of
    its lower contents)."""
    listing: dict[str, Entry] = {}
    with tarfile.open(image.path) as archive:
        for layer_name in image.layers:
            with tarfile.open(fileobj=_member(archive, layer_name), mode="r:*") as layer:
                members = layer.getmembers()
                for member in members:  # whiteouts first: they concern the lower layers
                    path = PurePosixPath(_clean(member.name))
                    if path.name == ".wh..wh..opq":
                        _drop(listing, str(path.parent), keep_self=True)
                    elif path.name.startswith(".wh."):
                        _drop(listing, str(path.parent / path.name[4:]))
                for member in members:
                    path = PurePosixPath(_clean(member.name))
                    if path.name.startswith(".wh.") or str(path) == "/":
                        continue
                    listing[str(path)] = _entry(layer, member, listing)
    return listing


def _entry(layer: tarfile.TarFile, member: tarfile.TarInfo, listing: dict[str, Entry]) -> Entry:
    perm = member.mode & 0o7777
    if member.islnk():  # a hard link: the same content as its target, already listed
        linked = listing[_clean(member.linkname)]
        return Entry("file", perm, member.uid, member.gid, linked.size, linked.digest, "")
    kind = _kind(member)
    digest, size = "", 0
    if kind == "file":
        handle = layer.extractfile(member)
        assert handle is not None
        digest = hashlib.sha256(handle.read()).hexdigest()
        size = member.size
    target = member.linkname if kind == "symlink" else ""
    return Entry(kind, perm, member.uid, member.gid, size, digest, target)


def listing_diff(ours: dict[str, Entry], theirs: dict[str, Entry]) -> list[str]:
    """One line per path that differs (only in one, or with other attributes)."""
    lines = []
    for path in sorted(set(ours) | set(theirs)):
        a, b = ours.get(path), theirs.get(path)
        if a != b:
            lines.append(f"{path}: {a} != {b}")
    return lines


# -- buildah -----------------------------------------------------------------------------------
class Buildah:
    """buildah 1.28 on a storage root of its own under `base`; removed by `close`."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "root"
        self.runroot = base / "runroot"

    def argv(self, *args: str) -> list[str]:
        return [BUILDAH, "--root", str(self.root), "--runroot", str(self.runroot),
                "--storage-driver", "overlay", *args]

    def run(self, *args: str, cwd: Path | None = None, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self.argv(*args), capture_output=True, text=True, cwd=cwd,
                                timeout=900, stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise AssertionError(f"buildah {' '.join(args)}: exit {result.returncode}:\n"
                                 f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def load(self, archive: Path) -> None:
        """A base image from a docker-archive (`pyctl save`), under the names it carries."""
        self.run("pull", "-q", f"docker-archive:{archive}")

    def bud(self, context: Path, tag: str, *args: str) -> subprocess.CompletedProcess[str]:
        """`buildah bud`: base images only from its storage (no registry), RUN without a
        runtime (chroot isolation: in the caller's network namespace, a test module's)."""
        return self.run("bud", "--isolation", "chroot", "--pull=never", "-t", tag, *args,
                        str(context))

    def save(self, image: str, archive: Path) -> Path:
        self.run("push", "-q", image, f"docker-archive:{archive}:{image}")
        return archive

    def close(self) -> None:
        if self.root.exists():
            self.run("rm", "--all", check=False)
            self.run("rmi", "--all", "--force", check=False)
        unmount_under(self.base)
        shutil.rmtree(self.base, ignore_errors=True)


def unmount_under(base: Path) -> None:
    """Every mount below `base` (deepest first), by path."""
    prefix = str(base).rstrip("/") + "/"
    with open("/proc/self/mountinfo") as info:
        points = [line.split()[4] for line in info]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


@contextlib.contextmanager
def buildah_at(base: Path) -> Iterator[Buildah]:
    peer = Buildah(base)
    try:
        yield peer
    finally:
        peer.close()


# -- pyctl build's progress ------------------------------------------------------------------
STEP = re.compile(r"^#(\d+) \[(?:(\S+) )?(\d+)/(\d+)\] (.*)$")


@dataclass(frozen=True)
class Step:
    number: int  # the "#N" of the progress
    stage: str  # BuildKit's stage name in "[name k/n]", "" for "[k/n]"
    index: int  # k
    instruction: str  # "COPY a.txt /data/a.txt"
    cached: bool


class Progress:
    """The steps of one build's BuildKit-plain-style output, in order; a step is its stage and
    index (`[name k/n]`), whichever vertex numbers it was shown under."""

    def __init__(self, text: str) -> None:
        vertices: dict[int, tuple[str, int]] = {}  # "#N" -> (stage, k)
        titles: dict[tuple[str, int], tuple[int, str]] = {}  # (stage, k) -> (first N, text)
        self.duplicates: list[str] = []  # steps shown under more than one vertex
        cached: set[int] = set()
        for line in text.splitlines():
            match = STEP.match(line)
            if match:
                number, key = int(match[1]), (match[2] or "", int(match[3]))
                if number not in vertices:
                    if key in titles:
                        self.duplicates.append(line)
                    vertices[number] = key
                    titles.setdefault(key, (number, match[5]))
            elif re.match(r"^#\d+ CACHED$", line):
                cached.add(int(line[1:].split()[0]))
        hits = {vertices[n] for n in cached if n in vertices}
        self.steps = sorted((Step(n, key[0], key[1], title, key in hits)
                             for key, (n, title) in titles.items()), key=lambda s: s.number)

    def layer_steps(self) -> list[Step]:
        """The steps that make a layer (RUN, COPY, ADD): the ones the cache serves."""
        return [s for s in self.steps if s.instruction.split()[0] in ("RUN", "COPY", "ADD")]

    def cached(self) -> dict[str, bool]:
        return {s.instruction: s.cached for s in self.layer_steps()}


# -- contexts ----------------------------------------------------------------------------------
def copy_context(name: str, into: Path) -> Path:
    """A fixture's build context copied (a test may change its files), with its modes."""
    target = into / name
    shutil.copytree(FIXTURES / name, target, symlinks=True)
    return target


def touch_all(directory: Path, when: float) -> None:
    """Every file's mtime set to `when` (content unchanged)."""
    for root, _dirs, files in os.walk(directory):
        for name in files:
            os.utime(Path(root) / name, (when, when))


@dataclass(frozen=True)
class Built:
    """One `pyctl build`: its exit code, its output (stdout and stderr) and progress."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def progress(self) -> Progress:
        return Progress(self.output)


class Daemon(Protocol):
    """What these helpers use of engine_harness.Engine."""

    def pyctl(self, *args: str, input: bytes | None = None, check: bool = False,
              extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess: ...


def pyctl_build(engine: Daemon, context: Path | str, *args: str,
                input: bytes | None = None) -> Built:
    """`pyctl build ARGS CONTEXT` against the test's daemon."""
    result = engine.pyctl("build", *args, str(context), input=input)
    return Built(result.returncode, result.stdout.decode(errors="replace"),
                 result.stderr.decode(errors="replace"))


def cached_flags(built: Built) -> list[tuple[str, bool]]:
    """(keyword, cached) of each layer step, in the Dockerfile's order."""
    steps = sorted(built.progress.layer_steps(), key=lambda s: (s.stage, s.index))
    return [(s.instruction.split()[0], s.cached) for s in steps]


# -- the walk-through's base images ---------------------------------------------------------------
def demo_images(engine: Daemon) -> Path:
    """pyengine-demo/{debian:bookworm,redis,web,nginx} loaded into `engine`; the archive."""
    archive = demo_archive()
    engine.pyctl("load", "-q", "-i", str(archive), check=True)
    return archive
