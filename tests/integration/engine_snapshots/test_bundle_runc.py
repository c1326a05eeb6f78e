"""End to end: a busybox layer unpacked into an overlay snapshot, mounted as the rootfs of a
bundle made by build_config/write_bundle, run under the real `runc run` and under pyrunc (the
project's runtime, run from the source tree)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyengine.archive import apply_layer
from pyengine.bundles import ContainerOptions, UserNotFound, build_config, write_bundle
from pyengine.snapshots import OverlaySnapshotter, mount_all, unmount_all

REPO_ROOT = Path(__file__).resolve().parents[3]
PYRUNC = [sys.executable, "-c", "import sys; from pyrunc.cli.main import main; sys.exit(main())"]
RUNTIMES = {"runc": ["runc"], "pyrunc": PYRUNC}

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(not shutil.which("runc") or not os.path.exists("/bin/busybox"),
                                 reason="needs runc and busybox-static")]

PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
GROUP = "root:x:0:\napp:x:1000:\naudio:x:29:app\nvideo:x:44:other,app\nstaff:x:50:\n"
IMAGE = {"architecture": "amd64", "os": "linux",
         "config": {"Env": ["PATH=/bin", "GREETING=hello"], "Cmd": ["sh"],
                    "WorkingDir": "/home/app"}}


def busybox_layer() -> bytes:
    """A busybox rootfs as a layer tar: the binary, applet symlinks, passwd and group."""
    applets = subprocess.run(["/bin/busybox", "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name in ("bin", "etc", "proc", "sys", "dev", "tmp", "home", "home/app", "root"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if name == "tmp" else 0o755
            if name == "home/app":
                info.uid = info.gid = 1000
            tf.addfile(info)
        tf.add("/bin/busybox", "bin/busybox")
        for applet in applets:
            if applet != "busybox":
                info = tarfile.TarInfo(f"bin/{applet}")
                info.type, info.linkname = tarfile.SYMTYPE, "busybox"
                tf.addfile(info)
        for name, text in (("etc/passwd", PASSWD), ("etc/group", GROUP)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture(scope="module")
def image_snapshotter(tmp_path_factory) -> Iterator[OverlaySnapshotter]:
    sn = OverlaySnapshotter(tmp_path_factory.mktemp("snapshots"))
    sn.prepare("extract", None)
    apply_layer(io.BytesIO(busybox_layer()), None, sn.upper_dir("extract"), whiteouts="overlay")
    sn.commit("busybox", "extract")
    yield sn
    sn.close()


class Runner:
    """Runs bundles with runc under a private --root; deletes containers and unmounts after."""

    def __init__(self, tmp_path: Path, sn: OverlaySnapshotter, runtime: list[str]) -> None:
        self.runtime = runtime
        self.env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "runtime")}
        self.tmp_path = tmp_path
        self.sn = sn
        self.state_root = tmp_path / "runc-state"
        self.started: list[str] = []
        self.mounted: list[Path] = []
        self.snapshots: list[str] = []

    def run(self, opts: ContainerOptions, script: str) -> subprocess.CompletedProcess:
        cid = f"pyengine-test-{uuid.uuid4().hex[:12]}"
        bundle = self.tmp_path / cid
        opts.container_id, opts.bundle_dir = cid, bundle
        opts.cgroups_path = f"/{cid}"
        opts.cmd = ["sh", "-c", script]
        self.snapshots.append(cid)
        mounts = self.sn.prepare(cid, "busybox")
        rootfs = bundle / "rootfs"
        rootfs.mkdir(parents=True)
        self.mounted.append(rootfs)
        mount_all(mounts, rootfs)
        config = build_config(IMAGE, opts, rootfs)
        write_bundle(bundle, config)
        self.started.append(cid)
        return subprocess.run([*self.runtime, "--root", str(self.state_root), "run", "--bundle",
                               str(bundle), cid], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL, env=self.env)

    def cleanup(self) -> None:
        for cid in self.started:
            subprocess.run([*self.runtime, "--root", str(self.state_root), "delete", "-f", cid],
                           capture_output=True, env=self.env)
            for controller in Path("/sys/fs/cgroup").iterdir():
                leftover = controller / cid
                if leftover.is_dir():
                    leftover.rmdir()
        for target in self.mounted:
            unmount_all(target)
        for key in self.snapshots:
            self.sn.remove(key)


def _assert_pyrunc_importable() -> None:
    probe = subprocess.run([sys.executable, "-c", "import pyrunc.cli.main"], capture_output=True,
                           text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "runtime")})
    assert probe.returncode == 0, f"pyrunc cannot be imported from the source tree: {probe.stderr}"


@pytest.fixture(params=sorted(RUNTIMES))
def runner(request, tmp_path: Path, image_snapshotter: OverlaySnapshotter) -> Iterator[Runner]:
    if request.param == "pyrunc":
        _assert_pyrunc_importable()
    r = Runner(tmp_path, image_snapshotter, RUNTIMES[request.param])
    yield r
    r.cleanup()


def test_runs_as_named_user_with_groups_env_and_etc_files(runner: Runner) -> None:
    opts = ContainerOptions(user="app", hostname="box1", env=["EXTRA=1"])
    script = ("id; pwd; echo $GREETING $EXTRA $HOME $HOSTNAME; hostname; cat /etc/hostname; "
              "grep -c localhost /etc/hosts; grep -c nameserver /etc/resolv.conf")
    result = runner.run(opts, script)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # docker's: the primary group is a supplementary group too (the kernel sorts them)
    assert lines[0] == "uid=1000(app) gid=1000(app) groups=29(audio),44(video),1000(app)"
    assert lines[1] == "/home/app"
    assert lines[2] == "hello 1 /home/app box1"
    assert lines[3:5] == ["box1", "box1"]
    assert int(lines[5]) >= 1 and int(lines[6]) >= 1


@pytest.mark.parametrize("user,expected", [
    ("1000", "uid=1000(app) gid=1000(app) groups=29(audio),44(video),1000(app)"),
    ("1000:50", "uid=1000(app) gid=50(staff) groups=50(staff)"),
    ("0", "uid=0(root) gid=0(root) groups=0(root)"),
    ("4242:4343", "uid=4242 gid=4343 groups=4343"),
])
def test_user_forms(runner: Runner, user: str, expected: str) -> None:
    result = runner.run(ContainerOptions(user=user), "id")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_default_seccomp_and_capabilities_confine(runner: Runner) -> None:
    script = ("grep -E '^(Seccomp|CapBnd)' /proc/self/status; "
              "unshare -n true 2>/dev/null; echo unshare=$?; "
              "mount -t tmpfs none /mnt 2>/dev/null; echo mount=$?; "
              "touch /proc/sys/kernel/x 2>/dev/null; echo procsys=$?; "
              "cat /proc/kcore 2>/dev/null | head -c1 | wc -c")
    result = runner.run(ContainerOptions(), script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Seccomp:\t2" in out
    assert "CapBnd:\t00000000a80425fb" in out  # docker's default capability set
    assert "unshare=1" in out and "mount=1" in out and "procsys=1" in out
    assert out.strip().endswith("0")  # /proc/kcore is masked


def test_unknown_user_fails_before_running(tmp_path: Path,
                                           image_snapshotter: OverlaySnapshotter) -> None:
    image_snapshotter.view("inspect", "busybox")
    try:
        rootfs = image_snapshotter.parent_dirs("inspect")[0]
        with pytest.raises(UserNotFound):
            build_config(IMAGE, ContainerOptions(user="nobody"), rootfs)
    finally:
        image_snapshotter.remove("inspect")
