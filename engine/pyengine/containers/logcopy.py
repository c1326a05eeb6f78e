"""A container's stdout or stderr fifo copied into its json-file log, exactly once across a
daemon killed with -9 at any point.

The fifo itself is the buffer: its writers (the shim, the container) keep it open while the
daemon is away, so what the daemon has not taken waits there. The copy therefore takes
nothing before it is stored: `tee(2)` copies the fifo's head into a private pipe without
consuming it, the entries made of it are appended in one write, and only then are the bytes
consumed from the fifo. A kill before the write leaves them in the fifo for the next daemon; a
kill between the write and the consumption would copy them twice, so each chunk is recorded
first in a small in-flight file next to the fifo, in the bundle (the log file's inode and size
before the write, the chunk's length and SHA-256; like the fifo, it need not outlive a
reboot). When the next daemon reconnects, a log grown past that size and a fifo whose head is
that chunk mean it is consumed without being written again. (A chunk consumed just before the
kill and followed by byte-identical output is the one case this takes for a duplicate.) A
new run's copy clears the record; so does a copy that reached the end. With max-size the
entries are written in groups that each fit one file, each group recorded, stored and
consumed on its own.

Lines: whole lines become entries. A chunk ending inside a line leaves that start in the fifo
and waits LINE_WAIT once for the line's end (a line printed in two writes stays one entry);
then the start is written as a partial entry (docker's json-file form: no trailing newline;
`logs` prints it joined with its rest). A line longer than MAX_LINE is cut, as docker cuts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import hashlib
import logging
import os
import struct
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from pyengine import crashpoints
from pyengine.containers.logs import (
    MAX_LINE,
    Entry,
    JsonFileLog,
    encode,
    readable,
    split_lines,
)

log = logging.getLogger("pyengine.containers")

PEEK = 65536  # a pipe's default capacity: what one tee takes at most
LINE_WAIT = 0.01
SPLICE_F_NONBLOCK = 2
_RECORD = struct.Struct("<QQQ32s")  # log inode, log size before the write, length, sha256

_libc = ctypes.CDLL(None, use_errno=True)
_libc.tee.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_uint]
_libc.tee.restype = ctypes.c_ssize_t


def tee(src: int, dst: int, length: int) -> int:
    """Copy up to `length` bytes from the head of pipe `src` into pipe `dst` without
    consuming them; 0 at the end (no writer, nothing left); BlockingIOError when empty."""
    copied = int(_libc.tee(src, dst, length, SPLICE_F_NONBLOCK))
    if copied < 0:
        number = ctypes.get_errno()
        raise OSError(number, f"tee: {os.strerror(number)}")
    return copied


class Inflight:
    """The in-flight record of one stream's copy (`<log>.<stream>-inflight`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def record(self, inode: int, size: int, chunk: bytes) -> None:
        with contextlib.suppress(OSError):  # a full disk: at worst one duplicate later
            os.pwrite(self._fd, _RECORD.pack(inode, size, len(chunk),
                                             hashlib.sha256(chunk).digest()), 0)

    def load(self) -> tuple[int, int, int, bytes] | None:
        data = os.pread(self._fd, _RECORD.size, 0)
        if len(data) != _RECORD.size:
            return None
        inode, size, length, digest = _RECORD.unpack(data)
        return int(inode), int(size), int(length), bytes(digest)

    def clear(self) -> None:
        os.ftruncate(self._fd, 0)

    def close(self) -> None:
        os.close(self._fd)


def _read_exactly(fd: int, length: int) -> bytes:
    parts = []
    while length:
        part = os.read(fd, length)
        if not part:
            break
        parts.append(part)
        length -= len(part)
    return b"".join(parts)


def _settle(fifo: int, peek: tuple[int, int], inflight: Inflight, files: list[Path]) -> bool:
    """A chunk a killed daemon stored but had not consumed: consume it now. True if so."""
    found = inflight.load()
    if found is None:
        return False
    inode, size, length, digest = found
    stored = False
    for path in files:
        with contextlib.suppress(OSError):
            st = os.stat(path)
            stored = stored or (st.st_ino == inode and st.st_size > size)
    if not stored or not length:
        return False
    try:
        head = _read_exactly(peek[0], tee(fifo, peek[1], length))
    except BlockingIOError:
        return False
    if len(head) != length or hashlib.sha256(head).digest() != digest:
        return False
    _read_exactly(fifo, length)
    return True


def _ready_part(data: bytes, waited: bool) -> int:
    """How much of the fifo's head `data` to store now: whole lines, whole MAX_LINE pieces of
    a long line, or (after waiting once) a line's start too; 0: wait for more."""
    if data.endswith(b"\n"):
        return len(data)
    cut = data.rfind(b"\n")
    if cut >= 0:
        return cut + 1
    if len(data) >= MAX_LINE:
        return len(data) - len(data) % MAX_LINE
    return len(data) if waited else 0


def _groups(target: JsonFileLog, entries: list[Entry]) -> list[list[Entry]]:
    """Entries cut where max-size rotates the log: each group goes to one file in one write
    (and is recorded, stored and consumed on its own)."""
    room = target.room()
    if room is None or not target.max_size:
        return [entries]
    groups: list[list[Entry]] = []
    current: list[Entry] = []
    used = target.max_size - room  # bytes in the current file
    for entry in entries:
        size = len(encode(entry))
        if used and used + size > target.max_size:  # this entry rotates the log
            if current:
                groups.append(current)
                current = []
            used = 0
        current.append(entry)
        used += size
    if current:
        groups.append(current)
    return groups


async def copy_to_log(fifo: int, stream: str, target: JsonFileLog, inflight_path: Path,
                      reconnect: bool = False,
                      publish: Callable[[str, bytes], Awaitable[None] | None] | None = None
                      ) -> None:
    """Copy the non-blocking fifo `fifo` into `target` until its writers close it; after a
    daemon restart (`reconnect`), first settle what the killed daemon left in flight.
    `publish` also gets every chunk once stored (attached clients: fanout.py); when it answers
    an awaitable, the copy waits for it (nothing is held meanwhile)."""
    loop = asyncio.get_running_loop()
    try:
        peek = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    except BaseException:
        os.close(fifo)
        raise
    try:
        inflight = Inflight(inflight_path)
    except BaseException:
        for fd in (*peek, fifo):
            os.close(fd)
        raise
    try:
        if not reconnect:
            inflight.clear()  # a new run's fifo: a record of an earlier run means nothing
        elif _settle(fifo, peek, inflight, target.files()):
            log.info("container log: a chunk stored before a crash was not copied again",
                     extra={"fields": {"path": str(target.path), "stream": stream}})
        waited = False
        while True:
            try:
                length = tee(fifo, peek[1], PEEK)
            except BlockingIOError:
                await readable(loop, fifo)
                continue
            if not length:
                break
            data = _read_exactly(peek[0], length)
            take = _ready_part(data, waited)
            if not take:
                waited = True
                await asyncio.sleep(LINE_WAIT)
                continue
            waited = False
            now = time.time_ns()
            for group in _groups(target, [Entry(stream, piece, now)
                                          for piece in split_lines(data[:take])]):
                chunk = b"".join(entry.data for entry in group)
                crashpoints.reached("log.before-write")
                target.write_many(group, functools.partial(inflight.record, chunk=chunk))
                crashpoints.reached("log.after-write")
                _read_exactly(fifo, len(chunk))
                if publish is not None and (waiting := publish(stream, chunk)) is not None:
                    await waiting
        inflight.clear()  # all consumed: nothing for a later copy to settle
    finally:
        inflight.close()
        for fd in (*peek, fifo):
            os.close(fd)

