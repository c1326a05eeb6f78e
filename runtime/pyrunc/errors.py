"""pyrunc's error hierarchy. Converted to an exit status and a log line only in cli.main."""

from __future__ import annotations


class PyruncError(Exception):
    """Base class. ``str(err)`` is the one line shown to the user (operation, object, cause)."""

    exit_code = 1


class ConfigError(PyruncError):
    """config.json (or a --process file) is missing, malformed or asks for something invalid."""


class UsageError(PyruncError):
    """Bad command line."""


class ContainerNotFound(PyruncError):
    """No container with that id under --root."""


class ContainerExists(PyruncError):
    """create/run with an id already in use."""


class StateDamaged(PyruncError):
    """A container's state.json cannot be read or holds values outside their types/ranges."""


class InvalidState(PyruncError):
    """The verb is not allowed in the container's current status."""


class KernelError(PyruncError):
    """A system call failed while setting up or managing the container."""


class CgroupError(PyruncError):
    """Creating, configuring or removing the container's cgroups failed."""

    errno: int | None = None  # the failed file operation's errno, when there was one


class SeccompError(PyruncError):
    """The seccomp profile cannot be compiled or loaded."""


class HookError(PyruncError):
    """A lifecycle hook failed or timed out."""


class NotSupported(PyruncError):
    """A feature pyrunc does not implement (yet), reported instead of silently ignored."""


def transition_error(current: str, wanted: str) -> InvalidState:
    """runc's wording for a forbidden lifecycle step."""
    return InvalidState(f"invalid state transition from {current} to {wanted}")
