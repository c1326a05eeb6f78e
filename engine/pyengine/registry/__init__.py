"""OCI distribution client: resolve, pull, push, catalog, tags and login against registries."""

from pyengine.registry.client import (
    CatalogPage,
    PullResult,
    PushResult,
    RegistryClient,
    Resolved,
    registry_host,
)
from pyengine.registry.config import Credentials, RegistryConfig
from pyengine.registry.descriptor import Descriptor, ImageManifest, Platform
from pyengine.registry.errors import (
    AccessDenied,
    AuthenticationFailed,
    BlobUnknown,
    ContentMismatch,
    InsecureRegistry,
    InvalidManifest,
    ManifestUnknown,
    PlatformNotFound,
    RegistryError,
    RegistryResponseError,
    RegistryUnavailable,
    Schema1Unsupported,
    UnsupportedMediaType,
)
from pyengine.registry.progress import ProgressEvent

__all__ = [
    "AccessDenied",
    "AuthenticationFailed",
    "BlobUnknown",
    "CatalogPage",
    "ContentMismatch",
    "Credentials",
    "Descriptor",
    "ImageManifest",
    "InsecureRegistry",
    "InvalidManifest",
    "ManifestUnknown",
    "Platform",
    "PlatformNotFound",
    "ProgressEvent",
    "PullResult",
    "PushResult",
    "RegistryClient",
    "RegistryConfig",
    "RegistryError",
    "RegistryResponseError",
    "RegistryUnavailable",
    "Resolved",
    "Schema1Unsupported",
    "UnsupportedMediaType",
    "registry_host",
]
