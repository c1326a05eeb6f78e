"""VolumeService: the volumes domain (docker 20.10's local volumes).

Management calls (create, list, inspect, remove, prune) and the containers domain's calls
(use at create, acquire at start, release at exit, forget at remove) all block (SQLite, disk,
mount(2)): callers on the event loop run them in the worker pool. One lock orders the calls
that create, remove or mount volumes.
"""

from __future__ import annotations

import builtins
import logging
import re
import secrets
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pyengine.errors import EngineError, FailedPrecondition, InvalidArgument, NotFound
from pyengine.volumes.local import LocalDriver
from pyengine.volumes.model import (
    LOCAL,
    Volume,
    VolumeUsage,
    validate_name,
    validate_options,
)
from pyengine.volumes.repository import VolumeRepository

if TYPE_CHECKING:
    from pyengine.config import DaemonConfig
    from pyengine.events import EventBus
    from pyengine.store import Database

log = logging.getLogger("pyengine.volumes")

LIST_FILTERS = ("dangling", "name", "driver", "label")
PRUNE_FILTERS = ("label", "label!")


@dataclass
class Filters:
    values: dict[str, list[str]] = field(default_factory=dict)


def parse_filters(items: Sequence[str], allowed: Sequence[str]) -> Filters:
    out = Filters()
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in allowed:
            raise InvalidArgument(f"Invalid filter '{key}'")
        out.values.setdefault(key, []).append(value)
    for value in out.values.get("dangling", []):
        if value not in ("true", "false", "1", "0"):
            raise InvalidArgument(f"Invalid filter 'dangling=[{value}]'")
    return out


def _label_matches(labels: dict[str, str], wanted: str) -> bool:
    key, sep, value = wanted.partition("=")
    return key in labels and (not sep or labels[key] == value)


