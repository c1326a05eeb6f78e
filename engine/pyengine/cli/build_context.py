"""pyctl build's context: a directory as an uncompressed tar stream, or stdin as it comes.

A directory is walked once first, in a stable order (each directory's names sorted, parents
before children, as docker's client walks), applying .dockerignore (docker's rules: an
excluded directory is skipped unless an exception may match inside it; the Dockerfile and
.dockerignore are always sent). The walk checks that every entry can be read, so a context
with an unreadable file fails before anything is sent (docker's "error checking context").
Then the entries are written as a tar (owner 0:0 as docker's client writes, modes and mtimes
kept, symlinks as symlinks, a file with several links once and then as hard links), yielded in
CHUNK-sized pieces as the files are read: the context is never whole in memory.

Stdin (`pyctl build -`) is a tar archive, compressed or not (sent as it is: the daemon
decompresses), or else a Dockerfile (docker's rule), with an empty context.
"""

from __future__ import annotations

import os
import stat

from pyengine.cli import tar_headers as th

TYPE_CHECKING = False  # typing and dataclasses are not imported at run time
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import BinaryIO, Protocol

    class Matcher(Protocol):
        """pyengine.build.ignore.IgnoreMatcher's interface (.dockerignore rules)."""

        def excluded(self, relpath: str, is_dir: bool = False) -> bool: ...

        def may_include_under(self, reldir: str) -> bool: ...

