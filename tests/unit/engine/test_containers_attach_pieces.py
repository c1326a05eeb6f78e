"""The pieces of attach that need no daemon: the detach-keys scanner (docker's format and
semantics) and the output fan-out (backpressure instead of loss, subscribers that go away)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pyengine.containers import detachkeys
from pyengine.containers.fanout import Fanout, Subscriber
from pyengine.errors import InvalidArgument


@pytest.mark.parametrize(("text", "keys"), [
    ("", b"\x10\x11"), ("ctrl-p,ctrl-q", b"\x10\x11"), ("a,b", b"ab"),
    ("CTRL-A,x", b"\x01x"), ("ctrl-@,ctrl-_,ctrl-[", b"\x00\x1f\x1b"), (",", None),
    ("ctrl-1", None), ("ab", None), ("ctrl-p,", None), ("é", None),
])
def test_detach_keys_format(text: str, keys: bytes | None) -> None:
    if keys is None:
        with pytest.raises(InvalidArgument, match=r"Invalid detach keys \(.*\) provided"):
            detachkeys.parse(text)
    else:
        assert detachkeys.parse(text) == keys


def feed_all(scanner: detachkeys.Scanner, chunks: list[bytes]) -> tuple[bytes, bool]:
    out = b""
    for chunk in chunks:
        passed, detached = scanner.feed(chunk)
        out += passed
        if detached:
            return out, True
    return out + scanner.flush(), False


@pytest.mark.parametrize(("chunks", "passed", "detached"), [
    ([b"echo hi\r"], b"echo hi\r", False),
    ([b"\x10", b"\x11"], b"", True),  # typed one key at a time
    ([b"ls\x10", b"\x11rest"], b"ls", True),  # the rest after the keys is dropped
    ([b"\x10\x11"], b"", True),
    ([b"\x10", b"x"], b"\x10x", False),  # a prefix then another byte passes through, in order
    ([b"\x10", b"\x10", b"\x11"], b"\x10", True),
    ([b"a\x10"], b"a\x10", False),  # a prefix held at the end is given back at the end
    ([b"\x11\x10"], b"\x11\x10", False),
])
def test_detach_scanner(chunks: list[bytes], passed: bytes, detached: bool) -> None:
    assert feed_all(detachkeys.Scanner(), chunks) == (passed, detached)


def test_detach_scanner_other_and_longer_keys() -> None:
    scanner = detachkeys.Scanner(detachkeys.parse("a,b,c"))
    assert feed_all(scanner, [b"xa", b"b", b"d", b"ab", b"c"]) == (b"xabd", True)
    assert feed_all(detachkeys.Scanner(b""), [b"\x10\x11"]) == (b"\x10\x11", False)


def test_fanout_delivers_chunks_in_order_to_hundreds_of_subscribers() -> None:
    async def scenario() -> None:
        fanout = Fanout()
        subs = [fanout.subscribe(("stdout", "stderr") if n % 2 else ("stdout",))
                for n in range(300)]
        chunks = [(("stdout", "stderr")[n % 3 == 0], f"{n};".encode()) for n in range(200)]

        async def read(sub: Subscriber) -> list[tuple[str, bytes]]:
            got = []
            while (item := await sub.get()) is not None:
                got.append(item)
            return got

        readers = [asyncio.create_task(read(sub)) for sub in subs]
        for stream, data in chunks:
            waiting = fanout.publish(stream, data)
            if waiting is not None:
                await waiting
        fanout.end()
        results = await asyncio.gather(*readers)
        for n, got in enumerate(results):
            wanted = ("stdout", "stderr") if n % 2 else ("stdout",)
            for stream in wanted:  # joined chunks, but every byte of each stream, in order
                expect = b"".join(d for s, d in chunks if s == stream)
                assert b"".join(d for s, d in got if s == stream) == expect
            assert all(s in wanted for s, _ in got)
        assert not fanout.subscribers

    asyncio.run(scenario())


def test_fanout_waits_for_a_full_subscriber_and_lets_a_closed_one_go() -> None:
    async def scenario() -> None:
        fanout = Fanout()
        slow = fanout.subscribe(("stdout",), limit=4)
        assert fanout.publish("stdout", b"abc") is None  # room left: nothing to await
        waiting = fanout.publish("stdout", b"defgh")
        assert waiting is not None
        task = asyncio.ensure_future(waiting)
        await asyncio.sleep(0)
        assert not task.done()  # the copier waits: nothing is dropped
        assert await slow.get() == ("stdout", b"abcdefgh")
        await task
        stuck = fanout.subscribe(("stdout",), limit=1)
        waiting = fanout.publish("stdout", b"xyz")
        assert waiting is not None
        task = asyncio.ensure_future(waiting)
        await asyncio.sleep(0)
        assert not task.done()
        stuck.close()  # its client went away
        slow.close()
        await task
        assert not fanout.subscribers
        assert await stuck.get() is None
        assert fanout.publish("stdout", b"more") is None  # nobody attached: dropped at once

    asyncio.run(scenario())


def test_attach_session_cancelled_while_waiting_for_the_exit_leaves_no_waiter() -> None:
    """A client that goes away after the output ended (the process has not exited yet) must
    not leave a task waiting for that exit behind it (one per attach, for the process' life)."""
    from pyengine.containers import attach

    class Target:
        waiting = False
        cancelled = False

        async def stdin(self) -> int | None:
            return None

        def stdin_is(self, fd: int) -> bool:
            return False

        async def close_stdin(self) -> None:
            pass

        async def resize(self, height: int, width: int) -> None:
            pass

        async def exit_code(self) -> int:
            self.waiting = True
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
            return 0

    async def no_input() -> AsyncIterator[attach.Input]:
        return
        yield attach.Input()

    async def scenario() -> bool:
        target = Target()
        fanout = Fanout()
        subscriber = fanout.subscribe(["stdout"])
        fanout.end()

        async def client() -> None:
            async for _ in attach.serve(target, subscriber, no_input(), attach.Options()):
                pass

        task = asyncio.create_task(client())
        while not target.waiting:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(3):
            await asyncio.sleep(0)
        return target.cancelled  # asked before asyncio.run cancels what is left

    assert asyncio.run(scenario())


def test_an_attach_whose_client_goes_away_unsubscribes_at_once() -> None:
    """The gRPC edge closes an Attach whose client went away while it waited to send a
    chunk: the session's subscriber must be closed then (an unread subscriber holds the
    container's output up once its buffer is full), not when the loop collects it."""
    from collections.abc import AsyncGenerator
    from typing import cast

    from pyengine.api import containers_pb2
    from pyengine.containers import attach
    from pyengine.containers.model import Container, Spec, State
    from pyengine.containers.service import ContainerService
    from pyengine.containers.service import Live as ServiceLive
    from pyengine.services.containers import ContainersServicer
    from pyengine.services.errors import Context
    from pyengine.services.workers import Workers

    fanout = Fanout()
    subscribed: list[Subscriber] = []

    class Live:
        stdin_open = asyncio.Event()
        stdin = None
        shim = None
        exited = asyncio.Event()
        exit_code = 0

    class Service:
        async def attach(self, ref: str, streams: tuple[str, ...]
                         ) -> tuple[Container, attach.ContainerTarget, Subscriber]:
            c = Container(id="c" * 64, name="n", image_id="", image_name="", snapshot="",
                          created="", spec=Spec(), state=State(status="running"))
            subscribed.append(fanout.subscribe(streams))
            return c, attach.ContainerTarget(cast(ServiceLive, Live())), subscribed[-1]

    class Ctx:
        async def send_initial_metadata(self, metadata: object) -> None:
            pass

    async def requests() -> AsyncIterator[containers_pb2.AttachInput]:
        yield containers_pb2.AttachInput(id="n", stdout=True)
        await asyncio.Event().wait()  # the client sends nothing more

    async def scenario() -> bool:
        servicer = ContainersServicer(cast(ContainerService, Service()),
                                      cast(Workers, None))
        call = cast(AsyncGenerator[containers_pb2.AttachOutput, None],
                    servicer.Attach(requests(), cast(Context, Ctx())))
        first = asyncio.ensure_future(anext(call))
        while not subscribed:
            await asyncio.sleep(0)
        fanout.publish("stdout", b"hello\n")
        assert (await first).data == b"hello\n"
        await call.aclose()  # what grpc does with a handler whose client went away
        return subscribed[0].closed

    assert asyncio.run(scenario())
