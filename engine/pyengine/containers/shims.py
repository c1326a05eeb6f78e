"""The engine's side of containerd's runtime v2 contract: launch a shim for a container,
connect to it over ttrpc, call its Task service.

Launch, as containerd 1.6 does: in the bundle directory, with the bundle's `log` fifo open for
reading (the shim writes its own log there), run `<shim> -namespace NS -address ADDR
-publish-binary BIN -id ID start` with TTRPC_ADDRESS (where the shim forwards its events: the
engine's events endpoint); the shim daemonizes and prints its ttrpc address. The address is kept
with the container so that a restarted daemon reconnects (`Shim.connect`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from pathlib import Path

from google.protobuf import any_pb2, empty_pb2
from google.protobuf.message import Message

from pyengine.errors import FailedPrecondition, NotFound, Unavailable
from pyengine.shim.api import TASK_SERVICE, mount_pb2, runc_options_pb2, shim_pb2
from pyengine.shim.ttrpc import errors as ttrpc_errors
from pyengine.shim.ttrpc.client import Client
from pyengine.snapshots.mount import Mount

NAMESPACE = "pyengine"
RUNTIMES = {"pyrunc": "/usr/local/sbin/pyrunc", "runc": "runc", "crun": "crun"}
START_TIMEOUT = 60.0
CALL_TIMEOUT = 60.0
LINUX_RESOURCES_URL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"


def runtime_binary(name: str) -> str:
    """The OCI runtime binary for a runtime name or path; InvalidArgument-like NotFound."""
    binary = RUNTIMES.get(name, name)
    found = binary if os.path.isabs(binary) and os.access(binary, os.X_OK) else shutil.which(
        binary)
    if not found:
        raise NotFound(f"unknown or invalid runtime name: {name}")
    return found


def _error(op: str, cid: str, err: Exception) -> Exception:
    if isinstance(err, ttrpc_errors.NotFound):
        return NotFound(f"{op} container {cid}: {err}")
    if isinstance(err, ttrpc_errors.FailedPrecondition):
        return FailedPrecondition(f"{op} container {cid}: {err}")
    if isinstance(err, ttrpc_errors.Unknown):
        # the runtime's failure ("OCI runtime create failed: ..."), worded as containerd
        # words it for dockerd: the docker CLI maps its text to exit codes 126/127
        prefix = "failed to create shim task: " if op == "create" else ""
        return Unavailable(f"{prefix}{err.message}: unknown")
    return Unavailable(f"{op} container {cid}: shim: {err}")


class Shim:
    """One connected shim and the Task service calls the engine makes."""

    def __init__(self, cid: str, address: str, client: Client) -> None:
        self.id = cid
        self.address = address
        self.client = client

    @classmethod
    async def connect(cls, cid: str, address: str) -> Shim:
        try:
            client = await Client.connect(address)
        except (OSError, ttrpc_errors.TtrpcError) as err:
            raise Unavailable(f"connect to shim of container {cid} at {address}: "
                              f"{getattr(err, 'strerror', None) or err}") from err
        return cls(cid, address, client)

    async def _call(self, method: str, request: Message, response_type: type,
                    timeout: float | None = CALL_TIMEOUT) -> Message:
        try:
            return await self.client.unary(TASK_SERVICE, method, request, response_type,
                                           timeout=timeout)
        except (ttrpc_errors.TtrpcError, OSError) as err:
            raise _error(method.lower(), self.id, err) from err

    async def pid(self) -> int:
        """The shim's own pid (its Connect answer)."""
        response = await self._call("Connect", shim_pb2.ConnectRequest(id=self.id),
                                    shim_pb2.ConnectResponse)
        assert isinstance(response, shim_pb2.ConnectResponse)
        return int(response.shim_pid)

    async def create(self, bundle: Path, rootfs: list[Mount], stdout: str, stderr: str,
                     runtime: str, runc_root: str, terminal: bool = False,
                     stdin: str = "") -> int:
        options = any_pb2.Any(
            type_url="containerd.runc.v1.Options",
            value=runc_options_pb2.Options(binary_name=runtime, root=runc_root)
            .SerializeToString())
        request = shim_pb2.CreateTaskRequest(
            id=self.id, bundle=str(bundle), stdin=stdin, stdout=stdout, stderr=stderr,
            terminal=terminal, options=options,
            rootfs=[mount_pb2.Mount(type=m.type, source=m.source, options=list(m.options))
                    for m in rootfs])
        response = await self._call("Create", request, shim_pb2.CreateTaskResponse)
        assert isinstance(response, shim_pb2.CreateTaskResponse)
        return int(response.pid)

    async def exec(self, exec_id: str, process: dict, stdout: str, stderr: str,
                   terminal: bool = False, stdin: str = "") -> None:
        """Add a process to the running container (started by `start(exec_id)`)."""
        import json

        spec = any_pb2.Any(type_url="types.containerd.io/opencontainers/runtime-spec/1/Process",
                           value=json.dumps(process).encode())
        await self._call("Exec", shim_pb2.ExecProcessRequest(
            id=self.id, exec_id=exec_id, terminal=terminal, stdin=stdin, stdout=stdout,
            stderr=stderr, spec=spec), empty_pb2.Empty)

    async def start(self, exec_id: str = "") -> int:
        response = await self._call("Start", shim_pb2.StartRequest(id=self.id, exec_id=exec_id),
                                    shim_pb2.StartResponse)
        assert isinstance(response, shim_pb2.StartResponse)
        return int(response.pid)

    async def state(self, exec_id: str = "") -> shim_pb2.StateResponse:
        response = await self._call("State", shim_pb2.StateRequest(id=self.id,
                                                                   exec_id=exec_id),
                                    shim_pb2.StateResponse)
        assert isinstance(response, shim_pb2.StateResponse)
        return response

    async def wait(self, exec_id: str = "") -> tuple[int, int]:
        """(exit status, exited at in ns), once the task (or exec) exits."""
        response = await self._call("Wait", shim_pb2.WaitRequest(id=self.id, exec_id=exec_id),
                                    shim_pb2.WaitResponse, timeout=None)
        assert isinstance(response, shim_pb2.WaitResponse)
        at = response.exited_at
        return int(response.exit_status), at.seconds * 1_000_000_000 + at.nanos

    async def close_stdin(self, exec_id: str = "") -> None:
        """CloseIO: the shim closes the process' stdin (it holds the fifo open itself)."""
        await self._call("CloseIO", shim_pb2.CloseIORequest(id=self.id, exec_id=exec_id,
                                                             stdin=True), empty_pb2.Empty)

    async def resize(self, height: int, width: int, exec_id: str = "") -> None:
        """ResizePty: the window of the process' terminal."""
        await self._call("ResizePty", shim_pb2.ResizePtyRequest(
            id=self.id, exec_id=exec_id, width=width, height=height), empty_pb2.Empty)

    async def kill(self, signal: int, all_processes: bool = False, exec_id: str = "") -> None:
        await self._call("Kill", shim_pb2.KillRequest(id=self.id, exec_id=exec_id, signal=signal,
                                                      all=all_processes), empty_pb2.Empty)

    async def delete(self, exec_id: str = "") -> None:
        with contextlib.suppress(NotFound):
            await self._call("Delete", shim_pb2.DeleteRequest(id=self.id, exec_id=exec_id),
                             shim_pb2.DeleteResponse)

    async def shutdown(self) -> None:
        """Ask the shim to exit; its connection ends with it."""
        with contextlib.suppress(Exception):  # the shim exiting may cut the answer short
            await self._call("Shutdown", shim_pb2.ShutdownRequest(id=self.id), empty_pb2.Empty,
                             timeout=10)
        await self.client.close()

    async def close(self) -> None:
        await self.client.close()

    async def pause(self) -> None:
        """Freeze every process of the task (the runtime's pause)."""
        await self._call("Pause", shim_pb2.PauseRequest(id=self.id), empty_pb2.Empty)

    async def resume(self) -> None:
        await self._call("Resume", shim_pb2.ResumeRequest(id=self.id), empty_pb2.Empty)

    async def pids(self) -> list[int]:
        """The pids of every process of the container (the init and its descendants)."""
        response = await self._call("Pids", shim_pb2.PidsRequest(id=self.id),
                                    shim_pb2.PidsResponse)
        assert isinstance(response, shim_pb2.PidsResponse)
        return [int(p.pid) for p in response.processes]

    async def stats(self) -> any_pb2.Any:
        """The container's cgroup metrics: an Any holding io.containerd.cgroups.v1.Metrics
        or .v2.Metrics."""
        response = await self._call("Stats", shim_pb2.StatsRequest(id=self.id),
                                    shim_pb2.StatsResponse)
        assert isinstance(response, shim_pb2.StatsResponse)
        return response.stats

    async def update(self, resources: dict) -> None:
        """Apply OCI linux.resources to the running container, encoded as containerd 1.6
        sends them: the JSON of runtime-spec's LinuxResources in an Any."""
        import json

        value = any_pb2.Any(type_url=LINUX_RESOURCES_URL, value=json.dumps(resources).encode())
        await self._call("Update", shim_pb2.UpdateTaskRequest(id=self.id, resources=value),
                         empty_pb2.Empty)


