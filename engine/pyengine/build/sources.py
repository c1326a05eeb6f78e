"""What a COPY/ADD reads: sources selected in a tree (the build context or a stage's rootfs),
read without ever leaving it, and the content digest of a selection for the build cache.

Docker's rules: a source word is relative to the tree root (a leading `/` or `./` is dropped;
`..` is cleaned lexically, so `../x` names `x` at the root, as BuildKit does); a word with
wildcards is matched per component with Go's filepath.Match against the tree, walked without
following symlinks; a named source that is a symlink is followed inside the tree (an absolute
target restarts at the tree root); symlinks below a copied directory are copied as symlinks.
Files the IgnoreMatcher excludes are invisible. Below a copied directory, regular files,
directories, symlinks and fifos are copied; sockets and device nodes are skipped (a context
extracted by the daemon never holds devices; docker's tar skips sockets).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pyengine.archive.errors import ArchiveError
from pyengine.archive.safefs import RootedDirs
from pyengine.build import scoped, wildcard
from pyengine.build.errors import SourceNotFound
from pyengine.errors import InvalidArgument

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
CHUNK = 1 << 20
CAPABILITY_XATTR = "security.capability"


class Ignorer(Protocol):
    """build.ignore.IgnoreMatcher's interface (what this module needs of it)."""

    def excluded(self, relpath: str, is_dir: bool = False) -> bool: ...

    def may_include_under(self, reldir: str) -> bool: ...


@dataclass(frozen=True)
class SourceTree:
    """Where a COPY reads from: the extracted context, or a stage/image rootfs (read-only)."""

    root: Path
    ignore: Ignorer | None = None


@dataclass(frozen=True)
class Selected:
    """One source: `name` is what a copy of it is called in a destination directory (the last
    component of the word as written, even when that is a symlink), `rel` its real path in the
    tree after following symlinks ("" for the root), `st` its lstat."""

    name: str
    rel: str
    st: os.stat_result

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.st.st_mode)


@dataclass(frozen=True)
class Entry:
    """One thing to copy: `rel` below its source ("" for a file source itself), `name` in the
    open directory `dir_fd` (valid until the walk moves on), its lstat and symlink target."""

    rel: str
    dir_fd: int
    name: str
    st: os.stat_result
    link: str = ""


def _copied(mode: int) -> bool:
    return (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)
            or stat.S_ISFIFO(mode))


def join(a: str, b: str) -> str:
    return f"{a}/{b}" if a and b else a or b


def not_found(what: str, word: str) -> SourceNotFound:
    return SourceNotFound(f"{what} failed: file not found in build context or excluded by "
                          f".dockerignore: stat {word}: file does not exist")


def no_sources(what: str) -> SourceNotFound:
    return SourceNotFound(f"{what} failed: no source files were specified")


