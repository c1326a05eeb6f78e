"""ContainerService: the containers domain's lifecycle (create, start, stop, kill, remove,
wait, logs), run through one shim per container (shims.py) on the daemon's event loop.

Blocking work (SQLite, snapshots, bundles) runs in the worker pool (`asyncio.to_thread`, whose
executor the daemon bounds); shim calls, stdio copies and waiters are coroutines on the loop.
`open`/`recover`/`close` are the Domain protocol (blocking, in the pool); `serve()` and
`stop_serving()` are the loop's part: the events endpoint and the reconnection to shims that
outlived a daemon restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import shutil
import signal as signals
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyengine import crashpoints
from pyengine.containers import (
    attach,
    create_checks,
    exec_records,
    exec_recovery,
    execs,
    fifo_reader,
    health,
    init_layer,
    ipc_shm,
    late_user,
    logcopy,
    names,
    namespaces,
    ops,
    restart,
    secopts,
    shims,
    strays,
)
from pyengine.containers import logs as jsonlog
from pyengine.containers import mounts as container_mounts
from pyengine.containers.endpoint import EventsEndpoint
from pyengine.containers.event_attrs import event_attributes, exec_action
from pyengine.containers.fanout import Fanout, Subscriber
from pyengine.containers.filesystem import ContainerFilesystem, remove_scratch
from pyengine.containers.model import (
    CREATED,
    DEAD,
    EXITED,
    REMOVING,
    RUNNING,
    Container,
    ExternalRootfs,
    Spec,
    State,
)
from pyengine.containers.networking import ContainerNetworking, bundle_network, exposed_ports
from pyengine.containers.repository import ContainerRepository
from pyengine.containers.restart import Policy
from pyengine.errors import (
    EngineError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unimplemented,
)
from pyengine.gc import ImageUse, Roots
from pyengine.images.inspect import parse_time
from pyengine.store.records import now_rfc3339

if TYPE_CHECKING:
    from pyengine.config import DaemonConfig
    from pyengine.events import EventBus
    from pyengine.gc import Collector
    from pyengine.images.service import ImageService
    from pyengine.network.service import NetworkService
    from pyengine.snapshots import Snapshotter
    from pyengine.store import Database
    from pyengine.volumes.service import VolumeService

log = logging.getLogger("pyengine.containers")

DEFAULT_STOP_TIMEOUT = 10
NO_LOG = "none"  # docker's log driver that keeps nothing
# seconds between attempts to record an exit the database refused for a full disk: ~8 s in
# all. Nothing else is asked again: a locked database has had SQLite's 30 s busy timeout, a
# closed one means the daemon is stopping (the next start's recovery records the exit), and
# any other error (damage, I/O, a constraint) would fail the same way while stop and rm wait.
EXIT_RECORD_RETRIES = (0.1, 0.5, 2.0, 5.0)
STDIO = ("stdout", "stderr")


def parse_signal(text: str) -> int:
    """A signal by number or name (KILL, SIGKILL, 9)."""
    text = text.strip().upper()
    if text.isdigit():
        number = int(text)
        if 0 < number < 65:
            return number
    else:
        with contextlib.suppress(KeyError):
            return int(signals.Signals["SIG" + text.removeprefix("SIG")])
    raise InvalidArgument(f"Invalid signal: {text}")


def ns_to_rfc3339(time_nano: int) -> str:
    return jsonlog.rfc3339_nano(time_nano) if time_nano > 0 else ""


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


@dataclass
class Live:
    """What the loop holds for one container: its shim, log, copies and waiters."""

    shim: shims.Shim | None = None
    log: jsonlog.JsonFileLog | None = None
    copies: list[asyncio.Task[None]] = field(default_factory=list)
    waiter: asyncio.Task[None] | None = None
    exiting: bool = False
    streams_open: bool = False
    exited: asyncio.Event = field(default_factory=asyncio.Event)
    removed: asyncio.Event = field(default_factory=asyncio.Event)
    exit_code: int = 0
    pid: int = 0  # the init of the current run, once created
    stdin: int | None = None  # our write end of the stdin fifo while it is open
    restarting: asyncio.Task[None] | None = None  # a restart waiting out its backoff
    restart_starting: bool = False  # that restart is starting the container now
    # held by a start from its check of the record to its RUNNING record (or failure), so
    # starts of one container run one after the other; stop (for its mark) and remove take it
    # too: a start under way finishes first, and one after them sees what they recorded
    starting: asyncio.Lock = field(default_factory=asyncio.Lock)
    fanout: Fanout = field(default_factory=Fanout)  # attached clients (attach.py)
    stdin_open: asyncio.Event = field(default_factory=asyncio.Event)  # `stdin` is set
    execs: set[asyncio.Task[None]] = field(default_factory=set)  # execs running (execs.py)
    # clear while a start has its task running but not yet recorded RUNNING: an exit that
    # comes meanwhile (the shim's TaskExit event of a quick init) waits for that record
    recorded: asyncio.Event = field(default_factory=_set_event)

    def close_stdin(self) -> None:
        if self.stdin is not None:
            os.close(self.stdin)
            self.stdin = None
        self.stdin_open.clear()

    async def cancel_restart(self) -> None:
        """No restart pending any more; one already starting the container is let finish."""
        task = self.restarting
        if task is None or task.done():
            self.restarting = None
            return
        if self.restart_starting:
            await asyncio.wait([task])
        else:
            task.cancel()
        self.restarting = None


class ContainerService:
    name = "containers"

    def __init__(self, config: DaemonConfig, db: Database, images: ImageService,
                 snapshotter: Snapshotter, collector: Collector, events: EventBus,
                 volumes: VolumeService | None = None, *, networks: NetworkService) -> None:
        self.config = config
        self.networks = networks
        if volumes is None:
            from pyengine.volumes.service import VolumeService

            volumes = VolumeService(config, db, events)
        self.volumes = volumes
        self.repo = ContainerRepository(db)
        self.images = images
        self.snapshotter = snapshotter
        self.collector = collector
        self.events = events
        self.bundles = config.exec_root / "containers"
        self.log_root = config.data_root / "containers"
        self.runc_root = config.exec_root / "runtime"
        self.endpoint = EventsEndpoint(config.exec_root / "events.sock", self._exit_event)
        self._live: dict[str, Live] = {}
        self.files = ContainerFilesystem(self)  # diff, export, cp, commit
        self.networking = ContainerNetworking(self, networks)
        self.health = health.HealthMonitors(self)  # docker's health checks (health.py)
        self.exec_store = exec_records.ExecStore()  # docker's created execs (exec_records.py)

    # -- Domain ---------------------------------------------------------------------------

    def open(self) -> None:
        for path in (self.bundles, self.log_root, self.runc_root):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.collector.register(self.name, self.roots)

    def recover(self) -> None:
        """What a crash left: a removal half done is finished; bundles, log directories and
        writable snapshots of no recorded container (a create cut short) go; containers whose
        bundle is gone (a reboot emptied the exec root) did not survive."""
        known: set[str] = set()
        for c in self.repo.all():
            if c.state.status == REMOVING or c.config.get("build"):
                log.warning("finishing an interrupted removal", extra={"fields": {"id": c.id}})
                if c.state.status != REMOVING:  # a build's container: its build is gone
                    address = strays.end_stray_shim(self.bundles / c.id)
                    c.state.shim_address = address or c.state.shim_address
                    self._clean_runtime(c)
                self._remove_files(c)
                continue
            known.add(c.id)
            if c.state.status != RUNNING:
                self._unmount_shm(c.id)  # an exit the daemon did not see out
                address = strays.end_stray_shim(self.bundles / c.id)
                if address is not None:  # a start cut short
                    log.warning("ending the shim of an interrupted start",
                                extra={"fields": {"id": c.id}})
                    c.state.shim_address = address
                    self._clean_runtime(c)
            if c.state.status == RUNNING and not (self.bundles / c.id).exists():
                c.state.move(EXITED)
                c.state.exit_code, c.state.pid, c.state.error = 255, 0, "bundle lost"
                c.state.finished_at = now_rfc3339()
                self.repo.save_state(c.id, c.state)
        self._remove_orphans(known)
        remove_scratch(self.files.scratch)
        every = self.repo.all()
        self.volumes.reconcile({c.id for c in every},
                               {c.id for c in every if c.state.status == RUNNING})

    def _remove_orphans(self, known: set[str]) -> None:
        from pyengine.snapshots.mount import unmount_all

        for bundle in list(self.bundles.iterdir()):
            if bundle.name not in known:
                if (bundle / "rootfs").exists():
                    unmount_all(bundle / "rootfs")
                self._unmount_shm(bundle.name)
                shutil.rmtree(bundle, ignore_errors=True)
        for directory in list(self.log_root.iterdir()):
            if directory.name not in known:
                shutil.rmtree(directory, ignore_errors=True)
        for info in list(self.snapshotter.walk()):
            if info.kind == "active" and names.ID_RE.match(info.name) and \
                    info.name not in known:
                log.warning("removing the writable layer of a container never recorded",
                            extra={"fields": {"snapshot": info.name}})
                with contextlib.suppress(NotFound):
                    self.snapshotter.remove(info.name)

    def _unmount_shm(self, cid: str) -> None:
        """At the daemon's start: a shareable container's /dev/shm left mounted goes; one
        that will not unmount is logged, and does not keep the daemon from starting."""
        try:
            ipc_shm.unmount(self.bundles / cid)
        except EngineError as err:
            log.warning("unmounting a stopped container's /dev/shm failed",
                        extra={"fields": {"id": cid, "error": str(err)}})

    def close(self) -> None:
        self.collector.unregister(self.name)

    def roots(self) -> Roots:
        out = Roots()
        for c in self.repo.all():
            out.snapshots.add(c.snapshot)
            out.images.append(ImageUse(c.image_id, c.id, c.state.status == RUNNING))
        return out

    # -- the loop's part --------------------------------------------------------------------

    async def serve(self) -> None:
        """Listen for shims' events, then reconnect to the shims of running containers."""
        await self.endpoint.listen()
        every = await asyncio.to_thread(self.repo.all)
        # all at once: each container's fifos are read again as soon as possible (a writer
        # blocks once the pipe's buffer is full)
        running = [c for c in every if c.state.status == RUNNING]
        results = await asyncio.gather(*(self._reconnect(c) for c in running),
                                       return_exceptions=True)
        for c, result in zip(running, results, strict=True):
            if isinstance(result, BaseException):
                log.error("reconnecting to a container's shim failed",
                          extra={"fields": {"id": c.id, "error": str(result)}})
        await self._restore_networks(running)
        for c in running:  # a monitor that finds its container exited ends at once
            self.health.watch(c)
        for c in every:
            if c.state.restarting:  # its backoff ended with the daemon: decided again here
                c = await self._update_state(c.id, _not_restarting)
            if c.state.status == EXITED and Policy.parse(c.spec.restart).at_daemon_start(
                    c.state.exit_code, c.state.restart_count, c.state.manually_stopped):
                log.info("starting a container by its restart policy",
                         extra={"fields": {"id": c.id, "policy": c.spec.restart}})
                try:
                    await self.start(c.id)
                except EngineError as err:
                    log.warning("restart policy: start failed",
                                extra={"fields": {"id": c.id, "error": str(err)}})

    async def _restore_networks(self, running: list[Container]) -> None:
        """After reconnecting: the network state of containers still running comes back;
        what the others held goes."""
        alive = [c for c in running if (live := self._live.get(c.id)) is not None
                 and live.shim is not None and not live.exiting and not live.exited.is_set()]
        await self.networking.reconcile([c.id for c in alive])
        for c in alive:
            try:
                await self.networking.restore(c, c.state.pid)
            except EngineError as err:
                log.error("restoring a container's networks failed",
                          extra={"fields": {"id": c.id, "error": str(err)}})

    async def stop_serving(self) -> None:
        """Daemon shutdown: stop copying and waiting; the shims keep running."""
        self.health.close()
        for live in self._live.values():
            if live.restarting is not None:
                live.restarting.cancel()
            for task in [*live.copies, *live.execs, *([live.waiter] if live.waiter else [])]:
                task.cancel()
            if live.shim is not None:
                await live.shim.close()
            if live.log is not None:
                live.log.close()
        await self.endpoint.close()

    def shim_of(self, cid: str) -> shims.Shim | None:
        """The connected shim of a running container."""
        live = self._live.get(cid)
        return live.shim if live is not None else None

    def _get_live(self, cid: str) -> Live:
        return self._live.setdefault(cid, Live())

    def start_lock(self, cid: str) -> asyncio.Lock:
        """The lock a start of `cid` holds while it writes and launches its bundle (ops'
        update rewrites config.json under it too)."""
        return self._get_live(cid).starting

    async def _current(self, cid: str) -> Container:
        """The container's record as it is now; once the record is gone (removed meanwhile),
        its Live goes too (its start lock is not kept for a container no more)."""
        try:
            return await asyncio.to_thread(self.repo.get, cid)
        except NotFound:
            self._live.pop(cid, None)
            raise

    async def _update_state(self, cid: str, change: Callable[[Container], bool]) -> Container:
        """Apply `change` to the container's record as it is now and save its state if
        `change` says it changed it: the read and the save are one transaction in the pool,
        so no other write (an exit's, a stop's, a pause's) is lost between them. Every
        read-modify-save of a State goes through here: a Container read before an await is
        never saved back."""
        try:
            return await asyncio.to_thread(self.repo.update_state, cid, change)
        except NotFound:
            self._live.pop(cid, None)
            raise

    # -- lookups ------------------------------------------------------------------------------

    def resolve(self, ref: str) -> str:
        names_map = self.repo.names()
        return names.resolve(ref, names_map.values(), names_map)

    def get(self, ref: str) -> Container:
        return self.repo.get(self.resolve(ref))

    def all(self) -> list[Container]:
        return self.repo.all()

    def inspect_parts(self, c: Container) -> dict[str, Any]:
        """The parts of docker inspect's document that are not in `c`'s record (blocking: run
        it in the pool): the network's, and GraphDriver's directories."""
        parts = self.networking.inspect_parts(c)
        parts["GraphDriver"] = graph_driver(self.snapshotter, c.snapshot,
                                            self.bundles / c.id / "rootfs")
        return parts

    def log_path(self, cid: str) -> Path:
        return self.log_root / cid / f"{cid}-json.log"

    # -- create ---------------------------------------------------------------------------

    def create(self, spec: Spec, name: str = "", *,
               rootfs: ExternalRootfs | None = None) -> Container:
        """Blocking: the writable snapshot, the bundle and the record. With `rootfs` (a build
        step's container) the caller's snapshot is the container's and stays the caller's."""
        from pyengine.bundles import ContainerOptions, UserNotFound, build_config, write_bundle
        from pyengine.bundles.config import config_env, image_env
        from pyengine.snapshots.mount import mount_all, unmount_all

        if name:
            name = names.validate(name)
            if self.repo.name_taken(name):
                found = self.repo.names()[name]
                raise_conflict(name, found)
        create_checks.check(spec)
        namespaces.check(spec, self.resolve)
        secopts.check(spec)
        self.networking.check(spec)
        if spec.init:
            create_checks.init_binary()
        runtime = shims.runtime_binary(spec.runtime or self.config.default_runtime)
        policy = Policy.parse(spec.restart)
        if spec.auto_remove and policy.name != "no":
            raise InvalidArgument("Conflicting options: --restart and --rm")
        mount_plan = container_mounts.plan(spec, self.get)  # before anything is made
        cid = names.new_id()
        generated_name = not name
        if generated_name:
            name = names.generate(self.repo.name_taken)
        if rootfs is not None:
            image_id, image_config, snapshot = rootfs.image_id, rootfs.image_config, rootfs.snapshot
        else:
            with self.collector.lock.shared():
                image = self.images.resolve_local(spec.image)
                image_config = self.images.config_of(image)
                self.snapshotter.prepare(cid, image.chain_id or None)
            image_id, snapshot = image.id, cid
        crashpoints.reached("create.after-snapshot")
        bundle = self.bundles / cid
        try:
            root_dir = bundle / "rootfs"
            root_dir.mkdir(mode=0o711, parents=True)
            opts = ContainerOptions(
                container_id=cid, entrypoint=spec.entrypoint, cmd=spec.cmd, env=spec.env,
                user=spec.user or None, workdir=spec.workdir or None,
                hostname=spec.hostname or None, tty=spec.tty, read_only=spec.read_only,
                network=bundle_network(spec), bundle_dir=bundle,
                memory_limit=spec.memory or None,
                pids_limit=spec.pids_limit or None,
                cgroups_path=f"/pyengine/{cid}",
                group_add=spec.group_add, device_cgroup_rules=spec.device_cgroup_rules,
            )
            secopts.apply(opts, spec)
            mount_all(self.snapshotter.mounts(snapshot), root_dir)
            try:
                crashpoints.reached("create.rootfs-mounted")
                if rootfs is None:  # a build step's container commits its own snapshot
                    init_layer.populate(root_dir)
                points = container_mounts.realize(mount_plan, image_config, cid, self.volumes,
                                                  root_dir)
                opts.mounts = container_mounts.oci_mounts(points)
                user_at_start = None
                try:
                    config = build_config(image_config, opts, root_dir)
                except UserNotFound:  # dockerd's: made, and each start resolves it again
                    user_at_start = late_user.marker(image_env(image_config), spec.env)
                    config = build_config(image_config, dataclasses.replace(
                        opts, user=late_user.PLACEHOLDER, group_add=[]), root_dir)
            finally:
                unmount_all(root_dir)
            config["root"]["path"] = "rootfs"
            hostname = config["hostname"]  # docker's Config.Hostname, even with UTS host
            namespaces.configure(config, spec, bundle)
            args = list(config["process"]["args"])  # the command, without an --init
            create_checks.apply(config, spec)
            write_bundle(bundle, config)
            section = image_config.get("config") or {}
            c = Container(
                id=cid, name=name, image_id=image_id, image_name=spec.image,
                snapshot=snapshot, created=now_rfc3339(), spec=spec,
                state=State(status=CREATED), runtime=runtime,
                config={
                    "args": args, "env": config["process"]["env"],
                    "config_env": config_env(section.get("Env") or [], spec.env),
                    "cwd": config["process"]["cwd"], "hostname": hostname,
                    "user": spec.user or str(section.get("User") or ""),
                    "image_entrypoint": section.get("Entrypoint"),
                    "image_cmd": section.get("Cmd"),
                    "image_labels": section.get("Labels") or {},
                    "image_volumes": container_mounts.image_volumes(image_config),
                    "mounts": container_mounts.stored(points),
                    "stop_signal": spec.stop_signal or str(section.get("StopSignal") or
                                                           "SIGTERM"),
                    "exposed": exposed_ports(section, spec),
                    **health.create_fields(section, spec),
                    **({late_user.MARK: user_at_start} if user_at_start is not None else {}),
                },
            )
            if rootfs is not None:
                c.config["external_snapshot"] = c.config["build"] = True
            self.networking.register(c)
            (self.log_root / cid).mkdir(mode=0o700, parents=True, exist_ok=True)
            crashpoints.reached("create.before-record")
            self.repo.add(c, generated_name)
            name = c.name
        except BaseException:
            self.networking.unregister(cid)
            with contextlib.suppress(EngineError):
                self.volumes.forget(cid, remove_anonymous=True)
            shutil.rmtree(bundle, ignore_errors=True)
            shutil.rmtree(self.log_root / cid, ignore_errors=True)
            if rootfs is None:
                with contextlib.suppress(EngineError):
                    self.snapshotter.remove(cid)
            raise
        self.events.publish("container", "create", cid, **event_attributes(c))
        return c

    # -- start ----------------------------------------------------------------------------

    async def start(self, ref: str) -> Container:
        cid = (await asyncio.to_thread(self.get, ref)).id
        live = self._get_live(cid)
        async with live.starting:  # a start under way first: then this one finds it RUNNING
            if live.exiting and not live.exited.is_set():  # an exit being recorded: it first
                await live.exited.wait()  # (the record still says RUNNING until then)
            c = await self._current(cid)
            if c.state.status == RUNNING:
                return c
            if c.state.status in (REMOVING, DEAD):
                raise FailedPrecondition(f"container {c.id} is marked for removal and "
                                         "cannot be started")
            try:
                return await self._launch(c, live)
            except Exception as err:
                if not c.spec.auto_remove:
                    raise
                failed = err
                # marked before the lock goes: a start queued behind this one refuses it
                with contextlib.suppress(EngineError):
                    await self._update_state(c.id, _removing)
        # docker's: the daemon removes a --rm container whose start failed (the docker CLI
        # waits on wait?condition=removed for it); after the lock, which remove takes
        with contextlib.suppress(EngineError):
            await self.remove(c.id, force=True, volumes=True)
        raise failed

    async def _launch(self, c: Container, live: Live) -> Container:
        """Start `c` (not running), with its start lock held: its shim, its task, its record."""
        bundle = self.bundles / c.id
        holders: list[int] = []
        shim: shims.Shim | None = None
        try:
            await self.networking.prepare(c)
            if namespaces.needs_join(c.spec):
                await asyncio.to_thread(namespaces.join, bundle, c.spec, self.get,
                                        self.bundles)
            mark = c.config.get(late_user.MARK)
            if mark is not None:  # after prepare: its link env is made from create's env
                await asyncio.to_thread(self._resolve_user, c, mark)
            if ipc_shm.shareable(c.spec):
                await asyncio.to_thread(ipc_shm.mount, bundle, c.spec)
            self._open_log(c, live)
            for stream in (*STDIO, "stdin"):
                path = bundle / f"{stream}.fifo"
                path.unlink(missing_ok=True)
                if stream != "stdin" or c.spec.open_stdin:
                    os.mkfifo(path, 0o600)
            holders = self._copy_stdio(c.id, live)
            self._copy_shim_log(bundle, live)
            address = await shims.launch(self.config.shim_binary, c.id, bundle,
                                         str(self.endpoint.path))
            crashpoints.reached("start.after-shim")
            await asyncio.to_thread(self.volumes.acquire, c.id)
            shim = live.shim = await shims.Shim.connect(c.id, address)
            shim_pid = await shim.pid()
            mounts = await asyncio.to_thread(self.snapshotter.mounts, c.snapshot)
            created_pid = await shim.create(
                bundle, mounts, str(bundle / "stdout.fifo"), str(bundle / "stderr.fifo"),
                c.runtime, str(self.runc_root), c.spec.tty,
                str(bundle / "stdin.fifo") if c.spec.open_stdin else "")
            if c.spec.open_stdin:  # the shim opens its read end at Create
                self._close_stdin(live)
                live.stdin = await _open_fifo_writer(bundle / "stdin.fifo")
                live.stdin_open.set()
            for fd in holders:
                os.close(fd)
            holders = []
            live.pid = created_pid
            live.exited.clear()
            live.exiting = False
            await self.networking.attach(c, created_pid)
            live.recorded.clear()
            pid = await shim.start()
        except BaseException as err:
            live.recorded.set()
            for fd in holders:
                os.close(fd)
            await self._start_failed(c, live, shim, err)
            raise
        try:
            return await self._record_start(c.id, live, shim, pid, shim_pid)
        finally:
            live.recorded.set()

    def _resolve_user(self, c: Container, mark: dict[str, Any]) -> None:
        """A user create could not resolve (late_user.py), resolved in the container's files
        as they are now; UserNotFound (docker's text) fails the start."""
        from pyengine.bundles import UserNotFound

        with self.files.mounted(c) as root:
            try:
                late_user.apply(self.bundles / c.id, root, str(c.config.get("user") or ""),
                                c.spec.group_add, mark)
            except UserNotFound as err:  # a failed start, not a bad request (dockerd: 500)
                raise EngineError(str(err)) from None

    async def _record_start(self, cid: str, live: Live, shim: shims.Shim, pid: int,
                            shim_pid: int) -> Container:
        started_at = now_rfc3339()

        def running(c: Container) -> bool:
            c.state.move(RUNNING)
            c.state.pid, c.state.shim_pid, c.state.shim_address = pid, shim_pid, shim.address
            c.state.started_at, c.state.finished_at = started_at, ""
            c.state.exit_code, c.state.error = 0, ""
            c.state.manually_stopped = False
            c.state.paused = c.state.restarting = False
            health.reset(c.state, c)
            return True

        c = await self._update_state(cid, running)
        live.waiter = asyncio.create_task(self._wait_shim(c.id, shim, pid))
        self.health.watch(c)
        self.events.publish("container", "start", c.id, **event_attributes(c))
        return c

    def _open_log(self, c: Container, live: Live) -> None:
        if live.log is None:
            kind = jsonlog.NoLog if c.spec.log_driver == NO_LOG else jsonlog.JsonFileLog
            live.log = kind(self.log_path(c.id), c.spec.log_max_size, c.spec.log_max_file)

    def _copy_stdio(self, cid: str, live: Live, reconnect: bool = False) -> list[int]:
        """Start copying the fifos into the log; returns write ends held open until the shim
        has opened its own (so the copies see no early end of file)."""
        assert live.log is not None
        bundle = self.bundles / cid
        holders = []
        live.copies = [t for t in live.copies if not t.done()]
        for stream in STDIO:
            path = bundle / f"{stream}.fifo"
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            holders.append(os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC))
            live.copies.append(asyncio.create_task(logcopy.copy_to_log(
                fd, stream, live.log, bundle / f"{stream}.inflight", reconnect,
                publish=live.fanout.publish)))
        live.streams_open = True
        return holders

    def _copy_shim_log(self, bundle: Path, live: Live) -> None:
        fd = shims.open_shim_log(bundle)
        live.copies.append(asyncio.create_task(_drain_to_file(fd, bundle / "shim.log")))

    async def _start_failed(self, c: Container, live: Live, shim: shims.Shim | None,
                            err: BaseException) -> None:
        await self._end_task(live, shim)
        await self.networking.detach(c.id)
        await self._finish_copies(live, timeout=5)
        with contextlib.suppress(EngineError):
            await asyncio.to_thread(self.volumes.release, c.id)
        if ipc_shm.shareable(c.spec):
            with contextlib.suppress(EngineError):
                await asyncio.to_thread(ipc_shm.unmount, self.bundles / c.id)
        message = str(err)
        lowered = message.lower()
        code = 127 if ("not found" in lowered or "no such file" in lowered) \
            else 126 if "permission denied" in lowered else 128
        live.exit_code = code

        def failed(stored: Container) -> bool:
            stored.state.error, stored.state.exit_code = message, code
            return True

        with contextlib.suppress(EngineError):
            await self._update_state(c.id, failed)

    @staticmethod
    def _close_stdin(live: Live) -> None:
        live.close_stdin()

    async def write_stdin(self, ref: str, chunks: AsyncIterator[bytes]) -> None:
        """Copy `chunks` into the container's stdin; its end closes the stdin (docker's
        StdinOnce), so the process reads end of file."""
        c = await asyncio.to_thread(self.get, ref)
        live = self._live.get(c.id)
        if not c.spec.open_stdin:
            raise FailedPrecondition(f"container {c.id} was not created with an open stdin (-i)")
        if live is None or live.stdin is None:
            raise FailedPrecondition(f"container {c.id}: stdin is closed")
        fd = live.stdin
        try:
            async for chunk in chunks:
                if not await attach.write_all(fd, chunk, lambda fd: live.stdin == fd):
                    break  # the process is gone or closed its stdin
        finally:
            if live.stdin == fd:
                self._close_stdin(live)
                if live.shim is not None:
                    with contextlib.suppress(EngineError):
                        await live.shim.close_stdin()

    async def _end_task(self, live: Live, shim: shims.Shim | None) -> None:
        """Close our end of stdin, delete the task and let its shim go."""
        self._close_stdin(live)
        if shim is not None:
            with contextlib.suppress(EngineError):
                await shim.delete()
            await shim.shutdown()
        live.shim = None

    async def _finish_copies(self, live: Live, timeout: float = 30) -> None:
        pending = [t for t in live.copies if not t.done()]
        if pending:
            _, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()
        live.copies = []
        live.streams_open = False
        live.fanout.end()
        if live.log is not None:
            live.log.finish()

    async def _wait_shim(self, cid: str, shim: shims.Shim, pid: int) -> None:
        try:
            status, at = await shim.wait()
        except EngineError as err:
            if shim.client.closed:
                log.warning("lost the shim of a container",
                            extra={"fields": {"id": cid, "error": str(err)}})
                with contextlib.suppress(NotFound):
                    c = await asyncio.to_thread(self.repo.get, cid)
                    await self._lost(c, f"shim lost: {err}")
            return
        await self.on_exit(cid, status, at, pid=pid)

    # -- exit -------------------------------------------------------------------------------

    async def _exit_event(self, cid: str, status: int, at: int, pid: int) -> None:
        await self.on_exit(cid, status, at, pid=pid)

    async def on_exit(self, cid: str, status: int, at: int, reason: str = "",
                      pid: int = 0) -> None:
        """The init exited (from the shim's Wait answer or its TaskExit event; once). `pid`:
        the init the exit is about, when known: a late event of an earlier run (a restart
        policy started the container again meanwhile) is ignored."""
        live = self._live.get(cid)
        if live is None or live.exiting or live.exited.is_set():
            return
        if pid and live.pid and pid != live.pid:  # a late exit of an earlier run
            return  # (live.pid is the new run's from before its task starts)
        live.exiting = True
        try:
            c = await self._record_exit(cid, live, status, at, reason)
        except Exception as err:
            log.error("recording a container's exit failed",
                      extra={"fields": {"id": cid, "status": status, "error": str(err)}})
            raise
        finally:
            if not live.exited.is_set():  # the record is gone, or recording failed: the
                live.exit_code = status  # waiters (stop, rm, a start) must not wait for ever
                live.exited.set()
        if c is None:
            return
        self.events.publish("container", "die", cid, **event_attributes(c),
                            exitCode=str(status))
        if c.spec.auto_remove:  # --rm: its anonymous volumes go too (docker's)
            with contextlib.suppress(EngineError):
                await self.remove(cid, force=True, volumes=True)
            return
        if c.state.restarting:
            ran = _seconds_between(c.state.started_at, c.state.finished_at)
            quick = 0 if ran >= restart.STEADY_RUN else c.state.quick_restarts
            live.restarting = asyncio.create_task(
                self._restart_later(cid, restart.delay(quick), quick + 1))

    async def _record_exit(self, cid: str, live: Live, status: int, at: int,
                           reason: str) -> Container | None:
        """on_exit's clean-ups and record, up to `exited`; None when the record is gone."""
        self.health.unwatch(cid)
        await live.recorded.wait()  # a start still recording this run: its record first
        try:
            await asyncio.to_thread(self.repo.get, cid)
        except NotFound:
            return None
        shim = live.shim
        log.debug("container exited", extra={"fields": {"id": cid, "status": status}})
        await self._end_task(live, shim)
        await self.networking.detach(cid)
        log.debug("shim ended", extra={"fields": {"id": cid}})
        await self._finish_copies(live)
        log.debug("copies ended", extra={"fields": {"id": cid}})
        with contextlib.suppress(EngineError):
            await asyncio.to_thread(self.volumes.release, cid)
        finished_at = ns_to_rfc3339(at) or now_rfc3339()

        def exited(c: Container) -> bool:
            # the record as it is now, not as read above: a stop during the clean-ups has
            # marked it stopped by hand, and the policy must see that
            if c.state.status == RUNNING:
                c.state.move(EXITED)
            c.state.exit_code, c.state.pid, c.state.shim_address = status, 0, ""
            c.state.shim_pid = 0
            c.state.paused = False
            c.state.finished_at = finished_at
            if c.state.started_at and parse_time(c.state.finished_at) < \
                    parse_time(c.state.started_at):  # a quick exit, stamped before our record
                c.state.finished_at = c.state.started_at
            c.state.error = reason
            policy = Policy.parse(c.spec.restart)
            c.state.restarting = not c.spec.auto_remove and policy.should_restart(
                status, c.state.restart_count, c.state.manually_stopped)
            return True

        c = await self._save_exit(cid, exited)
        if c is None:
            return None
        # after the record and before `exited` (a stop, or a restart's start, waits for it:
        # the next start mounts a fresh one)
        if ipc_shm.shareable(c.spec):
            with contextlib.suppress(EngineError):
                await asyncio.to_thread(ipc_shm.unmount, self.bundles / cid)
        live.exit_code = status
        live.exited.set()
        return c

    async def _save_exit(self, cid: str, exited: Callable[[Container], bool]
                         ) -> Container | None:
        """The exit's record, tried again while the disk is full (EXIT_RECORD_RETRIES): until
        then the record says RUNNING and stop, rm and a start wait. None when the container's
        record is gone meanwhile. Any other error, or a disk still full after the retries,
        fails it: the record stays RUNNING until `rm -f` or the daemon's next start (its
        recovery finds the task gone and records the exit)."""
        delays = iter(EXIT_RECORD_RETRIES)
        while True:
            try:
                return await self._update_state(cid, exited)
            except NotFound:
                return None
            except ResourceExhausted as err:
                delay = next(delays, None)
                if delay is None:
                    raise
                log.warning("recording a container's exit failed: trying again",
                            extra={"fields": {"id": cid, "error": str(err),
                                              "retry_in_s": delay}})
                await asyncio.sleep(delay)

    async def _restart_later(self, cid: str, wait: float, quick: int) -> None:
        await asyncio.sleep(wait)
        live = self._live.get(cid)
        if live is None:  # removed meanwhile (rm -f kills it: that exit scheduled this)
            return
        # from here on a stop or remove lets this restart finish rather than cancel it, and
        # takes the start lock only after it (this task needs the lock)
        live.restart_starting = True

        def count(c: Container) -> bool:
            if c.state.status != EXITED or c.state.manually_stopped:
                return _not_restarting(c)
            c.state.restart_count += 1
            c.state.quick_restarts = quick
            return True

        try:
            # with the start lock from the check to the RUNNING record: a stop is either seen
            # here or comes after this start (and then stops it)
            async with live.starting:
                try:
                    c = await self._update_state(cid, count)
                except NotFound:  # removed meanwhile
                    return
                if c.state.status != EXITED or c.state.manually_stopped:
                    return
                try:
                    await self._launch(c, live)
                except Exception as err:  # a failed start is a failed run: decided again
                    log.warning("restart policy: start failed",
                                extra={"fields": {"id": cid, "error": str(err)}})
                    live.restart_starting = False
                    live.restarting = None
                    with contextlib.suppress(NotFound):  # removed meanwhile
                        await self.on_exit_failed_start(cid)
        finally:
            if live.restarting is asyncio.current_task():
                live.restarting = None
            live.restart_starting = False

    async def on_exit_failed_start(self, cid: str) -> None:
        """A restart that could not start counts as a failed run: the policy decides again."""
        def decide(c: Container) -> bool:
            again = Policy.parse(c.spec.restart).should_restart(
                c.state.exit_code or 1, c.state.restart_count, c.state.manually_stopped)
            changed, c.state.restarting = c.state.restarting != again, again
            return changed

        c = await self._update_state(cid, decide)
        if c.state.restarting:
            self._get_live(cid).restarting = asyncio.create_task(self._restart_later(
                cid, restart.delay(c.state.quick_restarts), c.state.quick_restarts + 1))

    # -- stop, kill, wait, remove -------------------------------------------------------------

    async def kill(self, ref: str, signal: str = "KILL") -> None:
        """Signal the init; with KILL, return once it has exited (so a second kill is "not
        running", as dockerd's)."""
        number = parse_signal(signal or "KILL")  # first, as docker: "Invalid signal: BOGUS"
        c = await asyncio.to_thread(self.get, ref)
        live = self._live.get(c.id)
        if c.state.status != RUNNING or live is None or live.shim is None:
            raise FailedPrecondition(f"Container {c.id} is not running")
        # published before the signal goes, so that it comes before the die it may cause
        self.events.publish("container", "kill", c.id, **event_attributes(c), signal=str(number))
        await live.shim.kill(number)
        await ops.thaw_after_signal(self, c, number)
        if number == signals.SIGKILL:  # docker's: a KILL answers once the container stopped
            await live.exited.wait()

    async def stop(self, ref: str, timeout: int | None = None) -> None:
        c = await asyncio.to_thread(self.get, ref)
        live = self._get_live(c.id)
        if live.restarting is not None:
            await live.cancel_restart()  # before the start lock, which a restart holds
        # the mark under the start lock (only for the mark: the exit is waited for without
        # it, and on_exit never takes it): a start under way is recorded first and then
        # stopped, a restart after this sees the mark
        async with live.starting:
            c = await self._update_state(c.id, _stopped_by_hand)
        if live.exiting and not live.exited.is_set():  # exited already: once it is recorded
            await live.exited.wait()  # stop returns (the record says RUNNING until then)
            self.events.publish("container", "stop", c.id, **event_attributes(c))
            return
        if c.state.status != RUNNING or live.shim is None:
            return
        if timeout is None:
            timeout = c.spec.stop_timeout if c.spec.stop_timeout is not None \
                else DEFAULT_STOP_TIMEOUT
        shim = live.shim
        stop_signal = parse_signal(c.config.get("stop_signal") or "SIGTERM")
        self.events.publish("container", "kill", c.id, **event_attributes(c),
                            signal=str(stop_signal))  # docker's stop: kill, (kill 9,) die, stop
        with contextlib.suppress(EngineError):
            await shim.kill(stop_signal)
        await ops.thaw_after_signal(self, c, stop_signal)
        if timeout < 0:
            await live.exited.wait()
        else:
            try:
                await asyncio.wait_for(live.exited.wait(), timeout)
            except TimeoutError:
                self.events.publish("container", "kill", c.id, **event_attributes(c),
                                    signal=str(int(signals.SIGKILL)))
                with contextlib.suppress(EngineError):
                    await shim.kill(signals.SIGKILL, all_processes=True)
                await live.exited.wait()
        self.events.publish("container", "stop", c.id, **event_attributes(c))

    async def wait(self, ref: str, condition: str = "not-running") -> int:
        c = await asyncio.to_thread(self.get, ref)
        live = self._get_live(c.id)
        if condition == "removed":
            await live.removed.wait()
            return live.exit_code
        if condition == "next-exit" or c.state.status == RUNNING:
            if condition != "next-exit" and live.exited.is_set():
                return live.exit_code
            await live.exited.wait()
            return live.exit_code
        return c.state.exit_code

    async def remove(self, ref: str, force: bool = False, volumes: bool = False) -> str:
        """rm; `volumes` (rm -v): the container's anonymous volumes go too."""
        c = await asyncio.to_thread(self.get, ref)
        if not force:
            _check_removable(c, self._live.get(c.id))
        live = self._get_live(c.id)
        if live.restarting is not None:
            await live.cancel_restart()  # before the start lock, which a restart holds
        # the whole removal under the start lock (the exit it waits for never needs it): a
        # start under way finishes first and is killed here, none begins between the kill and
        # the removal, and a start waiting for the lock then finds no container
        async with live.starting:
            c = await self._current(c.id)
            if not force:  # again: it may have started while this waited for the lock
                _check_removable(c, live)
            if c.state.status == RUNNING and live.shim is not None:
                self.events.publish("container", "kill", c.id, **event_attributes(c),
                                    signal=str(int(signals.SIGKILL)))
                with contextlib.suppress(EngineError):
                    await live.shim.kill(signals.SIGKILL, all_processes=True)
                await ops.thaw_after_signal(self, c, signals.SIGKILL)
                await live.exited.wait()
            if live.exiting and not live.exited.is_set():
                await live.exited.wait()
            c = await self._update_state(c.id, _removing)
            crashpoints.reached("remove.after-state")
            await asyncio.to_thread(self._remove_files, c, volumes)
            if live.log is not None:
                live.log.close()
            live.removed.set()
            self._live.pop(c.id, None)  # its start lock with it
        self.exec_store.forget_container(c.id)
        self.health.unwatch(c.id)
        self.events.publish("container", "destroy", c.id, **event_attributes(c))
        return c.id

    def _remove_files(self, c: Container, anonymous_volumes: bool = False) -> None:
        from pyengine.snapshots.mount import unmount_all

        bundle = self.bundles / c.id
        if (bundle / "rootfs").exists():
            unmount_all(bundle / "rootfs")
        ipc_shm.unmount(bundle)
        shutil.rmtree(bundle, ignore_errors=True)
        shutil.rmtree(self.log_root / c.id, ignore_errors=True)
        self.networking.unregister(c.id)
        crashpoints.reached("remove.after-bundle")
        if not c.config.get("external_snapshot"):
            with contextlib.suppress(NotFound):
                self.snapshotter.remove(c.snapshot)
        self.volumes.forget(c.id, remove_anonymous=anonymous_volumes)
        self.repo.delete(c.id)

    async def restart(self, ref: str, timeout: int | None = None) -> None:
        await self.stop(ref, timeout)
        await self.start(ref)
        c = await asyncio.to_thread(self.get, ref)
        self.events.publish("container", "restart", c.id, **event_attributes(c))

    def rename(self, ref: str, name: str) -> None:
        c = self.get(ref)
        new = names.validate(name)
        if new == c.name:
            raise InvalidArgument("Renaming a container with the same name as its current "
                                  "name")  # docker 20.10's words, without the name
        self.repo.rename(c.id, new)
        self.events.publish("container", "rename", c.id,
                            **{**event_attributes(c), "name": new, "oldName": "/" + c.name})

    async def prune(self, select: Callable[[Container], bool] | None = None
                    ) -> tuple[list[str], int]:
        """The ids removed and the bytes their writable layers held (docker's reclaimed
        space); `select`: only the stopped containers it picks (prune's filters)."""
        from pyengine.containers.sizes import writable_size

        gone, freed = [], 0
        for c in await asyncio.to_thread(self.repo.all):
            if c.state.restarting:  # docker's: a restarting container is running, not pruned
                continue
            if c.state.status in (CREATED, EXITED, DEAD) and (select is None or select(c)):
                try:
                    upper = await asyncio.to_thread(self.snapshotter.upper_dir, c.snapshot)
                    size = await asyncio.to_thread(writable_size, upper)
                except EngineError:  # no snapshot left (or not an active one): nothing to count
                    size = 0
                try:
                    gone.append(await self.remove(c.id))
                    freed += size
                except NotFound:  # removed meanwhile
                    pass
                except FailedPrecondition as err:  # started meanwhile: dockerd skips it too
                    log.info("prune: container not removed",
                             extra={"fields": {"id": c.id, "error": str(err)}})
        return gone, freed

    # -- exec -------------------------------------------------------------------------------

    async def exec(self, ref: str, args: list[str], env: list[str], workdir: str, user: str
                   ) -> AsyncGenerator[jsonlog.Entry | int, None]:
        """Run `args` in the running container: its output entries, then its exit status."""
        c, shim = await self._exec_target(ref, args)
        bundle = self.bundles / c.id
        exec_id = names.new_id()[:16]
        process = await asyncio.to_thread(self._exec_process, c, args, env, workdir, user)
        queue: asyncio.Queue[jsonlog.Entry] = asyncio.Queue()
        fifos = [bundle / f"exec-{exec_id}-{stream}.fifo" for stream in STDIO]
        copies: list[asyncio.Task[None]] = []
        holders: list[int] = []
        try:
            for stream, path in zip(STDIO, fifos, strict=True):
                os.mkfifo(path, 0o600)
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                holders.append(os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC))
                copies.append(asyncio.create_task(jsonlog.copy_fifo(fd, stream,
                                                                    queue.put_nowait)))
            await shim.exec(exec_id, process, str(fifos[0]), str(fifos[1]))
            attributes = {**event_attributes(c), "execID": exec_id}
            self.events.publish("container", exec_action("exec_create", args), c.id,
                                **attributes)
            try:
                await shim.start(exec_id)  # an exec's fifos are opened by the shim here
                self.events.publish("container", exec_action("exec_start", args), c.id,
                                    **attributes)
                for fd in holders:
                    os.close(fd)
                holders = []
                waiting = asyncio.ensure_future(shim.wait(exec_id))
                streams_ended = asyncio.ensure_future(asyncio.gather(*copies))
                try:
                    while True:  # until the shim closes both streams
                        getter = asyncio.ensure_future(queue.get())
                        either: set[asyncio.Future[Any]] = {getter, streams_ended}
                        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                        if not getter.done():
                            getter.cancel()
                            break
                        yield getter.result()
                    while not queue.empty():
                        yield queue.get_nowait()
                    status, _ = await waiting
                finally:
                    waiting.cancel()
                    streams_ended.cancel()
                self.events.publish("container", "exec_die", c.id, **attributes,
                                    exitCode=str(status))
                yield status
            finally:
                with contextlib.suppress(EngineError):
                    await shim.delete(exec_id)
        finally:
            for fd in holders:
                os.close(fd)
            for task in copies:
                task.cancel()
            for path in fifos:
                path.unlink(missing_ok=True)

    async def exec_start(self, ref: str, options: execs.ExecOptions, exec_id: str = ""
                         ) -> tuple[execs.ExecProcess, Subscriber | None]:
        """Start an exec with stdin/tty (execs.py): the process and its output's subscriber
        (None with detach). The process is cleaned up when it exits, attached or not.
        `exec_id`: a created record's (exec_start_record; its exec_create event is out)."""
        c, shim = await self._exec_target(ref, options.args)
        process = await asyncio.to_thread(self._exec_process, c, options.args, options.env,
                                          options.workdir, options.user)
        proc = execs.ExecProcess(shim, self.bundles / c.id, exec_id or names.new_id()[:16],
                                 options)
        subscriber = await proc.start(process)
        assert proc.task is not None
        self._exec_events(c, proc, created=bool(exec_id))
        live = self._live.get(c.id)
        if live is not None:  # else removed meanwhile: the exec ends with the shim
            live.execs.add(proc.task)
            proc.task.add_done_callback(live.execs.discard)
        return proc, subscriber

    async def exec_create(self, ref: str, config: exec_records.ExecConfig
                          ) -> exec_records.ExecRecord:
        """docker's exec create: a record of what to run in the running container, started
        later by `exec_start_record`."""
        c, _ = await self._exec_target(ref, config.args)
        record = exec_records.ExecRecord(names.new_id(), c.id, config)
        self.exec_store.add(record)
        self.events.publish("container", exec_action("exec_create", config.args), c.id,
                            **event_attributes(c), execID=record.id)
        return record

    def exec_record(self, exec_id: str) -> exec_records.ExecRecord:
        return self.exec_store.get(exec_id)

    async def exec_start_record(self, exec_id: str, *, detach: bool = False,
                                height: int = 0, width: int = 0
                                ) -> tuple[exec_records.ExecRecord, execs.ExecProcess,
                                           Subscriber | None]:
        """Start a created exec once (exec_start with its record's configuration)."""
        record = self.exec_store.get(exec_id)
        record.claim()
        cfg = record.config
        if not (height and width) and record.size is not None:
            height, width = record.size
        options = execs.ExecOptions(
            args=cfg.args, env=cfg.env, workdir=cfg.workdir, user=cfg.user, tty=cfg.tty,
            stdin=cfg.attach_stdin and not detach, detach=detach, height=height, width=width)
        try:
            proc, subscriber = await self.exec_start(record.container_id, options,
                                                     exec_id=record.id)
        except EngineError as err:
            record.failed(err)
            raise
        except BaseException:
            record.started = False  # cancelled before it ran: it may be started again
            raise
        record.attach(proc, proc.pid)
        if cfg.tty and record.size is not None and record.size != (height, width):
            with contextlib.suppress(EngineError):  # a resize that came during the start
                await proc.resize(*record.size)
        return record, proc, subscriber

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        """The window of an exec's terminal: kept for its start when it has not run yet (the
        docker CLI resizes right after its start request, maybe before the process runs);
        an exited exec has none to resize: a no-op, as a client racing a quick exec expects."""
        record = self.exec_store.get(exec_id)
        process = record.process
        if process is None:  # not started (or starting): applied at its start
            if record.exit_code is None:
                record.size = (height, width)
        elif process.options.tty:
            with contextlib.suppress(EngineError):
                await process.resize(height, width)

    def _exec_events(self, c: Container, proc: execs.ExecProcess, created: bool = False
                     ) -> None:
        """docker's exec_create (unless `created` published it) and exec_start of a started
        exec, and its exec_die (with the exit code) when its status is known, before any
        waiter of the status sees it."""
        attributes = {**event_attributes(c), "execID": proc.exec_id}
        for action in ("exec_start",) if created else ("exec_create", "exec_start"):
            self.events.publish("container", exec_action(action, proc.options.args), c.id,
                                **attributes)

        def died(status: asyncio.Future[int]) -> None:
            code = status.result() if not status.cancelled() else 255
            self.events.publish("container", "exec_die", c.id, **attributes,
                                exitCode=str(code))

        proc.status.add_done_callback(died)

    async def _exec_target(self, ref: str, args: list[str]) -> tuple[Container, shims.Shim]:
        """The container an exec goes into, and its shim: running, not paused."""
        c = await asyncio.to_thread(self.get, ref)
        live = self._live.get(c.id)
        if c.state.status != RUNNING or live is None or live.shim is None:
            raise FailedPrecondition(f"Container {c.id} is not running")
        if c.state.paused:
            raise ops.paused_exec_error(ref)
        if not args:
            raise InvalidArgument("No exec command specified")
        return c, live.shim

    async def attach(self, ref: str, streams: tuple[str, ...]
                     ) -> tuple[Container, attach.ContainerTarget, Subscriber]:
        """Subscribe to a container's output (from now on; a created or stopped container's
        from its next start on), for attach.serve."""
        c = await asyncio.to_thread(self.get, ref)
        if c.state.status in (REMOVING, DEAD):
            raise FailedPrecondition(f"container {c.id} is marked for removal")
        if c.state.paused and c.state.status == RUNNING:  # docker's words
            raise FailedPrecondition(f"container {c.id} is paused, unpause the container "
                                     "before attach.")
        live = self._get_live(c.id)
        subscriber = live.fanout.subscribe(streams)
        if live.exiting and not live.streams_open and not live.exited.is_set():
            subscriber.end()  # its output has just ended: the session answers the exit
        self.events.publish("container", "attach", c.id, **event_attributes(c))
        return c, attach.ContainerTarget(live), subscriber

    def attach_detached(self, c: Container) -> None:
        """An attached client typed the detach keys: docker's detach event."""
        self.events.publish("container", "detach", c.id, **event_attributes(c))

    def _exec_process(self, c: Container, args: list[str], env: list[str], workdir: str,
                      user: str) -> dict:
        """The OCI process of an exec: the container's, with these args and overrides."""
        from pyengine.bundles import resolve_user
        from pyengine.bundles.config import merge_env

        config = json.loads((self.bundles / c.id / "config.json").read_text())
        process = dict(config["process"])
        process["args"] = list(args)
        process["terminal"] = False
        merged = merge_env(process.get("env", []), env)
        process["env"] = [f"{k}={v}" for k, v in merged.items()]
        if workdir:
            process["cwd"] = workdir
        if user:
            resolved = resolve_user(self.bundles / c.id / "rootfs", user, c.spec.group_add)
            process["user"] = {"uid": resolved.uid, "gid": resolved.gid,
                               "additionalGids": list(resolved.additional_gids)}
        return process

    # -- logs -------------------------------------------------------------------------------

    async def log_entries(self, cid: str, *, tail: int, since: int, until: int,
                          streams: tuple[str, ...], follow: bool
                          ) -> tuple[list[jsonlog.Entry], jsonlog.Follower | None,
                                     jsonlog.JsonFileLog | None]:
        """The stored entries and, when the container's streams are still open, a follower
        of the entries written from then on: subscribed in the same step of the loop as the
        stored files are taken, so nothing is lost or doubled between; the files are read in
        the pool (a big log never holds up the loop)."""
        live = self._live.get(cid)
        follower: jsonlog.Follower | None = None
        log_ = live.log if live is not None else None
        if log_ is None:
            entries = await asyncio.to_thread(jsonlog.read, [self.log_path(cid)], tail=tail,
                                              since=since, until=until, streams=streams)
            return entries, None, None
        if follow and live is not None and live.streams_open:
            follower = jsonlog.Follower()
            log_.subscribers.append(follower.put)
        taken = log_.snapshot()
        try:
            entries = await asyncio.to_thread(jsonlog.read_snapshot, taken, tail=tail,
                                              since=since, until=until, streams=streams)
        except BaseException:
            if follower is not None:
                log_.subscribers.remove(follower.put)
            raise
        return entries, follower, log_

    async def logs(self, ref: str, *, tail: int = -1, since: int = 0, until: int = 0,
                   streams: tuple[str, ...] = STDIO, follow: bool = False
                   ) -> AsyncGenerator[jsonlog.Entry, None]:
        """`logs` for every edge: the stored entries, then (`follow`, while the container's
        streams are open) each entry as it is written, up to `until` (ns; 0: unbounded),
        until the streams end. A follower that fell too far behind ends with an error."""
        c = await asyncio.to_thread(self.get, ref)
        check_readable_log(c)
        entries, follower, log_ = await self.log_entries(
            c.id, tail=tail, since=since, until=until, streams=streams, follow=follow)
        try:
            for entry in entries:
                yield entry
            if follower is None:
                return
            while (item := await follower.get()) is not None:
                if item.stream not in streams:
                    continue
                if until and item.time_nano > until:
                    return
                yield item
            if follower.overflowed:
                raise ResourceExhausted(
                    f"logs of container {c.id}: this client fell more than "
                    f"{follower.backlog >> 20} MiB behind the container's output; "
                    "follow again with --since")
        finally:
            if follower is not None and log_ is not None:
                with contextlib.suppress(ValueError):
                    log_.subscribers.remove(follower.put)

    # -- reconnection ---------------------------------------------------------------------

    async def _reconnect(self, c: Container) -> None:
        live = self._get_live(c.id)
        bundle = self.bundles / c.id
        live.pid = c.state.pid
        self._open_log(c, live)
        # The fifos first: what the container wrote while the daemon was away waits there.
        # A fifo reader reports the end only after seeing a writer come (Linux), and the
        # shim's writers came before these read ends: a writer of ours comes and goes, so
        # the end is seen when the shim's go too, or at once if they already have.
        for fd in self._copy_stdio(c.id, live, reconnect=True):
            os.close(fd)
        self._copy_shim_log(bundle, live)
        _touch_writer(bundle / "log")
        try:
            shim = await shims.Shim.connect(c.id, c.state.shim_address)
        except EngineError as err:
            live.exited.clear()
            await self._lost(c, f"shim lost: {err}")
            return
        live.shim = shim
        try:
            state = await shim.state()
        except EngineError as err:
            await self._lost(c, f"shim lost: {err}")
            return
        from pyengine.shim.api import task_pb2

        if state.status == task_pb2.STOPPED:  # it exited while the daemon was away
            exec_recovery.forget(bundle)
            at = state.exited_at
            live.waiter = asyncio.create_task(self.on_exit(
                c.id, int(state.exit_status), at.seconds * 1_000_000_000 + at.nanos))
            return
        live.waiter = asyncio.create_task(self._wait_shim(c.id, shim, c.state.pid))
        for task in exec_recovery.adopt(shim, bundle):  # execs started before the restart
            live.execs.add(task)
            task.add_done_callback(live.execs.discard)
        log.info("reconnected to a container's shim", extra={"fields": {"id": c.id}})

    async def _lost(self, c: Container, reason: str) -> None:
        """The shim is gone: the container is reported exited with the reason; its runtime
        state and rootfs mount are cleaned."""
        await asyncio.to_thread(self._clean_runtime, c)
        await self.on_exit(c.id, 255, time.time_ns(), reason=reason)

    def _clean_runtime(self, c: Container) -> None:
        import subprocess

        from pyengine.snapshots.mount import unmount_all

        subprocess.run([c.runtime, "--root", str(self.runc_root / shims.NAMESPACE), "delete",
                        "--force", c.id], capture_output=True, check=False)
        if c.state.shim_address:  # a shim killed with -9 leaves its socket
            with contextlib.suppress(FileNotFoundError):
                os.unlink(c.state.shim_address)
        if (self.bundles / c.id / "rootfs").exists():
            unmount_all(self.bundles / c.id / "rootfs")
        exec_recovery.forget(self.bundles / c.id)


