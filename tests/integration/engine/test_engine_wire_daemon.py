"""pyctl's own gRPC client (pyengine.cli.wire) against the real grpc.aio daemon: unary calls,
server streaming (events, pull progress), client streaming (load), errors, deadlines, a
response far past one 64 KiB flow-control window (save), and cancellation. grpcio is the
reference where both can make the same call."""

from __future__ import annotations

import json

import pytest
from pyengine.api import images_pb2, images_pb2_grpc, system_pb2
from pyengine.cli.client import Client
from pyengine.cli.wire import status

pytestmark = pytest.mark.root

GUARD = 120.0  # only there so that a broken call fails instead of hanging


@pytest.fixture
def daemon(engine_factory, busybox_tar):
    daemon = engine_factory()
    daemon.out("import", str(busybox_tar), "wire:1")
    return daemon


@pytest.fixture
def client(daemon):
    client = Client(daemon.host)
    try:
        yield client
    finally:
        client.close()


def test_unary_calls_match_grpcio(daemon, client) -> None:
    version = client.system.Version(system_pb2.VersionRequest(), timeout=GUARD)
    assert version.api_version == "pyengine.v1"
    listed = client.images.List(images_pb2.ListImagesRequest(), timeout=GUARD)
    with daemon.channel() as channel:
        reference = images_pb2_grpc.ImagesServiceStub(channel).List(
            images_pb2.ListImagesRequest(), timeout=GUARD)
    assert listed == reference and [i.repo_tags for i in listed.images] == [["wire:1"]]


def test_error_status_and_details(client) -> None:
    with pytest.raises(status.RpcError) as err:
        client.images.Inspect(images_pb2.InspectImageRequest(reference="nosuch"), timeout=GUARD)
    assert err.value.code() == status.NOT_FOUND
    assert err.value.details() == "No such image: nosuch:latest"
    # the connection is still good after an error
    assert client.system.Ping(system_pb2.PingRequest(), timeout=GUARD).api_version


def test_deadline_on_a_stream_that_sends_nothing(client) -> None:
    events = client.system.Events(system_pb2.EventsRequest(filters=["event=delete"]),
                                  timeout=1.0)
    with pytest.raises(status.RpcError) as err:
        next(events)
    assert err.value.code() == status.DEADLINE_EXCEEDED
    assert client.system.Ping(system_pb2.PingRequest(), timeout=GUARD).api_version


def test_event_stream_and_cancellation(daemon, client) -> None:
    events = client.system.Events(system_pb2.EventsRequest(filters=["type=image"]),
                                  timeout=600)
    events.initial_metadata()  # the daemon subscribes before it sends the response headers
    daemon.out("tag", "wire:1", "wire:2")
    event = next(events)
    assert (event.type, event.action) == ("image", "tag")
    assert event.attributes["name"] == "wire:2"
    events.close()  # RST_STREAM CANCEL; the daemon drops the subscription
    assert client.system.Ping(system_pb2.PingRequest(), timeout=GUARD).api_version
    assert daemon.stop() == 0  # no stream left behind to block the shutdown


def test_large_streams_both_ways(daemon, client) -> None:
    """save: megabytes of DataChunk messages to the client (our receive windows); load: the
    same back as a client stream (the daemon's windows)."""
    chunks = client.images.Save(images_pb2.SaveImagesRequest(references=["wire:1"],
                                                             format="docker"), timeout=GUARD)
    archive = b"".join(chunk.data for chunk in chunks)
    assert len(archive) > 1 << 20
    with daemon.channel() as channel:
        reference = b"".join(c.data for c in images_pb2_grpc.ImagesServiceStub(channel).Save(
            images_pb2.SaveImagesRequest(references=["wire:1"], format="docker"),
            timeout=GUARD))
    assert len(archive) == len(reference)
    client.images.Remove(images_pb2.RemoveImageRequest(reference="wire:1"), timeout=GUARD)

    def requests():
        yield images_pb2.LoadImagesRequest(options=images_pb2.LoadOptions(quiet=True))
        for offset in range(0, len(archive), 1 << 16):
            yield images_pb2.LoadImagesRequest(data=archive[offset:offset + (1 << 16)])

    loaded = client.images.Load(requests(), timeout=GUARD)
    assert list(loaded.loaded) == ["wire:1"]
    assert "wire" in daemon.out("images")


def test_pull_progress_stream(daemon, client, registry, pushed_busybox) -> None:
    remote = pushed_busybox(registry, "wire/bb", "amd64")
    progress = list(client.images.Pull(images_pb2.PullRequest(reference=remote), timeout=GUARD))
    assert progress[-1].result  # the final message carries the result
    layers = {p.id for p in progress if p.id}
    assert layers and all(p.status for p in progress[:-1])
    assert json.loads(daemon.out("inspect", remote))[0]["RepoTags"] == [remote]


def test_ctrl_c_during_a_pull_cancels_the_call(engine_factory, registry, busybox_tar) -> None:
    """SIGINT to pyctl while the daemon waits on a stalled layer: pyctl sends RST_STREAM
    CANCEL, exits 130 without a traceback, and the daemon abandons the pull."""
    import signal

    from test_engine_crash import leases, stalled_pull, wait_for

    daemon = engine_factory()
    with stalled_pull(daemon, registry, busybox_tar, "int/bb") as (proxy, pull):
        try:
            assert leases(daemon), "a pull in flight holds a lease"
            pull.send_signal(signal.SIGINT)
        finally:
            _, err = pull.communicate(timeout=GUARD)
        assert pull.returncode == 130, err.decode()
        assert b"Traceback" not in err
        proxy.release.set()  # the download goes on, into a pull nobody waits for
        wait_for(lambda: not leases(daemon), "the abandoned pull to end")
        assert daemon.out("images", "-q") == ""  # cancelled: nothing was tagged
        assert daemon.stop() == 0
