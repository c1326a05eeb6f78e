"""The ttrpc server: each request runs its handler in its own task, so one connection carries
any number of calls in flight; streams follow ttrpc 1.2.

Handlers are `async def handler(ctx, payload: bytes) -> bytes` for unary methods (`unary()`
wraps one that takes and returns protobuf messages) and `async def handler(ctx, stream)` for
streaming ones. A handler raises an errors.RpcError subclass to answer with that status; any
other exception answers Unknown and is logged in one line. The request's timeout_nano bounds the
handler (DeadlineExceeded when it runs over).
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from . import codec, errors, framing

if TYPE_CHECKING:
    from google.protobuf.message import Message

Req = TypeVar("Req", bound="Message")
T = TypeVar("T")


class Context(NamedTuple):
    """What a handler knows about its call. `deadline` is on the event loop's clock."""

    service: str
    method: str
    metadata: codec.Metadata
    deadline: float | None

    def get(self, key: str) -> list[str]:
        """The metadata values under `key` (compared case-insensitively, as ttrpc-go does)."""
        key = key.lower()
        return [v for k, v in self.metadata if k.lower() == key]


class ServerStream:
    """The server's end of a streaming call: messages from the client, messages to it."""

    def __init__(self, conn: _Connection, stream_id: int, method: StreamMethod) -> None:
        self._conn = conn
        self._id = stream_id
        self._method = method
        self._inbox: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=16)
        self._remote_closed = False
        self._finished = False

    async def recv(self) -> bytes | None:
        """The next message from the client; None once the client has closed its side."""
        if self._remote_closed and self._inbox.empty():
            return None
        item = await self._inbox.get()
        if item is None:
            self._inbox.put_nowait(None)  # later recv() calls see the end too
        return item

    async def send(self, data: bytes) -> None:
        """Send one message to the client (server-streaming methods only)."""
        if not self._method.server_streaming:
            raise errors.Internal("send on a method that does not stream to the client")
        if len(data) > framing.MAX_MESSAGE:
            raise errors.ResourceExhausted(f"stream message of {len(data)} bytes exceeds "
                                           f"the maximum of {framing.MAX_MESSAGE}")
        if not await framing.write_frame(self._conn.writer, self._id, framing.DATA, 0, data):
            raise errors.Cancelled("the client connection is closed")

    async def _deliver(self, data: bytes) -> None:
        if not self._remote_closed and not self._finished:
            await self._inbox.put(data)

    def _finish(self) -> None:
        """The handler is done: drop what it did not read, and free a reader waiting to put."""
        self._finished = True
        while not self._inbox.empty():
            self._inbox.get_nowait()

    def _close_remote(self) -> None:
        if not self._remote_closed:
            self._remote_closed = True
            if not self._inbox.full():  # else recv() sees the end once the inbox is drained
                self._inbox.put_nowait(None)


UnaryHandler = Callable[[Context, bytes], Awaitable[bytes]]
StreamHandler = Callable[[Context, ServerStream], Awaitable[bytes | None]]


class UnaryMethod(NamedTuple):
    handler: UnaryHandler


class StreamMethod(NamedTuple):
    handler: StreamHandler
    client_streaming: bool
    server_streaming: bool


Method = UnaryMethod | StreamMethod


def unary(request_type: type[Req],
          fn: Callable[[Context, Req], Awaitable[Message]]) -> UnaryMethod:
    """A unary method taking and returning protobuf messages; undecodable requests answer
    InvalidArgument."""

    async def handler(ctx: Context, payload: bytes) -> bytes:
        try:
            request = request_type.FromString(payload)
        except Exception as e:  # protobuf's DecodeError; not imported to keep this module lean
            raise errors.InvalidArgument(
                f"/{ctx.service}/{ctx.method}: cannot decode {request_type.__name__}: {e}"
            ) from None
        return (await fn(ctx, request)).SerializeToString()

    return UnaryMethod(handler)


def _log_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


