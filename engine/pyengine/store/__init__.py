"""The daemon's metadata in SQLite: one `Database` (connection, transactions, numbered
migrations) and one repository per domain over it."""

from pyengine.store.blob_sources import BlobSourceRepository
from pyengine.store.images import ImageRepository
from pyengine.store.leases import LeaseRepository
from pyengine.store.records import ImageRecord, LayerRecord, Lease, NameRecord
from pyengine.store.sqlite import Database

__all__ = [
    "BlobSourceRepository", "Database", "ImageRecord", "ImageRepository", "LayerRecord", "Lease",
    "LeaseRepository", "NameRecord",
]