def open_shim_log(bundle: Path) -> int:
    """The read end of the bundle's `log` fifo (made if missing), non-blocking."""
    path = bundle / "log"
    if not path.exists():
        os.mkfifo(path, 0o600)
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)


async def launch(shim_binary: str, cid: str, bundle: Path, events_address: str) -> str:
    """Start a shim for `cid` in `bundle`; return its ttrpc socket path."""
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
           "TTRPC_ADDRESS": events_address, "GOMAXPROCS": "2"}
    # our shim's switches (PYSHIM_GROUPING, PYSHIM_NO_ZYGOTE) set in the daemon's environment
    # reach `start`, as containerd passes its environment on to shims
    env.update((k, v) for k, v in os.environ.items() if k.startswith("PYSHIM_"))
    binary = shutil.which(shim_binary) or shim_binary
    argv = [binary, "-namespace", NAMESPACE, "-address", events_address, "-publish-binary",
            binary, "-id", cid, "start"]
    # spawned from a worker thread by subprocess (close_fds), not by the loop: uvloop's spawn
    # leaves the child's copies of its stdio sockets open, and a shim's `start` passes them on
    # to the long-lived shim, whose pipes then never reach EOF here
    try:
        done = await asyncio.to_thread(
            subprocess.run, argv, cwd=bundle, env=env, stdin=subprocess.DEVNULL,
            capture_output=True, timeout=START_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:  # the child was killed and reaped
        raise Unavailable(f"start shim for container {cid}: no answer in {START_TIMEOUT}s") \
            from None
    except OSError as err:
        raise FailedPrecondition(f"start shim {shim_binary} for container {cid}: "
                                 f"{err.strerror or err}") from err
    out, err_out = done.stdout, done.stderr
    if done.returncode != 0:
        detail = (err_out or out).decode(errors="replace").strip().splitlines()
        raise FailedPrecondition(
            f"start shim for container {cid}: exit {done.returncode}: "
            f"{detail[-1] if detail else 'no output'}")
    address = out.decode().strip()
    return address.removeprefix("unix://")
