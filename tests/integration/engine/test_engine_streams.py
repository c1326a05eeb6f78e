"""The concurrency model (docs/ENGINE.md): long-lived server streams do not starve other calls.

200 `events` streams stay open on a real pyengined while unary calls (version, images) and a
pyctl process are answered; every stream then receives the event a tag makes; the streams end
cleanly when the daemon stops. A fixed pool of 32 gRPC threads (the daemon before grpc.aio)
would hold 32 streams and leave every other call waiting: this test would then fail on its
calls' deadlines (hang guards, not timed assertions)."""

from __future__ import annotations

import hashlib
import sqlite3
import time

import grpc
import pytest
from pyengine.api import common_pb2, images_pb2, images_pb2_grpc, system_pb2, system_pb2_grpc
from stallproxy import StallProxy

pytestmark = pytest.mark.root

STREAMS = 200
GUARD = 120.0  # deadline of each call: only there so that a starved call fails, not hangs


def test_200_event_streams_do_not_starve_unary_calls(engine_factory, busybox_tar) -> None:
    daemon = engine_factory()
    daemon.out("import", str(busybox_tar), "streams:1")
    channel = daemon.channel()
    try:
        system = system_pb2_grpc.SystemServiceStub(channel)
        images = images_pb2_grpc.ImagesServiceStub(channel)
        calls = [system.Events(system_pb2.EventsRequest(filters=["type=image"]), timeout=600)
                 for _ in range(STREAMS)]
        try:
            for call in calls:  # the daemon sends headers once the stream is subscribed
                call.initial_metadata()
            version = system.Version(system_pb2.VersionRequest(), timeout=GUARD)
            assert version.api_version == "pyengine.v1"
            listed = images.List(images_pb2.ListImagesRequest(), timeout=GUARD)
            assert [i.repo_tags for i in listed.images] == [["streams:1"]]
            assert "streams" in daemon.out("images")  # a separate client process, too

            daemon.out("tag", "streams:1", "streams:2")
            for call in calls:
                event = next(call)
                assert (event.type, event.action) == ("image", "tag")
                assert event.attributes["name"] == "streams:2"
                assert event.id == listed.images[0].id
        finally:
            for call in calls:
                call.cancel()
        # cancelled streams are gone server-side: the daemon still answers and stops cleanly
        assert system.Ping(system_pb2.PingRequest(), timeout=GUARD).api_version
    finally:
        channel.close()
    assert daemon.stop() == 0


def test_events_filters_and_stream_end_at_shutdown(engine_factory, busybox_tar) -> None:
    daemon = engine_factory()
    channel = daemon.channel()
    try:
        system = system_pb2_grpc.SystemServiceStub(channel)
        with pytest.raises(grpc.RpcError) as bad:
            next(system.Events(system_pb2.EventsRequest(filters=["colour=red"]), timeout=GUARD))
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        deletes = system.Events(system_pb2.EventsRequest(filters=["event=delete"]),
                                timeout=600)
        everything = system.Events(system_pb2.EventsRequest(), timeout=600)
        deletes.initial_metadata()
        everything.initial_metadata()
        image_id = daemon.out("import", str(busybox_tar), "ev:1").strip()
        daemon.out("rmi", "ev:1")
        assert [(e.action) for e in (next(everything) for _ in range(4))] == [
            "import", "tag", "untag", "delete"]  # docker tags an imported image after
        event = next(deletes)
        assert (event.action, event.id) == ("delete", image_id) and event.time_nano > 0
        assert daemon.stop() == 0
        # The streams end with the daemon and carry nothing more: with OK when the client read
        # the daemon's trailers before the socket went, else UNAVAILABLE (the transport was torn
        # down first, which a loaded machine makes likely); never a hang, never another event.
        for stream in (deletes, everything):
            assert _rest_of(stream) == []
    finally:
        channel.close()


def _rest_of(stream) -> list:  # type: ignore[no-untyped-def]
    received = []
    try:
        for event in stream:
            received.append(event)
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.UNAVAILABLE, err
    return received


def _leases(daemon) -> list:  # type: ignore[no-untyped-def]
    with sqlite3.connect(daemon.data_root / "metadata.db") as db:
        return db.execute("SELECT id FROM leases").fetchall()


def _wait_for(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + GUARD  # a hang guard, not a timed assertion
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_client_cancelling_a_pull_stops_the_job(engine_factory, registry, busybox_tar) -> None:
    """The progress stream of a pull whose client goes away: the job is told and unwinds
    (its lease goes) while other calls keep being answered."""
    daemon = engine_factory()
    layer_digest = "sha256:" + hashlib.sha256(busybox_tar.read_bytes()).hexdigest()
    daemon.out("import", str(busybox_tar), f"{registry.host}/cancel/bb:1")
    daemon.out("push", f"{registry.host}/cancel/bb:1")
    daemon.out("image", "prune", "-a", "-f")
    proxy = StallProxy(registry.host).start()
    channel = daemon.channel()
    try:
        proxy.stall(f"/blobs/{layer_digest}$")
        images = images_pb2_grpc.ImagesServiceStub(channel)
        pull = images.Pull(images_pb2.PullRequest(reference=f"{proxy.host}/cancel/bb:1"),
                           timeout=600)
        _wait_for(proxy.stalled.is_set, "the layer download to stall")
        assert _leases(daemon), "the pull holds a lease"
        pull.cancel()
        with pytest.raises(grpc.RpcError) as err:
            list(pull)
        assert err.value.code() == grpc.StatusCode.CANCELLED
        listed = images.List(images_pb2.ListImagesRequest(), timeout=GUARD)
        assert list(listed.images) == []
        proxy.release.set()  # the job notices the cancel at its next report
        _wait_for(lambda: _leases(daemon) == [], "the cancelled pull's lease to go")
        progress = list(images.Pull(
            images_pb2.PullRequest(reference=f"{proxy.host}/cancel/bb:1"), timeout=GUARD))
        assert isinstance(progress[-1], common_pb2.Progress)
        assert progress[-1].result == f"{proxy.host}/cancel/bb:1"
    finally:
        channel.close()
        proxy.stop()