class TreeReader:
    """A source tree opened for reading (a context manager)."""

    def __init__(self, tree: SourceTree) -> None:
        self.tree = tree
        try:
            self.dirs = RootedDirs(tree.root)
        except OSError as exc:
            raise InvalidArgument(f"open build source {tree.root}: {exc.strerror}") from exc

    def close(self) -> None:
        self.dirs.close()

    def __enter__(self) -> TreeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- selection ---------------------------------------------------------------------------
    def ignored(self, rel: str, is_dir: bool) -> bool:
        ignore = self.tree.ignore
        if ignore is None or not rel:
            return False
        if not ignore.excluded(rel, is_dir):
            return False
        return not (is_dir and ignore.may_include_under(rel))

    def select(self, words: Sequence[str], what: str = "COPY") -> list[Selected]:
        """The sources the words name, in order; a word without wildcards that names nothing
        raises SourceNotFound, as does a non-empty list of words that selects nothing."""
        selected: list[Selected] = []
        for word in words:
            path = scoped.clean(word)
            if wildcard.has_wildcards(path):
                selected.extend(self.one(rel, what) for rel in self._expand(path))
            else:
                selected.append(self.one(path, what, word))
        if words and not selected:
            raise no_sources(what)
        return selected

    def one(self, path: str, what: str, word: str | None = None) -> Selected:
        """The source at clean path `path`, its symlinks followed inside the tree."""
        shown = word.removeprefix("/").removeprefix("./") if word is not None else path
        try:
            found = scoped.resolve(self.dirs.root_fd, path)
        except OSError as exc:
            if exc.errno in (errno.ENOTDIR, errno.ENOENT):
                raise not_found(what, shown) from None
            raise InvalidArgument(f"{what} failed: resolve {shown} in the build context: "
                                  f"{exc.strerror}") from None
        if not found.exists or found.st is None:
            raise not_found(what, shown)
        st = found.st
        is_dir = stat.S_ISDIR(st.st_mode)
        if self.ignored(found.path, is_dir) or (path != found.path
                                                and self.ignored(path, is_dir)):
            raise not_found(what, shown)
        if not _copied(st.st_mode):
            raise InvalidArgument(f"{what} failed: {shown} is not a regular file, directory, "
                                  f"symlink or fifo")
        name = scoped.components(path)[-1] if path else "."
        return Selected(name, found.path, st)

    def _expand(self, pattern: str) -> list[str]:
        """Paths matching `pattern` component by component, walked without following
        symlinks (docker matches each path filepath.Walk visits), in the walk's order."""
        prefixes = [""]
        parts = pattern.split("/")
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            found: list[str] = []
            for prefix in prefixes:
                fd = self._dir_fd(prefix)
                if fd is None:
                    continue
                for name in sorted(os.listdir(fd)):
                    if not wildcard.match(part, name):
                        continue
                    try:
                        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    is_dir = stat.S_ISDIR(st.st_mode)
                    rel = join(prefix, name)
                    if (last or is_dir) and not self.ignored(rel, is_dir):
                        found.append(rel)
            prefixes = found
        return prefixes

    def _dir_fd(self, rel: str) -> int | None:
        self.dirs.trim()  # the descriptor is used before the next call
        try:
            return self.dirs.dir_fd(os.fsencode(rel), create=False)
        except ArchiveError:
            return None  # not a directory (or a symlink): nothing below it to match

    # -- reading -----------------------------------------------------------------------------
    def entries(self, sel: Selected) -> Iterator[Entry]:
        """A file source itself, or everything below a directory source (not the directory
        itself: docker leaves the destination directory's metadata alone), parents first, each
        directory's names sorted. Excluded paths, sockets and devices are left out."""
        parent, _, base = sel.rel.rpartition("/")
        if not sel.is_dir:
            parent_fd = self._open_dir(parent)
            yield Entry("", parent_fd, base, sel.st, "")
            return
        top = os.open(".", _DIR, dir_fd=self._open_dir(sel.rel))
        stack: list[tuple[int, str, Iterator[str]]] = [(top, "", iter(sorted(os.listdir(top))))]
        try:
            while stack:
                fd, rel, names = stack[-1]
                name = next(names, None)
                if name is None:
                    os.close(fd)
                    stack.pop()
                    continue
                child = join(rel, name)
                try:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                is_dir = stat.S_ISDIR(st.st_mode)
                if not _copied(st.st_mode) or self.ignored(join(sel.rel, child), is_dir):
                    continue
                link = os.readlink(name, dir_fd=fd) if stat.S_ISLNK(st.st_mode) else ""
                yield Entry(child, fd, name, st, link)
                if is_dir:
                    sub = os.open(name, _DIR, dir_fd=fd)
                    stack.append((sub, child, iter(sorted(os.listdir(sub)))))
        finally:
            for fd, _, _ in stack:
                os.close(fd)

    def _open_dir(self, rel: str) -> int:
        self.dirs.trim()  # an entry's descriptor is used before the reader is asked again
        try:
            fd = self.dirs.dir_fd(os.fsencode(rel), create=False)
        except ArchiveError as exc:
            raise InvalidArgument(f"read build source {rel!r}: it changed while being "
                                  f"read: {exc}") from exc
        if fd is None:
            raise InvalidArgument(f"read build source {rel!r}: it disappeared while being read")
        return fd


