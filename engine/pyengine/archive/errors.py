"""Errors raised while reading, applying or writing layer archives."""

from pyengine.errors import DataLoss, EngineError, InvalidArgument, ResourceExhausted


class ArchiveError(EngineError):
    """Base class of the archive package's errors."""


class UnsafeLayer(ArchiveError, InvalidArgument):
    """A layer entry would write outside the destination (traversal, symlink, hardlink...)."""


class LayerTooLarge(ArchiveError, ResourceExhausted):
    """A layer exceeds the configured Limits (decompression bomb, huge sparse file...)."""


class CorruptLayer(ArchiveError, DataLoss):
    """A layer is not a valid (compressed) tar stream: bad checksum, truncation..."""


class UnsupportedLayer(ArchiveError, InvalidArgument):
    """The layer's media type or compression is not one we can read."""


class DiskFull(ArchiveError, ResourceExhausted):
    """The destination filesystem ran out of space (or quota) while extracting."""