def _not_restarting(c: Container) -> bool:
    changed, c.state.restarting = c.state.restarting, False
    return changed


def _stopped_by_hand(c: Container) -> bool:
    """stop's mark: restart policies leave the container be."""
    changed = not c.state.manually_stopped or c.state.restarting
    c.state.manually_stopped, c.state.restarting = True, False
    return changed


def _removing(c: Container) -> bool:
    c.state.move(REMOVING)
    return True


def _check_removable(c: Container, live: Live | None) -> None:
    """rm without -f: docker's refusals of a running, paused or restarting container."""
    restarting = live is not None and live.restarting is not None
    if restarting or c.state.status == RUNNING:
        # docker's texts: a container waiting out its restart backoff is "restarting"
        state = "restarting" if restarting else "paused" if c.state.paused else "running"
        procedure = "Stop the container before attempting removal or force remove"
        if state == "paused":
            procedure = "Unpause and then s" + procedure[1:]
        raise FailedPrecondition(f"You cannot remove a {state} container {c.id}. {procedure}")


def check_readable_log(c: Container) -> None:
    """docker's error for logs of a container whose log driver keeps none (an edge that
    answers before it iterates `logs` calls this first)."""
    if c.spec.log_driver == NO_LOG:
        raise Unimplemented("configured logging driver does not support reading")


