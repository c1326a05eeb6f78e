"""The generated shim API: a package of its own that imports package-relatively, with
containerd 1.6's names on the wire (ttrpc routes by /<package>.<Service>/<Method>; an Any names
its message in full) and its field numbers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pyengine.shim import api
from pyengine.shim.api import (
    events_pb2,
    mount_pb2,
    runc_options_pb2,
    shim_pb2,
    task_events_pb2,
    task_pb2,
)

REPO = Path(__file__).resolve().parents[3]
TASK_METHODS = [
    "State", "Create", "Start", "Delete", "Pids", "Pause", "Resume", "Checkpoint", "Kill", "Exec",
    "ResizePty", "CloseIO", "Update", "Wait", "Stats", "Connect", "Shutdown",
]


def test_services_have_containerds_names() -> None:
    task = shim_pb2.DESCRIPTOR.services_by_name["Task"]
    assert task.full_name == api.TASK_SERVICE == "containerd.task.v2.Task"
    assert [m.name for m in task.methods] == TASK_METHODS
    events = events_pb2.DESCRIPTOR.services_by_name["Events"]
    assert events.full_name == api.EVENTS_SERVICE
    assert [m.name for m in events.methods] == ["Forward"]


def test_messages_have_containerds_full_names_and_numbers() -> None:
    assert task_events_pb2.TaskExit.DESCRIPTOR.full_name == "containerd.events.TaskExit"
    assert task_pb2.ProcessInfo.DESCRIPTOR.full_name == "containerd.v1.types.ProcessInfo"
    assert mount_pb2.Mount.DESCRIPTOR.full_name == "containerd.types.Mount"
    assert runc_options_pb2.Options.DESCRIPTOR.full_name == "containerd.runc.v1.Options"
    numbers = {f.name: f.number for f in shim_pb2.StateResponse.DESCRIPTOR.fields}
    assert numbers == {"id": 1, "bundle": 2, "pid": 3, "status": 4, "stdin": 5, "stdout": 6,
                       "stderr": 7, "terminal": 8, "exit_status": 9, "exited_at": 10,
                       "exec_id": 11}
    numbers = {f.name: f.number for f in shim_pb2.CreateTaskRequest.DESCRIPTOR.fields}
    assert numbers["options"] == 10 and numbers["rootfs"] == 3
    assert [(v.name, v.number) for v in task_pb2.Status.DESCRIPTOR.values] == [
        ("UNKNOWN", 0), ("CREATED", 1), ("RUNNING", 2), ("STOPPED", 3), ("PAUSED", 4),
        ("PAUSING", 5)]
    assert shim_pb2.KillRequest(id="c", signal=9, all=True).SerializeToString() == \
        b"\n\x01c\x18\x09\x20\x01"


def test_generated_modules_import_package_relatively() -> None:
    for path in (REPO / "engine" / "pyengine" / "shim" / "api").glob("*_pb2.py*"):
        text = path.read_text()
        assert "from containerd import" not in text, path
    assert not list((REPO / "engine" / "pyengine" / "shim" / "api").glob("*_grpc.py"))


def test_ttrpc_imports_only_the_standard_library() -> None:
    code = ("import sys, pyengine.shim.ttrpc.server, pyengine.shim.ttrpc.client; "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('grpc', 'google', 'pyrunc') or (m.startswith('pyengine.') and "
            "not m.startswith('pyengine.shim')))))")
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'engine'}"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout
    assert out.strip() == ""
