"""A lean gRPC client over HTTP/2 (pyengine.cli.wire.h2): unary, server-streaming,
client-streaming and bidirectional calls with deadlines, metadata and cancellation
(RST_STREAM CANCEL).

Targets: ``unix:///path`` (plain HTTP/2 on a unix socket, as grpc's ``unix:`` targets) and
``tcp://host:port`` with TLS (mutual when a client certificate is given, ALPN ``h2``). Only the
standard library's _socket (ssl and socket on the TCP path) and protobuf's message classes.
"""

from __future__ import annotations

import struct
import time

from pyengine.cli.wire import h2
from pyengine.cli.wire.status import (
    CANCELLED,
    DEADLINE_EXCEEDED,
    HTTP_TO_GRPC,
    INTERNAL,
    OK,
    RESOURCE_EXHAUSTED,
    UNAVAILABLE,
    UNKNOWN,
    RpcError,
    percent_decode,
)

TYPE_CHECKING = False  # no typing at run time: it costs more than this whole module
if TYPE_CHECKING:
    from collections.abc import Generator, Iterable
    from typing import Any, TypeVar

    from google.protobuf.message import Message

    M = TypeVar("M", bound=Message)
MAX_MESSAGE = 16 << 20  # as the grpcio channel pyctl used had (max_receive_message_length)
USER_AGENT = "pyctl-wire/1"


class TlsConfig:
    def __init__(self, ca: str, cert: str = "", key: str = "") -> None:
        self.ca, self.cert, self.key = ca, cert, key


def _connect_unix(path: str) -> h2.Transport:
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock


def _connect_tcp(address: str, tls: TlsConfig, timeout: float | None) -> h2.Transport:
    import socket
    import ssl

    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(tls.ca)
    if tls.cert:
        context.load_cert_chain(tls.cert, tls.key or None)
    context.set_alpn_protocols(["h2"])
    raw = socket.create_connection((host, int(port)), timeout=timeout)
    try:
        sock = context.wrap_socket(raw, server_hostname=host)
    except (OSError, ssl.SSLError):
        raw.close()
        raise
    if sock.selected_alpn_protocol() != "h2":
        sock.close()
        raise OSError(f"{address} did not agree to HTTP/2 (ALPN)")
    return sock


class Channel:
    """One HTTP/2 connection to the daemon, opened at the first call (and again after a
    GOAWAY or a lost connection)."""

    def __init__(self, target: str, tls: TlsConfig | None = None,
                 max_message: int = MAX_MESSAGE) -> None:
        if target.startswith("unix://"):
            self.scheme, self.authority = "http", "localhost"
        elif target.startswith("tcp://"):
            if tls is None:
                raise ValueError(f"{target}: TCP needs TLS")
            self.scheme, self.authority = "https", target[len("tcp://"):]
        else:
            raise ValueError(f"{target}: target must be unix:///path or tcp://host:port")
        self.target = target
        self.tls = tls
        self.max_message = max_message
        self.conn: h2.Connection | None = None

    def _connection(self, deadline: float | None) -> h2.Connection:
        conn = self.conn
        if conn is not None and not conn.closed and conn.goaway is None:
            return conn
        if conn is not None:
            conn.close()
            self.conn = None
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            if self.tls is None:
                sock = _connect_unix(self.target[len("unix://"):])
            else:
                sock = _connect_tcp(self.authority, self.tls, timeout)
        except OSError as err:
            raise RpcError(UNAVAILABLE, f"failed to connect to {self.target}: "
                           f"{err.strerror or err}", connect_failed=True) from None
        try:
            self.conn = h2.Connection(sock)
        except h2.H2Error as err:
            raise RpcError(UNAVAILABLE, f"failed to connect to {self.target}: {err}",
                           connect_failed=True) from None
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # -- calls --

    def unary_unary(self, path: str, request: Message, response_type: type[M],
                    timeout: float | None = None,
                    metadata: Iterable[tuple[str, str]] = ()) -> M:
        call = Call(self, path, timeout, metadata)
        with call:
            call.send(request.SerializeToString(), end=True)
            return call.single(response_type)

    def unary_stream(self, path: str, request: Message, response_type: type[M],
                     timeout: float | None = None,
                     metadata: Iterable[tuple[str, str]] = ()) -> ResponseStream:
        call = Call(self, path, timeout, metadata)
        with call:
            call.send(request.SerializeToString(), end=True)
        return ResponseStream(call, response_type)

    def stream_unary(self, path: str, requests: Iterable[Message], response_type: type[M],
                     timeout: float | None = None,
                     metadata: Iterable[tuple[str, str]] = ()) -> M:
        call = Call(self, path, timeout, metadata)
        with call:
            for request in requests:
                if call.stream_state.remote_closed:
                    break  # the daemon answered early (an error): its status says why
                call.send(request.SerializeToString())
            call.send_end()
            return call.single(response_type)

    def stream_stream(self, path: str, first: Message, response_type: type[M],
                      timeout: float | None = None,
                      metadata: Iterable[tuple[str, str]] = ()) -> BidiCall:
        call = Call(self, path, timeout, metadata)
        with call:
            call.send(first.SerializeToString())
        return BidiCall(call, response_type)


