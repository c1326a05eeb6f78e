"""The container state machine: created → running ⇄ paused → stopped, one method per verb.

Status is derived, never trusted from disk alone: the init's pid plus its start time (pid reuse
safe), the exec fifo (present until ``start``), and the freezer. An init that died behind our
back reads as ``stopped``, so ``delete`` can always clean up. Every verb that acts takes the
directory's lock first and reads the record under it (``_lock``): a record read before the lock
may be one a concurrent ``create`` or ``delete`` has since replaced or removed.
"""

from __future__ import annotations

import os

from pyrunc import OCI_VERSION, cgroup_record, log, procs, state
from pyrunc.errors import CgroupError, InvalidState, PyruncError, StateDamaged, transition_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pyrunc.spec.model import Resources

CREATING, CREATED, RUNNING, PAUSED, STOPPED = "creating", "created", "running", "paused", "stopped"


def _wait_hangup(fd: int) -> None:
    import select

    try:
        poller = select.poll()
        poller.register(fd, 0)  # POLLHUP is always reported; data (POLLIN) is not asked for
        while not poller.poll():
            pass
    finally:
        os.close(fd)


class Container:
    def __init__(self, root: str, cid: str) -> None:
        self.dir = state.ContainerDir(root, cid)
        self.id = cid
        self._record: state.ContainerRecord | None = None

    @classmethod
    def load(cls, root: str, cid: str) -> Container:
        c = cls(root, cid)
        c.record  # noqa: B018 - raises ContainerNotFound early
        return c

    @property
    def record(self) -> state.ContainerRecord:
        if self._record is None:
            self._record = self.dir.read()
        return self._record

    def reload(self) -> None:
        self._record = None

    def _lock(self) -> None:
        """Lock the directory, then (re-)read the record under the lock."""
        self.dir.lock()
        self._record = None

    # -- status ---------------------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.record.pid

    def init_alive(self) -> bool:
        rec = self.record
        return bool(rec.pid) and state.proc_start_time(rec.pid) == rec.pid_start

    def _creator_alive(self) -> bool:
        creator = self.record.creator
        return creator is not None and state.proc_start_time(creator[0]) == creator[1]

    def status(self) -> str:
        rec = self.record
        if rec.status == CREATING:
            return CREATING if self._creator_alive() else STOPPED
        if not self.init_alive():
            return STOPPED
        if cgroup_record.frozen(rec.cgroup):
            return PAUSED
        if os.path.exists(self.dir.fifo_path):
            return CREATED
        return RUNNING

    def cgroup(self) -> Any:
        saved = self.record.cgroup
        if not saved:
            return None
        from pyrunc.cgroups import from_state

        return from_state(saved)

    def oci_state(self) -> dict[str, Any]:
        status = self.status()
        rec = self.record
        out: dict[str, Any] = {
            "ociVersion": OCI_VERSION,
            "id": self.id,
            "pid": self.pid if status not in (STOPPED,) else 0,
            "status": status,
            "bundle": rec.bundle,
            "rootfs": rec.rootfs,
            "created": rec.created,
            "owner": "",
        }
        if rec.annotations:
            out["annotations"] = rec.annotations
        return out

    def hook_state(self, status: str) -> dict[str, Any]:
        rec = self.record
        return {"ociVersion": rec.oci_version or OCI_VERSION, "id": self.id,
                "status": status, "pid": rec.pid, "bundle": rec.bundle,
                "annotations": rec.annotations}

    # -- verbs ------------------------------------------------------------------------------------
    def _refuse_while_creating(self, verb: str) -> None:
        """Another pyrunc holds the lock for the whole create: fail at once instead of
        waiting behind it (e.g. a create stuck in a hook)."""
        if self.status() == CREATING:
            raise InvalidState(f"cannot {verb} a container that is still being created")

    def start(self) -> None:
        self._refuse_while_creating("start")
        self._lock()
        try:
            status = self.status()
            if status != CREATED:
                raise {
                    RUNNING: InvalidState("cannot start an already running container"),
                    PAUSED: InvalidState("cannot start an already paused container"),
                    STOPPED: InvalidState("cannot start a container that has stopped"),
                }.get(status, transition_error(status, RUNNING))
            try:
                fd = os.open(self.dir.fifo_path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError:  # ENXIO: no reader, the init is gone
                raise InvalidState("cannot start a container that has stopped") from None
            watch = -1
            try:
                if self.record.hooks.get("poststart"):
                    watch = os.open(self.dir.fifo_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                os.unlink(self.dir.fifo_path)
                os.write(fd, b"0")
            finally:
                os.close(fd)
            if watch >= 0:
                # poststart hooks run once the user process is executing: the init's fifo fd
                # (the last writer) closes at execve, which hangs up our read end.
                _wait_hangup(watch)
                self._run_warn_hooks("poststart", RUNNING)
        finally:
            self.dir.unlock()

    def kill(self, sig: int, all_processes: bool = False) -> None:
        status = self.status()
        if status in (STOPPED,) or (status == CREATING and not self.pid):
            raise InvalidState("container not running")
        if all_processes:
            cg = self.cgroup()
            if cg is not None:
                cg.kill_all(sig)
                return
        self._signal_init(sig)
        if sig == 9 and status == PAUSED:
            # A frozen (cgroup v1) task cannot die until thawed; only SIGKILL thaws (runc).
            self.cgroup().thaw()

    def _signal_init(self, sig: int) -> None:
        """Signal through a pidfd checked against the recorded start time (no pid-reuse race)."""
        pid = self.pid
        fd = procs.pidfd(pid)
        try:
            if not self.init_alive():
                raise InvalidState("container not running")
            if fd is None:
                os.kill(pid, sig)
            else:
                from pyrunc.linux.syscalls import SYS

                SYS.pidfd_send_signal(fd, sig)
        except ProcessLookupError:
            raise InvalidState("container not running") from None
        finally:
            if fd is not None:
                os.close(fd)

    def delete(self, force: bool = False) -> None:
        """A create in progress holds the lock until the container is created (or undone):
        delete waits for it, then reads what it left."""
        if not force:
            self._refuse_while_creating("delete")
        self._lock()
        try:
            try:
                status = self.status()
            except StateDamaged as err:
                if not force:
                    raise
                self._destroy_damaged(err)
                return
            if status in (RUNNING, PAUSED, CREATING) and not force:
                raise InvalidState(f"cannot delete container {self.id} that is not stopped: "
                                   f"{status}")
            self.destroy()
        finally:
            self.dir.unlock()

    def destroy(self) -> None:
        """Kill whatever is left, remove the cgroup, run poststop hooks, drop the state."""
        saved = self.record.cgroup or self.dir.read_cgroup()
        alive = self.init_alive()
        if alive or (saved and not cgroup_record.remove_if_empty(saved)):
            self._kill_and_remove_cgroup(saved, self.pid if alive else 0)
        self._run_warn_hooks("poststop", STOPPED)
        self.dir.remove()

    def _destroy_damaged(self, err: StateDamaged) -> None:
        """delete --force with a damaged state.json: the processes are found through the
        cgroup (cgroup.json's copy, else pyrunc's default cgroup for the id), then everything
        goes. Without a cgroup nothing is removed, and the error says so."""
        saved = self.dir.read_cgroup() or _default_cgroup(self.id)
        if saved is None:
            raise StateDamaged(f"delete: {err}; no cgroup is known for it, so its processes "
                               f"cannot be found (remove {self.dir.path} once they are gone)")
        problem = self._kill_and_remove_cgroup(saved, 0)
        if problem is not None:
            raise StateDamaged(f"delete: {err}; and its cgroup cannot be removed: {problem}")
        self.dir.remove()

    def _kill_and_remove_cgroup(self, saved: dict[str, Any] | None, pid: int) -> str | None:
        """Kill the init (``pid``, checked alive) and everything in the cgroup, then remove
        it. Returns why the cgroup is still there (already logged), or None. A path the system
        cannot name (ValueError: a NUL, a lone surrogate) cannot exist: nothing to do there."""
        cg = None
        if saved:
            from pyrunc.cgroups import from_state

            try:
                cg = from_state(saved)
                if cg.freezer_state() == "FROZEN":
                    cg.thaw()
            except (OSError, ValueError, PyruncError):
                pass
        if pid:
            procs.kill_and_wait(pid, 9)
        if cg is None:
            return None
        try:
            cg.kill_all(9)
        except (OSError, ValueError, PyruncError):
            pass
        try:
            cg.destroy()
        except CgroupError as problem:
            log.warning(str(problem))
            return str(problem)
        except ValueError:
            pass
        return None

    def _run_warn_hooks(self, kind: str, status: str) -> None:
        recorded = self.record.hooks.get(kind)
        if not recorded:
            return
        from pyrunc.linux.hooks import run_hooks_warn
        from pyrunc.spec.model import decode_hooks

        try:
            hooks = decode_hooks(recorded, f"hooks.{kind}")
        except PyruncError as err:  # a state.json edited by hand
            log.warning(f"{kind} hooks of {self.id}: {err}")
            return
        run_hooks_warn(kind, hooks, self.hook_state(status))

    def pause(self) -> None:
        self._refuse_while_creating("pause")
        self._lock()
        try:
            status = self.status()
            if status not in (RUNNING, CREATED):
                raise InvalidState("container not running") if status == STOPPED else \
                    transition_error(status, PAUSED)
            self._require_cgroup("pause").freeze()
        finally:
            self.dir.unlock()

    def resume(self) -> None:
        self._lock()
        try:
            if self.status() != PAUSED:
                raise InvalidState("container not paused")
            self._require_cgroup("resume").thaw()
        finally:
            self.dir.unlock()

    def update(self, resources: Resources) -> None:
        """Merge ``resources`` into the recorded ones and write them to the cgroups (runc keeps
        the merged view, so a later update of one field keeps the others)."""
        self._lock()
        try:
            if self.status() == STOPPED:
                raise InvalidState("container not running")
            cg = self._require_cgroup("update")
            cg.update(resources)
            record = self.record
            merged = dict(record.resources)
            for section, value in resources.to_json().items():
                if isinstance(value, dict) and isinstance(merged.get(section), dict):
                    merged[section] = {**merged[section], **value}
                else:
                    merged[section] = value
            record.resources = merged
            self.dir.write(record)
        finally:
            self.dir.unlock()

    def _require_cgroup(self, verb: str) -> Any:
        cg = self.cgroup()
        if cg is None:
            raise CgroupError(f"{verb}: container {self.id} has no cgroup")
        return cg


def _default_cgroup(cid: str) -> dict[str, Any] | None:
    """The cgroup pyrunc makes for ``cid`` when config.json names none, if it exists."""
    try:
        from pyrunc.cgroups import new_manager

        saved = new_manager(None, cid).to_state()
    except (ImportError, OSError, ValueError, PyruncError):
        return None
    return saved if any(os.path.isdir(p) for p in saved["paths"].values()) else None
