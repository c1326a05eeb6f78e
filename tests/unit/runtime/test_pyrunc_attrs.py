"""personality, I/O priority, scheduler, LSM and Intel RDT: the config glue (linux/attrs.py)
calls the syscall seam with the right numbers, and what cannot be applied is refused (the
kernel faked; the integration tests check the real effect)."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import cast

import pytest
from pyrunc.errors import ConfigError, KernelError, NotSupported
from pyrunc.linux import attrs, lsm, resctrl
from pyrunc.linux.syscalls import Syscalls
from pyrunc.spec.model import Config, Process, decode, decode_config


def _config(data: dict) -> Config:
    """A whole config around ``data`` (its linux part), decoded."""
    return decode_config({"ociVersion": "1.0.2", "root": {"path": "rootfs"}, **data})


def _process(data: dict) -> Process:
    """A process around ``data``, decoded."""
    return decode(Process, {"args": ["true"], "cwd": "/", **data}, "process")


class RecordingSyscalls:
    def __init__(self, fail: int = 0) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.fail = fail

    def _record(self, *call: object) -> None:
        self.calls.append(call)
        if self.fail:
            raise OSError(self.fail, "fake")

    def personality(self, persona: int) -> int:
        self._record("personality", persona)
        return 0

    def ioprio_set(self, which: int, who: int, ioprio: int) -> None:
        self._record("ioprio_set", which, who, ioprio)

    def sched_setattr(self, pid: int, policy: int, flags: int = 0, nice: int = 0,
                      priority: int = 0, runtime: int = 0, deadline: int = 0,
                      period: int = 0) -> None:
        self._record("sched_setattr", pid, policy, flags, nice, priority, runtime, deadline,
                     period)


def _seam(fail: int = 0) -> tuple[RecordingSyscalls, Syscalls]:
    fake = RecordingSyscalls(fail)
    return fake, cast(Syscalls, fake)


def test_apply_config_and_process_call_the_seam() -> None:
    fake, sc = _seam()
    attrs.apply_config(sc, _config({"linux": {"personality": {"domain": "LINUX32"}}}))
    attrs.apply_process(sc, _process({
        "ioPriority": {"class": "IOPRIO_CLASS_IDLE", "priority": 3},
        "scheduler": {"policy": "SCHED_DEADLINE", "flags": ["SCHED_FLAG_RESET_ON_FORK"],
                      "runtime": 1, "deadline": 2, "period": 3}}))
    assert fake.calls == [("personality", 0x8), ("ioprio_set", 1, 0, 3 << 13 | 3),
                        ("sched_setattr", 0, 6, 0x1, 0, 0, 1, 2, 3)]


def test_nothing_is_called_without_the_fields() -> None:
    fake, sc = _seam()
    attrs.apply_config(sc, _config({"linux": {}}))
    attrs.apply_process(sc, _process({}))
    assert fake.calls == []


def test_kernel_refusals_name_the_field() -> None:
    _, sc = _seam(errno.EPERM)
    with pytest.raises(KernelError, match=r"process.scheduler: set SCHED_FIFO"):
        attrs.apply_process(sc, _process({"scheduler": {"policy": "SCHED_FIFO", "priority": 9}}))
    with pytest.raises(KernelError, match=r"process.ioPriority"):
        attrs.apply_process(sc, _process({"ioPriority": {"class": "IOPRIO_CLASS_RT",
                                                         "priority": 0}}))
    with pytest.raises(KernelError, match=r"linux.personality"):
        attrs.apply_config(sc, _config({"linux": {"personality": {"domain": "LINUX"}}}))


def test_lsm_refusals_depend_on_the_host(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.setattr(lsm, "APPARMOR_FS", str(tmp_path / "none"))
    monkeypatch.setattr(lsm, "SELINUX_FS", str(tmp_path / "none"))
    with pytest.raises(ConfigError, match=r"process.apparmorProfile.*not enabled"):
        attrs.check_process(_process({"apparmorProfile": "p"}))
    with pytest.raises(ConfigError, match=r"linux.mountLabel.*not enabled"):
        attrs.check_config(_config({"linux": {"mountLabel": "l"}}))
    (tmp_path / "aa").mkdir()
    (tmp_path / "enabled").write_text("Y\n")
    (tmp_path / "se").mkdir()
    (tmp_path / "se" / "enforce").write_text("1")
    monkeypatch.setattr(lsm, "APPARMOR_FS", str(tmp_path / "aa"))
    monkeypatch.setattr(lsm, "APPARMOR_ENABLED", str(tmp_path / "enabled"))
    monkeypatch.setattr(lsm, "SELINUX_FS", str(tmp_path / "se"))
    attrs.check_process(_process({"apparmorProfile": "p"}))  # applied by the init
    with pytest.raises(NotSupported, match=r"process.selinuxLabel"):
        attrs.check_process(_process({"selinuxLabel": "l"}))


def test_intel_rdt_is_refused_either_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "mountinfo"
    info.write_text("36 25 0:31 / /sys rw - sysfs sysfs rw\n")
    assert not resctrl.resctrl_mounted(str(info))
    info.write_text("40 25 0:40 / /sys/fs/resctrl rw - resctrl resctrl rw\n")
    assert resctrl.resctrl_mounted(str(info))
    monkeypatch.setattr(resctrl, "resctrl_mounted", lambda: False)
    with pytest.raises(ConfigError, match=r"no resctrl"):
        attrs.check_config(_config({"linux": {"intelRdt": {"closID": "x"}}}))
    monkeypatch.setattr(resctrl, "resctrl_mounted", lambda: True)
    with pytest.raises(NotSupported, match=r"linux.intelRdt"):
        attrs.check_config(_config({"linux": {"intelRdt": {"closID": "x"}}}))
