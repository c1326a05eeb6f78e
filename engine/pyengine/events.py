"""The engine's event bus: domains publish from any thread, subscribers read on the event loop.

`publish` never blocks: it hands the event to the loop (`call_soon_threadsafe`), which puts it
in every subscriber's bounded queue. A subscriber that falls more than `BACKLOG` events behind
is cut off (its stream ends with an error) rather than slowing the others or the publisher.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from pyengine.errors import ResourceExhausted

BACKLOG = 4096


@dataclass(frozen=True)
class Event:
    type: str  # "image", later "container", "network", "volume"
    action: str  # "pull", "tag", "untag", "delete", ...
    id: str
    attributes: dict[str, str] = field(default_factory=dict)
    time_nano: int = 0


@dataclass
class Filters:
    """docker events --filter: keys AND, values of one key OR."""

    values: dict[str, set[str]] = field(default_factory=dict)

    def matches(self, event: Event) -> bool:
        for key, wanted in self.values.items():
            if key == "type":
                have = {event.type}
            elif key == "event":
                have = {event.action}
            elif key in ("image", "container", "network", "volume"):
                if event.type != key:
                    return False
                have = {event.id, event.attributes.get("name", "")}
            else:
                have = {event.attributes.get(key, "")}
            if not (have & wanted):
                return False
        return True


_CUT = object()
_END = object()


class Subscription:
    """One reader's events from the moment it subscribed; iterate it on the loop."""

    def __init__(self, bus: EventBus, filters: Filters) -> None:
        self.filters = filters
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self._bus = bus

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while True:
            item = await self.queue.get()
            if item is _END:
                return
            if item is _CUT:
                raise ResourceExhausted(
                    f"events: the client fell more than {BACKLOG} events behind"
                )
            assert isinstance(item, Event)
            yield item

    def close(self) -> None:
        self._bus.unsubscribe(self)


class EventBus:
    """Fan-out of engine events to the streams that asked for them."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: set[Subscription] = set()
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on `loop` (the daemon's); events published before are dropped."""
        self._loop = loop

    def publish(self, type_: str, action: str, id_: str, **attributes: str) -> None:
        """Thread-safe and non-blocking."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        event = Event(type_, action, id_, attributes, time.time_ns())
        try:
            loop.call_soon_threadsafe(self._deliver, event)
        except RuntimeError:  # the loop closed in between: the daemon is stopping
            pass

    def _deliver(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for sub in subscribers:
            if not sub.filters.matches(event):
                continue
            if sub.queue.qsize() >= BACKLOG:
                sub.queue.put_nowait(_CUT)
                self.unsubscribe(sub)
                continue
            sub.queue.put_nowait(event)

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def subscribe(self, filters: Filters | None = None) -> Subscription:
        """Subscribed from this call on (on the loop); `close()` the subscription after."""
        sub = Subscription(self, filters or Filters())
        with self._lock:
            self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    def close(self) -> None:
        """End every subscription's stream (the daemon is stopping). On the loop."""
        with self._lock:
            subscribers, self._subscribers = list(self._subscribers), set()
        for sub in subscribers:
            sub.queue.put_nowait(_END)


def parse_filters(items: list[str]) -> Filters:
    from pyengine.errors import InvalidArgument

    out = Filters()
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"events: bad filter {item!r}: use KEY=VALUE")
        if key not in ("type", "event", "image", "container", "network", "volume", "name"):
            raise InvalidArgument(f"events: unknown filter key {key!r}")
        out.values.setdefault(key, set()).add(value)
    return out
