"""Container logs in docker's json-file format, one JSON object per line:
{"log": "...\\n", "stream": "stdout"|"stderr", "time": RFC 3339 with nanoseconds}.

`JsonFileLog` appends entries and rotates (max-size, max-file: `<path>.1` is the newest rotated
file); subscribers (logs -f) get each entry as it is written. `read` returns the stored entries
oldest first with docker's --tail/--since/--until selection. `copy_fifo` copies an exec's fifo
into any sink on the event loop (a container's log copy is logcopy.py's).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("pyengine.containers")

MAX_LINE = 16 * 1024  # docker splits longer lines into partial entries of this size


@dataclass(frozen=True)
class Entry:
    stream: str
    data: bytes  # with its trailing newline when the line had one
    time_nano: int


def rfc3339_nano(time_nano: int) -> str:
    seconds, nanos = divmod(time_nano, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def parse_rfc3339_nano(text: str) -> int:
    """Nanoseconds since the epoch of a "YYYY-MM-DDTHH:MM:SS[.fffffffff]Z" stamp."""
    text = text.rstrip("Z")
    whole, _, frac = text.partition(".")
    seconds = int(datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())
    return seconds * 1_000_000_000 + int((frac + "000000000")[:9])


def encode(entry: Entry) -> bytes:
    line = {"log": entry.data.decode(errors="replace"), "stream": entry.stream,
            "time": rfc3339_nano(entry.time_nano)}
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> Entry | None:
    try:
        raw = json.loads(line)
        return Entry(raw["stream"], raw["log"].encode(), parse_rfc3339_nano(raw["time"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # a line cut by a crash or a full disk


class JsonFileLog:
    """One container's log file with rotation. Not thread-safe: used on the event loop."""

    def __init__(self, path: Path, max_size: int = 0, max_file: int = 1) -> None:
        self.path = path
        self.max_size = max_size
        self.max_file = max(1, max_file)
        self._fd: int | None = None
        self._size = 0
        self.subscribers: list[Callable[[Entry | None], None]] = []
        self.error = ""  # the last write error, kept after writes work again
        self.dropped = 0  # entries dropped since writes last worked

    def _open(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                               0o640)
            self._size = os.fstat(self._fd).st_size
        return self._fd

    def _rotate(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self.max_file <= 1:
            os.truncate(self.path, 0)
            return
        for n in range(self.max_file - 1, 0, -1):
            src = self.path if n == 1 else self.path.with_name(f"{self.path.name}.{n - 1}")
            with contextlib.suppress(FileNotFoundError):
                os.replace(src, self.path.with_name(f"{self.path.name}.{n}"))

    def write(self, entry: Entry) -> None:
        self.write_many([entry])

    def write_many(self, entries: list[Entry],
                   before: Callable[[int, int], None] | None = None) -> None:
        """Append entries in one write (a kill finds all of them stored or none); `before`
        gets the (inode, size) of the file they go to just before. A write the file system
        refuses (a full disk) drops the entries that do not fit whole, as docker's json-file
        drops what it cannot write: the container keeps running, the daemon logs the error
        once per run of failures (then how many entries it dropped, once writes work again),
        and the file never keeps a torn line."""
        data = b"".join(encode(entry) for entry in entries)
        try:
            if self.max_size and self._size and self._size + len(data) > self.max_size:
                self._rotate()
            fd = self._open()
            if before is not None:
                before(os.fstat(fd).st_ino, self._size)
            written = os.write(fd, data)
            if written < len(data):  # the disk filled up: keep the entries stored whole
                kept = data.rfind(b"\n", 0, written) + 1
                os.ftruncate(fd, self._size + kept)
                self._size += kept
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self._size += len(data)
        except OSError as err:
            self._dropped(err, len(entries))
        else:
            if self.dropped:
                log.warning("container log writable again", extra={"fields": {
                    "path": str(self.path), "dropped": self.dropped}})
                self.dropped = 0
        for entry in entries:
            for notify in list(self.subscribers):
                notify(entry)

    def _dropped(self, err: OSError, count: int) -> None:
        cause = err.strerror or str(err)
        self.error = f"write {self.path}: {cause[:1].lower()}{cause[1:]}"
        if not self.dropped:
            log.error("container log entry dropped: %s", self.error,
                      extra={"fields": {"path": str(self.path)}})
        self.dropped += count

    def finish(self) -> None:
        """No more entries (the container's streams ended)."""
        for notify in list(self.subscribers):
            notify(None)

    def room(self) -> int | None:
        """Bytes the current file takes before an entry rotates it; None without max-size."""
        if not self.max_size:
            return None
        if self._fd is None:
            try:
                self._size = os.stat(self.path).st_size
            except FileNotFoundError:
                self._size = 0
        return self.max_size - self._size

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def snapshot(self) -> list[tuple[int, int]]:
        """On the loop: the stored files as open descriptors (oldest first) with how much of
        each to read (-1: all; the current file: its size now). Read in the pool with
        `read_snapshot`, they give exactly the entries written before this call, whatever
        rotation does meanwhile, so a follower subscribed at the same moment sees each entry
        once."""
        taken: list[tuple[int, int]] = []
        for path in self.files():
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            limit = -1
            if path == self.path:
                limit = self._size if self._fd is not None else os.fstat(fd).st_size
            taken.append((fd, limit))
        return taken

    def files(self) -> list[Path]:
        """The log files, oldest first."""
        rotated = [self.path.with_name(f"{self.path.name}.{n}")
                   for n in range(self.max_file - 1, 0, -1)]
        return [p for p in [*rotated, self.path] if p.exists()]



class NoLog(JsonFileLog):
    """docker's `none` log driver: the output reaches attached clients (the copy publishes it)
    and followers, and no file; reading it back is refused (ContainerService.logs)."""

    def write_many(self, entries: list[Entry],
                   before: Callable[[int, int], None] | None = None) -> None:
        for entry in entries:
            for notify in list(self.subscribers):
                notify(entry)

    def room(self) -> int | None:
        return None

    def snapshot(self) -> list[tuple[int, int]]:
        return []

    def files(self) -> list[Path]:
        return []


def read(files: list[Path], *, tail: int = -1, since: int = 0, until: int = 0,
         streams: tuple[str, ...] = ("stdout", "stderr")) -> list[Entry]:
    """Stored entries (oldest first) of the wanted streams between since and until (ns; 0:
    unbounded), the last `tail` of them (-1: all)."""
    datas = []
    for path in files:
        try:
            datas.append(path.read_bytes())
        except FileNotFoundError:
            continue
    return _select(datas, tail=tail, since=since, until=until, streams=streams)


def read_snapshot(taken: list[tuple[int, int]], *, tail: int = -1, since: int = 0,
                  until: int = 0, streams: tuple[str, ...] = ("stdout", "stderr")
                  ) -> list[Entry]:
    """`read` of a `JsonFileLog.snapshot` (blocking: in the pool); closes its descriptors."""
    datas = []
    try:
        for fd, limit in taken:
            with os.fdopen(fd, "rb", closefd=False) as f:
                datas.append(f.read() if limit < 0 else f.read(limit))
    finally:
        for fd, _ in taken:
            os.close(fd)
    return _select(datas, tail=tail, since=since, until=until, streams=streams)


def _select(datas: list[bytes], *, tail: int, since: int, until: int,
            streams: tuple[str, ...]) -> list[Entry]:
    out: list[Entry] = []
    for data in datas:
        for line in data.splitlines():
            entry = decode(line)
            if entry is None or entry.stream not in streams:
                continue
            if since and entry.time_nano < since:
                continue
            if until and entry.time_nano > until:
                continue
            out.append(entry)
    if tail >= 0:
        out = out[len(out) - tail:] if tail else []
    return out


FOLLOWER_BACKLOG = 8 << 20  # bytes of entries a logs -f client may have waiting


class Follower:
    """A `logs -f` client's entries written since it subscribed, bounded: a client that lets
    more than FOLLOWER_BACKLOG bytes wait (it reads nothing, its connection is stuck) is cut
    off (`overflowed`) instead of growing the daemon without limit; the container and the
    other clients are never held up by it."""

    def __init__(self, backlog: int = FOLLOWER_BACKLOG) -> None:
        self.queue: asyncio.Queue[Entry | None] = asyncio.Queue()
        self.backlog = backlog
        self.waiting = 0
        self.overflowed = False

    def put(self, entry: Entry | None) -> None:
        if self.overflowed:
            return
        if entry is not None:
            self.waiting += len(entry.data)
            if self.waiting > self.backlog:
                self.overflowed = True
                entry = None
        self.queue.put_nowait(entry)

    async def get(self) -> Entry | None:
        entry = await self.queue.get()
        if entry is not None:
            self.waiting -= len(entry.data)
        return entry


async def copy_fifo(fd: int, stream: str, log: JsonFileLog | Callable[[Entry], None],
                    tee: Callable[[str, bytes], Awaitable[None] | None] | None = None) -> None:
    """Copy a non-blocking fifo into `log` (or any sink of entries) until its writers close it.
    `tee` also gets every chunk as read (attached clients: fanout.py); when it answers an
    awaitable, reading waits for it.

    Each chunk read is written before the next wait, and nothing is held across one: whole
    lines become entries, and a chunk that ends inside a line (once the fifo has nothing more
    to give right now) writes that line's start at once as a partial entry (docker's
    json-file form of a partial message: no trailing newline; the line's rest follows in the
    next entry, and `logs` prints them joined)."""
    write = log.write if isinstance(log, JsonFileLog) else log
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                await readable(loop, fd)
                continue
            if not chunk:
                break
            chunk = _read_to_line_end(fd, chunk)
            now = time.time_ns()
            for piece in split_lines(chunk):
                write(Entry(stream, piece, now))
            if tee is not None and (waiting := tee(stream, chunk)) is not None:
                await waiting
    finally:
        os.close(fd)


def _read_to_line_end(fd: int, chunk: bytes) -> bytes:
    """A chunk cut inside a line by the read's size usually has the line's rest waiting in the
    fifo: read on at once (never across an await, so a kill finds nothing held longer than a
    syscall) until a line end, an empty fifo or a bound, so the line stays one entry."""
    for _ in range(16):
        if chunk.endswith(b"\n"):
            break
        try:
            more = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not more:
            break
        chunk += more
    return chunk


def split_lines(chunk: bytes) -> list[bytes]:
    """A chunk's lines, each with its newline, cut every MAX_LINE bytes as docker cuts a long
    line; the last piece lacks the newline when the chunk ends inside a line."""
    out = []
    start = 0
    while start < len(chunk):
        cut = chunk.find(b"\n", start, start + MAX_LINE)
        end = cut + 1 if cut >= 0 else min(len(chunk), start + MAX_LINE)
        out.append(chunk[start:end])
        start = end
    return out


async def readable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)
