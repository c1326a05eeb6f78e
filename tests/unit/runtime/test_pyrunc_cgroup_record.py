"""pyrunc.cgroup_record on plain directory trees: the freezer read and the manager-free removal
of a stopped container's cgroup (and when it must leave the work to the manager)."""

from __future__ import annotations

from pathlib import Path

from pyrunc import cgroup_record


def _record(tmp_path: Path, created_parent: bool = True) -> dict:
    roots = {"cpu": str(tmp_path / "cpu"), "memory": str(tmp_path / "memory"),
             "": str(tmp_path / "unified")}
    paths = {key: f"{root}/parent/c1" for key, root in roots.items()}
    for path in paths.values():
        Path(path).mkdir(parents=True)
    created = [f"{root}/parent" for root in roots.values()] if created_parent else []
    return {"mode": "hybrid", "paths": paths, "roots": roots,
            "created": created + list(paths.values())}


def test_removes_leaves_and_created_parents(tmp_path: Path) -> None:
    saved = _record(tmp_path)
    assert cgroup_record.remove_if_empty(saved)
    for root in saved["roots"].values():
        assert Path(root).is_dir()  # roots are never touched
        assert not (Path(root) / "parent").exists()


def test_keeps_parents_it_did_not_create_or_that_are_shared(tmp_path: Path) -> None:
    saved = _record(tmp_path, created_parent=False)
    (Path(saved["roots"]["cpu"]) / "parent" / "sibling").mkdir()
    assert cgroup_record.remove_if_empty(saved)
    assert (Path(saved["roots"]["memory"]) / "parent").is_dir()
    assert (Path(saved["roots"]["cpu"]) / "parent" / "sibling").is_dir()


def test_missing_directories_are_fine(tmp_path: Path) -> None:
    saved = _record(tmp_path)
    Path(saved["paths"]["memory"]).rmdir()
    assert cgroup_record.remove_if_empty(saved)


def test_a_busy_directory_is_left_to_the_manager(tmp_path: Path) -> None:
    saved = _record(tmp_path)
    (Path(saved["paths"]["memory"]) / "child").mkdir()  # rmdir: ENOTEMPTY, like EBUSY
    assert not cgroup_record.remove_if_empty(saved)
    assert Path(saved["paths"]["memory"]).is_dir()


def test_co_mounted_controllers_share_a_directory(tmp_path: Path) -> None:
    shared = tmp_path / "cpu,cpuacct"
    (shared / "c1").mkdir(parents=True)
    saved = {"paths": {"cpu": str(shared / "c1"), "cpuacct": str(shared / "c1")},
             "roots": {"cpu": str(shared), "cpuacct": str(shared)}, "created": [str(shared / "c1")]}
    assert cgroup_record.remove_if_empty(saved)
    assert not (shared / "c1").exists()


def test_malformed_records_are_left_to_the_manager() -> None:
    assert not cgroup_record.remove_if_empty({"paths": None})
    assert not cgroup_record.remove_if_empty({})


def test_frozen_reads_v1_freezer_and_v2_freeze(tmp_path: Path) -> None:
    (tmp_path / "freezer.state").write_text("FROZEN\n")
    assert cgroup_record.frozen({"paths": {"freezer": str(tmp_path)}})
    (tmp_path / "freezer.state").write_text("THAWED\n")
    assert not cgroup_record.frozen({"paths": {"freezer": str(tmp_path)}})
    (tmp_path / "cgroup.freeze").write_text("1\n")
    assert cgroup_record.frozen({"paths": {"": str(tmp_path)}})
    assert not cgroup_record.frozen({"paths": {"": str(tmp_path / "gone")}})
    assert not cgroup_record.frozen(None)


def test_paths_the_system_cannot_name_count_as_gone(tmp_path: Path) -> None:
    """What a create with a NUL or lone surrogate in cgroupsPath recorded before failing: no
    such directory can exist, so there is nothing to remove (and no crash)."""
    for bad in ("\x00", "\ud800"):
        saved = {"mode": "v2", "paths": {"": f"{tmp_path}/c{bad}1"}, "roots": {"": str(tmp_path)},
                 "created": [f"{tmp_path}/p{bad}", f"{tmp_path}/c{bad}1"]}
        assert not cgroup_record.frozen(saved)
        assert cgroup_record.remove_if_empty(saved)
