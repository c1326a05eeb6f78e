"""Signalling and waiting for processes that are not our children (the init is the shim's)."""

from __future__ import annotations

import os
import select
import time


def pidfd(pid: int) -> int | None:
    from pyrunc.linux.syscalls import SYS

    try:
        return SYS.pidfd_open(pid)
    except OSError:
        return None


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    """Wait until ``pid`` has exited (a zombie counts as exited). True if it did in time."""
    from pyrunc.state import proc_start_time

    fd = pidfd(pid)
    if fd is not None:
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            return bool(poller.poll(int(timeout * 1000)))
        finally:
            os.close(fd)
    deadline = time.monotonic() + timeout
    while proc_start_time(pid) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def kill_and_wait(pid: int, sig: int = 9, timeout: float = 10.0) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    wait_gone(pid, timeout)
    try:  # our own child (run): reap it so nothing is left as a zombie
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