def encode_timeout(seconds: float) -> str:
    """grpc-timeout: at most 8 digits and a unit (PROTOCOL-HTTP2.md)."""
    for unit, scale in (("u", 1_000_000), ("m", 1000), ("S", 1), ("M", 1 / 60), ("H", 1 / 3600)):
        value = int(max(0.0, seconds) * scale + 0.999)
        if value < 100_000_000:
            return f"{value}{unit}"
    return "99999999H"


class Call:
    """One RPC on the channel's connection. Used as a context manager around the sending part:
    an exception (including KeyboardInterrupt) cancels the stream with RST_STREAM CANCEL."""

    def __init__(self, channel: Channel, path: str, timeout: float | None,
                 metadata: Iterable[tuple[str, str]]) -> None:
        self.channel = channel
        self.path = path
        self.deadline = None if timeout is None else time.monotonic() + timeout
        headers = [
            (":method", "POST"), (":scheme", channel.scheme), (":path", path),
            (":authority", channel.authority), ("te", "trailers"),
            ("content-type", "application/grpc"), ("user-agent", USER_AGENT),
        ]
        if timeout is not None:
            headers.append(("grpc-timeout", encode_timeout(timeout)))
        headers += [(k.lower(), v) for k, v in metadata]
        self.conn = channel._connection(self.deadline)
        self.conn.deadline = self.deadline
        try:
            self.stream_state = self.conn.open_stream(headers)
        except h2.H2Error as err:
            if err.timeout:  # no stream to cancel yet
                raise RpcError(DEADLINE_EXCEEDED, "Deadline Exceeded") from None
            channel.close()
            raise RpcError(UNAVAILABLE, str(err)) from None
        self.done = False

    def __enter__(self) -> Call:
        return self

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        if value is not None:
            self.cancel()

    def cancel(self) -> None:
        if not self.done:
            self.done = True
            self.conn.reset(self.stream_state, h2.CANCEL)

    def _error(self, err: h2.H2Error) -> RpcError:
        self.done = True
        if err.timeout:
            self.conn.reset(self.stream_state, h2.CANCEL)
            return RpcError(DEADLINE_EXCEEDED, "Deadline Exceeded")
        self.channel.close()  # the connection is unusable
        return RpcError(UNAVAILABLE, str(err))

    def send(self, payload: bytes, end: bool = False) -> None:
        if len(payload) > self.channel.max_message:
            raise RpcError(RESOURCE_EXHAUSTED, f"message of {len(payload)} bytes is larger "
                           f"than the limit {self.channel.max_message}")
        try:
            self.conn.send_data(self.stream_state, struct.pack(">BI", 0, len(payload)) + payload,
                                end_stream=end)
        except h2.H2Error as err:
            raise self._error(err) from None

    def send_end(self) -> None:
        if not self.stream_state.local_closed:
            try:
                self.conn.send_data(self.stream_state, b"", end_stream=True)
            except h2.H2Error as err:
                raise self._error(err) from None

    def wait_headers(self) -> list[tuple[str, str]]:
        stream = self.stream_state
        try:
            while stream.headers is None and not stream.remote_closed:
                self.conn.read_frame()
        except h2.H2Error as err:
            raise self._error(err) from None
        return [(k, v) for k, v in stream.headers or [] if not k.startswith(":")]

    def buffered_payload(self) -> bytes | None:
        """The next message if it has arrived whole, without reading."""
        data = self.stream_state.data
        if len(data) >= 5:
            flag, size = struct.unpack(">BI", data[:5])
            if size > self.channel.max_message:
                self.cancel()
                raise RpcError(RESOURCE_EXHAUSTED, f"received message of {size} bytes "
                               f"is larger than the limit {self.channel.max_message}")
            if flag:
                self.cancel()
                raise RpcError(INTERNAL, "received a compressed message although no "
                               "compression was offered")
            if len(data) >= 5 + size:
                payload = bytes(data[5:5 + size])
                del data[:5 + size]
                return payload
        return None

    def _next_payload(self) -> bytes | None:
        """The next length-prefixed message, or None at the end of the stream."""
        stream = self.stream_state
        try:
            while True:
                payload = self.buffered_payload()
                if payload is not None:
                    return payload
                data = stream.data
                if stream.remote_closed:
                    if data:
                        self._status()  # a status that explains the truncation wins
                        raise RpcError(INTERNAL, "stream ended inside a message")
                    return None
                self.conn.read_frame()
        except h2.H2Error as err:
            raise self._error(err) from None

    def _status(self) -> None:
        """Raise the call's error if it ended with one."""
        self.done = True
        stream = self.stream_state
        if stream.reset is not None and stream.trailers is None:
            if stream.refused:
                raise RpcError(UNAVAILABLE, "the daemon refused the call (closing down)")
            if stream.reset == h2.CANCEL:
                raise RpcError(CANCELLED, "call cancelled by the daemon")
            raise RpcError(INTERNAL, f"stream reset by the daemon (HTTP/2 error "
                           f"{stream.reset})")
        trailers = dict(stream.trailers or [])
        headers = dict(stream.headers or [])
        if "grpc-status" not in trailers:
            http = headers.get(":status", "")
            if http != "200":
                code = HTTP_TO_GRPC.get(int(http) if http.isdigit() else 0, UNKNOWN)
                raise RpcError(code, f"HTTP status {http or 'missing'} from the daemon")
            raise RpcError(INTERNAL, "the daemon ended the call without a status")
        raw = trailers["grpc-status"]
        code = int(raw) if raw.isdigit() else UNKNOWN
        if code != OK:
            raise RpcError(code, percent_decode(trailers.get("grpc-message", "")),
                           trailers=stream.trailers)

    def single(self, response_type: type[M]) -> M:
        with self:
            payload = self._next_payload()
            if payload is None:
                self._status()
                raise RpcError(INTERNAL, "the daemon sent no response message")
            extra = self._next_payload()
            self._status()
            if extra is not None:
                raise RpcError(INTERNAL, "the daemon sent more than one response message")
            return response_type.FromString(payload)

    def stream(self, response_type: type[M]) -> Generator[M, None, None]:
        """The responses as they arrive; closing the iterator early cancels the call."""
        try:
            while True:
                payload = self._next_payload()
                if payload is None:
                    self._status()
                    return
                yield response_type.FromString(payload)
        finally:  # GeneratorExit, KeyboardInterrupt, errors: cancel unless ended
            if not self.stream_state.remote_closed:
                self.cancel()
            self.done = True


