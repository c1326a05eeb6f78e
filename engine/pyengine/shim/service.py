"""The Task service (containerd.task.v2.Task) of one shim: the ttrpc handlers, over the
containers this shim runs (one, or all of a namespace's: see group.py), each an init process and
its exec'd processes. Runtime calls go through runtime.Runtime, exits come from the reaper,
events go to containerd through events.Publisher. The shim exits on Shutdown once it has no
container left and none reserved (group.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from google.protobuf import empty_pb2

from . import cgstats, group, linux, settings
from .api import runc_options_pb2, shim_pb2, task_events_pb2, task_pb2
from .events import Publisher
from .oom import OomWatcher
from .process import CREATED, PAUSED, RUNNING, STOPPED, Process
from .reaper import Reaper
from .runtime import Runtime, RuntimeFailed
from .stdio import ProcessIO
from .ttrpc import errors
from .ttrpc.server import Context, Server, UnaryMethod, unary

if TYPE_CHECKING:
    from google.protobuf.timestamp_pb2 import Timestamp

VERSION = "pyrunc-shim 0.1"
STATUS = {CREATED: task_pb2.CREATED, RUNNING: task_pb2.RUNNING, PAUSED: task_pb2.PAUSED,
          STOPPED: task_pb2.STOPPED}


def _stamp(ts: Timestamp, ns: int) -> None:
    if ns:
        ts.FromNanoseconds(ns)


async def _spawn(io: ProcessIO, pid_file: str, run: Callable[[], Awaitable[None]]) -> int:
    """Run the runtime's create or exec with `io`; the new process' pid from `pid_file`.
    With a terminal, the pty master arrives on the console socket meanwhile."""
    console = asyncio.ensure_future(io.receive_console()) if io.terminal else None
    try:
        try:
            await run()
        finally:
            io.spawned()
        if console is not None:
            await console
        with open(pid_file) as f:
            return int(f.read().strip())
    except BaseException:
        if console is not None:
            console.cancel()
        raise


def _silence_stderr() -> None:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)


@dataclass
class Container:
    id: str
    bundle: str
    runtime: Runtime
    init: Process
    execs: dict[str, Process] = field(default_factory=dict)
    rootfs_mounted: bool = False

    def unmount_rootfs(self) -> None:
        if self.rootfs_mounted:
            linux.unmount(os.path.join(self.bundle, "rootfs"))
            self.rootfs_mounted = False


class TaskService:
    def __init__(self, namespace: str, bundle: str, publisher: Publisher, reaper: Reaper,
                 server: Server, exit_process: Callable[[], None]) -> None:
        self.namespace = namespace
        self.log_bundle = bundle  # whose `log` fifo is this shim's stderr
        self.events = publisher
        self.reaper = reaper
        self.server = server
        self.exit_process = exit_process
        self.containers: dict[str, Container] = {}
        self.creating: set[str] = set()
        self.reserved: dict[str, float] = {}  # container id -> loop time the reservation ends
        self.leaving = False
        self.oom = OomWatcher(
            lambda cid: publisher.publish(task_events_pb2.TaskOOM(container_id=cid)))

    # -- helpers ---------------------------------------------------------------------------
    def _container(self, container_id: str) -> Container:
        found = self.containers.get(container_id)
        if found is None:
            raise errors.NotFound(f"container {container_id} not found")
        return found

    def _process(self, container_id: str, exec_id: str) -> Process:
        container = self._container(container_id)
        if not exec_id:
            return container.init
        found = container.execs.get(exec_id)
        if found is None:
            raise errors.NotFound(f"process {exec_id} of container {container_id} not found")
        return found

    def reserve(self, container_id: str) -> None:
        """Keep this shim for `container_id`'s Create (group.py); Unavailable once leaving."""
        if self.leaving:
            raise errors.Unavailable("this shim is shutting down")
        loop = asyncio.get_running_loop()
        self.reserved[container_id] = loop.time() + group.RESERVATION_SECONDS
        # A reservation nobody used (containerd gave up) must not keep an idle shim forever.
        loop.call_later(group.RESERVATION_SECONDS + 1, self._leave_if_idle)

    def _leave_if_idle(self) -> None:
        if not self.leaving and self._idle():
            self.leaving = True
            self.exit_process()

    def _idle(self) -> bool:
        now = asyncio.get_running_loop().time()
        self.reserved = {k: t for k, t in self.reserved.items() if t > now}
        return not self.containers and not self.creating and not self.reserved

    def _watch(self, proc: Process) -> None:
        """Record `proc`'s exit when the reaper reports it, and publish TaskExit."""
        fut = self.reaper.watch(proc.pid)

        def done(f: asyncio.Future[int]) -> None:
            if f.cancelled():
                return
            self._on_exit(proc, f.result())

        fut.add_done_callback(done)

    def _on_exit(self, proc: Process, status: int) -> None:
        container = self.containers.get(proc.container_id)
        if proc.is_init and container is not None:
            # The container is gone: its exec'd processes go with it (the kernel killed them).
            for other in container.execs.values():
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

    @staticmethod
    def _mount_rootfs(request: shim_pb2.CreateTaskRequest) -> bool:
        """Mount the rootfs containerd prepared; whether anything was mounted."""
        target = os.path.join(request.bundle, "rootfs")
        for m in request.rootfs:
            os.makedirs(target, exist_ok=True)
            try:
                linux.mount(m.source, target, m.type, list(m.options))
            except OSError as e:
                raise errors.Internal(f"mounting the rootfs of {request.id}: {e}") from None
        return len(request.rootfs) > 0

    # -- handlers --------------------------------------------------------------------------
    async def create(self, ctx: Context, r: shim_pb2.CreateTaskRequest) -> Any:
        if r.id in self.containers or r.id in self.creating:
            raise errors.AlreadyExists(f"container {r.id} already exists")
        if r.checkpoint or r.parent_checkpoint:
            raise errors.Unimplemented("restoring from a checkpoint")
        self.creating.add(r.id)
        self.reserved.pop(r.id, None)
        try:
            container = await self._create(r)
        finally:
            self.creating.discard(r.id)
        self.containers[r.id] = container
        self._watch(container.init)
        self.oom.watch(r.id, container.init.pid)
        event = task_events_pb2.TaskCreate(
            container_id=r.id, bundle=r.bundle, rootfs=r.rootfs, pid=container.init.pid,
            io=task_events_pb2.TaskIO(stdin=r.stdin, stdout=r.stdout, stderr=r.stderr,
                                      terminal=r.terminal))
        self.events.publish(event)
        return shim_pb2.CreateTaskResponse(pid=container.init.pid)

    async def _create(self, r: shim_pb2.CreateTaskRequest) -> Container:
        options = runc_options_pb2.Options()
        if r.options.type_url.endswith("containerd.runc.v1.Options"):
            options.ParseFromString(r.options.value)
        root = os.path.join(options.root or settings.DEFAULT_ROOT, self.namespace)
        binary = options.binary_name or settings.DEFAULT_BINARY
        settings.write(r.bundle, binary, root)
        runtime = Runtime(self.reaper, binary, root, os.path.join(r.bundle, "log.json"))
        proc = Process(r.id, "", r.stdin, r.stdout, r.stderr, r.terminal)
        io = proc.io = ProcessIO.open(r.stdin, r.stdout, r.stderr, r.terminal)
        container = Container(r.id, r.bundle, runtime, proc)
        pid_file = os.path.join(r.bundle, "init.pid")
        try:
            container.rootfs_mounted = self._mount_rootfs(r)
            proc.pid = await _spawn(io, pid_file, lambda: runtime.create(
                r.id, r.bundle, pid_file, io.child, io.console_path))
        except BaseException:
            io.close()
            with contextlib.suppress(RuntimeFailed):
                await runtime.delete(r.id, force=True)
            container.unmount_rootfs()
            raise
        return container

    async def start(self, ctx: Context, r: shim_pb2.StartRequest) -> Any:
        proc = self._process(r.id, r.exec_id)
        container = self._container(r.id)
        runtime = container.runtime
        if proc.state != CREATED:
            raise errors.FailedPrecondition(
                f"process {r.exec_id or r.id}: cannot start a {proc.state} process")
        if proc.is_init:
            await runtime.start(r.id)
            if not proc.exited.is_set():
                proc.state = RUNNING
            self.events.publish(task_events_pb2.TaskStart(container_id=r.id, pid=proc.pid))
            return shim_pb2.StartResponse(pid=proc.pid)
        assert proc.io is not None
        if container.init.state not in (RUNNING, PAUSED):
            raise errors.FailedPrecondition(f"container {r.id} is not running")
        pid_file = os.path.join(container.bundle, f"exec-{r.exec_id}.pid")
        io = proc.io
        try:
            proc.pid = await _spawn(io, pid_file, lambda: runtime.exec(
                r.id, proc.spec_file, pid_file, io.child, io.console_path))
        except BaseException:
            io.close()
            proc.set_exited(255)
            raise
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
            id=r.id, bundle=self._container(r.id).bundle, pid=proc.pid,
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
        container = self._container(r.id)
        if not proc.is_init:
            del container.execs[r.exec_id]
            if proc.io is not None:
                proc.io.close()
            if proc.spec_file:
                with contextlib.suppress(OSError):
                    os.unlink(proc.spec_file)
        else:
            await container.runtime.delete(r.id, force=proc.state == CREATED)
            if self.containers.pop(r.id, None) is None:
                raise errors.NotFound(f"container {r.id} not found")  # deleted meanwhile
            if proc.io is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.io.drained(), 10)
                proc.io.close()
            self.oom.unwatch(r.id)
            container.unmount_rootfs()
            if container.bundle == self.log_bundle:
                _silence_stderr()  # containerd stops reading that bundle's log fifo
            event = task_events_pb2.TaskDelete(container_id=r.id, pid=proc.pid,
                                               exit_status=proc.exit_status, id=r.id)
            _stamp(event.exited_at, proc.exited_at_ns)
            self.events.publish(event)
        response = shim_pb2.DeleteResponse(pid=proc.pid, exit_status=proc.exit_status)
        _stamp(response.exited_at, proc.exited_at_ns)
        return response

    async def pids(self, ctx: Context, r: shim_pb2.PidsRequest) -> Any:
        container = self._container(r.id)
        pids = await container.runtime.ps(r.id)
        return shim_pb2.PidsResponse(processes=[task_pb2.ProcessInfo(pid=p) for p in pids])

    async def pause(self, ctx: Context, r: shim_pb2.PauseRequest) -> Any:
        await self._freeze(r.id, pause=True)
        return empty_pb2.Empty()

    async def resume(self, ctx: Context, r: shim_pb2.ResumeRequest) -> Any:
        await self._freeze(r.id, pause=False)
        return empty_pb2.Empty()

    async def _freeze(self, container_id: str, pause: bool) -> None:
        proc = self._process(container_id, "")
        wanted = RUNNING if pause else PAUSED
        if proc.state != wanted:
            raise errors.FailedPrecondition(
                f"container {container_id} is {proc.state}, not {wanted}")
        runtime = self._container(container_id).runtime
        await (runtime.pause(container_id) if pause else runtime.resume(container_id))
        if pause:
            proc.state = PAUSED
            self.events.publish(task_events_pb2.TaskPaused(container_id=container_id))
        else:
            if not proc.exited.is_set():
                proc.state = RUNNING
            self.events.publish(task_events_pb2.TaskResumed(container_id=container_id))

    async def kill(self, ctx: Context, r: shim_pb2.KillRequest) -> Any:
        proc = self._process(r.id, r.exec_id)
        if proc.is_init:
            if proc.exited.is_set() and not r.all:
                raise errors.NotFound(f"process {r.id} already finished")
            try:
                await self._container(r.id).runtime.kill(r.id, r.signal, r.all)
            except RuntimeFailed:
                if not proc.exited.is_set():
                    raise
            return empty_pb2.Empty()
        if proc.exited.is_set() or not proc.pid:
            raise errors.NotFound(f"process {r.exec_id} not running")
        try:
            os.kill(proc.pid, r.signal)
        except ProcessLookupError:
            raise errors.NotFound(f"process {r.exec_id} not found") from None
        return empty_pb2.Empty()

    async def exec(self, ctx: Context, r: shim_pb2.ExecProcessRequest) -> Any:
        container = self._container(r.id)
        if r.exec_id in container.execs:
            raise errors.AlreadyExists(f"id {r.exec_id}: already exists")
        if not r.exec_id or "/" in r.exec_id:
            raise errors.InvalidArgument(f"exec id {r.exec_id!r} is not valid")
        proc = Process(r.id, r.exec_id, r.stdin, r.stdout, r.stderr, r.terminal)
        proc.spec_file = os.path.join(container.bundle, f"exec-{r.exec_id}.json")
        with open(proc.spec_file, "wb") as f:
            f.write(r.spec.value)
        try:
            proc.io = ProcessIO.open(r.stdin, r.stdout, r.stderr, r.terminal)
        except BaseException:
            os.unlink(proc.spec_file)
            raise
        container.execs[r.exec_id] = proc
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
        """containerd sends runtime-spec's LinuxResources as JSON in the Any (type URL
        types.containerd.io/opencontainers/runtime-spec/1/LinuxResources); like the Go shim,
        the value is read as that JSON whatever the URL says."""
        import json

        container = self._container(r.id)
        if container.init.state == STOPPED:
            raise errors.FailedPrecondition(f"container {r.id}: cannot update a stopped "
                                            "container")
        try:
            resources = json.loads(r.resources.value or b"null")
        except ValueError as e:
            raise errors.InvalidArgument(f"update of container {r.id}: the resources are not "
                                         f"JSON: {e}") from None
        if not isinstance(resources, dict):
            raise errors.InvalidArgument(f"update of container {r.id}: the resources are not "
                                         "a JSON object")
        path = os.path.join(container.bundle, "update-resources.json")
        with open(path, "wb") as f:
            f.write(r.resources.value)
        try:
            await container.runtime.update(r.id, path)
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
        proc = self._process(r.id, "")
        if proc.exited.is_set() or not proc.pid:
            raise errors.NotFound(f"container {r.id}: its task has exited")
        try:
            return shim_pb2.StatsResponse(stats=cgstats.metrics_of(proc.pid))
        except OSError as e:
            raise errors.NotFound(f"stats of container {r.id}: {e.strerror or e}") from None

    async def checkpoint(self, ctx: Context, r: shim_pb2.CheckpointTaskRequest) -> Any:
        raise errors.Unimplemented("checkpoint: not supported by this shim")

    async def connect(self, ctx: Context, r: shim_pb2.ConnectRequest) -> Any:
        container = self.containers.get(r.id)
        return shim_pb2.ConnectResponse(shim_pid=os.getpid(),
                                        task_pid=container.init.pid if container else 0,
                                        version=VERSION)

    async def shutdown(self, ctx: Context, r: shim_pb2.ShutdownRequest) -> Any:
        if not r.now and not self._idle():
            return empty_pb2.Empty()  # a container lives here, or is about to: stay
        self.leaving = True
        self.exit_process()
        return empty_pb2.Empty()

    async def reserve_handler(self, ctx: Context, payload: bytes) -> bytes:
        self.reserve(payload.decode(errors="replace"))
        return str(os.getpid()).encode()

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

    def group_methods(self) -> dict[str, UnaryMethod]:
        return {"Reserve": UnaryMethod(self.reserve_handler)}
