"""pyrunc run by an unprivileged user (rootless): what works on this kernel.

Works: `spec --rootless`, create/start/run/exec/state/kill/delete with a user namespace mapping
the caller's own uid and gid to root (single-range mappings written by pyrunc itself), a state
root under $XDG_RUNTIME_DIR or /tmp/pyrunc-<uid>, no cgroups (no delegation: permission errors
are tolerated as with runc's --rootless auto, and limits are refused). Not supported: multi-range
mappings (they need newuidmap/newgidmap) and cgroup limits without a delegated subtree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.root  # root prepares the bundle and drops to an unprivileged uid

REPO = Path(__file__).resolve().parents[3]
UID = 64123  # no passwd entry needed
# The distribution's interpreter (tools/setup installs it with python3-jsonschema): readable by
# any uid, unlike an interpreter under root's home. Its minor version differs between releases.
DEBIAN_PYTHON = "/usr/bin/python3"


@pytest.fixture
def env():
    assert os.path.exists(DEBIAN_PYTHON), f"{DEBIAN_PYTHON} missing: run tools/setup"
    assert shutil.which("setpriv"), "setpriv (util-linux) missing"
    top = Path(tempfile.mkdtemp(prefix="pyrunc-rootless-", dir="/tmp"))  # pytest's is 0700
    top.chmod(0o755)
    home = top / "home"
    home.mkdir()
    launcher = home / "pyrunc"
    subprocess.run([DEBIAN_PYTHON, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                    "from pyrunc.launcher import install; install(sys.argv[2])",
                    str(REPO / "runtime"), str(launcher)], check=True)
    bundle = home / "bundle"
    bundle.mkdir()
    subprocess.run([str(REPO / "tools/mkrootfs-busybox"), str(bundle / "rootfs")], check=True,
                   capture_output=True)
    runtime_dir = home / "run"
    runtime_dir.mkdir()
    for path in (home, bundle, runtime_dir):
        os.chown(path, UID, UID)
    subprocess.run(["chown", "-R", f"{UID}:{UID}", str(bundle)], check=True)

    def pyrunc(*args: str, check: bool = False) -> subprocess.CompletedProcess:
        # A detached container keeps the stdio it inherited: no capture pipes for it.
        detached = "--detach" in args
        out = subprocess.DEVNULL if detached else subprocess.PIPE
        return subprocess.run(
            ["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups", str(launcher),
             *args], cwd=bundle, stdout=out, stderr=out, stdin=subprocess.DEVNULL, text=True,
            timeout=60, check=check,
            env={"XDG_RUNTIME_DIR": str(runtime_dir), "PATH": "/usr/bin:/bin"})

    try:
        yield pyrunc, bundle, runtime_dir
    finally:
        for cid in ("rl1", "rl2"):
            pyrunc("delete", "--force", cid)
        shutil.rmtree(top, ignore_errors=True)


def _config(bundle: Path, args: list[str]) -> None:
    path = bundle / "config.json"
    config = json.loads(path.read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = args
    path.write_text(json.dumps(config))


def test_rootless_spec_run_exec_delete(env) -> None:
    pyrunc, bundle, runtime_dir = env
    assert pyrunc("spec", "--rootless").returncode == 0
    config = json.loads((bundle / "config.json").read_text())
    assert config["linux"]["uidMappings"] == [{"containerID": 0, "hostID": UID, "size": 1}]
    assert "user" in [ns["type"] for ns in config["linux"]["namespaces"]]

    _config(bundle, ["sh", "-c", "id -u; cat /proc/self/uid_map; hostname"])
    r = pyrunc("run", "rl1")
    assert r.returncode == 0, r.stderr
    uid, uid_map, hostname = r.stdout.split("\n")[:3]
    assert uid == "0"
    assert uid_map.split() == ["0", str(UID), "1"]
    assert hostname == "runc"
    assert not (runtime_dir / "pyrunc" / "rl1").exists()

    _config(bundle, ["sleep", "60"])
    assert pyrunc("run", "--detach", "rl2").returncode == 0
    state = json.loads(pyrunc("state", "rl2", check=True).stdout)
    assert state["status"] == "running"
    assert Path(f"/proc/{state['pid']}").stat().st_uid == UID  # the host sees our uid
    r = pyrunc("exec", "rl2", "id", "-u")
    assert (r.returncode, r.stdout.strip()) == (0, "0"), r.stderr
    assert pyrunc("kill", "rl2", "KILL").returncode == 0
    assert pyrunc("delete", "--force", "rl2").returncode == 0
    assert not (runtime_dir / "pyrunc" / "rl2").exists()


def test_rootless_refuses_limits_it_cannot_enforce(env) -> None:
    pyrunc, bundle, runtime_dir = env
    assert pyrunc("spec", "--rootless").returncode == 0
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = ["true"]
    config["linux"]["resources"] = {"memory": {"limit": 64 << 20}}
    (bundle / "config.json").write_text(json.dumps(config))
    r = pyrunc("run", "rl1")
    assert r.returncode != 0
    assert "Permission denied" in r.stderr and "cgroup" in r.stderr
    assert not (runtime_dir / "pyrunc" / "rl1").exists()