def raise_conflict(name: str, holder: str) -> None:
    from pyengine.errors import AlreadyExists

    raise AlreadyExists(
        f'Conflict. The container name "/{name}" is already in use by container "{holder}". '
        "You have to remove (or rename) that container to be able to reuse that name.")


def _seconds_between(start: str, end: str) -> float:
    if not start or not end:
        return 0.0
    return (jsonlog.parse_rfc3339_nano(_nano_stamp(end)) -
            jsonlog.parse_rfc3339_nano(_nano_stamp(start))) / 1e9


def _nano_stamp(stamp: str) -> str:
    return stamp if stamp.endswith("Z") else stamp + "Z"


def _touch_writer(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC))


async def _open_fifo_writer(path: Path, timeout: float = 10.0) -> int:
    """Our non-blocking write end of a fifo whose reader may open it just after we ask: the
    Go shim opens a stdin fifo around its Create answer, not always before (ENXIO: no reader
    yet; seen once the create path got faster)."""
    import errno

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as err:
            if err.errno != errno.ENXIO or loop.time() > deadline:
                raise
        await asyncio.sleep(0.005)


async def _drain_to_file(fd: int, path: Path) -> None:
    """Copy the shim's own log fifo into a file next to its bundle."""
    async with contextlib.aclosing(fifo_reader.chunks(fd)) as reading:
        with open(path, "ab") as out:
            async for chunk in reading:
                out.write(chunk)
                out.flush()


