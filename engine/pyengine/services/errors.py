"""Engine errors -> gRPC status codes (the only place this mapping exists)."""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TypeVar, cast

import grpc
import grpc.aio

from pyengine import errors
from pyengine.progress import Cancelled

log = logging.getLogger("pyengine.api")

CODES: list[tuple[type[BaseException], grpc.StatusCode]] = [
    (Cancelled, grpc.StatusCode.CANCELLED),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.DataLoss, grpc.StatusCode.DATA_LOSS),
    (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Aborted, grpc.StatusCode.ABORTED),
    (errors.Unimplemented, grpc.StatusCode.UNIMPLEMENTED),
]

Context = grpc.aio.ServicerContext


def status_for(err: BaseException) -> tuple[grpc.StatusCode, str]:
    """Status code and message for an exception raised by the engine."""
    for cls, code in CODES:
        if isinstance(err, cls):
            return code, str(err) or cls.__name__
    if isinstance(err, errors.EngineError):
        return grpc.StatusCode.UNKNOWN, str(err)
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return grpc.StatusCode.RESOURCE_EXHAUSTED, f"no space left on device: {err}"
    return grpc.StatusCode.INTERNAL, f"internal error: {type(err).__name__}: {err}"


async def _fail(context: Context, method: str, err: BaseException, started: float) -> None:
    code, message = status_for(err)
    fields = {"method": method, "code": code.name, "duration_ms": _ms(started), "error": message}
    if code == grpc.StatusCode.INTERNAL:
        log.error("request failed", exc_info=err, extra={"fields": fields})
    else:
        log.info("request failed", extra={"fields": fields})
    await context.abort(code, message)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


Servicer = TypeVar("Servicer")
Request = TypeVar("Request")
Response = TypeVar("Response")


def unary(
    method: Callable[[Servicer, Request, Context], Awaitable[Response]],
) -> Callable[[Servicer, Request, Context], Awaitable[Response]]:
    """Wrap a unary (or client-streaming) handler: log it and map its errors."""

    @functools.wraps(method)
    async def wrapper(self: Servicer, request: Request, context: Context) -> Response:
        started = time.monotonic()
        name = method.__name__
        try:
            response = await method(self, request, context)
        except Exception as err:
            await _fail(context, name, err, started)
            raise AssertionError("unreachable") from err  # context.abort raises
        log.debug("request", extra={"fields": {"method": name, "duration_ms": _ms(started)}})
        return response

    return wrapper


def streaming(
    method: Callable[[Servicer, Request, Context], AsyncIterator[Response]],
) -> Callable[[Servicer, Request, Context], AsyncIterator[Response]]:
    """Wrap a server-streaming handler (an async generator): log it and map errors raised
    while streaming."""

    @functools.wraps(method)
    async def wrapper(
        self: Servicer, request: Request, context: Context
    ) -> AsyncIterator[Response]:
        started = time.monotonic()
        name = method.__name__
        try:
            # closed with this wrapper (the client went away): the handler's own `finally`s
            # run now, not whenever the loop's collector gets to them
            handler = cast(AsyncGenerator[Response, None],  # every handler is a generator
                           method(self, request, context))
            async with contextlib.aclosing(handler) as items:
                async for item in items:
                    yield item
        except Exception as err:
            await _fail(context, name, err, started)
            return
        log.debug("request", extra={"fields": {"method": name, "duration_ms": _ms(started)}})

    return wrapper
