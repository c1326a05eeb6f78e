"""containerd-shim-pyrunc-v2: the command containerd 1.6 runs for runtime io.containerd.pyrunc.v2.

    containerd-shim-pyrunc-v2 -namespace NS -address GRPC -publish-binary BIN -id ID [-debug]
        [-bundle DIR] start|delete

`start` (in the bundle directory): binds the shim's ttrpc socket under /run/containerd/s/ (named
after address, namespace and id, as containerd's runc shim does), forks the server into a new
session with its stdio detached (stderr to the bundle's `log` fifo, which containerd reads),
writes `address` and `shim.pid` into the bundle and prints the address; containerd connects.
`delete`: the cleanup containerd runs when the shim is gone: the runtime's `delete --force`,
the rootfs unmounted, and a DeleteResponse (exit status 137, as for a SIGKILL) on stdout.
Events go to $TTRPC_ADDRESS. This module imports only the standard library up to the fork.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time

SOCKET_DIR = "/run/containerd/s"


class Flags:
    def __init__(self) -> None:
        self.namespace = ""
        self.address = ""
        self.publish_binary = ""
        self.id = ""
        self.bundle = ""
        self.debug = False
        self.action = ""


def parse(argv: list[str]) -> Flags:
    """Go's flag syntax: -name value, -name=value, --name value; -debug is boolean."""
    flags = Flags()
    names = {"namespace": "namespace", "address": "address", "publish-binary": "publish_binary",
             "id": "id", "bundle": "bundle"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-"):
            flags.action = arg
            i += 1
            continue
        name, eq, value = arg.lstrip("-").partition("=")
        if name == "debug":
            flags.debug = value.lower() not in ("false", "0") if eq else True
        elif name in names:
            if not eq:
                i += 1
                if i >= len(argv):
                    raise ValueError(f"flag needs an argument: -{name}")
                value = argv[i]
            setattr(flags, names[name], value)
        elif name in ("v", "version"):
            flags.action = "version"
        else:
            raise ValueError(f"flag provided but not defined: -{name}")
        i += 1
    return flags


def socket_path(flags: Flags, group: str | None = None) -> str:
    """Named after containerd's address, the namespace and the id (a shim of its own) or the
    group (a shared shim: group.py)."""
    import hashlib

    key = f"{flags.address}/{flags.namespace}/" + (
        f"id/{flags.id}" if group is None else f"group/{group}")
    digest = hashlib.sha256(key.encode())
    return os.path.join(SOCKET_DIR, digest.hexdigest())


def _listen(path: str) -> socket.socket:
    os.makedirs(SOCKET_DIR, mode=0o711, exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
    except OSError:
        _remove_if_dead(path)
        try:
            sock.bind(path)
        except OSError:
            sock.close()
            raise FileExistsError(f"a shim already serves {path}") from None
    os.chmod(path, 0o600)
    sock.listen(128)
    return sock


def start(flags: Flags) -> int:
    from . import group

    bundle = os.getcwd()
    shared_by = group.group_of(bundle)
    grouped = shared_by is not None
    path = socket_path(flags, shared_by)
    address = f"unix://{path}"
    for _ in range(3):
        if grouped and os.path.exists(path):
            shared = group.reserve(path, flags.id)
            if shared is not None:  # the namespace's shim takes this container too
                # The shared shim writes its log to its first container's fifo: this one's
                # reader (containerd, the engine) sees its end now, not never (a fifo no
                # writer ever opened shows no end).
                os.close(_open_log(bundle))
                _announce(bundle, address, shared)
                return 0
        try:
            sock = _listen(path)
            break
        except FileExistsError:
            if not grouped:
                raise
            continue  # another `start` just made the shim: ask it
    else:
        # A live shim there refuses (an older version without Reserve): a shim of its own.
        path = socket_path(flags)
        address = f"unix://{path}"
        sock = _listen(path)
    pid = 0
    from . import zygote

    if not os.environ.get(zygote.ENV_DISABLE) and sys.argv[0].startswith("/"):
        log = _open_log(bundle)
        try:
            pid = zygote.spawn_shim(sys.argv[0], sock, log, [
                flags.namespace, flags.address, flags.id, bundle, path,
                os.environ.get("TTRPC_ADDRESS", ""), os.environ.get("PATH", ""),
                "1" if flags.debug else "0"])
        except OSError as e:
            # Not on stderr: containerd takes all of start's output for the address.
            with contextlib.suppress(OSError):
                os.write(log, f"containerd-shim-pyrunc-v2: no shim from the zygote ({e}); "
                              "forking one\n".encode())
        finally:
            os.close(log)
    if not pid:
        pid = _fork_shim(sock, path, flags, bundle)
    sock.close()
    _announce(bundle, address, pid)
    return 0


def _announce(bundle: str, address: str, pid: int) -> None:
    """What containerd reads: the address on stdout, and in the bundle (for reconnecting)."""
    _write(os.path.join(bundle, "address"), address)
    _write(os.path.join(bundle, "shim.pid"), str(pid))
    print(address, flush=True)


def _fork_shim(sock: socket.socket, path: str, flags: Flags, bundle: str) -> int:
    """The shim forked from this process (no zygote): it imports everything itself."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            _detach_stdio(bundle)
            from .server_main import serve

            code = serve(sock, path, flags, bundle)
        except BaseException as e:  # the daemon's last word goes to its log
            print(f"containerd-shim-pyrunc-v2: {type(e).__name__}: {e}", file=sys.stderr,
                  flush=True)
            code = 1
        os._exit(code)
    return pid


def _open_log(bundle: str) -> int:
    """The bundle's `log` fifo, which containerd reads the shim's stderr from (else null)."""
    try:
        log = os.open(os.path.join(bundle, "log"), os.O_WRONLY | os.O_NONBLOCK)
        os.set_blocking(log, True)
        return log
    except OSError:
        return os.open(os.devnull, os.O_WRONLY)


def _detach_stdio(bundle: str) -> None:
    null = os.open(os.devnull, os.O_RDWR)
    log = _open_log(bundle)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)


def _remove_if_dead(path: str) -> None:
    """Unlink a shim socket nobody serves any more (its shim was killed)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except ConnectionRefusedError:  # a socket file with no listener behind it
        with contextlib.suppress(OSError):
            os.unlink(path)
    except OSError:
        pass
    finally:
        probe.close()


def _write(path: str, text: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def delete(flags: Flags) -> int:
    from . import linux, settings

    bundle = flags.bundle or os.getcwd()
    binary, root = settings.read(bundle)
    root = root or os.path.join(settings.DEFAULT_ROOT, flags.namespace)
    if os.path.exists(os.path.join(root, flags.id)):  # else the runtime has nothing to delete
        _run_quietly([binary, "--root", root, "delete", "--force", flags.id])
    try:
        linux.unmount(os.path.join(bundle, "rootfs"))
    except OSError as e:
        print(f"containerd-shim-pyrunc-v2 delete: {e}", file=sys.stderr)
    from . import group

    shared_by = group.group_of(bundle)
    for path in {socket_path(flags), socket_path(flags, shared_by)}:
        _remove_if_dead(path)
    pid = 0
    try:
        with open(os.path.join(bundle, "init.pid")) as f:
            pid = int(f.read().strip() or 0)
    except (OSError, ValueError):
        pass
    sys.stdout.buffer.write(delete_response(pid, 128 + 9, time.time_ns()))
    sys.stdout.flush()
    return 0


def _run_quietly(argv: list[str]) -> None:
    from .settings import PATH

    null = os.open(os.devnull, os.O_RDWR)
    try:
        child = os.posix_spawnp(argv[0], argv, {"PATH": os.environ.get("PATH") or PATH},
                                file_actions=[(os.POSIX_SPAWN_DUP2, null, 0),
                                              (os.POSIX_SPAWN_DUP2, null, 1)])
        os.waitpid(child, 0)
    except OSError as e:
        print(f"containerd-shim-pyrunc-v2 delete: {argv[0]}: {e.strerror}", file=sys.stderr)
    finally:
        os.close(null)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def delete_response(pid: int, exit_status: int, exited_at_ns: int) -> bytes:
    """containerd.task.v2.DeleteResponse (pid = 1, exit_status = 2, exited_at = 3, a
    google.protobuf.Timestamp: seconds = 1, nanos = 2), encoded by hand: `delete` must not pay
    for importing protobuf."""
    seconds, nanos = divmod(exited_at_ns, 1_000_000_000)
    stamp = b"\x08" + _varint(seconds) + (b"\x10" + _varint(nanos) if nanos else b"")
    return (b"\x08" + _varint(pid) if pid else b"") + b"\x10" + _varint(exit_status) + \
        b"\x1a" + _varint(len(stamp)) + stamp


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "zygote":  # started by a `start`: see zygote.py
        from . import zygote

        return zygote.serve(args[1])
    try:
        flags = parse(args)
    except ValueError as e:
        print(f"containerd-shim-pyrunc-v2: {e}", file=sys.stderr)
        return 2
    if flags.action == "version":
        print("containerd-shim-pyrunc-v2 (pyengine)")
        return 0
    if not flags.namespace and flags.action in ("start", "delete"):
        print("containerd-shim-pyrunc-v2: shim namespace cannot be empty", file=sys.stderr)
        return 1
    try:
        if flags.action == "start":
            return start(flags)
        if flags.action == "delete":
            return delete(flags)
    except OSError as e:
        print(f"containerd-shim-pyrunc-v2 {flags.action}: {e}", file=sys.stderr)
        return 1
    print(f"containerd-shim-pyrunc-v2: unknown action {flags.action!r} (start or delete)",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
