"""pyrunc: a runc-compatible OCI runtime."""

__version__ = "0.1.0"
OCI_VERSION = "1.0.2-dev"