def read_chunks(entry: Entry) -> Iterator[bytes]:
    """The content of a regular file entry, opened without following a symlink."""
    fd = os.open(entry.name, _READ, dir_fd=entry.dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidArgument(f"read build source {entry.name!r}: not a regular file")
        while chunk := os.read(fd, CHUNK):
            yield chunk
    finally:
        os.close(fd)


def capability(entry: Entry) -> bytes | None:
    """A regular file's security.capability (the one xattr docker's COPY keeps), if any."""
    try:
        return os.getxattr(f"/proc/self/fd/{entry.dir_fd}/{entry.name}", CAPABILITY_XATTR,
                           follow_symlinks=False)
    except OSError:
        return None  # none set, or a filesystem without xattrs


class TreeHash:
    """The hash of one source (a file, or a directory's entries): each entry's relative path,
    type, permission bits and symlink target, each file's capability xattr, content and
    length. Never owners (COPY sets them) nor times."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()

    def entry(self, rel: str, mode: int, link: str = "") -> None:
        kind = "d" if stat.S_ISDIR(mode) else "l" if stat.S_ISLNK(mode) else \
            "p" if stat.S_ISFIFO(mode) else "f"
        mode_bits = "" if kind == "l" else f"{stat.S_IMODE(mode):o}"
        self._h.update(os.fsencode(f"{kind}\0{rel}\0{mode_bits}\0{link}\0"))

    def capability(self, value: bytes | None) -> None:
        if value is not None:
            self._h.update(b"cap\0%d\0" % len(value) + value)

    def data(self, chunk: bytes) -> None:
        self._h.update(chunk)

    def end_file(self, size: int) -> None:
        self._h.update(b"\0%d\n" % size)

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def hash_source(reader: TreeReader, sel: Selected) -> str:
    """docker's created_by detail of one source: "file:<hex>" or "dir:<hex>"."""
    h = TreeHash()
    for entry in reader.entries(sel):
        h.entry(entry.rel, entry.st.st_mode, entry.link)
        if stat.S_ISREG(entry.st.st_mode):
            h.capability(capability(entry))
            size = 0
            for chunk in read_chunks(entry):
                h.data(chunk)
                size += len(chunk)
            h.end_file(size)
    return ("dir:" if sel.is_dir else "file:") + h.hexdigest()


def multi_detail(details: Sequence[str]) -> str:
    """One detail for several sources (docker's "multi:<hash of the sources' hashes>")."""
    if len(details) == 1:
        return details[0]
    return "multi:" + hashlib.sha256(",".join(details).encode()).hexdigest()


def is_url(word: str) -> bool:
    """An ADD source fetched over http(s) (build.fetch) rather than read from the tree."""
    return word.startswith(("http://", "https://"))


def content_digest(tree: SourceTree, sources: Sequence[str], what: str = "COPY") -> str:
    """"sha256:<hex>" over what `sources` select: for each selected source, the name a copy
    takes, its path in the tree and its hash (hash_source). The same selection gives the same
    digest whatever the mtimes and owners; one changed byte, mode or link changes it. URL
    words (ADD) are left out: their part of a cache key is fetch.url_digest."""
    digest = hashlib.sha256()
    local = [word for word in sources if not is_url(word)]
    if not local:
        return "sha256:" + digest.hexdigest()
    with TreeReader(tree) as reader:
        for sel in reader.select(local, what):
            detail = hash_source(reader, sel)
            digest.update(os.fsencode(f"{sel.name}\0{sel.rel}\0{detail}\n"))
    return "sha256:" + digest.hexdigest()