# docker 20.10's HostConfig fields the engine does not use, with the values dockerd shows
HOST_CONFIG_ZEROS: dict[str, Any] = {
    "BlkioWeight": 0, "BlkioWeightDevice": [], "BlkioDeviceReadBps": [],
    "BlkioDeviceWriteBps": [], "BlkioDeviceReadIOps": [], "BlkioDeviceWriteIOps": [],
    "Cgroup": "", "CgroupParent": "", "ConsoleSize": [0, 0], "ContainerIDFile": "",
    "CpuCount": 0, "CpuPercent": 0, "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0,
    "CpusetMems": "", "DeviceRequests": None, "IOMaximumBandwidth": 0, "IOMaximumIOps": 0,
    "KernelMemory": 0, "KernelMemoryTCP": 0, "MemoryReservation": 0, "OomKillDisable": False,
    "UsernsMode": "",
}


def graph_driver(snapshotter: Any, key: str, merged: Path) -> dict[str, Any]:
    """docker's GraphDriver of a container: its overlay's directories (LowerDir: the image's
    layers, nearest first; UpperDir and WorkDir: its own) and where it is mounted."""
    data: dict[str, str] = {}
    try:
        mounts = snapshotter.mounts(key)
    except Exception:  # informative only: a snapshot gone (rm racing) shows no directories
        mounts = []
    for m in mounts:
        if m.type != "overlay":
            data["UpperDir"] = m.source  # a native snapshot: one writable directory
            continue
        names = {"lowerdir": "LowerDir", "upperdir": "UpperDir", "workdir": "WorkDir"}
        for option in m.options:
            name, _, value = option.partition("=")
            if name in names:
                data[names[name]] = value
    if data:
        data["MergedDir"] = str(merged)
    return {"Data": data or None, "Name": "overlay2"}


