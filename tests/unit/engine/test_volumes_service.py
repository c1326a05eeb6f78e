"""VolumeService over a real metadata database (no mounts: those are in the integration
tests): names, options, filters, inspect's document, in-use refusals, prune and rm -v."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyengine import errors
from pyengine.config import build_config
from pyengine.events import EventBus
from pyengine.store import Database
from pyengine.volumes.model import Volume
from pyengine.volumes.service import VolumeService

CID = "c" * 64


@pytest.fixture
def volumes(tmp_path: Path) -> Iterator[VolumeService]:
    cfg = build_config({}, {"data_root": str(tmp_path / "data")})
    db = Database(tmp_path / "m.db")
    service = VolumeService(cfg, db, EventBus())
    service.open()
    service.recover()
    yield service
    service.close()
    db.close()


def test_create_names_and_options(volumes: VolumeService) -> None:
    v = volumes.create("data.1", options={"type": "tmpfs", "device": "tmpfs", "o": "size=1m"},
                       labels={"a": "b"})
    assert volumes.create("data.1").options == v.options  # an existing name answers it
    doc = volumes.inspect("data.1")
    assert list(doc) == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options",
                         "Scope"]
    assert (doc["Driver"], doc["Labels"], doc["Name"], doc["Scope"]) == \
        ("local", {"a": "b"}, "data.1", "local")
    assert doc["Mountpoint"].endswith("/volumes/data.1/_data")
    assert Path(doc["Mountpoint"]).is_dir()
    anonymous = volumes.create(anonymous=True)
    assert len(anonymous.name) == 64
    assert volumes.inspect(anonymous.name)["Labels"] is None  # docker's null when none
    assert volumes.inspect(anonymous.name)["Options"] is None
    json.dumps(doc)


@pytest.mark.parametrize(("name", "options", "message"), [
    ("a", {}, "create a: volume name is too short, names should be at least two alphanumeric "
              "characters"),
    ("a b", {}, 'create a b: "a b" includes invalid characters for a local volume name, only '
                '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
                "directory, use absolute path"),
    ("-ab", {}, 'create -ab: "-ab" includes invalid characters for a local volume name, only '
                '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
                "directory, use absolute path"),
    ("ok", {"colour": "1"}, 'create ok: invalid option: "colour"'),
    ("ok", {"size": "1"}, "create ok: quota size requested but no quota support"),
    ("ok", {"type": "tmpfs"}, 'create ok: missing required option: "device"'),
])
def test_bad_create_makes_nothing(volumes: VolumeService, name: str, options: dict,
                                  message: str) -> None:
    with pytest.raises(errors.InvalidArgument) as info:
        volumes.create(name, options=options)
    assert str(info.value) == message
    assert volumes.list() == [] and volumes.driver.names_on_disk() == []


def test_list_filters(volumes: VolumeService) -> None:
    volumes.create("alpha", labels={"tier": "db"})
    volumes.create("beta")
    volumes.use(CID, ["beta"])
    names = lambda *f: [v.name for v in volumes.list(f)]  # noqa: E731
    assert names() == ["alpha", "beta"]
    assert names("dangling=true") == ["alpha"]
    assert names("dangling=false") == ["beta"]
    assert names("name=alp") == ["alpha"]
    assert names("label=tier") == names("label=tier=db") == ["alpha"]
    assert names("label=tier=web") == []
    assert names("driver=local") == ["alpha", "beta"]
    with pytest.raises(errors.InvalidArgument, match=r"^Invalid filter 'colour'$"):
        volumes.list(["colour=red"])
    with pytest.raises(errors.InvalidArgument) as info:
        volumes.list(["dangling=maybe"])
    assert str(info.value) == "Invalid filter 'dangling=[maybe]'"


def test_in_use_is_refused_then_rm_v_removes_anonymous_only(volumes: VolumeService) -> None:
    named = volumes.create("kept")
    anonymous = volumes.create(anonymous=True)
    volumes.use(CID, [named.name, anonymous.name])
    for name in (named.name, anonymous.name):
        for force in (False, True):
            with pytest.raises(errors.FailedPrecondition) as info:
                volumes.remove(name, force=force)
            assert str(info.value) == f"remove {name}: volume is in use - [{CID}]"
    assert volumes.forget(CID, remove_anonymous=True) == [anonymous.name]
    assert [v.name for v in volumes.list()] == ["kept"]
    assert volumes.driver.names_on_disk() == ["kept"]
    with pytest.raises(errors.NotFound, match=r"^get nosuch: no such volume$"):
        volumes.remove("nosuch")
    assert volumes.remove("nosuch", force=True) is False


def test_forget_without_v_keeps_anonymous_and_prune_takes_every_unused(
        volumes: VolumeService) -> None:
    anonymous = volumes.create(anonymous=True)
    volumes.create("named", labels={"keep": "yes"})
    volumes.create("other")
    volumes.create("busy")
    volumes.use(CID, [anonymous.name])
    volumes.use("d" * 64, ["busy"])
    assert volumes.forget(CID, remove_anonymous=False) == []
    with pytest.raises(errors.InvalidArgument, match=r"^Invalid filter 'dangling'$"):
        volumes.prune(["dangling=true"])
    gone, _ = volumes.prune(["label!=keep"])
    assert sorted(gone) == sorted([anonymous.name, "other"])
    gone, _ = volumes.prune()
    assert gone == ["named"]
    assert [v.name for v in volumes.list()] == ["busy"]


def test_recover_removes_directories_of_no_volume(volumes: VolumeService) -> None:
    volumes.create("real")
    (volumes.driver.root / "stray" / "_data").mkdir(parents=True)
    volumes.recover()
    assert volumes.driver.names_on_disk() == ["real"]


def test_reconcile_forgets_users_never_recorded(volumes: VolumeService) -> None:
    """A create cut short recorded its volumes' use but not the container: at start-up that
    user goes, with its anonymous volumes."""
    anonymous = volumes.create(anonymous=True)
    volumes.create("named")
    volumes.use(CID, [anonymous.name, "named"])
    volumes.use("d" * 64, ["named"])
    volumes.reconcile(known={"d" * 64}, running=set())
    assert [v.name for v in volumes.list()] == ["named"]
    assert volumes.repo.users() == {"named": ["d" * 64]}


class _CountingDriver:
    """The local driver's mount state in memory (the real mounts: the integration tests)."""

    def __init__(self) -> None:
        self.mounted_names: set[str] = set()

    def mount(self, v: Volume) -> None:
        self.mounted_names.add(v.name)

    def mounted(self, name: str) -> bool:
        return name in self.mounted_names

    def unmount(self, name: str) -> None:
        self.mounted_names.discard(name)


def test_held_mounts_a_stopped_user_s_volumes_for_the_block(volumes: VolumeService) -> None:
    """docker cp with a stopped container: its driver-option volumes mounted for the copy; a
    start meanwhile keeps them mounted until its exit, and the last of both unmounts."""
    volumes.create("opts", options={"type": "tmpfs", "device": "tmpfs"})
    volumes.create("plain")
    volumes.use(CID, ["opts", "plain"])
    driver = _CountingDriver()
    volumes.driver = driver  # type: ignore[assignment]  # the mount calls only
    with volumes.held(CID):
        assert driver.mounted_names == {"opts"}
    assert driver.mounted_names == set()
    with volumes.held(CID):
        volumes.acquire(CID)  # the container starts during the copy
    assert driver.mounted_names == {"opts"}
    with volumes.held(CID):
        volumes.release(CID)  # and exits during the next one
        assert driver.mounted_names == {"opts"}
    assert driver.mounted_names == set()
    with volumes.held(CID):
        volumes.forget(CID, remove_anonymous=False)  # the container is removed meanwhile
        assert driver.mounted_names == {"opts"}
    assert driver.mounted_names == set()