def _name_matches(name: str, pattern: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return pattern in name


def new_anonymous_name() -> str:
    return secrets.token_hex(32)


class VolumeService:
    name = "volumes"

    def __init__(self, config: DaemonConfig, db: Database, events: EventBus) -> None:
        self.repo = VolumeRepository(db)
        self.driver = LocalDriver(config.data_root / "volumes")
        self.events = events
        self._lock = threading.RLock()
        self._held: Counter[str] = Counter()  # volumes `held` mounted for a stopped user

    # -- Domain ---------------------------------------------------------------------------

    def open(self) -> None:
        self.driver.open()

    def recover(self) -> None:
        """Directories of no recorded volume (a create or a removal cut short) go."""
        known = {v.name for v in self.repo.all()}
        for name in self.driver.names_on_disk():
            if name not in known:
                log.warning("removing the files of a volume never recorded",
                            extra={"fields": {"volume": name}})
                self.driver.remove(name)

    def close(self) -> None:
        pass

    # -- management -------------------------------------------------------------------------

    def create(self, name: str = "", driver: str = "", options: dict[str, str] | None = None,
               labels: dict[str, str] | None = None, anonymous: bool = False) -> Volume:
        driver = driver or LOCAL
        options = dict(options or {})
        if name:
            validate_name(name)
        else:
            name = new_anonymous_name()
        if driver != LOCAL:
            raise NotFound(f"create {name}: error looking up volume plugin {driver}: plugin "
                           f'"{driver}" not found')
        validate_options(name, options)
        with self._lock:
            found = self.repo.find(name)
            if found is not None:
                return found
            self.driver.create(name)
            v = self.repo.add(Volume(
                name=name, driver=driver, labels=dict(labels or {}), options=options,
                created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                anonymous=anonymous))
        self.events.publish("volume", "create", name, driver=driver)
        return v

    def get(self, name: str) -> Volume:
        return self.repo.get(name)

    def find(self, name: str) -> Volume | None:
        return self.repo.find(name)

    def list(self, filters: Sequence[str] = ()) -> list[Volume]:
        f = parse_filters(filters, LIST_FILTERS)
        users = self.repo.users() if "dangling" in f.values else {}
        out = []
        for v in self.repo.all():
            if any(not _name_matches(v.name, p) for p in f.values.get("name", [])):
                continue
            if f.values.get("driver") and v.driver not in f.values["driver"]:
                continue
            if any(not _label_matches(v.labels, w) for w in f.values.get("label", [])):
                continue
            dangling = f.values.get("dangling")
            if dangling and (dangling[-1] in ("true", "1")) != (v.name not in users):
                continue
            out.append(v)
        return out

    def mountpoint(self, name: str) -> str:
        return str(self.driver.path(name))

    def inspect(self, name: str) -> dict:
        """docker volume inspect's document."""
        return self.document(self.repo.get(name))

    def document(self, v: Volume) -> dict:
        """docker's JSON shape of a volume (inspect's, and each of the API's list)."""
        return {
            "CreatedAt": v.created_at, "Driver": v.driver,
            "Labels": v.labels or None, "Mountpoint": self.mountpoint(v.name),
            "Name": v.name, "Options": v.options or None,
            "Scope": "local",
        }

    def remove(self, name: str, force: bool = False) -> bool:
        """docker volume rm; whether a volume was removed (force: a missing one is not an
        error; a volume in use stays an error, as docker's)."""
        with self._lock:
            try:
                users = self.repo.delete_unused(name)
            except NotFound:
                if force:
                    return False
                raise
            if users:
                raise FailedPrecondition(
                    f"remove {name}: volume is in use - [{', '.join(users)}]")
            self.driver.remove(name)
        self.events.publish("volume", "destroy", name, driver=LOCAL)
        return True

    def prune(self, filters: Sequence[str] = ()) -> tuple[builtins.list[str], int]:
        """docker 20.10's volume prune: every local volume no container uses (named ones
        too); the names removed and the bytes they held."""
        f = parse_filters(filters, PRUNE_FILTERS)
        users = self.repo.users()
        gone, freed = [], 0
        for v in self.repo.all():
            if v.name in users or v.driver != LOCAL:
                continue
            if any(not _label_matches(v.labels, w) for w in f.values.get("label", [])):
                continue
            if any(_label_matches(v.labels, w) for w in f.values.get("label!", [])):
                continue
            size = 0 if self.driver.mounted(v.name) else self.driver.size(v.name)
            try:
                if self.remove(v.name):
                    gone.append(v.name)
                    freed += size
            except EngineError as err:  # in use meanwhile: kept, as docker's prune does
                log.info("prune kept a volume", extra={"fields": {"volume": v.name,
                                                                  "error": str(err)}})
        return gone, freed

    def usage(self) -> tuple[builtins.list[Volume], dict[str, builtins.list[str]]]:
        return self.repo.all(), self.repo.users()

    def size(self, name: str) -> int:
        return self.driver.size(name)

    def disk_usage(self) -> builtins.list[VolumeUsage]:
        """`system df`'s volumes: each with the containers using it (running or not)."""
        volumes, users = self.usage()
        return [VolumeUsage(v.name, len(users.get(v.name, ())), self.driver.size(v.name))
                for v in volumes]

    # -- containers -------------------------------------------------------------------------

    def use(self, cid: str, names: Sequence[str]) -> None:
        """At a container's create: it uses `names` from now until its removal."""
        if names:
            self.repo.use(cid, names)

    def used_by(self, cid: str) -> builtins.list[Volume]:
        return self.repo.used_by(cid)

    def acquire(self, cid: str) -> None:
        """At a container's start: its volumes with driver options get their filesystems
        mounted (the first running user mounts)."""
        with self._lock:
            self.repo.set_active(cid, True)
            try:
                for v in self.repo.used_by(cid):
                    if v.mounted_by_driver:
                        self.driver.mount(v)
                        self.events.publish("volume", "mount", v.name, driver=v.driver,
                                            container=cid)
            except BaseException:
                self._release(cid)
                raise

    def release(self, cid: str) -> None:
        """At a container's exit (or a failed start): a volume no running container uses any
        more is unmounted. Idempotent."""
        with self._lock:
            self._release(cid)

    def _release(self, cid: str) -> None:
        self.repo.set_active(cid, False)
        for v in self.repo.used_by(cid):
            if v.mounted_by_driver:
                self._unmount_if_unused(v.name, cid)

    def _unmount_if_unused(self, name: str, cid: str) -> None:
        """Unmount a driver-option volume no running container uses and no copy holds."""
        if self.repo.active_users(name) or self._held[name] or not self.driver.mounted(name):
            return
        self.driver.unmount(name)
        self.events.publish("volume", "unmount", name, driver="local", container=cid)

    @contextmanager
    def held(self, cid: str) -> Iterator[None]:
        """For the block: the volumes with driver options of `cid` (which is not running)
        mounted, as dockerd mounts them for docker cp into or out of a stopped container
        (else the files would go to the bare _data under the mount). A start meanwhile keeps
        them; the last of both unmounts."""
        used: builtins.list[str] = []
        with self._lock:
            try:
                for v in self.repo.used_by(cid):
                    if v.mounted_by_driver:
                        self._held[v.name] += 1
                        used.append(v.name)
                        self.driver.mount(v)
            except BaseException:
                self._let_go(cid, used)
                raise
        try:
            yield
        finally:
            with self._lock:
                self._let_go(cid, used)

    def _let_go(self, cid: str, names: builtins.list[str]) -> None:
        """The held names' counts down; each one no one holds or runs with is unmounted (by
        name: the container may have been removed meanwhile, and its uses with it). An
        unmount that fails is logged: the volume stays mounted until its next user exits or
        the daemon's next start reconciles."""
        for name in names:
            self._held[name] -= 1
            if self._held[name]:
                continue
            del self._held[name]
            try:
                self._unmount_if_unused(name, cid)
            except EngineError as err:
                log.warning("volume not unmounted after a copy",
                            extra={"fields": {"volume": name, "error": str(err)}})

    def reconcile(self, known: set[str], running: set[str]) -> None:
        """At start-up, after the containers domain recovered: a user no container record
        knows (a create cut short) is forgotten, with its anonymous volumes; only `running`
        containers hold volumes mounted, and what a crash left mounted for no one is
        unmounted."""
        for cid in {c for users in self.repo.users().values() for c in users} - known:
            log.warning("forgetting the volumes of a container never recorded",
                        extra={"fields": {"id": cid}})
            self.forget(cid, remove_anonymous=True)
        with self._lock:
            self.repo.deactivate_all_but(running)
            for v in self.repo.all():
                if self.driver.mounted(v.name) and self.repo.active_users(v.name) == 0:
                    log.info("unmounting a volume no running container uses",
                             extra={"fields": {"volume": v.name}})
                    self.driver.unmount(v.name)

    def forget(self, cid: str, remove_anonymous: bool) -> builtins.list[str]:
        """At a container's removal: it uses its volumes no more; with `remove_anonymous`
        (rm -v) its anonymous volumes that no other container uses go. The names removed."""
        with self._lock:
            self._release(cid)
            names = self.repo.forget_user(cid)
        removed = []
        if remove_anonymous:
            for name in names:
                v = self.repo.find(name)
                if v is None or not v.anonymous:
                    continue
                try:
                    if self.remove(name):
                        removed.append(name)
                except EngineError as err:  # docker logs it and goes on
                    log.warning("removing an anonymous volume failed",
                                extra={"fields": {"volume": name, "error": str(err)}})
        return removed
