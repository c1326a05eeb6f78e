"""Errors raised by the snapshotters."""

from pyengine.errors import (
    AlreadyExists,
    EngineError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)


class SnapshotError(EngineError):
    """Base class of the snapshot package's errors."""


class SnapshotNotFound(SnapshotError, NotFound):
    """No snapshot has that key."""


class SnapshotExists(SnapshotError, AlreadyExists):
    """A snapshot with that key (or commit name) already exists."""


class SnapshotStateError(SnapshotError, FailedPrecondition):
    """The snapshot is not in a state that allows the operation (kind, children, mounts)."""


class InvalidSnapshotKey(SnapshotError, InvalidArgument):
    """The key is empty or otherwise unusable."""


class MountError(SnapshotError):
    """Mounting or unmounting failed."""
