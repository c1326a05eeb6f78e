"""The issue's concurrency check on containers: 200 `logs -f` streams and an `events` stream stay
open on a real pyengined while other calls (list, inspect, a whole `run --rm` through a shim)
are answered; then every follower gets the container's next lines and the events stream its
next events. A daemon with a fixed pool of 32 gRPC threads would hold 32 streams and starve
the rest: the calls' deadlines are hang guards, not timed assertions."""

from __future__ import annotations

import asyncio

import pytest
from ctr_harness import ContainerEngine

pytestmark = [pytest.mark.root]

FOLLOWERS = 200
GUARD = 120.0


def test_200_logs_follow_and_events_do_not_starve_the_daemon(engine: ContainerEngine) -> None:
    import grpc.aio
    from pyengine.api import containers_pb2, containers_pb2_grpc, system_pb2, system_pb2_grpc

    cid = engine.out("run", "-d", "busybox", "sh", "-c",
                     "echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; "
                     "seq 1 500; sleep 1000").strip()

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(f"unix:{engine.socket}") as channel:
            stub = containers_pb2_grpc.ContainersServiceStub(channel)
            system = system_pb2_grpc.SystemServiceStub(channel)
            events = system.Events(system_pb2.EventsRequest(filters=["type=container"]))
            await events.initial_metadata()
            followers = [stub.Logs(containers_pb2.ContainerLogsRequest(
                id=cid, follow=True, tail=-1, stdout=True, stderr=True))
                for _ in range(FOLLOWERS)]

            async def lines_of(call: grpc.aio.UnaryStreamCall, wanted: bytes) -> bytes:
                seen = b""
                async for entry in call:
                    seen += entry.data
                    if seen.endswith(wanted):
                        break
                return seen

            # every follower has the line written before it came, so it is subscribed
            firsts = await asyncio.gather(*(lines_of(f, b"first\n") for f in followers))
            assert all(seen == b"first\n" for seen in firsts)

            listed = await stub.List(containers_pb2.ListContainersRequest(), timeout=GUARD)
            assert [c.id for c in listed.containers] == [cid]
            inspected = await stub.Inspect(containers_pb2.InspectContainerRequest(id=cid),
                                           timeout=GUARD)
            assert cid in inspected.json
            # a separate client process runs a whole container meanwhile
            ran = await asyncio.to_thread(engine.pyctl, "run", "--rm", "--name", "beside",
                                          "busybox", "echo", "beside")
            assert (ran.returncode, ran.stdout) == (0, b"beside\n"), ran.stderr

            seen_events = []
            async for event in events:
                seen_events.append((event.action, event.attributes.get("name", "")))
                if event.action == "destroy":
                    break
            assert [a for a, name in seen_events if name == "beside"][:3] == [
                "create", "attach", "start"]

            await asyncio.to_thread(engine.pyctl, "exec", cid, "touch", "/tmp/go")
            expected = b"".join(b"%d\n" % n for n in range(1, 501))
            rests = await asyncio.gather(*(lines_of(f, b"500\n") for f in followers))
            assert all(rest == expected for rest in rests)
            for call in (*followers, events):
                call.cancel()
            # the cancelled streams are gone server-side: the daemon answers
            assert (await system.Ping(system_pb2.PingRequest(), timeout=GUARD)).api_version

    try:
        asyncio.run(scenario())
    finally:
        engine.pyctl("rm", "-f", cid)


def test_a_stuck_logs_follower_is_cut_off_and_holds_nothing_up(engine: ContainerEngine) -> None:
    """A `logs -f` client that reads nothing while the container writes 24 MiB: the container
    runs to its end unhindered, the stored log is whole, and the stuck client, once it reads,
    gets what was waiting and then RESOURCE_EXHAUSTED (it fell too far behind) instead of the
    daemon holding everything for it."""
    import grpc.aio
    from pyengine.api import containers_pb2, containers_pb2_grpc

    cid = engine.out("run", "-d", "busybox", "sh", "-c",
                     "echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; "
                     "head -c 25165824 /dev/zero | tr '\\0' x | fold -w 1024; echo end").strip()

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(f"unix:{engine.socket}") as channel:
            stub = containers_pb2_grpc.ContainersServiceStub(channel)
            stuck = stub.Logs(containers_pb2.ContainerLogsRequest(
                id=cid, follow=True, tail=-1, stdout=True, stderr=True))
            first = await stuck.read()  # subscribed (then it reads nothing for a while)
            assert first.data == b"first\n"
            await asyncio.to_thread(engine.pyctl, "exec", cid, "touch", "/tmp/go")
            waited = await asyncio.to_thread(engine.out, "wait", cid)
            assert waited.strip() == "0"
            received = 0
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                while (entry := await stuck.read()) is not grpc.aio.EOF:
                    received += len(entry.data)
            assert failed.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "fell more than 8 MiB behind" in (failed.value.details() or "")
            assert received < 24 << 20

    try:
        asyncio.run(scenario())
        stored = engine.pyctl("logs", cid).stdout  # whole: the stuck client lost nobody a byte
        assert stored.count(b"x") == 24 << 20 and stored.endswith(b"end\n")
    finally:
        engine.pyctl("rm", "-f", cid)
