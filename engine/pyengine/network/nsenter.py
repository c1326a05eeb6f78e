"""Run a function inside another network namespace: on a fresh, short-lived thread that
setns(2)s into the namespace (setns changes only the calling thread), so the daemon's own
threads never leave its namespace. The only module that calls setns.

A socket stays in the namespace it was made in: a function can open one (a netlink socket, the
embedded DNS's listeners) and hand it back; it keeps working there after the thread ended."""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from typing import TypeVar

from pyengine.errors import EngineError

T = TypeVar("T")

CLONE_NEWNET = 0x40000000

_libc: ctypes.CDLL | None = None


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def run_in_netns(netns_fd: int, fn: Callable[[], T]) -> T:
    """fn() on a thread of its own inside the network namespace `netns_fd` (an open
    /proc/PID/ns/net); its result, or its exception raised again here. Blocks: from the event
    loop, call it through asyncio.to_thread."""
    result: list[T] = []
    failure: list[BaseException] = []

    def body() -> None:
        try:
            _setns(netns_fd)
        except OSError as err:
            failure.append(EngineError(f"enter network namespace (fd {netns_fd}): "
                                       f"{err.strerror}"))
            return
        try:
            result.append(fn())
        except BaseException as err:  # handed to the caller, raised there
            failure.append(err)

    thread = threading.Thread(target=body, name="netns", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def open_netns(pid: int) -> int:
    """An O_RDONLY descriptor of process `pid`'s network namespace (close it after use)."""
    try:
        return os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        raise EngineError(f"open network namespace of pid {pid}: {err.strerror}") from err