def peer_credentials(writer: asyncio.StreamWriter) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process at the other end of a unix socket (SO_PEERCRED)."""
    sock = writer.get_extra_info("socket")
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    pid, uid, gid = _UCRED.unpack(raw)
    return pid, uid, gid


class Server:
    """same_user_only: accept only peers running as this process' effective uid and gid (what
    containerd's shims and containerd's own ttrpc endpoint require); others are disconnected."""

    def __init__(self, *, log: Callable[[str], None] = _log_stderr,
                 same_user_only: bool = False) -> None:
        self.same_user_only = same_user_only
        self._services: dict[str, dict[str, Method]] = {}
        self._listeners: list[asyncio.Server] = []
        self._conns: set[_Connection] = set()
        self._shutting_down = False
        self.log = log

    def register(self, service: str, methods: Mapping[str, Method]) -> None:
        """Serve `methods` under the full service name (e.g. "containerd.task.v2.Task")."""
        self._services.setdefault(service, {}).update(methods)

    def lookup(self, service: str, method: str) -> Method:
        methods = self._services.get(service)
        if methods is None:
            raise errors.Unimplemented(f"service {service}")
        found = methods.get(method)
        if found is None:
            raise errors.Unimplemented(f"method {method}")
        return found

    async def listen(self, path: str | None = None, *, sock: socket.socket | None = None) -> None:
        """Accept connections on the unix socket at `path`, or on a listening socket given."""
        if self._shutting_down:
            raise errors.Unavailable("ttrpc server is shut down")
        listener = await asyncio.start_unix_server(self.serve_connection, path=path, sock=sock)
        self._listeners.append(listener)

    async def serve_connection(self, reader: asyncio.StreamReader,
                               writer: asyncio.StreamWriter) -> None:
        """Serve one connection until the peer or the server ends it."""
        if self.same_user_only and not self._same_user(writer):
            writer.close()
            return
        conn = _Connection(self, reader, writer)
        conn.reader_task = asyncio.current_task()
        self._conns.add(conn)
        try:
            await conn.run()
        except asyncio.CancelledError:
            pass  # close(): the end of this connection's own task
        finally:
            self._conns.discard(conn)

    def _same_user(self, writer: asyncio.StreamWriter) -> bool:
        try:
            pid, uid, gid = peer_credentials(writer)
        except OSError as e:
            self.log(f"ttrpc server: refusing a connection: no peer credentials: {e}")
            return False
        if (uid, gid) == (os.geteuid(), os.getegid()):
            return True
        self.log(f"ttrpc server: refusing a connection from pid {pid} (uid {uid}, gid {gid}): "
                 "not this server's user")
        return False

    @property
    def connections(self) -> int:
        return len(self._conns)

    async def shutdown(self) -> None:
        """Stop listening, close idle connections now and the others once their calls finish.

        New requests meanwhile answer Unavailable. Called from a handler, it does not wait for
        that handler's own connection (which closes once the handler has answered).
        """
        self._shutting_down = True
        for listener in self._listeners:
            listener.close()
        current = asyncio.current_task()
        waits = []
        for conn in list(self._conns):
            conn.begin_shutdown()
            if current not in conn.tasks:
                waits.append(conn.closed.wait())
        await asyncio.gather(*waits)

    async def close(self) -> None:
        """Stop at once: cancel the calls in flight and close every connection."""
        self._shutting_down = True
        for listener in self._listeners:
            listener.close()
        conns = list(self._conns)
        for conn in conns:
            conn.abort()
            # The reader too: it may wait on a stream whose handler stopped reading.
            if conn.reader_task is not None and conn.reader_task is not asyncio.current_task():
                conn.reader_task.cancel()
        await asyncio.gather(*(c.closed.wait() for c in conns))

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _Connection:
    def __init__(self, server: Server, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.streams: dict[int, ServerStream | None] = {}  # in flight; None for unary calls
        self.tasks: set[asyncio.Task[None]] = set()
        self.last_stream_id = 0
        self.closing = False
        self.closed = asyncio.Event()
        self.reader_task: asyncio.Task[object] | None = None

    async def run(self) -> None:
        try:
            while True:
                try:
                    frame = await framing.read_frame(self.reader)
                except framing.FrameTooLarge as e:
                    await self.send_status(e.stream_id, errors.ResourceExhausted(str(e)))
                    continue
                if frame is None:
                    break
                await self.dispatch(frame)
        except errors.ProtocolError as e:
            self.server.log(f"ttrpc server: closing the connection: {e}")
        except (ConnectionError, OSError):
            pass
        finally:
            self.abort()
            if self.tasks:
                await asyncio.gather(*self.tasks, return_exceptions=True)
            self.closed.set()

    def abort(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.writer.close()

    def begin_shutdown(self) -> None:
        self.closing = True
        if not self.streams:
            self.writer.close()

    async def send_status(self, stream_id: int, err: errors.RpcError) -> None:
        status = codec.Status(err.code, err.message, err.details)
        data = codec.encode_response(codec.Response(status))
        await framing.write_frame(self.writer, stream_id, framing.RESPONSE, 0, data)

    async def dispatch(self, frame: framing.Frame) -> None:
        if frame.stream_id % 2 != 1:
            await self.send_status(frame.stream_id, errors.InvalidArgument(
                "StreamID must be odd for client initiated streams"))
        elif frame.type == framing.DATA:
            stream = self.streams.get(frame.stream_id)
            if stream is None:
                await self.send_status(frame.stream_id, errors.InvalidArgument(
                    f"stream {frame.stream_id} is not an active stream"))
                return
            if not frame.flags & framing.FLAG_NO_DATA:
                await stream._deliver(frame.data)
            if frame.flags & framing.FLAG_REMOTE_CLOSED:
                stream._close_remote()
        elif frame.type == framing.REQUEST:
            await self.start_call(frame)
        # Responses from a client and unknown types are ignored, as ttrpc-go does.

    async def start_call(self, frame: framing.Frame) -> None:
        sid = frame.stream_id
        if sid <= self.last_stream_id:
            await self.send_status(sid, errors.InvalidArgument(
                "StreamID cannot be re-used and must increment"))
            return
        self.last_stream_id = sid
        if self.closing:
            await self.send_status(sid, errors.Unavailable("ttrpc server is shutting down"))
            return
        try:
            req = codec.decode_request(frame.data)
        except errors.ProtocolError as e:
            await self.send_status(sid, errors.InvalidArgument(f"unmarshal request error: {e}"))
            return
        try:
            method = self.server.lookup(req.service, req.method)
        except errors.RpcError as e:
            await self.send_status(sid, e)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + req.timeout_nano / 1e9 if req.timeout_nano > 0 else None
        ctx = Context(req.service, req.method, req.metadata, deadline)
        if isinstance(method, UnaryMethod):
            self.streams[sid] = None
            coro = self.run_unary(sid, ctx, method, req.payload)
        else:
            stream = ServerStream(self, sid, method)
            self.streams[sid] = stream
            if req.payload or not method.client_streaming:
                await stream._deliver(req.payload)
            if not frame.flags & framing.FLAG_REMOTE_OPEN:
                stream._close_remote()
            coro = self.run_stream(sid, ctx, method, stream)
        task = asyncio.create_task(coro)
        self.tasks.add(task)

    async def run_unary(self, sid: int, ctx: Context, method: UnaryMethod,
                        payload: bytes) -> None:
        try:
            result = await self.bounded(ctx, method.handler(ctx, payload))
            await self.respond(sid, codec.Response(payload=result))
        except Exception as e:
            await self.respond(sid, codec.Response(self.status_of(ctx, e)))
        finally:
            self.finish(sid)

    async def run_stream(self, sid: int, ctx: Context, method: StreamMethod,
                         stream: ServerStream) -> None:
        try:
            result = await self.bounded(ctx, method.handler(ctx, stream))
            if method.server_streaming:
                flags = framing.FLAG_REMOTE_CLOSED | (framing.FLAG_NO_DATA if result is None else 0)
                await framing.write_frame(self.writer, sid, framing.DATA, flags, result or b"")
            else:
                await self.respond(sid, codec.Response(payload=result or b""))
        except Exception as e:
            await self.respond(sid, codec.Response(self.status_of(ctx, e)))
        finally:
            self.finish(sid)

    @staticmethod
    async def bounded(ctx: Context, handler: Awaitable[T]) -> T:
        """The handler's result, or DeadlineExceeded once the request's deadline passes."""
        try:
            async with asyncio.timeout_at(ctx.deadline) as scope:
                return await handler
        except TimeoutError:
            if not scope.expired():
                raise
            raise errors.DeadlineExceeded(
                f"/{ctx.service}/{ctx.method}: deadline exceeded") from None

    def status_of(self, ctx: Context, err: Exception) -> codec.Status:
        if isinstance(err, errors.RpcError):
            return codec.Status(err.code, err.message, err.details)
        self.server.log(f"ttrpc server: /{ctx.service}/{ctx.method}: "
                        f"{type(err).__name__}: {err}")
        return codec.Status(errors.UNKNOWN, f"{type(err).__name__}: {err}")

    async def respond(self, sid: int, resp: codec.Response) -> None:
        data = codec.encode_response(resp)
        if len(data) > framing.MAX_MESSAGE:
            status = codec.Status(errors.RESOURCE_EXHAUSTED, f"response of {len(data)} bytes "
                                  f"exceeds the maximum of {framing.MAX_MESSAGE}")
            data = codec.encode_response(codec.Response(status))
        await framing.write_frame(self.writer, sid, framing.RESPONSE, 0, data)

    def finish(self, sid: int) -> None:
        stream = self.streams.pop(sid, None)
        if stream is not None:
            stream._finish()
        task = asyncio.current_task()
        if task is not None:
            self.tasks.discard(task)
        if self.closing and not self.streams:
            self.writer.close()
