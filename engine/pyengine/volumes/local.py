"""The local driver's files: DATA_ROOT/volumes/<name>/_data, and what its options mount there.

A volume with options (type/device/o, docker's local driver) has its filesystem mounted on
_data while a container that uses it runs; the kernel's mount table says whether it is."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from pyengine.errors import EngineError
from pyengine.snapshots.errors import MountError
from pyengine.snapshots.mount import Mount, mount_one, unmount_all
from pyengine.volumes.model import Volume

_ESCAPE = re.compile(rb"\\([0-7]{3})")


def _unescape(field: bytes) -> str:
    """mountinfo's octal escapes (space, tab, newline, backslash) undone."""
    return os.fsdecode(_ESCAPE.sub(lambda m: bytes([int(m.group(1), 8)]), field))


def mount_points() -> set[str]:
    with open("/proc/self/mountinfo", "rb") as handle:
        return {_unescape(line.split()[4]) for line in handle}


class LocalDriver:
    def __init__(self, root: Path) -> None:
        self.root = root

    def open(self) -> None:
        self.root.mkdir(mode=0o701, parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.root / name / "_data"

    def create(self, name: str) -> Path:
        data = self.path(name)
        data.parent.mkdir(mode=0o701, exist_ok=True)
        data.mkdir(mode=0o755, exist_ok=True)
        return data

    def is_empty(self, name: str) -> bool:
        try:
            with os.scandir(self.path(name)) as entries:
                return next(entries, None) is None
        except FileNotFoundError:
            return True

    def mounted(self, name: str) -> bool:
        """Whether something is mounted on the volume's _data (the mount table, not
        os.path.ismount: a bind of a directory of the same filesystem looks like none)."""
        return str(self.path(name)) in mount_points()

    def mount(self, v: Volume) -> None:
        """Mount what `v`'s options describe on its _data (`mount -t type -o o device`)."""
        data = self.create(v.name)
        if self.mounted(v.name):
            return
        options = [o for o in v.options.get("o", "").split(",") if o]
        fstype = v.options.get("type", "")  # "none" with o=bind: a bind mount (MS_BIND)
        try:
            mount_one(Mount(fstype, v.options.get("device", ""), options), data)
        except MountError as err:
            raise EngineError(f"error while mounting volume '{data}': {err}") from err

    def unmount(self, name: str) -> None:
        if self.mounted(name):
            unmount_all(self.path(name))

    def remove(self, name: str) -> None:
        self.unmount(name)
        shutil.rmtree(self.root / name, ignore_errors=True)

    def size(self, name: str) -> int:
        total = 0
        for directory, _, files in os.walk(self.path(name)):
            for entry in files:
                try:
                    total += os.lstat(os.path.join(directory, entry)).st_blocks * 512
                except OSError:
                    continue
        return total

    def names_on_disk(self) -> list[str]:
        return [p.name for p in self.root.iterdir() if p.is_dir()]
