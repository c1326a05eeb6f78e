"""The daemon's metadata in SQLite: images, their names, layers and leases."""

from pyengine.store.db import MetadataStore
from pyengine.store.records import ImageRecord, LayerRecord, Lease, NameRecord

__all__ = ["ImageRecord", "LayerRecord", "Lease", "MetadataStore", "NameRecord"]