class ResponseStream:
    """A server stream's responses, as grpcio's call object: iterate it; `initial_metadata()`
    waits for the response headers (a server that subscribes before it answers has then
    subscribed); `cancel()` (or `close()`) ends it with RST_STREAM CANCEL."""

    def __init__(self, call: Call, response_type: type[Message]) -> None:
        self._call = call
        self._messages = call.stream(response_type)

    def __iter__(self) -> ResponseStream:
        return self

    def __next__(self) -> Message:
        return next(self._messages)

    def initial_metadata(self) -> list[tuple[str, str]]:
        return self._call.wait_headers()

    def cancel(self) -> None:
        self._messages.close()
        self._call.cancel()

    close = cancel


class BidiCall:
    """A bidirectional call driven by one thread with select(): `send()` messages,
    `done_writing()` half-closes, `fileno()` is the connection's socket; when select() says
    it is readable (or `pending()` is true), `read()` handles what arrived, and `take()` gives
    the messages complete so far, without blocking. `ended()` once the daemon ended the call;
    `status()` then raises its error, if any. Other calls may run on the same channel
    meanwhile (frames for this one are kept)."""

    def __init__(self, call: Call, response_type: type[Message]) -> None:
        self._call = call
        self._type = response_type

    def fileno(self) -> int:
        sock: Any = self._call.conn.sock
        return int(sock.fileno())

    def send(self, message: Message) -> None:
        with self._call:
            if not self._call.stream_state.remote_closed:
                self._call.send(message.SerializeToString())

    def done_writing(self) -> None:
        with self._call:
            self._call.send_end()

    def initial_metadata(self) -> list[tuple[str, str]]:
        return self._call.wait_headers()

    def pending(self) -> bool:
        """Bytes already received but not handled (no need to wait on the socket)."""
        conn = self._call.conn
        sock: Any = conn.sock
        return conn.has_frame() or bool(getattr(sock, "pending", lambda: 0)())

    def read(self) -> None:
        """Handle the frames one receive brings (blocks until one frame is whole)."""
        conn = self._call.conn
        if self._call.stream_state.remote_closed:
            return
        with self._call:
            try:
                conn.read_frame()
                while conn.has_frame():
                    conn.read_frame()
            except h2.H2Error as err:
                raise self._call._error(err) from None

    def take(self) -> list[Message]:
        out = []
        with self._call:
            while (payload := self._call.buffered_payload()) is not None:
                out.append(self._type.FromString(payload))
        return out

    def ended(self) -> bool:
        return self._call.stream_state.remote_closed and not self._call.stream_state.data

    def status(self) -> None:
        """Raise the call's error, if it ended with one (after ended())."""
        if self._call.stream_state.data:
            raise RpcError(INTERNAL, "stream ended inside a message")
        self._call._status()

    def cancel(self) -> None:
        self._call.cancel()


