"""Errors raised while building bundles."""

from pyengine.errors import EngineError, InvalidArgument


class BundleError(EngineError):
    """Base class of the bundles package's errors."""


class UserNotFound(BundleError, InvalidArgument):
    """The requested user or group is not in the image's passwd/group files."""


class InvalidContainerConfig(BundleError, InvalidArgument):
    """The image config and options do not make a runnable container (no command...)."""