def config_doc(c: Container) -> dict[str, Any]:
    """docker inspect's Config of a container (and a commit's ContainerConfig)."""
    spec = c.spec
    return {
        "Hostname": c.config.get("hostname", ""), "Domainname": "",
        "User": c.config.get("user", ""),
        "AttachStdin": spec.attach_stdin, "AttachStdout": spec.attach_stdout,
        "AttachStderr": spec.attach_stderr,
        "OnBuild": None,
        "Tty": spec.tty, "OpenStdin": spec.open_stdin, "StdinOnce": spec.stdin_once,
        "Env": c.config.get("config_env", c.config.get("env")) or None,
        "Cmd": spec.cmd if spec.cmd else c.config.get("image_cmd"),
        "Image": c.image_name,
        "WorkingDir": spec.workdir, "Entrypoint": spec.entrypoint
        if spec.entrypoint is not None else c.config.get("image_entrypoint"),
        "Labels": {**c.config.get("image_labels", {}), **spec.labels},
        **({"StopSignal": c.config["stop_signal"]}
           if c.config.get("stop_signal", "SIGTERM") != "SIGTERM" else {}),
        "Volumes": container_mounts.config_volumes(c),
        **({"StopTimeout": spec.stop_timeout} if spec.stop_timeout is not None else {}),
        **({"Healthcheck": hc} if (hc := health.of(c)) is not None else {}),
    }


