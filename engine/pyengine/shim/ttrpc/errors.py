"""ttrpc errors: one exception class per status code, plus failures of the connection itself.

Status codes are gRPC's (google.rpc.Code); containerd's errdefs map its errors onto them
(NotFound, AlreadyExists, FailedPrecondition, Unimplemented, ...), so a handler raises the
class of the error it means and the client gets the same class back.
"""

from __future__ import annotations

OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16


class TtrpcError(Exception):
    """Base of every error this package raises."""


class ProtocolError(TtrpcError):
    """The peer broke the framing or the envelope encoding; the connection is closed."""


class ConnectionClosed(TtrpcError):
    """The connection ended (or was closed) before the call finished."""


class RpcError(TtrpcError):
    """A call ended with a non-OK status. `details` are the status' Any (type_url, value) pairs."""

    code = UNKNOWN

    def __init__(self, message: str, details: tuple[tuple[str, bytes], ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return f"{CODE_NAMES.get(self.code, str(self.code))}: {self.message}"


class Cancelled(RpcError):
    code = CANCELLED


class Unknown(RpcError):
    code = UNKNOWN


class InvalidArgument(RpcError):
    code = INVALID_ARGUMENT


class DeadlineExceeded(RpcError):
    code = DEADLINE_EXCEEDED


class NotFound(RpcError):
    code = NOT_FOUND


class AlreadyExists(RpcError):
    code = ALREADY_EXISTS


class PermissionDenied(RpcError):
    code = PERMISSION_DENIED


class ResourceExhausted(RpcError):
    code = RESOURCE_EXHAUSTED


class FailedPrecondition(RpcError):
    code = FAILED_PRECONDITION


class Aborted(RpcError):
    code = ABORTED


class OutOfRange(RpcError):
    code = OUT_OF_RANGE


class Unimplemented(RpcError):
    code = UNIMPLEMENTED


class Internal(RpcError):
    code = INTERNAL


class Unavailable(RpcError):
    code = UNAVAILABLE


class DataLoss(RpcError):
    code = DATA_LOSS


class Unauthenticated(RpcError):
    code = UNAUTHENTICATED


_CLASSES: tuple[type[RpcError], ...] = (
    Cancelled, Unknown, InvalidArgument, DeadlineExceeded, NotFound, AlreadyExists,
    PermissionDenied, ResourceExhausted, FailedPrecondition, Aborted, OutOfRange, Unimplemented,
    Internal, Unavailable, DataLoss, Unauthenticated,
)
BY_CODE: dict[int, type[RpcError]] = {cls.code: cls for cls in _CLASSES}
CODE_NAMES: dict[int, str] = {
    CANCELLED: "Canceled", UNKNOWN: "Unknown", INVALID_ARGUMENT: "InvalidArgument",
    DEADLINE_EXCEEDED: "DeadlineExceeded", NOT_FOUND: "NotFound",
    ALREADY_EXISTS: "AlreadyExists", PERMISSION_DENIED: "PermissionDenied",
    RESOURCE_EXHAUSTED: "ResourceExhausted", FAILED_PRECONDITION: "FailedPrecondition",
    ABORTED: "Aborted", OUT_OF_RANGE: "OutOfRange", UNIMPLEMENTED: "Unimplemented",
    INTERNAL: "Internal", UNAVAILABLE: "Unavailable", DATA_LOSS: "DataLoss",
    UNAUTHENTICATED: "Unauthenticated",
}


def from_status(code: int, message: str, details: tuple[tuple[str, bytes], ...] = ()) -> RpcError:
    """The exception for a non-OK status received from the peer (Unknown for unknown codes)."""
    cls = BY_CODE.get(code)
    if cls is None:
        err: RpcError = Unknown(f"status code {code}: {message}", details)
        return err
    return cls(message, details)
