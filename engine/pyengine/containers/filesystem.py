"""A container's filesystem from the outside: diff, export, cp (both ways) and commit.

A running container's rootfs is the overlay mounted at <exec_root>/containers/<id>/rootfs;
a stopped one's is mounted on a temporary directory for the call (read-only unless the call
writes) and unmounted after it, even when it fails. export, diff and commit read the rootfs
alone; cp reads and writes the container's files as its processes see them, with its volumes,
binds and generated /etc files mounted in a private view (fsview.py), as dockerd's archive
calls do. Every access goes through a descriptor of that root and resolves paths inside it
(rootfs.py); writes go through the layer extractor, which never writes outside its
destination. Commit takes the writable layer as an OCI layer (overlay whiteouts become .wh.
files) and hands it to the images domain with the new config."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from io import BufferedIOBase
from pathlib import Path
from typing import TYPE_CHECKING

from pyengine.containers import fsview
from pyengine.containers import mounts as container_mounts
from pyengine.containers import rootfs as rootfs_access
from pyengine.containers.changes import (
    Change,
    overlay_changes,
    runtime_mount_point,
    tree_changes,
)
from pyengine.containers.model import RUNNING, Container
from pyengine.errors import EngineError, FailedPrecondition, InvalidArgument, NotFound

if TYPE_CHECKING:
    from pyengine.containers.service import ContainerService

log = logging.getLogger("pyengine.containers")

_ROOT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class CommitOptions:
    reference: str = ""
    comment: str = ""
    author: str = ""
    changes: list[str] = field(default_factory=list)
    pause: bool = True


def _with_mode(options: list[str], mode: str) -> list[str]:
    return [o for o in options if o not in ("ro", "rw")] + [mode]


class ContainerFilesystem:
    """The filesystem verbs of one engine's containers."""

    def __init__(self, service: ContainerService) -> None:
        self.service = service
        self.scratch = service.config.exec_root / "fs-mounts"

    # -- access to the rootfs ---------------------------------------------------------------

    @contextlib.contextmanager
    def root(self, c: Container, *, writable: bool = False) -> Iterator[int]:
        """A descriptor of the container's root directory for the duration of the block."""
        mounted = self.service.bundles / c.id / "rootfs"
        if os.path.ismount(mounted):
            fd = os.open(mounted, _ROOT_FLAGS)
            try:
                yield fd
            finally:
                os.close(fd)
            return
        with self._scratch_mount(c, writable=writable, bind_from=None) as target:
            fd = os.open(target, _ROOT_FLAGS)
            try:
                yield fd
            finally:
                os.close(fd)

    @contextlib.contextmanager
    def view(self, c: Container, *, writable: bool = False) -> Iterator[fsview.View]:
        """The container's files as its processes see them (fsview.py: with its volumes,
        binds and generated /etc files) for the duration of the block."""
        mounts = fsview.sources(container_mounts.stored_points(c), self._bundle_config(c))
        if not mounts:
            with self.root(c, writable=writable) as fd:
                yield fsview.View(fd)
            return
        running = self.service.bundles / c.id / "rootfs"
        started = os.path.ismount(running)
        # a stopped container's rootfs is mounted writable: missing mount points are made;
        # its volumes with driver options are mounted for the view, as a start mounts them
        with contextlib.nullcontext() if started else self.service.volumes.held(c.id), \
                self._scratch_mount(c, writable=True, bind_from=running if started else None
                                    ) as target:
            mounted = fsview.mount_into(target, mounts)
            fd = os.open(target, _ROOT_FLAGS)
            try:
                yield fsview.View(fd, os.path.realpath(target), mounted)
            finally:
                os.close(fd)

    @contextlib.contextmanager
    def mounted(self, c: Container) -> Iterator[Path]:
        """The container's rootfs (not running) mounted read-only on a scratch directory for
        the block (a start reads its /etc/passwd there)."""
        with self._scratch_mount(c, writable=False, bind_from=None) as target:
            yield target

    def _bundle_config(self, c: Container) -> dict | None:
        try:
            with open(self.service.bundles / c.id / "config.json", "rb") as f:
                return dict(json.load(f))
        except (OSError, ValueError):
            return None  # no bundle (lost with the exec root): no generated files to show

    @contextlib.contextmanager
    def _scratch_mount(self, c: Container, *, writable: bool,
                       bind_from: Path | None) -> Iterator[Path]:
        """A scratch directory with the container's rootfs mounted on it: `bind_from` (the
        running container's) bound, else its snapshot mounted; everything mounted there is
        detached after the block, even when it fails."""
        from pyengine.snapshots.mount import Mount, bind, mount_all, unmount_all

        self.scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = Path(tempfile.mkdtemp(prefix=c.id[:12] + "-", dir=self.scratch))
        try:
            if bind_from is not None:
                bind(str(bind_from), str(target))
            else:
                mounts = [Mount(m.type, m.source, _with_mode(list(m.options),
                                                             "rw" if writable else "ro"))
                          for m in self.service.snapshotter.mounts(c.snapshot)]
                mount_all(mounts, target)
            try:
                yield target
            finally:
                unmount_all(target)
        finally:
            with contextlib.suppress(OSError):
                target.rmdir()

    # -- diff -------------------------------------------------------------------------------

    def changes(self, ref: str) -> list[Change]:
        c = self.service.get(ref)
        snapshots = self.service.snapshotter
        upper = snapshots.upper_dir(c.snapshot)
        parents = snapshots.parent_dirs(c.snapshot)
        if self.service.config.storage_driver == "overlay":
            return overlay_changes(upper, parents)
        return tree_changes(upper, parents[0] if parents else None)

    # -- export and cp ----------------------------------------------------------------------

    def container(self, ref: str) -> Container:
        return self.service.get(ref)

    @contextlib.asynccontextmanager
    async def copying(self, c: Container) -> AsyncIterator[None]:
        """For an export, a copy or a stat of `c` (the edges hold it around the whole call,
        streams included): no start, stop or rm of `c` meanwhile, as dockerd holds the
        container's lock for them. A stopped container's overlay is mounted for the call, and
        a start meanwhile would mount the same upper directory a second time."""
        async with self.service.start_lock(c.id):
            yield

    def export(self, c: Container, out: BufferedIOBase) -> None:
        with self.root(c) as fd:
            rootfs_access.export(fd, out)

    def stat_path(self, c: Container, path: str, follow_link: bool
                  ) -> rootfs_access.PathStat:
        with self.view(c) as view:
            found = rootfs_access.find(view.root_fd, path, c.name, follow_link=follow_link)
            try:
                return found.stat()
            finally:
                found.close()

    def copy_from(self, c: Container, path: str, follow_link: bool, out: BufferedIOBase) -> None:
        """A tar of `path` (its top entry named by the path's last component) into `out`."""
        with self.view(c) as view:
            found = rootfs_access.find(view.root_fd, path, c.name, follow_link=follow_link)
            try:
                writer = rootfs_access.FdTarWriter(out)
                writer.add_tree(found.parent_fd, found.name, found.display)
                writer.close()
            finally:
                found.close()

    def copy_to(self, c: Container, path: str, tar: Path) -> None:
        """Extract the tar at `tar` into directory `path` of the container: in a volume or
        bind mounted there if the path is in one (refused when it is read-only), else in the
        rootfs (refused when the container's is read-only), as dockerd decides."""
        from pyengine import archive

        with self.view(c, writable=True) as view:
            try:
                dest = rootfs_access.open_in_root(view.root_fd, path)
            except FileNotFoundError:
                raise rootfs_access.not_found(c.name, path) from None
            except OSError as err:
                raise FailedPrecondition(f"copy to {path} in container {c.name}: "
                                         f"{err.strerror}") from None
            try:
                if not stat.S_ISDIR(os.fstat(dest).st_mode):
                    raise InvalidArgument(f"copy to {path} in container {c.name}: "
                                          "not a directory")
                volume = view.volume_of(dest)
                if volume is not None and not volume.rw:
                    raise FailedPrecondition("mounted volume is marked read-only")
                if volume is None and c.spec.read_only:
                    raise FailedPrecondition("container rootfs is marked read-only")
                with open(tar, "rb") as stream:
                    archive.apply_layer(stream, None, dest, whiteouts="remove")
            finally:
                os.close(dest)

    # -- commit -----------------------------------------------------------------------------

    async def commit(self, ref: str, opts: CommitOptions) -> str:
        """The writable layer (taken while the container is paused, by default) as a new
        image; returns its id."""
        from pyengine.containers import ops

        c = await asyncio.to_thread(self.service.get, ref)
        paused = False
        if opts.pause and c.state.status == RUNNING and not c.state.paused:
            # docker's commit pauses as `pause` does: recorded and published, so a daemon
            # killed meanwhile leaves a container its record calls paused (unpause thaws it)
            try:
                await ops.pause(self.service, c.id)
                paused = True
            except FailedPrecondition:  # it stopped: nothing to freeze
                pass
            except EngineError:  # the runtime found it stopped before its exit was recorded
                if not process_ended(c.state.pid):
                    raise
        try:
            layer, diff_id = await asyncio.to_thread(self._take_layer, c)
        finally:
            if paused:
                try:
                    await ops.unpause(self.service, c.id)
                except EngineError as err:  # unpaused meanwhile, or gone
                    log.warning("commit: unpause failed",
                                extra={"fields": {"id": c.id, "error": str(err)}})
        try:
            image_id, _ = await asyncio.to_thread(self._commit_image, c, layer, diff_id, opts)
        finally:
            layer.unlink(missing_ok=True)
        return image_id

    def _take_layer(self, c: Container) -> tuple[Path, str]:
        """The writable layer as a gzip tar in the images' scratch directory, and its
        diff_id."""
        from pyengine import archive

        snapshots = self.service.snapshotter
        upper = snapshots.upper_dir(c.snapshot)
        lowers: list[Path] | None = None
        if self.service.config.storage_driver != "overlay":
            lowers = snapshots.parent_dirs(c.snapshot)[:1]
        fd, name = tempfile.mkstemp(prefix="commit-", suffix=".tar.gz",
                                    dir=self.service.images.tmp_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                diff_id = archive.diff(lowers, upper, out, compression="gzip",
                                       skip=runtime_mount_point)
        except BaseException:
            os.unlink(name)
            raise
        return Path(name), diff_id

    def _commit_image(self, c: Container, layer: Path, diff_id: str,
                      opts: CommitOptions) -> tuple[str, str]:
        from pyengine.containers.service import config_doc
        from pyengine.images.commit import NewLayer
        from pyengine.images.importer import apply_changes

        with self.service.collector.lock.shared():
            try:
                base = self.service.images.config_of(self.service.images.resolve_local(
                    c.image_id))
            except NotFound:
                raise FailedPrecondition(f"commit {c.name}: its image {c.image_id} is "
                                         "gone") from None
        config = apply_changes(runtime_config(c, base.get("config") or {}), opts.changes)
        created_by = " ".join(c.spec.cmd if c.spec.cmd else
                              (c.config.get("image_cmd") or []))
        new = NewLayer(layer_path=layer, diff_id=diff_id, config=config,
                       created_by=created_by, comment=opts.comment, author=opts.author,
                       reference=opts.reference, container=c.id,
                       container_config=config_doc(c))
        return self.service.images.commit(c.image_id, new)


def runtime_config(c: Container, image: dict) -> dict:
    """The image's runtime config with the container's own settings, as docker commits it."""
    from pyengine.bundles.config import config_env

    config = dict(image)
    spec = c.spec
    config["Cmd"] = spec.cmd if spec.cmd else c.config.get("image_cmd")
    config["Entrypoint"] = spec.entrypoint if spec.entrypoint is not None else \
        c.config.get("image_entrypoint")
    config["Env"] = config_env(image.get("Env") or [], spec.env)  # not HOSTNAME, PATH...
    config["WorkingDir"] = spec.workdir or image.get("WorkingDir") or ""
    config["User"] = c.config.get("user") or ""
    labels = {**(c.config.get("image_labels") or {}), **spec.labels}
    config["Labels"] = labels or None
    if c.config.get("healthcheck"):  # create's --health-* over the image's, as docker
        config["Healthcheck"] = c.config["healthcheck"]
    if spec.tty:
        config["Tty"] = True
    if spec.open_stdin:
        config["OpenStdin"] = True
    return {k: v for k, v in config.items() if v not in (None, "", [], {}) or k == "Cmd"}


def remove_scratch(path: Path) -> None:
    """Leftover mount points of a daemon that died during a call (nothing is mounted on
    them any more after a reboot; a live mount is unmounted first)."""
    from pyengine.snapshots.mount import unmount_all

    if not path.exists():
        return
    for entry in path.iterdir():
        with contextlib.suppress(EngineError, OSError):
            unmount_all(entry)
            entry.rmdir()
    shutil.rmtree(path, ignore_errors=True)


def process_ended(pid: int) -> bool:
    """A container's init process has exited (gone, or a zombie its shim has not reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
