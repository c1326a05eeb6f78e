"""The engine's event bus: domains publish from any thread, subscribers read on the event loop.

`publish` never blocks: it hands the event to the loop (`call_soon_threadsafe`), which puts it
in every subscriber's bounded queue. A subscriber that falls more than `BACKLOG` events behind
is cut off (its stream ends with an error) rather than slowing the others or the publisher.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from pyengine.errors import ResourceExhausted

BACKLOG = 4096
KEPT = 1024  # events the bus keeps for a later subscriber's --since (docker keeps 256)


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
        return all(_key_matches(key, wanted, event) for key, wanted in self.values.items())


def _key_matches(key: str, wanted: set[str], event: Event) -> bool:
    """docker's rules: event matches an action or its part before ":" ("exec_start: sh"
    is an exec_start); container, network and volume match an id by prefix or a name;
    image matches an image's id or name, or a container's image, with or without tag;
    label matches KEY or KEY=VALUE among the attributes (a container's labels are)."""
    attributes = event.attributes
    if key == "type":
        return event.type in wanted
    if key == "event":
        return event.action in wanted or event.action.partition(":")[0] in wanted
    if key in ("container", "network", "volume"):
        if event.type != key:
            return False
        name = attributes.get("name", "")
        return any(event.id.startswith(w) or name == w for w in wanted)
    if key == "image":
        name = attributes.get("name" if event.type == "image" else "image", "")
        have = {event.id, name, _untagged(event.id), _untagged(name)}
        return bool(have & wanted)
    if key == "label":
        for item in wanted:
            k, sep, v = item.partition("=")
            if k in attributes and (not sep or attributes[k] == v):
                return True
        return False
    return attributes.get(key, "") in wanted


def _untagged(name: str) -> str:
    """`busybox:latest` -> `busybox` (a registry port stays)."""
    head, sep, tag = name.rpartition(":")
    return head if sep and "/" not in tag else name


_CUT = object()
_END = object()


class Subscription:
    """One reader's events from the moment it subscribed (and the kept ones since `since`);
    iterate it on the loop. With `until` (ns since the epoch) the events end at that time."""

    def __init__(self, bus: EventBus, filters: Filters, until: int = 0) -> None:
        self.filters = filters
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self.until = until
        self._bus = bus

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while True:
            if self.until:
                left = (self.until - time.time_ns()) / 1e9
                if not self.queue.empty():
                    item = self.queue.get_nowait()
                elif left <= 0:
                    return
                else:
                    try:
                        item = await asyncio.wait_for(self.queue.get(), left)
                    except TimeoutError:
                        return
                if isinstance(item, Event) and item.time_nano > self.until:
                    return
            else:
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
        self._kept: deque[Event] = deque(maxlen=KEPT)  # touched on the loop only

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
        self._kept.append(event)
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

    def subscribe(self, filters: Filters | None = None, since: int = 0,
                  until: int = 0) -> Subscription:
        """Subscribed from this call on (on the loop), after the kept events from `since` (ns
        since the epoch; 0: none); `close()` the subscription after."""
        sub = Subscription(self, filters or Filters(), until)
        if since:
            for event in self._kept:
                if event.time_nano >= since and sub.filters.matches(event):
                    sub.queue.put_nowait(event)
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
        if key not in ("type", "event", "image", "container", "network", "volume", "name",
                       "label", "daemon", "plugin"):
            raise InvalidArgument(f"events: unknown filter key {key!r}")
        out.values.setdefault(key, set()).add(value)
    return out
