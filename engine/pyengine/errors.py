"""The engine's error hierarchy; the gRPC edge maps each class to a status code."""


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class NotFound(EngineError):
    """The named object does not exist."""


class AlreadyExists(EngineError):
    """An object with that name already exists."""


class InvalidArgument(EngineError):
    """The request is malformed or names something invalid."""


class FailedPrecondition(EngineError):
    """The system is not in a state that allows the operation."""


class Unavailable(EngineError):
    """A dependency (registry, daemon, runtime) cannot be reached right now."""


class PermissionDenied(EngineError):
    """The caller is not allowed to do this."""


class Unauthenticated(EngineError):
    """Credentials are missing or wrong."""


class DataLoss(EngineError):
    """Stored or received data is corrupt (digest or size mismatch)."""


class ResourceExhausted(EngineError):
    """A limit (size, count, disk space) was reached."""


class Unimplemented(EngineError):
    """The object does not offer this operation (a container whose log driver keeps no log)."""


class Aborted(EngineError):
    """An operation stopped by a failure of what it ran (a build's RUN step exiting non-zero)."""
