"""Layer archives: apply an OCI layer to a directory, compute a layer from a directory.

`apply_layer` streams decompression, tar parsing and writing, computes the diff_id on the way
and never writes outside its destination. `diff` and `export_tar` produce tars.
"""

from pyengine.archive.apply import apply_layer
from pyengine.archive.errors import (
    ArchiveError,
    CorruptLayer,
    DiskFull,
    LayerTooLarge,
    UnsafeLayer,
    UnsupportedLayer,
)
from pyengine.archive.types import ApplyResult, Limits, Reader, WhiteoutMode
from pyengine.archive.writer import diff, export_tar

__all__ = [
    "ApplyResult",
    "ArchiveError",
    "CorruptLayer",
    "DiskFull",
    "LayerTooLarge",
    "Limits",
    "Reader",
    "UnsafeLayer",
    "UnsupportedLayer",
    "WhiteoutMode",
    "apply_layer",
    "diff",
    "export_tar",
]
