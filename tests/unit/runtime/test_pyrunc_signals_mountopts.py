"""pyrunc.signals.parse (kill's signal argument) and pyrunc.linux.mountopts.parse."""

from __future__ import annotations

import signal

import pytest
from pyrunc import signals
from pyrunc.errors import UsageError
from pyrunc.linux import mountopts
from pyrunc.linux import syscalls as s


@pytest.mark.parametrize(("text", "num"), [
    ("9", 9), ("15", 15), ("1", 1), ("64", 64),
    ("KILL", 9), ("SIGKILL", 9), ("sigkill", 9), ("kill", 9), ("SigTerm", 15), ("TERM", 15),
    ("HUP", 1), ("USR1", 10), ("USR2", 12), ("WINCH", 28), ("CHLD", 17), ("STOP", 19),
    ("CONT", 18), ("SIGSYS", 31), ("IOT", 6),
    ("RTMIN", 34), ("SIGRTMIN", 34), ("RTMIN+3", 37), ("RTMAX", 64), ("RTMAX-2", 62),
])
def test_parse(text: str, num: int) -> None:
    assert signals.parse(text) == num


def test_names_agree_with_the_host() -> None:
    compared = []
    for name, num in signals.NUMBERS.items():
        host = getattr(signal, "SIG" + name, None)
        if host is not None:
            assert int(host) == num, name
            compared.append(name)
    assert {"KILL", "TERM", "HUP", "USR1", "CHLD", "WINCH"} <= set(compared)


@pytest.mark.parametrize("text", ["", "FOO", "SIGFOO", "65", "0", "RTMIN+31", "RTMAX-31",
                                  "RTMIN+", "RTMIN+x", "-9", "9x"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        signals.parse(text)


def test_unknown_signal_message_names_it() -> None:
    with pytest.raises(UsageError, match="FOO"):
        signals.parse("FOO")


# -- mount options ---------------------------------------------------------------------------------
def test_flags_propagation_and_data() -> None:
    flags, prop, data = mountopts.parse(
        ["nosuid", "strictatime", "mode=755", "size=65536k", "rbind", "rprivate", "ro"])
    assert flags == s.MS_NOSUID | s.MS_STRICTATIME | s.MS_BIND | s.MS_REC | s.MS_RDONLY
    assert prop == [s.MS_PRIVATE | s.MS_REC]
    assert data == "mode=755,size=65536k"


def test_empty_and_none() -> None:
    assert mountopts.parse(None) == (0, [], "")
    assert mountopts.parse([]) == (0, [], "")


@pytest.mark.parametrize(("opts", "flag", "is_set"), [
    (["ro", "rw"], s.MS_RDONLY, False),
    (["rw", "ro"], s.MS_RDONLY, True),
    (["nosuid", "suid"], s.MS_NOSUID, False),
    (["nodev", "dev"], s.MS_NODEV, False),
    (["noexec", "exec"], s.MS_NOEXEC, False),
    (["noatime"], s.MS_NOATIME, True),
    (["relatime"], s.MS_RELATIME, True),
    (["sync"], s.MS_SYNCHRONOUS, True),
    (["bind"], s.MS_BIND, True),
    (["remount"], s.MS_REMOUNT, True),
])
def test_later_options_override_earlier(opts: list[str], flag: int, is_set: bool) -> None:
    flags, _, _ = mountopts.parse(opts)
    assert bool(flags & flag) is is_set


@pytest.mark.parametrize(("opt", "value"), [
    ("private", s.MS_PRIVATE), ("rprivate", s.MS_PRIVATE | s.MS_REC),
    ("slave", s.MS_SLAVE), ("rslave", s.MS_SLAVE | s.MS_REC),
    ("shared", s.MS_SHARED), ("rshared", s.MS_SHARED | s.MS_REC),
    ("unbindable", s.MS_UNBINDABLE), ("runbindable", s.MS_UNBINDABLE | s.MS_REC),
])
def test_propagation(opt: str, value: int) -> None:
    flags, prop, data = mountopts.parse(["bind", opt])
    assert prop == [value]
    assert flags == s.MS_BIND and data == ""


def test_defaults_and_runtime_only_options_are_not_mount_data() -> None:
    flags, prop, data = mountopts.parse(["defaults", "tmpcopyup", "uid=5", "gid=5"])
    assert (flags, prop, data) == (0, [], "uid=5,gid=5")


def test_recursive_read_only_is_honoured() -> None:
    """runc's "rro" (recursive read-only, mount_setattr) must make the mount read-only; it must
    never reach the kernel as mount data."""
    flags, _, data = mountopts.parse(["rbind", "rro"])
    assert "rro" not in data.split(",")
    assert flags & s.MS_RDONLY
