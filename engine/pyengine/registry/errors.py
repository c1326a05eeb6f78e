"""Errors of the registry client. Messages never carry credentials or tokens."""

from __future__ import annotations

from pyengine.errors import (
    DataLoss,
    EngineError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)


class RegistryError(EngineError):
    """Base of registry errors that do not fit a more precise class."""


class ManifestUnknown(NotFound):
    """The registry has no manifest for that tag or digest (or no such repository)."""


class BlobUnknown(NotFound):
    """The registry has no blob with that digest in the repository."""


class PlatformNotFound(NotFound):
    """An index/manifest list has no manifest for the requested platform."""


class AuthenticationFailed(Unauthenticated):
    """Credentials were refused (or are needed and absent)."""


class AccessDenied(PermissionDenied):
    """Authenticated, but not allowed to do this (HTTP 403)."""


class UnsupportedMediaType(InvalidArgument):
    """A manifest, config or layer has a media type this client does not handle."""


class Schema1Unsupported(UnsupportedMediaType):
    """Docker image manifest schema 1 (deprecated, unsigned-by-content) is refused."""


class InvalidManifest(InvalidArgument):
    """A manifest or index is not valid JSON of the expected shape."""


class ContentMismatch(DataLoss):
    """What the registry sent does not match the digest or size we were promised."""


class RegistryUnavailable(Unavailable):
    """The registry could not be reached or kept failing (5xx, resets) after retries."""


class InsecureRegistry(FailedPrecondition):
    """Plain HTTP was needed for a registry that is neither loopback nor configured insecure."""


class RegistryResponseError(RegistryError):
    """An unexpected HTTP status with the registry's error codes."""

    def __init__(self, message: str, status: int, codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.codes = codes
