"""The ttrpc client: concurrent calls over one connection, told apart by stream id.

A call's timeout travels in the request (timeout_nano, so the server bounds its handler) and is
enforced here too (errors.DeadlineExceeded). A non-OK status raises its errors.RpcError
subclass; a lost connection fails every call in flight with errors.ConnectionClosed, a peer
that breaks the protocol with errors.ProtocolError.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from . import codec, errors, framing

if TYPE_CHECKING:
    from google.protobuf.message import Message

Resp = TypeVar("Resp", bound="Message")
_MAX_STREAM_ID = (1 << 32) - 1


class _End(NamedTuple):
    error: errors.TtrpcError | None = None


class ClientStream:
    """The client's end of a streaming call.

    recv() returns the server's messages (for a method that does not stream to the client, its
    one response) and None at the end of the stream; a stream ending with an error status
    raises it.
    """

    def __init__(self, client: Client, stream_id: int, name: str, client_streaming: bool,
                 deadline: float | None) -> None:
        self._client = client
        self._id = stream_id
        self._name = name
        self._client_streaming = client_streaming
        self._local_closed = not client_streaming
        self._deadline = deadline
        self._inbox: asyncio.Queue[bytes | _End] = asyncio.Queue()
        self._end: _End | None = None

    async def send(self, data: bytes) -> None:
        """Send one message to the server (client-streaming methods only)."""
        if self._local_closed:
            raise errors.FailedPrecondition(f"{self._name}: send after the sending side closed")
        self._client._check_size(self._name, data)
        await self._client._send(self._id, framing.DATA, 0, data)

    async def close_send(self) -> None:
        """Tell the server no more messages follow."""
        if not self._local_closed:
            self._local_closed = True
            await self._client._send(self._id, framing.DATA,
                                     framing.FLAG_REMOTE_CLOSED | framing.FLAG_NO_DATA, b"")

    async def recv(self) -> bytes | None:
        if self._end is not None and self._inbox.empty():
            self._raise_if_error(self._end)
            return None
        try:
            async with asyncio.timeout_at(self._deadline):
                item = await self._inbox.get()
        except TimeoutError:
            self.abandon()
            raise errors.DeadlineExceeded(f"{self._name}: deadline exceeded") from None
        if isinstance(item, _End):
            self._end = item
            self._raise_if_error(item)
            return None
        return item

    @staticmethod
    def _raise_if_error(end: _End) -> None:
        if end.error is not None:
            raise end.error

    def abandon(self) -> None:
        """Stop following the stream; later frames for it are dropped (ttrpc has no cancel)."""
        self._client._calls.pop(self._id, None)
        if self._end is None:
            self._end = _End(errors.Cancelled(f"{self._name}: abandoned"))

    def _on_frame(self, frame: framing.Frame) -> None:
        if frame.type == framing.RESPONSE:
            self._client._calls.pop(self._id, None)
            resp = codec.decode_response(frame.data)
            if resp.status.code != errors.OK:
                self._inbox.put_nowait(_End(errors.from_status(
                    resp.status.code, resp.status.message, resp.status.details)))
                return
            self._inbox.put_nowait(resp.payload)
            self._inbox.put_nowait(_End())
        elif frame.type == framing.DATA:
            if not frame.flags & framing.FLAG_NO_DATA:
                self._inbox.put_nowait(frame.data)
            if frame.flags & framing.FLAG_REMOTE_CLOSED:
                self._client._calls.pop(self._id, None)
                self._inbox.put_nowait(_End())

    def _on_error(self, err: errors.TtrpcError) -> None:
        self._inbox.put_nowait(_End(err))


class _Unary:
    def __init__(self, future: asyncio.Future[bytes]) -> None:
        self.future = future

    def _on_frame(self, frame: framing.Frame) -> None:
        if frame.type != framing.RESPONSE or self.future.done():
            return
        resp = codec.decode_response(frame.data)
        if resp.status.code != errors.OK:
            self.future.set_exception(errors.from_status(
                resp.status.code, resp.status.message, resp.status.details))
        else:
            self.future.set_result(resp.payload)

    def _on_error(self, err: errors.TtrpcError) -> None:
        if not self.future.done():
            self.future.set_exception(err)


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 name: str = "ttrpc") -> None:
        self._reader = reader
        self._writer = writer
        self.name = name
        self._next_id = 1
        self._calls: dict[int, _Unary | ClientStream] = {}
        self._error: errors.TtrpcError | None = None
        self._read_task = asyncio.create_task(self._read_loop())

    @classmethod
    async def connect(cls, path: str) -> Client:
        """Connect to the ttrpc server on the unix socket at `path`."""
        try:
            reader, writer = await asyncio.open_unix_connection(path)
        except OSError as e:
            raise errors.ConnectionClosed(
                f"cannot connect to ttrpc server at {path}: {e.strerror or e}") from None
        return cls(reader, writer, name=path)

    async def call(self, service: str, method: str, payload: bytes = b"", *,
                   timeout: float | None = None, metadata: codec.Metadata = ()) -> bytes:
        """One unary call: the response payload, or the status as an errors.RpcError."""
        name = f"/{service}/{method}"
        sid, data = self._request(name, service, method, payload, timeout, metadata)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._calls[sid] = _Unary(future)
        try:
            async with asyncio.timeout(timeout):
                await self._send_request(name, sid, 0, data)
                return await future
        except TimeoutError:
            raise errors.DeadlineExceeded(f"{name}: deadline exceeded after {timeout} s") from None
        finally:
            self._calls.pop(sid, None)

    async def unary(self, service: str, method: str, request: Message,
                    response_type: type[Resp], *, timeout: float | None = None,
                    metadata: codec.Metadata = ()) -> Resp:
        """call() with protobuf messages."""
        payload = await self.call(service, method, request.SerializeToString(),
                                  timeout=timeout, metadata=metadata)
        try:
            return response_type.FromString(payload)
        except Exception as e:  # protobuf's DecodeError; not imported to keep this module lean
            raise errors.ProtocolError(f"/{service}/{method}: cannot decode "
                                       f"{response_type.__name__}: {e}") from None

    async def stream(self, service: str, method: str, payload: bytes | None = None, *,
                     client_streaming: bool, timeout: float | None = None,
                     metadata: codec.Metadata = ()) -> ClientStream:
        """Open a streaming call. With client_streaming the request keeps the stream open for
        send()/close_send(); otherwise `payload` is the whole input."""
        name = f"/{service}/{method}"
        sid, data = self._request(name, service, method, payload or b"", timeout, metadata)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout is not None else None
        stream = ClientStream(self, sid, name, client_streaming, deadline)
        self._calls[sid] = stream
        flags = framing.FLAG_REMOTE_OPEN if client_streaming else framing.FLAG_REMOTE_CLOSED
        try:
            await self._send_request(name, sid, flags, data)
        except BaseException:
            self._calls.pop(sid, None)
            raise
        return stream

    def _request(self, name: str, service: str, method: str, payload: bytes,
                 timeout: float | None, metadata: codec.Metadata) -> tuple[int, bytes]:
        """A new stream id and the encoded request for it."""
        if self._error is not None:
            raise self._error
        if self._next_id > _MAX_STREAM_ID:
            raise errors.ResourceExhausted(f"{name}: stream ids of this connection are used up")
        nanos = max(int(timeout * 1e9), 1) if timeout is not None else 0
        data = codec.encode_request(codec.Request(service, method, payload, nanos, metadata))
        self._check_size(name, data)
        sid = self._next_id
        self._next_id += 2
        return sid, data

    async def _send_request(self, name: str, sid: int, flags: int, data: bytes) -> None:
        if not await self._send(sid, framing.REQUEST, flags, data):
            raise self._error or errors.ConnectionClosed(f"{name}: connection to {self.name} "
                                                         "is closed")

    def _check_size(self, name: str, data: bytes) -> None:
        if len(data) > framing.MAX_MESSAGE:
            raise errors.ResourceExhausted(f"{name}: message of {len(data)} bytes exceeds the "
                                           f"maximum of {framing.MAX_MESSAGE}")

    async def _send(self, sid: int, type_: int, flags: int, data: bytes) -> bool:
        if self._error is not None:
            raise self._error
        return await framing.write_frame(self._writer, sid, type_, flags, data)

    async def _read_loop(self) -> None:
        error: errors.TtrpcError
        try:
            while True:
                try:
                    frame = await framing.read_frame(self._reader)
                except framing.FrameTooLarge as e:
                    call = self._calls.pop(e.stream_id, None)
                    if call is not None:
                        call._on_error(errors.ResourceExhausted(str(e)))
                    continue
                if frame is None:
                    error = errors.ConnectionClosed(f"ttrpc connection to {self.name} closed")
                    break
                call = self._calls.get(frame.stream_id)
                if call is not None:
                    call._on_frame(frame)
        except errors.ProtocolError as e:
            error = errors.ProtocolError(f"ttrpc connection to {self.name}: {e}")
        except (ConnectionError, OSError) as e:
            error = errors.ConnectionClosed(f"ttrpc connection to {self.name} lost: {e}")
        except asyncio.CancelledError:
            error = errors.ConnectionClosed(f"ttrpc connection to {self.name} closed")
        self._fail(error)

    def _fail(self, error: errors.TtrpcError) -> None:
        if self._error is None:
            self._error = error
        self._writer.close()
        calls = list(self._calls.values())
        self._calls.clear()
        for call in calls:
            call._on_error(error)

    @property
    def closed(self) -> bool:
        return self._error is not None

    async def close(self) -> None:
        """Close the connection; calls in flight fail with ConnectionClosed."""
        self._read_task.cancel()
        try:
            await self._read_task
        except asyncio.CancelledError:
            pass
        self._fail(errors.ConnectionClosed(f"ttrpc connection to {self.name} closed"))
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
