"""gRPC status codes (grpc/doc/statuscodes.md) and the error a failed call raises."""

from __future__ import annotations

OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND = 0, 1, 2, 3, 4, 5
ALREADY_EXISTS, PERMISSION_DENIED, RESOURCE_EXHAUSTED, FAILED_PRECONDITION = 6, 7, 8, 9
ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS = 10, 11, 12, 13, 14, 15
UNAUTHENTICATED = 16

NAMES = (
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED",
)

# An HTTP status other than 200 with no grpc-status (PROTOCOL-HTTP2.md, "HTTP to gRPC Status
# Code Mapping").
HTTP_TO_GRPC = {400: INTERNAL, 401: UNAUTHENTICATED, 403: PERMISSION_DENIED,
                404: UNIMPLEMENTED, 429: UNAVAILABLE, 502: UNAVAILABLE, 503: UNAVAILABLE,
                504: UNAVAILABLE}


def name(code: int) -> str:
    return NAMES[code] if 0 <= code < len(NAMES) else f"CODE_{code}"


class RpcError(Exception):
    """A call ended with a status other than OK. `code()` and `details()` as grpcio's."""

    def __init__(self, code: int, details: str, connect_failed: bool = False,
                 trailers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(f"{name(code)}: {details}")
        self._code = code
        self._details = details
        self.connect_failed = connect_failed  # the daemon could not be reached at all
        self.trailers = trailers or []

    def code(self) -> int:
        return self._code

    def details(self) -> str:
        return self._details


def percent_decode(text: str) -> str:
    """grpc-message is percent-encoded UTF-8 (PROTOCOL-HTTP2.md); bad escapes stay as they are."""
    if "%" not in text:
        return text
    raw = text.encode("latin-1")
    out = bytearray()
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x25 and  _is_hex(raw[i + 1:i + 3]):
            out.append(int(raw[i + 1:i + 3], 16))
            i += 3
            continue
        out.append(byte)
        i += 1
    return out.decode("utf-8", "replace")


def _is_hex(pair: bytes) -> bool:
    return len(pair) == 2 and all(c in b"0123456789abcdefABCDEF" for c in pair)
