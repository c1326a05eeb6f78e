"""The composition root (Engine) and engine-level GC roots: a fake container domain pins an
image; rmi refuses it with docker's messages unless forced, prune skips it, GC keeps its blobs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyengine import errors
from pyengine.config import build_config
from pyengine.engine import Engine
from pyengine.gc import ImageUse, Roots
from pyengine.images.service import RemoveItem
from pyengine.store import ImageRecord

HOLDER = "0123456789ab" + "c" * 52


class FakeContainers:
    """A domain of one container using one image (the real containers domain is tested with
    real shims in tests/integration/engine_containers)."""

    name = "fake-containers"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.image_id = ""
        self.running = False
        self.events: list[str] = []

    def open(self) -> None:
        self.events.append("open")
        self.engine.collector.register(self.name, self.roots)

    def recover(self) -> None:
        self.events.append("recover")

    def close(self) -> None:
        self.events.append("close")
        self.engine.collector.unregister(self.name)

    def roots(self) -> Roots:
        if not self.image_id:
            return Roots()
        return Roots(images=[ImageUse(self.image_id, HOLDER, self.running)])


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    cfg = build_config({}, {"data_root": str(tmp_path / "data"), "storage_driver": "native"})
    cfg.data_root.mkdir()
    eng = Engine(cfg)
    eng.open()
    try:
        yield eng
    finally:
        eng.close()


def put_image(engine: Engine, tag: str) -> ImageRecord:
    """An image made of a config and a manifest blob (no layers needed for names and GC)."""
    content = engine.content
    config = content.write_blob(json.dumps({"created": "2024-01-01T00:00:00Z", "os": "linux",
                                            "architecture": "amd64", "tag": tag}).encode())
    manifest = content.write_blob(json.dumps({"schemaVersion": 2, "config": {
        "digest": config}, "layers": []}).encode())
    record = ImageRecord(config, manifest, "application/vnd.oci.image.manifest.v1+json", None,
                         "2024-01-01T00:00:00Z", "linux", "amd64", "", "", 0, "now")
    engine.images.repo.put_image(record, [config, manifest], [(tag, "tag")])
    return record


def test_domains_open_recover_close_in_order(tmp_path: Path) -> None:
    cfg = build_config({}, {"data_root": str(tmp_path / "data"), "storage_driver": "native"})
    cfg.data_root.mkdir()
    made: list[FakeContainers] = []

    def containers(eng: Engine) -> FakeContainers:
        made.append(FakeContainers(eng))
        return made[-1]

    eng = Engine(cfg, [containers])
    eng.open()
    assert [d.name for d in eng.domains] == ["images", "volumes", "networks", "containers",
                                            "builds", "fake-containers"]
    eng.recover()
    eng.close()
    assert made[0].events == ["open", "recover", "close"]
    assert eng.db is None


def test_rmi_refuses_an_image_a_container_uses(engine: Engine) -> None:
    images = engine.images
    image = put_image(engine, "docker.io/library/busybox:latest")
    short = image.id.split(":")[1][:12]
    fake = FakeContainers(engine)
    fake.open()
    fake.image_id = image.id

    with pytest.raises(errors.FailedPrecondition) as err:
        images.remove("busybox")
    assert str(err.value) == (
        'conflict: unable to remove repository reference "busybox" (must force) - '
        f"container 0123456789ab is using its referenced image {short}"
    )
    with pytest.raises(errors.FailedPrecondition, match=(
            rf"^conflict: unable to delete {short} \(must be forced\) - image is being used by "
            r"stopped container 0123456789ab$")):
        images.remove(image.id)

    fake.running = True
    with pytest.raises(errors.FailedPrecondition, match=(
            rf"^conflict: unable to delete {short} \(cannot be forced\) - image is being used by "
            r"running container 0123456789ab$")):
        images.remove(short, force=True)
    # a second tag can go: the image keeps a name
    images.tag("busybox", "other:1")
    assert images.remove("other:1") == [RemoveItem(untagged="other:1")]

    # forced by name: untagged, but the image and its blobs stay for the container
    assert images.remove("busybox", force=True) == [RemoveItem(untagged="busybox:latest")]
    assert images.resolve_local(image.id).id == image.id
    assert images.prune(all_images=True) == ([], 0)
    assert engine.content.exists(image.id) and engine.content.exists(image.manifest_digest)

    # once the container is gone the dangling image can be removed and collected
    fake.close()
    assert images.remove(image.id) == [RemoveItem(deleted=image.id)]
    assert not engine.content.exists(image.id)


def test_gc_keeps_what_any_domain_pins(engine: Engine) -> None:
    blob = engine.content.write_blob(b"a container's own blob")
    engine.collector.register("containers", lambda: Roots(blobs={blob}))
    assert engine.collector.collect().blobs == []
    engine.collector.unregister("containers")
    assert engine.collector.collect().blobs == [blob]
