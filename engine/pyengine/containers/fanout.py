"""A process' output handed to whoever is attached to it (Attach, interactive exec).

The copier of a stdio fifo calls `Fanout.publish(stream, chunk)` for every chunk it reads, beside
writing the log. Each subscriber has a bounded buffer; when one is full, publish returns an
awaitable and the copier waits for room before reading more: as docker's attach, a slow
attached client slows the container's output down rather than losing bytes of it (the fifo
fills, the process blocks on write). A subscriber that goes away (`close`) is dropped at once
and never holds the copier up again. Publishing is O(subscribers) per chunk with no per-byte
work, and no subscriber wakes the loop unless it has data: hundreds of attached clients cost
one deque append each per chunk.

`end()` (the process' streams are closed) ends every current subscriber; the Fanout itself
lives on for the next run of the container.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Iterable

from pyengine.containers import fifo_reader

LIMIT = 1 << 20  # bytes a subscriber may have unread before the copier waits


class Subscriber:
    """One attached client's view of the output: `get()` the next (stream, data), None at the
    end. Chunks of one stream that arrive together are joined (up to `limit` bytes)."""

    def __init__(self, streams: Iterable[str], limit: int = LIMIT) -> None:
        self.streams = frozenset(streams)
        self.limit = limit
        self._items: deque[tuple[str, bytes]] = deque()
        self._size = 0
        self._ended = False
        self.closed = False
        self._ready: asyncio.Future[None] | None = None  # get() waiting for data
        self._room: asyncio.Future[None] | None = None  # a publisher waiting for room
        self._fanout: Fanout | None = None

    def put(self, stream: str, data: bytes) -> bool:
        """Queue a chunk; True when the buffer is now over its limit."""
        self._items.append((stream, data))
        self._size += len(data)
        self._wake_reader()
        return self._size > self.limit

    def end(self) -> None:
        """No more output: get() answers None once the buffer is read."""
        self._ended = True
        self._wake_reader()

    def _wake_reader(self) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(None)

    async def room(self) -> None:
        """Until the buffer is back under its limit (or the subscriber is gone)."""
        while self._size > self.limit and not self.closed:
            if self._room is None or self._room.done():
                self._room = asyncio.get_running_loop().create_future()
            await self._room

    async def get(self) -> tuple[str, bytes] | None:
        while not self._items:
            if self._ended or self.closed:
                return None
            self._ready = asyncio.get_running_loop().create_future()
            try:
                await self._ready
            finally:
                self._ready = None
        stream, data = self._items.popleft()
        if self._items and self._items[0][0] == stream and len(data) < self.limit:
            parts = [data]
            size = len(data)
            while self._items and self._items[0][0] == stream and size < self.limit:
                part = self._items.popleft()[1]
                parts.append(part)
                size += len(part)
            data = b"".join(parts)
        self._size -= len(data)
        if self._size <= self.limit and self._room is not None and not self._room.done():
            self._room.set_result(None)
        return stream, data

    def close(self) -> None:
        """The client went away: drop what is buffered, let a waiting publisher go on."""
        self.closed = True
        self._items.clear()
        self._size = 0
        if self._fanout is not None:
            self._fanout.subscribers.discard(self)
            self._fanout = None
        if self._room is not None and not self._room.done():
            self._room.set_result(None)
        self._wake_reader()


class Fanout:
    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()

    def subscribe(self, streams: Iterable[str], limit: int = LIMIT) -> Subscriber:
        sub = Subscriber(streams, limit)
        sub._fanout = self
        self.subscribers.add(sub)
        return sub

    def publish(self, stream: str, data: bytes) -> Awaitable[None] | None:
        """Give `data` to every subscriber of `stream`; an awaitable to wait on when one of
        them is full, else None (nothing to await: the common case costs no task switch)."""
        if not self.subscribers or not data:
            return None
        full = [sub for sub in list(self.subscribers)
                if stream in sub.streams and sub.put(stream, data)]
        return _room(full) if full else None

    def end(self) -> None:
        """The streams ended: every current subscriber gets its end and is let go."""
        subscribers, self.subscribers = self.subscribers, set()
        for sub in subscribers:
            sub._fanout = None
            sub.end()


async def _room(full: list[Subscriber]) -> None:
    for sub in full:
        await sub.room()


async def pump(fd: int, stream: str, fanout: Fanout) -> None:
    """Copy a non-blocking fifo's chunks to `fanout` until its writers close it (an exec's
    output: not logged, only handed to who is attached)."""
    async with contextlib.aclosing(fifo_reader.chunks(fd)) as reading:
        async for chunk in reading:
            waiting = fanout.publish(stream, chunk)
            if waiting is not None:
                await waiting
