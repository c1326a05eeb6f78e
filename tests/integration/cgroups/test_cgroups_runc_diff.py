"""Differential checks against runc 1.1.5: cgroup paths for each cgroupsPath form, and the shape
of ``runc events --stats`` against ``Manager.stats()`` for the same cgroups."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from pyrunc.cgroups import new_manager
from pyrunc.cgroups.hybrid import HybridManager
from pyrunc.cgroups.layout import UNIFIED

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("runc") is None:
        pytest.skip("runc not installed")
    path = tmp_path_factory.mktemp("bundle")
    subprocess.run([str(REPO / "tools" / "mkrootfs-busybox"), str(path / "rootfs")],
                   check=True, capture_output=True)
    subprocess.run(["runc", "spec"], cwd=path, check=True)
    return path


def run_runc(bundle: Path, root: Path, cid: str, cgroups_path: str | None) -> dict:
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = ["sleep", "100"]
    config["linux"]["resources"]["memory"] = {"limit": 64 << 20}
    config["linux"]["resources"]["pids"] = {"limit": 30}
    if cgroups_path is None:
        config["linux"].pop("cgroupsPath", None)
    else:
        config["linux"]["cgroupsPath"] = cgroups_path
    (bundle / "config.json").write_text(json.dumps(config))
    subprocess.run(["runc", "--root", str(root), "run", "-d", cid], cwd=bundle, check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=60)
    return json.loads((root / cid / "state.json").read_text())


@pytest.mark.parametrize("form", ["empty", "relative", "absolute"])
def test_paths_and_stats_match_runc(bundle: Path, tmp_path: Path, form: str) -> None:
    cid = f"pyrunc-diff-{uuid.uuid4().hex[:8]}"
    cgroups_path = {"empty": None, "relative": f"{cid}-rel/c",
                    "absolute": f"/{cid}-abs/c"}[form]
    root = tmp_path / "runc-root"
    ours = new_manager(cgroups_path, cid)
    try:
        state = run_runc(bundle, root, cid, cgroups_path)
        assert ours.paths == state["cgroup_paths"]
        # `runc run -d` returns while runc's exited helpers may still be counted in pids.current
        # (zombies until reaped, by pid 1 here): compare once only the container's init is left.
        pids_current = Path(state["cgroup_paths"]["pids"], "pids.current")
        deadline = time.monotonic() + 60
        while pids_current.read_text().strip() != "1" and time.monotonic() < deadline:
            time.sleep(0.02)
        events = subprocess.run(["runc", "--root", str(root), "events", "--stats", cid],
                                check=True, capture_output=True, text=True, timeout=30)
        theirs = json.loads(events.stdout)["data"]
        mine = HybridManager(state["cgroup_paths"], ours.roots).stats()
        assert set(mine) == set(theirs)
        for section in ("cpuset", "pids"):
            assert mine[section] == theirs[section] or set(mine[section]) == \
                set(theirs[section]), section
        assert set(mine["memory"]) == set(theirs["memory"])
        for entry in ("usage", "swap", "kernel"):
            assert set(mine["memory"][entry]) <= set(theirs["memory"][entry]) | {"usage", "max"}
        assert mine["memory"]["usage"]["limit"] == theirs["memory"]["usage"]["limit"]
        assert mine["pids"] == theirs["pids"] == {"current": 1, "limit": 30}
        assert set(mine["cpu"]["usage"]) >= {"kernel", "user", "percpu"}
        # runc 1.1 reads hugetlb from v1 only; here it lives on cgroup2, which pyrunc reads when
        # the container's directory has the controller (its parent enabled it: some other
        # cgroup2 user may have done so at the root, then the "empty" form sees it)
        assert theirs["hugetlb"] == {}
        unified = ours.paths.get(UNIFIED, "")
        if unified and glob.glob(os.path.join(unified, "hugetlb.*.max")):
            assert mine["hugetlb"] and all("failcnt" in v for v in mine["hugetlb"].values())
        else:
            assert mine["hugetlb"] == {}
    finally:
        subprocess.run(["runc", "--root", str(root), "delete", "-f", cid],
                       capture_output=True, check=False, timeout=60)
        # runc removes the container's directory, not the parents it created.
        for path in ours.paths.values():
            leftovers = [Path(path)]
            if form != "empty":
                leftovers.append(Path(path).parent)
            for leftover in leftovers:
                if leftover.is_dir():
                    leftover.rmdir()
