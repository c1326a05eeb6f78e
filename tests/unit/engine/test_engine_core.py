"""Engine core without a daemon: config merge, names, chain IDs, changes,
error mapping, progress channel."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import grpc
import pytest
from pyengine import errors
from pyengine.config import DaemonConfig, build_config, load_file
from pyengine.images import naming
from pyengine.images.importer import apply_changes
from pyengine.images.inspect import history_entries, parse_time
from pyengine.images.layers import chain_ids
from pyengine.images.locks import SharedExclusiveLock
from pyengine.progress import Cancelled, ProgressChannel
from pyengine.services.errors import status_for
from pyengine.store import ImageRecord

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def image(id_: str, chain: str = D1) -> ImageRecord:
    return ImageRecord(id_, D2, "application/vnd.oci.image.manifest.v1+json", None,
                       "2024-01-01T00:00:00Z", "linux", "amd64", "", chain, 10, "now")


# -- config ------------------------------------------------------------------------------------

def test_config_file_and_flags_merge(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    path.write_text('{"insecure-registries": ["reg:5000"], "storage-driver": "native",'
                    ' "max-layer-size": 1000}')
    cfg = build_config(load_file(path), {"data_root": str(tmp_path / "d")})
    assert cfg.insecure_registries == ["reg:5000"]
    assert cfg.storage_driver == "native"
    assert cfg.max_layer_size == 1000
    assert cfg.data_root == tmp_path / "d"
    assert cfg.pid_path == DaemonConfig().exec_root / "pyengined.pid"


def test_config_conflicts_and_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    path.write_text('{"log-level": "debug"}')
    with pytest.raises(errors.InvalidArgument, match="both as a flag"):
        build_config(load_file(path), {"log_level": "info"})
    path.write_text('{"bogus": 1}')
    with pytest.raises(errors.InvalidArgument, match="unknown keys: bogus"):
        load_file(path)
    with pytest.raises(errors.InvalidArgument, match="mutual TLS"):
        build_config({}, {"hosts": ["tcp://127.0.0.1:2376"]})
    with pytest.raises(errors.InvalidArgument, match="storage-driver"):
        build_config({"storage_driver": "zfs"}, {})


# -- names, chain IDs, history -----------------------------------------------------------------

def test_naming() -> None:
    ref = naming.parse("busybox")
    assert naming.tag_name(ref) == "docker.io/library/busybox:latest"
    assert naming.familiar("docker.io/library/busybox:latest") == "busybox:latest"
    assert naming.familiar("127.0.0.1:5000/a/b:v1") == "127.0.0.1:5000/a/b:v1"
    assert naming.split_name("127.0.0.1:5000/a@" + D1) == ("127.0.0.1:5000/a", "", D1)
    assert naming.split_name("localhost:5000/a") == ("localhost:5000/a", "", "")
    assert naming.looks_like_id("584712b2ad71") == "584712b2ad71"
    assert naming.looks_like_id("busybox") is None
    with pytest.raises(errors.InvalidArgument):
        naming.parse("busybox:bad tag!")


def test_chain_ids_follow_the_image_spec() -> None:
    expected = "sha256:" + hashlib.sha256(f"{D1} {D2}".encode()).hexdigest()
    assert chain_ids([D1, D2]) == [D1, expected]
    assert chain_ids([]) == []


def test_history_sizes_and_ids() -> None:
    config = {"rootfs": {"diff_ids": [D1, D2]}, "history": [
        {"created": "2024-01-01T00:00:00Z", "created_by": "ADD rootfs"},
        {"created": "2024-01-02T00:00:00.123456789Z", "created_by": "ENV x", "empty_layer": True},
        {"created": "2024-01-03T00:00:00Z", "created_by": "RUN y"},
    ]}
    top = "sha256:" + "c" * 64
    rows = history_entries(config, {D1: 100, D2: 7}, [(top, ["x:latest"])])
    assert [r.size for r in rows] == [7, 0, 100]
    assert rows[0].id == top and rows[1].id == "<missing>"
    assert rows[0].tags == ["x:latest"] and rows[1].tags == []
    # a committed image's parents name the next rows down, one each (dockerd's walk)
    parent = "sha256:" + "d" * 64
    rows = history_entries(config, {}, [(top, []), (parent, ["base:1"])])
    assert [(r.id, r.tags) for r in rows] == [(top, []), (parent, ["base:1"]),
                                              ("<missing>", [])]
    assert parse_time("2024-01-02T00:00:00.123456789Z") == 1704153600


def test_import_changes() -> None:
    cfg = apply_changes({}, ['CMD ["sh"]', "ENTRYPOINT echo hi", "ENV A=1 B=2", "ENV A 3",
                             "WORKDIR /w", "USER nobody", "EXPOSE 80 53/udp", "LABEL k=v",
                             "VOLUME /data", "STOPSIGNAL SIGKILL"])
    assert cfg["Cmd"] == ["sh"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-c", "echo hi"]
    assert cfg["Env"] == ["B=2", "A=3"]
    assert cfg["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert cfg["Labels"] == {"k": "v"} and cfg["Volumes"] == {"/data": {}}
    assert (cfg["WorkingDir"], cfg["User"], cfg["StopSignal"]) == ("/w", "nobody", "SIGKILL")
    with pytest.raises(errors.InvalidArgument):
        apply_changes({}, ["RUN rm -rf /"])


# -- edge mapping, progress, locks -------------------------------------------------------------

@pytest.mark.parametrize(
    ("err", "code"),
    [(errors.NotFound("No such image: x"), grpc.StatusCode.NOT_FOUND),
     (errors.AlreadyExists("x"), grpc.StatusCode.ALREADY_EXISTS),
     (errors.InvalidArgument("x"), grpc.StatusCode.INVALID_ARGUMENT),
     (errors.FailedPrecondition("x"), grpc.StatusCode.FAILED_PRECONDITION),
     (errors.Unauthenticated("x"), grpc.StatusCode.UNAUTHENTICATED),
     (errors.PermissionDenied("x"), grpc.StatusCode.PERMISSION_DENIED),
     (errors.Unavailable("x"), grpc.StatusCode.UNAVAILABLE),
     (errors.DataLoss("x"), grpc.StatusCode.DATA_LOSS),
     (errors.ResourceExhausted("x"), grpc.StatusCode.RESOURCE_EXHAUSTED),
     (Cancelled("x"), grpc.StatusCode.CANCELLED),
     (OSError(28, "No space left on device"), grpc.StatusCode.RESOURCE_EXHAUSTED),
     (KeyError("x"), grpc.StatusCode.INTERNAL)],
)
def test_status_mapping(err: BaseException, code: grpc.StatusCode) -> None:
    assert status_for(err)[0] == code


def test_status_message_names_the_object() -> None:
    assert status_for(errors.NotFound("No such image: busybox:latest"))[1] == \
        "No such image: busybox:latest"


def test_progress_channel_runs_job_and_propagates_errors() -> None:
    def job(channel: ProgressChannel) -> None:
        channel.report("abc", "Downloading", 1, 2)
        channel.finish("done")
        raise errors.DataLoss("bad digest")

    channel = ProgressChannel()
    seen = []
    with pytest.raises(errors.DataLoss):
        for report in channel.run(job):
            seen.append((report.id, report.status, report.result))
    assert seen == [("abc", "Downloading", ""), ("", "", "done")]


def test_progress_channel_cancel() -> None:
    channel = ProgressChannel()
    channel.cancel()
    with pytest.raises(Cancelled):
        channel.report("x", "Waiting")


def test_shared_exclusive_lock() -> None:
    lock = SharedExclusiveLock()
    order = []
    with lock.shared():
        worker = threading.Thread(target=lambda: (lock.exclusive().__enter__(),
                                                  order.append("exclusive")))
        worker.start()
        worker.join(0.05)
        order.append("shared-done")
    worker.join()
    assert order == ["shared-done", "exclusive"]
