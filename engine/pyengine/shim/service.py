"""The Task service (containerd.task.v2.Task) of one shim: the ttrpc handlers, over one
container's init process and its exec'd processes. Runtime calls go through runtime.Runtime,
exits come from the reaper, events go to containerd through events.Publisher."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from google.protobuf import empty_pb2

from . import linux
from .api import runc_options_pb2, shim_pb2, task_events_pb2, task_pb2
from .events import Publisher
from .process import CREATED, PAUSED, RUNNING, STOPPED, Process
from .reaper import Reaper
from .runtime import DEFAULT_BINARY, DEFAULT_ROOT, Runtime, RuntimeFailed
from .stdio import ProcessIO
from .ttrpc import errors
from .ttrpc.server import Context, Server, UnaryMethod, unary

if TYPE_CHECKING:
    from google.protobuf.timestamp_pb2 import Timestamp

VERSION = "pyrunc-shim 0.1"
RUNTIME_FILE = "pyshim-runtime"  # in the bundle: "<binary>\n<root>\n", read by `delete`
STATUS = {CREATED: task_pb2.CREATED, RUNNING: task_pb2.RUNNING, PAUSED: task_pb2.PAUSED,
          STOPPED: task_pb2.STOPPED}


def _stamp(ts: Timestamp, ns: int) -> None:
    if ns:
        ts.FromNanoseconds(ns)


def _failed(e: RuntimeFailed) -> errors.RpcError:
    return errors.Unknown(str(e))


def runtime_settings(bundle: str) -> tuple[str, str]:
    """(binary, state root) recorded at create; the defaults when nothing was recorded."""
    try:
        with open(os.path.join(bundle, RUNTIME_FILE)) as f:
            binary, root = [*f.read().splitlines(), "", ""][:2]
    except OSError:
        binary, root = "", ""
    return binary or DEFAULT_BINARY, root


class TaskService:
    def __init__(self, namespace: str, bundle: str, publisher: Publisher, reaper: Reaper,
                 server: Server, exit_process: Callable[[], None]) -> None:
        self.namespace = namespace
        self.bundle = bundle
        self.events = publisher
        self.reaper = reaper
        self.server = server
        self.exit_process = exit_process
        self.init: Process | None = None
        self.execs: dict[str, Process] = {}
        self.runtime: Runtime | None = None
        self.rootfs_mounted = False
        self._lock = asyncio.Lock()  # create/start/delete of the init process, one at a time

    # -- helpers ---------------------------------------------------------------------------
    def _process(self, container_id: str, exec_id: str) -> Process:
        if self.init is None or container_id != self.init.container_id:
            raise errors.NotFound(f"container {container_id} not found")
        if not exec_id:
            return self.init
        found = self.execs.get(exec_id)
        if found is None:
            raise errors.NotFound(f"process {exec_id} of container {container_id} not found")
        return found

    def _runtime(self) -> Runtime:
        if self.runtime is None:
            raise errors.FailedPrecondition("no container created in this shim")
        return self.runtime

    def _watch(self, proc: Process) -> None:
        """Record `proc`'s exit when the reaper reports it, and publish TaskExit."""
        fut = self.reaper.watch(proc.pid)

        def done(f: asyncio.Future[int]) -> None:
            if f.cancelled():
                return
            self._on_exit(proc, f.result())

        fut.add_done_callback(done)

    def _on_exit(self, proc: Process, status: int) -> None:
        if proc.is_init:
            # The container is gone: its exec'd processes go with it (the kernel killed them).
            for other in self.execs.values():
                if other.pid and not other.exited.is_set():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(other.pid, 9)
        proc.set_exited(status)
        event = task_events_pb2.TaskExit(container_id=proc.container_id,
                                         id=proc.exec_id or proc.container_id, pid=proc.pid,
                                         exit_status=status)
        _stamp(event.exited_at, proc.exited_at_ns)
        asyncio.get_running_loop().create_task(self._publish_after_output(proc, event))

    async def _publish_after_output(self, proc: Process, event: task_events_pb2.TaskExit) -> None:
        if proc.io is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.io.drained(), 10)
        self.events.publish(event)

    def _mount_rootfs(self, request: shim_pb2.CreateTaskRequest) -> None:
        target = os.path.join(request.bundle, "rootfs")
        for m in request.rootfs:
            os.makedirs(target, exist_ok=True)
            try:
                linux.mount(m.source, target, m.type, list(m.options))
            except OSError as e:
                raise errors.Internal(f"mounting the rootfs of {request.id}: {e}") from None
            self.rootfs_mounted = True

    def _unmount_rootfs(self) -> None:
        if self.rootfs_mounted:
            linux.unmount(os.path.join(self.bundle, "rootfs"))
            self.rootfs_mounted = False

    # -- handlers --------------------------------------------------------------------------
    async def create(self, ctx: Context, r: shim_pb2.CreateTaskRequest) -> Any:
        async with self._lock:
            if self.init is not None:
                raise errors.AlreadyExists(f"container {r.id} already exists in this shim")
            if r.checkpoint or r.parent_checkpoint:
                raise errors.Unimplemented("restoring from a checkpoint")
            options = runc_options_pb2.Options()
            if r.options.type_url.endswith("containerd.runc.v1.Options"):
                options.ParseFromString(r.options.value)
            root = os.path.join(options.root or DEFAULT_ROOT, self.namespace)
            binary = options.binary_name or DEFAULT_BINARY
            self.bundle = r.bundle
            with open(os.path.join(r.bundle, RUNTIME_FILE), "w") as f:
                f.write(f"{binary}\n{root}\n")
            runtime = Runtime(self.reaper, binary, root, os.path.join(r.bundle, "log.json"))
            proc = Process(r.id, "", r.stdin, r.stdout, r.stderr, r.terminal)
            proc.io = ProcessIO.open(r.stdin, r.stdout, r.stderr, r.terminal)
            pid_file = os.path.join(r.bundle, "init.pid")
            console: asyncio.Future[None] | None = None
            try:
                self._mount_rootfs(r)
                console = asyncio.ensure_future(proc.io.receive_console()) if r.terminal else None
                try:
                    await runtime.create(r.id, r.bundle, pid_file, proc.io.child,
                                         proc.io.console_path)
                finally:
                    proc.io.spawned()
                if console is not None:
                    await console
                with open(pid_file) as f:
                    proc.pid = int(f.read().strip())
            except RuntimeFailed as e:
                if console is not None:
                    console.cancel()
                proc.io.close()
                self._unmount_rootfs()
                raise _failed(e) from None
            except BaseException:
                if console is not None:
                    console.cancel()
                proc.io.close()
                with contextlib.suppress(RuntimeFailed):
                    await runtime.delete(r.id, force=True)
                self._unmount_rootfs()
                raise
            self.runtime, self.init = runtime, proc
            self._watch(proc)
            event = task_events_pb2.TaskCreate(
                container_id=r.id, bundle=r.bundle, rootfs=r.rootfs, pid=proc.pid,
                io=task_events_pb2.TaskIO(stdin=r.stdin, stdout=r.stdout, stderr=r.stderr,
                                          terminal=r.terminal))
            self.events.publish(event)
            return shim_pb2.CreateTaskResponse(pid=proc.pid)

    async def start(self, ctx: Context, r: shim_pb2.StartRequest) -> Any:
        proc = self._process(r.id, r.exec_id)
        runtime = self._runtime()
        if proc.state != CREATED:
            raise errors.FailedPrecondition(
                f"process {r.exec_id or r.id}: cannot start a {proc.state} process")
        if proc.is_init:
            try:
                await runtime.start(r.id)
            except RuntimeFailed as e:
                raise _failed(e) from None
            if not proc.exited.is_set():
                proc.state = RUNNING
            self.events.publish(task_events_pb2.TaskStart(container_id=r.id, pid=proc.pid))
            return shim_pb2.StartResponse(pid=proc.pid)
        assert proc.io is not None
        if self.init is None or self.init.state not in (RUNNING, PAUSED):
            raise errors.FailedPrecondition(f"container {r.id} is not running")
        pid_file = os.path.join(self.bundle, f"exec-{r.exec_id}.pid")
        console = asyncio.ensure_future(proc.io.receive_console()) if proc.terminal else None
        try:
            try:
                await runtime.exec(r.id, proc.spec_file, pid_file, proc.io.child,
                                   proc.io.console_path)
            finally:
                proc.io.spawned()
            if console is not None:
                await console
            with open(pid_file) as f:
                proc.pid = int(f.read().strip())
        except RuntimeFailed as e:
            if console is not None:
                console.cancel()
            proc.io.close()
            proc.set_exited(255)
            raise _failed(e) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(pid_file)
        proc.state = RUNNING
        self._watch(proc)
        self.events.publish(task_events_pb2.TaskExecStarted(container_id=r.id,
                                                            exec_id=r.exec_id, pid=proc.pid))
        return shim_pb2.StartResponse(pid=proc.pid)

    async def state(self, ctx: Context, r: shim_pb2.StateRequest) -> Any:
        proc = self._process(r.id, r.exec_id)
        response = shim_pb2.StateResponse(
            id=r.id, bundle=self.bundle, pid=proc.pid,
            status=STATUS.get(proc.state, task_pb2.UNKNOWN),
            stdin=proc.stdin, stdout=proc.stdout, stderr=proc.stderr, terminal=proc.terminal,
            exit_status=proc.exit_status, exec_id=r.exec_id)
        _stamp(response.exited_at, proc.exited_at_ns)
        return response

    async def delete(self, ctx: Context, r: shim_pb2.DeleteRequest) -> Any:
        proc = self._process(r.id, r.exec_id)
        if proc.state not in (STOPPED, CREATED):
            raise errors.FailedPrecondition(
                f"process {r.exec_id or r.id} must be stopped before deletion")
        if not proc.is_init:
            del self.execs[r.exec_id]
            if proc.io is not None:
                proc.io.close()
            if proc.spec_file:
                with contextlib.suppress(OSError):
                    os.unlink(proc.spec_file)
        else:
            async with self._lock:
                try:
                    await self._runtime().delete(r.id, force=proc.state == CREATED)
                except RuntimeFailed as e:
                    raise _failed(e) from None
                if proc.io is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(proc.io.drained(), 10)
                    proc.io.close()
                self._unmount_rootfs()
                self.init = None
                event = task_events_pb2.TaskDelete(container_id=r.id, pid=proc.pid,
                                                   exit_status=proc.exit_status, id=r.id)
                _stamp(event.exited_at, proc.exited_at_ns)
                self.events.publish(event)
        response = shim_pb2.DeleteResponse(pid=proc.pid, exit_status=proc.exit_status)
        _stamp(response.exited_at, proc.exited_at_ns)
        return response

    async def pids(self, ctx: Context, r: shim_pb2.PidsRequest) -> Any:
        self._process(r.id, "")
        try:
            pids = await self._runtime().ps(r.id)
        except RuntimeFailed as e:
            raise _failed(e) from None
        return shim_pb2.PidsResponse(processes=[task_pb2.ProcessInfo(pid=p) for p in pids])

    async def pause(self, ctx: Context, r: shim_pb2.PauseRequest) -> Any:
        proc = self._process(r.id, "")
        if proc.state != RUNNING:
            raise errors.FailedPrecondition(f"container {r.id} is {proc.state}, not running")
        try:
            await self._runtime().pause(r.id)
        except RuntimeFailed as e:
            raise _failed(e) from None
        proc.state = PAUSED
        self.events.publish(task_events_pb2.TaskPaused(container_id=r.id))
        return empty_pb2.Empty()

    async def resume(self, ctx: Context, r: shim_pb2.ResumeRequest) -> Any:
        proc = self._process(r.id, "")
        if proc.state != PAUSED:
            raise errors.FailedPrecondition(f"container {r.id} is {proc.state}, not paused")
        try:
            await self._runtime().resume(r.id)
        except RuntimeFailed as e:
            raise _failed(e) from None
        if not proc.exited.is_set():
            proc.state = RUNNING
        self.events.publish(task_events_pb2.TaskResumed(container_id=r.id))
        return empty_pb2.Empty()

    async def kill(self, ctx: Context, r: shim_pb2.KillRequest) -> Any:
        proc = self._process(r.id, r.exec_id)
        if proc.is_init:
            if proc.exited.is_set() and not r.all:
                raise errors.NotFound(f"process {r.id} already finished")
            try:
                await self._runtime().kill(r.id, r.signal, r.all)
            except RuntimeFailed as e:
                if not proc.exited.is_set():
                    raise _failed(e) from None
            return empty_pb2.Empty()
        if proc.exited.is_set() or not proc.pid:
            raise errors.NotFound(f"process {r.exec_id} not running")
        try:
            os.kill(proc.pid, r.signal)
        except ProcessLookupError:
            raise errors.NotFound(f"process {r.exec_id} not found") from None
        return empty_pb2.Empty()

    async def exec(self, ctx: Context, r: shim_pb2.ExecProcessRequest) -> Any:
        self._process(r.id, "")
        if r.exec_id in self.execs:
            raise errors.AlreadyExists(f"id {r.exec_id}: already exists")
        if not r.exec_id or "/" in r.exec_id:
            raise errors.InvalidArgument(f"exec id {r.exec_id!r} is not valid")
        proc = Process(r.id, r.exec_id, r.stdin, r.stdout, r.stderr, r.terminal)
        proc.spec_file = os.path.join(self.bundle, f"exec-{r.exec_id}.json")
        with open(proc.spec_file, "wb") as f:
            f.write(r.spec.value)
        try:
            proc.io = ProcessIO.open(r.stdin, r.stdout, r.stderr, r.terminal)
        except BaseException:
            os.unlink(proc.spec_file)
            raise
        self.execs[r.exec_id] = proc
        self.events.publish(task_events_pb2.TaskExecAdded(container_id=r.id, exec_id=r.exec_id))
        return empty_pb2.Empty()

    async def resize_pty(self, ctx: Context, r: shim_pb2.ResizePtyRequest) -> Any:
        proc = self._process(r.id, r.exec_id)
        if proc.io is not None:
            proc.io.resize(r.width, r.height)
        return empty_pb2.Empty()

    async def close_io(self, ctx: Context, r: shim_pb2.CloseIORequest) -> Any:
        proc = self._process(r.id, r.exec_id)
        if r.stdin and proc.io is not None:
            proc.io.close_stdin()
        return empty_pb2.Empty()

    async def update(self, ctx: Context, r: shim_pb2.UpdateTaskRequest) -> Any:
        self._process(r.id, "")
        path = os.path.join(self.bundle, "update-resources.json")
        with open(path, "wb") as f:
            f.write(r.resources.value)
        try:
            await self._runtime().update(r.id, path)
        except RuntimeFailed as e:
            raise _failed(e) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return empty_pb2.Empty()

    async def wait(self, ctx: Context, r: shim_pb2.WaitRequest) -> Any:
        proc = self._process(r.id, r.exec_id)
        await proc.exited.wait()
        response = shim_pb2.WaitResponse(exit_status=proc.exit_status)
        _stamp(response.exited_at, proc.exited_at_ns)
        return response

    async def stats(self, ctx: Context, r: shim_pb2.StatsRequest) -> Any:
        self._process(r.id, "")
        raise errors.Unimplemented("stats: not implemented by this shim yet")

    async def checkpoint(self, ctx: Context, r: shim_pb2.CheckpointTaskRequest) -> Any:
        raise errors.Unimplemented("checkpoint: not supported by this shim")

    async def connect(self, ctx: Context, r: shim_pb2.ConnectRequest) -> Any:
        return shim_pb2.ConnectResponse(shim_pid=os.getpid(),
                                        task_pid=self.init.pid if self.init else 0,
                                        version=VERSION)

    async def shutdown(self, ctx: Context, r: shim_pb2.ShutdownRequest) -> Any:
        if self.init is not None and not r.now:
            return empty_pb2.Empty()  # a container still lives here: stay
        self.exit_process()
        return empty_pb2.Empty()

    def methods(self) -> dict[str, UnaryMethod]:
        table: dict[str, tuple[Any, Callable[[Context, Any], Awaitable[Any]]]] = {
            "Create": (shim_pb2.CreateTaskRequest, self.create),
            "Start": (shim_pb2.StartRequest, self.start),
            "State": (shim_pb2.StateRequest, self.state),
            "Delete": (shim_pb2.DeleteRequest, self.delete),
            "Pids": (shim_pb2.PidsRequest, self.pids),
            "Pause": (shim_pb2.PauseRequest, self.pause),
            "Resume": (shim_pb2.ResumeRequest, self.resume),
            "Kill": (shim_pb2.KillRequest, self.kill),
            "Exec": (shim_pb2.ExecProcessRequest, self.exec),
            "ResizePty": (shim_pb2.ResizePtyRequest, self.resize_pty),
            "CloseIO": (shim_pb2.CloseIORequest, self.close_io),
            "Update": (shim_pb2.UpdateTaskRequest, self.update),
            "Wait": (shim_pb2.WaitRequest, self.wait),
            "Stats": (shim_pb2.StatsRequest, self.stats),
            "Checkpoint": (shim_pb2.CheckpointTaskRequest, self.checkpoint),
            "Connect": (shim_pb2.ConnectRequest, self.connect),
            "Shutdown": (shim_pb2.ShutdownRequest, self.shutdown),
        }
        return {name: unary(req, fn) for name, (req, fn) in table.items()}
