"""The shim as its children's reaper: PR_SET_CHILD_SUBREAPER makes the container's init (whose
parent, the runtime, exits after `create`) and anything orphaned inside it our children, and
SIGCHLD, handled on the event loop, collects every exit with waitpid(-1): no zombie stays.

Statuses are matched to waiters by pid. A child may exit before anyone asks for it (an exec'd
process that ends before its pid file is read): its status is kept until claimed.
"""

from __future__ import annotations

import asyncio
import os
import signal

from . import linux


class Reaper:
    def __init__(self) -> None:
        self._waiters: dict[int, asyncio.Future[int]] = {}
        self._unclaimed: dict[int, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Become the child subreaper and reap on SIGCHLD (call once, on the running loop)."""
        linux.set_child_subreaper()
        self._loop = loop
        loop.add_signal_handler(signal.SIGCHLD, self.reap)
        self.reap()  # anything that exited before the handler was in place

    def watch(self, pid: int) -> asyncio.Future[int]:
        """A future for `pid`'s exit status (a shell-style code: 128+N for a signal). Call it in
        the same loop turn as the spawn, or after: an exit already reaped is kept for it."""
        loop = self._loop or asyncio.get_running_loop()
        fut = self._waiters.get(pid)
        if fut is None:
            fut = loop.create_future()
            if pid in self._unclaimed:
                fut.set_result(self._unclaimed.pop(pid))
            else:
                self._waiters[pid] = fut
        return fut

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            code = os.waitstatus_to_exitcode(status)
            code = 128 - code if code < 0 else code
            fut = self._waiters.pop(pid, None)
            if fut is None:
                self._unclaimed[pid] = code
            elif not fut.done():
                fut.set_result(code)

    def forget(self, pid: int) -> None:
        """Drop a status nobody will claim (a process whose exit was handled otherwise)."""
        self._unclaimed.pop(pid, None)
