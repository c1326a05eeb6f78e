"""Ordering inside the init, with the kernel faked: device nodes wait for the device cgroup
rules (before_dev), and the init's fork falls back to fork + cgroup.procs when the kernel
refuses clone3(CLONE_INTO_CGROUP)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from pyrunc.linux import devices, init, mounts, rootfs
from pyrunc.spec.model import Mount, decode_config


class NullSyscalls:
    """Accepts every mount call; records nothing the tests need."""

    def mount(self, *args: object) -> None:
        pass


def test_device_nodes_are_made_after_before_dev(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    events: list[str] = []
    monkeypatch.setattr(rootfs, "_make_parent_private", lambda sc, path: None)
    def mount_entry(sc: object, root: str, bundle: str, m: Mount, *rest: object) -> None:
        events.append(f"mount {m.destination}")

    monkeypatch.setattr(mounts, "mount_entry", mount_entry)
    monkeypatch.setattr(devices, "setup_dev", lambda *args: events.append("devices"))
    monkeypatch.setattr(rootfs, "_pivot", lambda sc, path: events.append("pivot"))
    config = decode_config({"ociVersion": "1.0.2", "root": {"path": "rootfs"},
                            "mounts": [{"destination": "/proc", "type": "proc"},
                                       {"destination": "/dev", "type": "tmpfs"}],
                            "linux": {}})
    rootfs.prepare(NullSyscalls(), config, str(tmp_path), str(tmp_path), False,  # type: ignore[arg-type]
                   lambda: events.append("before_pivot"), False,
                   before_dev=lambda: events.append("before_dev"))
    assert events == ["mount /proc", "mount /dev", "before_dev", "devices", "before_pivot",
                      "pivot"]


class ForkSeam:
    def __init__(self, result: int | OSError) -> None:
        self.result = result
        self.fds: list[int] = []

    def fork_into_cgroup(self, cgroup_fd: int) -> int:
        self.fds.append(cgroup_fd)
        os.fstat(cgroup_fd)  # open while the call runs
        if isinstance(self.result, OSError):
            raise self.result
        return self.result


def _spec(seam: ForkSeam, join: list[str]) -> init.InitSpec:
    spec = init.InitSpec()
    spec.sc = seam  # type: ignore[assignment]
    spec.stage1_join = join
    return spec


def test_fork_init_is_born_in_the_first_v2_directory(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("plain fork used"))
    seam = ForkSeam(4321)
    assert init._fork_init(_spec(seam, [str(tmp_path), "/other"])) == (4321, str(tmp_path))
    assert len(seam.fds) == 1
    with pytest.raises(OSError):
        os.fstat(seam.fds[0])  # closed afterwards


@pytest.mark.parametrize("err", [errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBUSY])
def test_fork_init_falls_back_when_the_kernel_refuses(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path, err: int) -> None:
    monkeypatch.setattr(os, "fork", lambda: 999)
    seam = ForkSeam(OSError(err, os.strerror(err)))
    assert init._fork_init(_spec(seam, [str(tmp_path)])) == (999, "")


def test_fork_init_without_a_v2_directory_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fork", lambda: 998)
    seam = ForkSeam(1)
    assert init._fork_init(_spec(seam, [])) == (998, "")
    assert seam.fds == []


def test_a_child_that_failed_keeps_its_own_error() -> None:
    """P answers (cgroups-ok, ...) a child that has just reported an error and exited: the
    send meets a broken pipe, and the child's report must still be what P reads next."""
    from pyrunc import create

    ours, theirs = create._socketpair()
    try:
        init.send(theirs, "error", "KernelError:mount nosuchfs on /mnt/e: No such device")
        os.close(theirs)
        theirs = -1
        create._tell(ours, "cgroups-ok")  # no BrokenPipeError
        tag, payload, _ = create._recv(ours, False)
        assert (tag, payload) == ("error", "KernelError:mount nosuchfs on /mnt/e: No such device")
        assert str(init.child_error(payload)) == "mount nosuchfs on /mnt/e: No such device"
        assert create._recv(ours, False)[0] == "eof"
    finally:
        os.close(ours)
        if theirs >= 0:
            os.close(theirs)
