"""Value types shared by the archive modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

WhiteoutMode = Literal["overlay", "remove", "none"]

DEFAULT_MAX_BYTES = 64 << 30
DEFAULT_MAX_FILES = 4_000_000


class Reader(Protocol):
    """A binary stream as the layer readers use it: `read` only (files, decompressors, wrappers
    that count or hash)."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Limits:
    """Bounds one layer may not exceed.

    max_bytes bounds both the uncompressed tar stream and the sum of the file sizes the layer
    declares (a sparse file counts with its full apparent size); max_files bounds the number of
    tar entries.
    """

    max_bytes: int = DEFAULT_MAX_BYTES
    max_files: int = DEFAULT_MAX_FILES


@dataclass(frozen=True)
class ApplyResult:
    """What apply_layer did: the diff_id and size of the uncompressed tar, and counts."""

    diff_id: str
    size: int
    entries: int = 0
    skipped_devices: int = 0
    skipped_xattrs: int = 0
