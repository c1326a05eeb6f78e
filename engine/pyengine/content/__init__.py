"""Content-addressed blob store: blobs/<alg>/<hex> plus resumable, verified ingests."""

from pyengine.content.errors import (
    BlobExists,
    BlobNotFound,
    DigestMismatch,
    IngestLocked,
    SizeMismatch,
    StoreFull,
)
from pyengine.content.store import BlobInfo, ContentStore, IngestStatus
from pyengine.content.writer import Writer

__all__ = [
    "BlobExists",
    "BlobInfo",
    "BlobNotFound",
    "ContentStore",
    "DigestMismatch",
    "IngestLocked",
    "IngestStatus",
    "SizeMismatch",
    "StoreFull",
    "Writer",
]