def container_json(c: Container, network: dict[str, Any] | None = None) -> str:
    """docker inspect's shape for the fields the engine has; `network`: the network parts
    (containers/networking.py inspect_parts), merged in."""
    from pyengine.bundles import defaults

    s = c.state
    spec = c.spec
    doc: dict[str, Any] = {
        "Id": c.id,
        "Created": c.created,
        "Path": (c.config.get("args") or [""])[0],
        "Args": (c.config.get("args") or [])[1:],
        "State": {
            "Status": s.docker_status(),
            "Running": s.listed_as_running, "Paused": s.paused and s.status == RUNNING,
            "Restarting": s.restarting and s.status == EXITED, "OOMKilled": False,
            "Dead": s.status == DEAD,
            "Pid": s.pid, "ExitCode": s.exit_code, "Error": s.error,
            "StartedAt": s.started_at or "0001-01-01T00:00:00Z",
            "FinishedAt": s.finished_at or "0001-01-01T00:00:00Z",
            **health.inspect_state(s),
        },
        "Image": c.image_id,
        "Name": "/" + c.name,
        "RestartCount": s.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "LogPath": "",
        "HostConfig": {
            "Runtime": spec.runtime or os.path.basename(c.runtime),
            "AutoRemove": spec.auto_remove, "ReadonlyRootfs": spec.read_only,
            "Memory": spec.memory,
            "NanoCpus": spec.nano_cpus, "PidsLimit": spec.pids_limit or None,
            "MemorySwap": spec.memory_swap, "CpuShares": spec.cpu_shares,
            "Isolation": spec.isolation,
            "MemorySwappiness": None,  # not supported: discarded at create, as dockerd does
            "CpuQuota": spec.cpu_quota, "CpuPeriod": spec.cpu_period,
            "CpusetCpus": spec.cpuset_cpus,
            "NetworkMode": spec.network or "none",
            **({"Init": True} if spec.init else {}),  # docker's omitempty
            "LogConfig": {"Type": spec.log_driver or "json-file",
                          "Config": dict(spec.log_options)},
            "PidMode": spec.pid_mode, "IpcMode": spec.ipc_mode or "private",
            "UTSMode": spec.uts_mode, "CgroupnsMode": spec.cgroupns_mode or "host",
            "GroupAdd": list(spec.group_add) or None,
            "DeviceCgroupRules": list(spec.device_cgroup_rules) or None,
            "VolumeDriver": spec.volume_driver,
            "RestartPolicy": {"Name": Policy.parse(spec.restart).name,
                              "MaximumRetryCount": Policy.parse(spec.restart).max_retries},
            **HOST_CONFIG_ZEROS,
            "MaskedPaths": None if spec.privileged else list(defaults.MASKED_PATHS),
            "ReadonlyPaths": None if spec.privileged else list(defaults.READONLY_PATHS),
            **container_mounts.host_config(spec),
            **secopts.host_config(spec),
        },
        "Mounts": container_mounts.inspect_mounts(c),
        "ExecIDs": None, "AppArmorProfile": "", "MountLabel": "", "ProcessLabel": "",
        "GraphDriver": {"Data": None, "Name": "overlay2"},
        "Config": config_doc(c),
        "NetworkSettings": {"IPAddress": "", "Networks": {}},
    }
    for key, value in (network or {}).items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key].update(value)
        else:
            doc[key] = value
    return json.dumps(doc)
