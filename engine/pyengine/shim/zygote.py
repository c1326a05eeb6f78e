"""A warm parent for shims: one long-lived process that has imported everything a shim runs
(asyncio, protobuf, the Task service) and frozen it (gc.freeze()), and forks a new shim for each
`start`, so that the interpreter and those modules are shared copy-on-write between all shims
instead of each shim paying ~14 MB of its own.

`start` (a fresh, lean interpreter) connects to the zygote's unix socket, sends the shim's
listening socket and log fd (SCM_RIGHTS) and its flags, bundle, TTRPC_ADDRESS and PATH
(NUL-separated), and gets the new shim's pid back. The zygote double-forks: the shim is not
its child (nothing to reap) and starts a session of its own. The first `start` that finds no
zygote starts one (detached, a session of its own); two racing ones are settled by bind(): the
loser exits. The zygote never runs an event loop (a forked child could not start its own).
The socket is private to root (mode 0600, and peers of another uid are refused).
"""

from __future__ import annotations

import array
import contextlib
import os
import signal
import socket
import struct
import sys
import time

SOCKET_DIR = "/run/containerd/s"
ENV_DISABLE = "PYSHIM_NO_ZYGOTE"  # set (to anything) to fork each shim from `start` instead
IDLE_SECONDS = 600.0  # a zygote asked for nothing this long exits (the next start makes one)
_UCRED = struct.Struct("3i")


def socket_path(launcher: str) -> str:
    """The zygote serving shims started through `launcher`: one per installed launcher file
    (its links share it) and version of this package's code (a launcher rewritten, or the code
    changed under it, gets a new zygote running the new code; the old one idles out)."""
    import hashlib

    st = os.stat(launcher)
    key = f"{st.st_dev}:{st.st_ino}:{st.st_mtime_ns}:{_code_version()}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return os.path.join(SOCKET_DIR, f"pyshim-zygote-{digest}")


def _code_version() -> int:
    """The newest modification time of this package's modules (a cheap stat per file)."""
    here = os.path.dirname(os.path.abspath(__file__))
    newest = 0
    for directory in (here, os.path.join(here, "ttrpc"), os.path.join(here, "api")):
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.endswith(".py"):
                    newest = max(newest, entry.stat().st_mtime_ns)
    return newest


def pid_file(path: str) -> str:
    return path + ".pid"


# -- the client: `start` ---------------------------------------------------------------------
def spawn_shim(launcher: str, listener: socket.socket, log_fd: int, fields: list[str]) -> int:
    """Ask the zygote (started if needed) for a shim; its pid. OSError when that fails."""
    path = socket_path(launcher)
    try:
        conn = _connect(path)
    except OSError:
        _start_zygote(launcher, path)
        conn = _connect_retrying(path)
    with conn:
        payload = "\0".join(fields).encode()
        fds = array.array("i", [listener.fileno(), log_fd])
        conn.sendmsg([struct.pack("!I", len(payload)), payload],
                     [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds.tobytes())])
        answer = _recv_all(conn).decode(errors="replace")
    if not answer.startswith("pid "):
        raise OSError(f"shim zygote {path}: {answer or 'no answer'}")
    return int(answer[4:])


def _connect(path: str) -> socket.socket:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(30)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        raise
    return conn


def _connect_retrying(path: str) -> socket.socket:
    deadline = time.monotonic() + 30  # a bound on the zygote's start-up
    while True:
        try:
            return _connect(path)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _start_zygote(launcher: str, path: str) -> None:
    null = os.open(os.devnull, os.O_RDWR)
    try:
        argv = [sys.executable, "-IS", launcher, "zygote", path]
        os.posix_spawn(sys.executable, argv, {"PATH": os.environ.get("PATH", "")},
                       file_actions=[(os.POSIX_SPAWN_DUP2, null, 0),
                                     (os.POSIX_SPAWN_DUP2, null, 1),
                                     (os.POSIX_SPAWN_DUP2, null, 2)], setsid=True)
    finally:
        os.close(null)
    # Not waited for: the zygote outlives `start`; its launcher exits only on a lost race,
    # then containerd (or init) reaps it.


def _recv_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)