CHUNK = 64 * 1024
BLOCK = th.BLOCK
# magic bytes of the compressed archives docker's DetectArchiveCompression knows
COMPRESSED_MAGIC = (b"\x1f\x8b\x08", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")
SNIFF = 2 * BLOCK


class ContextError(Exception):
    """The context cannot be read (docker's messages)."""


def load_matcher(text: str) -> Matcher:
    """The rules of a .dockerignore (pyengine.build.ignore, the daemon's parser too)."""
    ignore = __import__("pyengine.build.ignore", fromlist=["IgnoreMatcher"])
    matcher: Matcher = ignore.IgnoreMatcher.parse(text)
    return matcher


class Entry:
    """One path of the context: its name in the tar and what lstat said."""

    __slots__ = ("path", "rel", "st")

    def __init__(self, rel: str, path: str, st: os.stat_result) -> None:
        self.rel = rel
        self.path = path
        self.st = st


class KeepSome:
    """A matcher that always keeps `forced` paths (and so the directories above them)."""

    def __init__(self, matcher: Matcher, forced: Iterable[str]) -> None:
        self.matcher = matcher
        self.forced = {f for f in forced if f}

    def excluded(self, rel: str, is_dir: bool) -> bool:
        return rel not in self.forced and self.matcher.excluded(rel, is_dir)

    def may_include_under(self, rel: str) -> bool:
        prefix = rel + "/"
        return (any(f.startswith(prefix) for f in self.forced)
                or self.matcher.may_include_under(rel))


def walk(root: str, matcher: Matcher | None = None, forced: Iterable[str] = ()) -> list[Entry]:
    """The context's entries in tar order, .dockerignore applied; raises ContextError for an
    entry that cannot be read."""
    rules = KeepSome(matcher, forced) if matcher is not None else None
    entries: list[Entry] = []

    def visit(directory: str, prefix: str) -> None:
        try:
            names = sorted(os.listdir(directory))
        except OSError as err:
            raise ContextError(_unreadable(directory, err)) from None
        for name in names:
            path = os.path.join(directory, name)
            rel = prefix + name
            try:
                st = os.lstat(path)
            except OSError as err:
                raise ContextError(_unreadable(path, err)) from None
            is_dir = stat.S_ISDIR(st.st_mode)
            skipped = rules is not None and rules.excluded(rel, is_dir)
            if skipped and not (is_dir and rules is not None and rules.may_include_under(rel)):
                continue
            if not skipped:
                if stat.S_ISREG(st.st_mode):
                    try:
                        os.close(os.open(path, os.O_RDONLY))
                    except OSError as err:
                        raise ContextError(_unreadable(path, err)) from None
                entries.append(Entry(rel, path, st))
            if is_dir:
                visit(path, rel + "/")

    visit(root, "")
    return entries


def _unreadable(path: str, err: OSError) -> str:
    """docker's ValidateContextDirectory messages."""
    if isinstance(err, PermissionError):
        if os.path.isdir(path):
            return f"error checking context: can't stat '{path}'"
        return f"error checking context: no permission to read from '{path}'"
    return f"error checking context: {path}: {(err.strerror or str(err)).lower()}"


def header(entry: Entry, links: dict[tuple[int, int], str]) -> tuple[bytes, bool]:
    """The tar header(s) of an entry, and whether its content follows."""
    st = entry.st
    mode, mtime = stat.S_IMODE(st.st_mode), int(st.st_mtime)
    if stat.S_ISDIR(st.st_mode):
        return th.header(entry.rel + "/", mode, 0, mtime, th.DIRTYPE), False
    if stat.S_ISLNK(st.st_mode):
        return th.header(entry.rel, mode, 0, mtime, th.SYMTYPE, os.readlink(entry.path)), False
    if stat.S_ISREG(st.st_mode):
        key = (st.st_dev, st.st_ino)
        first = links.get(key) if st.st_nlink > 1 else None
        if first is not None:
            return th.header(entry.rel, mode, 0, mtime, th.LNKTYPE, first), False
        if st.st_nlink > 1:
            links[key] = entry.rel
        return th.header(entry.rel, mode, st.st_size, mtime, th.REGTYPE), True
    if stat.S_ISFIFO(st.st_mode):
        return th.header(entry.rel, mode, 0, mtime, th.FIFOTYPE), False
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        kind = th.CHRTYPE if stat.S_ISCHR(st.st_mode) else th.BLKTYPE
        return th.header(entry.rel, mode, 0, mtime, kind, "", os.major(st.st_rdev),
                         os.minor(st.st_rdev)), False
    return b"", False  # a socket: docker's tar leaves it out too


def _file_data(entry: Entry) -> Iterator[bytes]:
    """The file's bytes, exactly the size its header announced, then the padding."""
    size = entry.st.st_size
    left = size
    try:
        with open(entry.path, "rb") as handle:
            while left > 0:
                data = handle.read(min(CHUNK, left))
                if not data:
                    raise ContextError(f"error checking context: '{entry.path}' changed size "
                                       "while it was sent")
                left -= len(data)
                yield data
    except OSError as err:
        raise ContextError(f"open {entry.path}: {(err.strerror or str(err)).lower()}") from None
    if size % BLOCK:
        yield b"\0" * (BLOCK - size % BLOCK)


def tar_pieces(entries: Iterable[Entry]) -> Iterator[bytes]:
    links: dict[tuple[int, int], str] = {}
    for entry in entries:
        head, content = header(entry, links)
        if head:
            yield head
        if content:
            yield from _file_data(entry)
    yield b"\0" * (2 * BLOCK)


def rechunk(pieces: Iterable[bytes], size: int = CHUNK) -> Iterator[bytes]:
    """`pieces` regrouped as chunks of `size` bytes (the last one shorter)."""
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


def directory_tar(root: str, matcher: Matcher | None = None,
                  forced: Iterable[str] = ()) -> Iterator[bytes]:
    """The context directory `root` as tar chunks; walked and checked now (ContextError),
    the files read as the chunks are taken."""
    return rechunk(tar_pieces(walk(root, matcher, forced)))


def is_archive(head: bytes) -> bool:
    """docker's rule for a stdin context: a compressed stream or a tar header is an archive."""
    if head.startswith(COMPRESSED_MAGIC):
        return True
    return th.is_header(head[:BLOCK])


class StdinContext:
    """What `pyctl build -` read: either a Dockerfile or a tar stream's chunks."""

    __slots__ = ("chunks", "dockerfile")

    def __init__(self, dockerfile: bytes | None, chunks: Iterator[bytes]) -> None:
        self.dockerfile = dockerfile
        self.chunks = chunks


def read_stdin(stream: BinaryIO) -> StdinContext:
    head = b""
    while len(head) < SNIFF:
        data = stream.read(SNIFF - len(head))
        if not data:
            break
        head += data
    if not is_archive(head):
        return StdinContext(head + stream.read(), iter(()))

    def chunks() -> Iterator[bytes]:
        yield head
        while data := stream.read(CHUNK):
            yield data

    return StdinContext(None, rechunk(chunks()))
