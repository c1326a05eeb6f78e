"""Errors of the content store (subclasses of the engine hierarchy)."""

from __future__ import annotations

from pyengine.errors import (
    AlreadyExists,
    DataLoss,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)


class BlobNotFound(NotFound):
    """No blob with that digest in the store."""


class BlobExists(AlreadyExists):
    """The expected blob is already committed; nothing to write."""


class DigestMismatch(DataLoss):
    """Written data does not hash to the expected digest."""


class SizeMismatch(InvalidArgument):
    """Written data is not the expected size."""


class IngestLocked(Unavailable):
    """Another writer holds the ingest for this ref."""


class StoreFull(ResourceExhausted):
    """The filesystem holding the store ran out of space."""
