"""Crash points for fault tests: the daemon kills itself with SIGKILL at a named point.

`PYENGINE_TEST_CRASH_AT=NAME[,NAME...]` in the daemon's environment (read once, when this
module is first imported) names the points; `reached(NAME)` at such a point then ends the
process exactly as `kill -9` would (no handler, no clean-up, from whichever thread gets there),
so a test stops the daemon at a chosen step of create or rm, deterministically, and checks what
the next start makes of it. Unset (always, outside tests) a point costs one set lookup.

Points: create.after-snapshot (writable snapshot prepared, no bundle), create.rootfs-mounted
(bundle half written, the snapshot mounted on its rootfs), create.before-record (bundle and log
directory made, no row), start.after-shim (a shim launched, the container still recorded as
created), remove.after-state (the row marked removing), remove.after-bundle (bundle and log
directory gone; the snapshot and the row remain), log.before-write (a log chunk taken from the
fifo's head, not stored), log.after-write (stored, not consumed from the fifo),
network.attach.after-publish (a start's veths made, addresses claimed, host ports held and
recorded; no DNAT rule, DNS listener or /etc file yet), network.connect.after-veth (a running
container's new veth made and its address claimed; nothing else of the connect),
build.context-extracted (a build's context directory made, its lease held), build.copy-mounted
(a COPY step's active snapshot mounted under <data-root>/builder/mounts), build.layer-stored
(a step's blob stored under the build's lease, its snapshot not yet committed).
"""

from __future__ import annotations

import os
import signal

ENV = "PYENGINE_TEST_CRASH_AT"
POINTS = frozenset(filter(None, os.environ.get(ENV, "").split(",")))


def reached(point: str) -> None:
    if point in POINTS:
        os.kill(os.getpid(), signal.SIGKILL)