if TYPE_CHECKING:
    Handler = Any  # a call, with .future(...) beside it as grpcio has


class Stub:
    """Methods of one protobuf service, named as grpcio's stubs name them:
    ``stub.List(request, timeout=None, metadata=())``."""

    def __init__(self, channel: Channel, service: Any) -> None:
        self._channel = channel
        self._service = service

    def __getattr__(self, method_name: str) -> Handler:
        try:
            method = self._service.methods_by_name[method_name]
        except KeyError:
            raise AttributeError(method_name) from None
        path = f"/{self._service.full_name}/{method_name}"
        response_type = _message_class(method.output_type)
        kind = ("stream_stream" if method.client_streaming and method.server_streaming
                else "stream_unary" if method.client_streaming
                else "unary_stream" if method.server_streaming else "unary_unary")
        invoke: Handler = getattr(self._channel, kind)

        def call(request: Any, timeout: float | None = None,
                 metadata: Iterable[tuple[str, str]] = ()) -> Any:
            return invoke(path, request, response_type, timeout, metadata)

        def future(request: Any, timeout: float | None = None,
                   metadata: Iterable[tuple[str, str]] = ()) -> Future:
            return Future(self._channel, kind, (path, request, response_type, timeout, metadata))

        call.future = future  # type: ignore[attr-defined]  # grpcio's spelling: Method.future
        setattr(self, method_name, call)
        return call


class Future:
    """A call running beside the caller's (grpcio's ``Method.future``): on a connection of its
    own, in a daemon thread. ``result()`` waits for it (and raises its RpcError), ``cancel()``
    shuts its connection down. Only ``pyctl run`` uses it (Wait beside Start and Logs, stdin
    beside the output), so threading is imported by that verb alone."""

    def __init__(self, channel: Channel, kind: str, args: tuple[Any, ...]) -> None:
        import threading

        self._channel = Channel(channel.target, channel.tls, channel.max_message)
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(kind, args), daemon=True)
        self._thread.start()

    def _run(self, kind: str, args: tuple[Any, ...]) -> None:
        try:
            self._value = getattr(self._channel, kind)(*args)
        except BaseException as err:  # handed to result()
            self._error = err

    def result(self, timeout: float | None = None) -> Any:
        self._thread.join(timeout)
        if self._error is not None:
            raise self._error
        return self._value

    def cancel(self) -> None:
        conn = self._channel.conn
        if conn is not None:
            conn.shutdown()


def _message_class(descriptor: Any) -> Any:
    """The generated class of a message descriptor (from its *_pb2 module)."""
    import sys

    module_name = "pyengine.api." + descriptor.file.name.rsplit("/", 1)[-1][:-len(".proto")]
    module = sys.modules.get(module_name + "_pb2")
    if module is None:
        module = __import__(module_name + "_pb2", fromlist=["_"])
    return getattr(module, descriptor.name)
