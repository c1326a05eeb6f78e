"""The snapshotter vocabulary (containerd's): kinds, Info, Usage and the Snapshotter protocol."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from pyengine.snapshots.mount import Mount

Kind = Literal["active", "view", "committed"]


@dataclass(frozen=True)
class Info:
    """A snapshot's metadata."""

    name: str
    parent: str | None
    kind: Kind
    created: float
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    """Disk usage of a snapshot's own content (not its parents'): bytes and inodes."""

    size: int
    inodes: int


class Snapshotter(Protocol):
    """Creates, commits and removes filesystem snapshots; returns mounts, never mounts them."""

    def prepare(self, key: str, parent: str | None,
                labels: Mapping[str, str] | None = None) -> list[Mount]: ...

    def view(self, key: str, parent: str | None,
             labels: Mapping[str, str] | None = None) -> list[Mount]: ...

    def mounts(self, key: str) -> list[Mount]: ...

    def commit(self, name: str, key: str) -> None: ...

    def remove(self, key: str) -> None: ...

    def stat(self, key: str) -> Info: ...

    def usage(self, key: str) -> Usage: ...

    def walk(self) -> Iterator[Info]: ...

    def upper_dir(self, key: str) -> Path: ...

    def parent_dirs(self, key: str) -> list[Path]: ...

    def close(self) -> None: ...
