"""Engine errors -> HTTP statuses with docker's `{"message": ...}` body (the only place this
mapping exists for the REST edge; the gRPC edge has services/errors.py)."""

from __future__ import annotations

import errno
import logging

from pyengine import errors
from pyengine.progress import Cancelled

log = logging.getLogger("pyengine.dockerapi")

STATUSES: list[tuple[type[BaseException], int]] = [
    (Cancelled, 499),
    (errors.NotFound, 404),
    (errors.AlreadyExists, 409),
    (errors.InvalidArgument, 400),
    (errors.FailedPrecondition, 409),
    (errors.Unauthenticated, 401),
    (errors.PermissionDenied, 403),
    (errors.Unavailable, 503),
    (errors.DataLoss, 500),
    (errors.ResourceExhausted, 500),
    (errors.Aborted, 500),
    (errors.Unimplemented, 501),
]


class HttpError(Exception):
    """An error a route raises with its own status (docker's 304 is not one: return it)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def status_for(err: BaseException) -> tuple[int, str]:
    if isinstance(err, HttpError):
        return err.status, str(err)
    for cls, status in STATUSES:
        if isinstance(err, cls):
            return status, str(err) or cls.__name__
    if isinstance(err, errors.EngineError):
        return 500, str(err)
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return 500, f"no space left on device: {err}"
    return 500, f"internal error: {type(err).__name__}: {err}"