# -- the zygote ------------------------------------------------------------------------------
def serve(path: str) -> int:
    os.chdir("/")  # not the first bundle it was started in
    os.makedirs(SOCKET_DIR, mode=0o711, exist_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
    except OSError:
        try:
            _connect(path).close()
            return 0  # another zygote won the race
        except OSError:
            os.unlink(path)  # a dead zygote's socket
            listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(64)
    with open(pid_file(path), "w") as f:
        f.write(str(os.getpid()))
    # Warm up: everything a shim imports and builds lazily, the allocator's free slots taken
    # (warm.py), then freeze it so the collector never writes to these objects' pages in the
    # shims (which would un-share them).
    import gc

    from . import warm

    warm.warm_up()
    gc.collect()
    warm.fill_free_blocks()
    gc.freeze()
    listener.settimeout(IDLE_SECONDS)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        _accept_loop(listener)
    except (TimeoutError, SystemExit):  # idle for IDLE_SECONDS, or SIGTERM
        pass
    finally:
        # Unlink only our own socket: a newer zygote may have taken the name meanwhile.
        with contextlib.suppress(OSError, ValueError):
            with open(pid_file(path)) as f:
                ours = int(f.read()) == os.getpid()
            if ours:
                os.unlink(path)
                os.unlink(pid_file(path))
    return 0


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _accept_loop(listener: socket.socket) -> None:
    while True:
        conn, _ = listener.accept()
        conn.settimeout(None)
        try:
            _handle(conn, listener)
        except Exception as e:  # one bad request never ends the zygote
            with contextlib.suppress(OSError):
                conn.sendall(f"error: {type(e).__name__}: {e}".encode())
        finally:
            conn.close()


def _handle(conn: socket.socket, listener: socket.socket) -> None:
    _, uid, _ = _UCRED.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                              _UCRED.size))
    if uid != os.geteuid():
        conn.sendall(b"error: not this zygote's user")
        return
    conn.settimeout(30)
    fds = array.array("i")
    head, ancdata, _, _ = conn.recvmsg(4, socket.CMSG_SPACE(2 * fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    try:
        if len(head) != 4 or len(fds) != 2:
            raise ValueError("a start request needs a length, a socket and a log fd")
        size = struct.unpack("!I", head)[0]
        payload = b""
        while len(payload) < size:
            chunk = conn.recv(size - len(payload))
            if not chunk:
                raise ValueError("a truncated start request")
            payload += chunk
        fields = payload.decode().split("\0")
        pid = _fork_shim(fds[0], fds[1], fields, listener, conn)
    finally:
        for fd in fds:
            os.close(fd)
    conn.sendall(f"pid {pid}".encode())


def _fork_shim(sock_fd: int, log_fd: int, fields: list[str], listener: socket.socket,
               conn: socket.socket) -> int:
    read_end, write_end = os.pipe()
    middle = os.fork()
    if middle == 0:
        try:
            os.close(read_end)
            listener.close()
            conn.close()
            os.setsid()
            shim = os.fork()
            if shim == 0:
                os.close(write_end)
                _become_shim(sock_fd, log_fd, fields)  # never returns
            os.write(write_end, str(shim).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read()
    os.waitpid(middle, 0)
    if not answer:
        raise OSError("the shim could not be forked")
    return int(answer)


def _become_shim(sock_fd: int, log_fd: int, fields: list[str]) -> None:
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the zygote's handler is not the shim's
        from .main import Flags
        from .server_main import serve as serve_shim

        namespace, address, shim_id, bundle, path, ttrpc_address, search_path, debug = fields
        flags = Flags()
        flags.namespace, flags.address, flags.id, flags.bundle = namespace, address, shim_id, bundle
        flags.debug = debug == "1"
        os.environ.clear()
        os.environ.update({"PATH": search_path, "TTRPC_ADDRESS": ttrpc_address})
        os.chdir(bundle)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(log_fd, 2)
        os.close(null)
        code = serve_shim(socket.socket(fileno=sock_fd), path, flags, bundle)
    except BaseException as e:  # the shim's last word goes to its log
        with contextlib.suppress(Exception):
            print(f"containerd-shim-pyrunc-v2: {type(e).__name__}: {e}", file=sys.stderr,
                  flush=True)
    finally:
        os._exit(code)
