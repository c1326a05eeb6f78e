"""pyengined: the engine daemon (gRPC over a root-only unix socket, or TCP with mutual TLS).

Run as `pyengined [flags]` or `python3 -m pyengine.daemon [flags]`; see docs/ENGINE.md.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import logging
import os
import signal
import socket
import sys
import threading
from concurrent import futures
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from pyengine import __version__, logs
from pyengine import config as daemon_config
from pyengine.config import DaemonConfig
from pyengine.errors import EngineError, FailedPrecondition, InvalidArgument

if TYPE_CHECKING:  # imported by start(), after the command line was checked
    import grpc

    from pyengine.domain import Engine

log = logging.getLogger("pyengine.daemon")

GRACE_SECONDS = 10.0
# Options SIGHUP applies without a restart (as dockerd reloads them).
RELOADABLE = ("log_level", "insecure_registries", "registry_mirrors", "max_concurrent_downloads")
MAX_MESSAGE = 16 << 20


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, dict]:
    parser = argparse.ArgumentParser(
        prog="pyengined", description="The pyengine container engine daemon."
    )
    add = parser.add_argument
    add(
        "-H",
        "--host",
        action="append",
        dest="hosts",
        metavar="SOCKET",
        help="listen address: unix:///path or tcp://addr:port "
        f"(default {daemon_config.DEFAULT_HOST})",
    )
    add("--data-root", help=f"persistent state (default {daemon_config.DEFAULT_DATA_ROOT})")
    add("--exec-root", help=f"runtime state (default {daemon_config.DEFAULT_EXEC_ROOT})")
    add("-p", "--pidfile", help="pid file (default EXEC_ROOT/pyengined.pid)")
    add(
        "--config-file",
        default=None,
        help="daemon JSON configuration (default /etc/pyengine/daemon.json if present)",
    )
    add(
        "--insecure-registry",
        action="append",
        dest="insecure_registries",
        metavar="HOST",
        help="registry reachable over plain HTTP (repeatable)",
    )
    add(
        "--registry-mirror",
        action="append",
        dest="registry_mirrors",
        metavar="URL",
        help="docker.io mirror (repeatable)",
    )
    add("--default-runtime", help="OCI runtime for containers (default runc)")
    add(
        "-s",
        "--storage-driver",
        choices=daemon_config.STORAGE_DRIVERS,
        help="snapshotter (default overlay)",
    )
    add("-l", "--log-level", choices=daemon_config.LOG_LEVELS, help="log level (default info)")
    add("--log-format", choices=("json", "logfmt"), help="log format (default json)")
    add("--max-layer-size", type=int, help="largest uncompressed layer accepted, in bytes")
    add("--tlsverify", action="store_true", default=None, help="require client certificates")
    add("--tlscacert", help="CA certificate clients must be signed by")
    add("--tlscert", help="server certificate")
    add("--tlskey", help="server key")
    add("-v", "--version", action="version", version=f"pyengined {__version__}")
    args = parser.parse_args(argv)
    flags = {k: v for k, v in vars(args).items() if v is not None and k != "config_file"}
    return args, flags


class Daemon:
    """Owns the data root, the metadata, the image service and the gRPC server."""

    def __init__(
        self, config: DaemonConfig, config_file: Path | None = None,
        flag_keys: frozenset[str] = frozenset(),
    ) -> None:
        self.config = config
        self.config_file = config_file
        self.flag_keys = flag_keys
        self.stop_requested = threading.Event()
        self._lock_fd: int | None = None
        self._sockets: list[Path] = []
        self._pid_written = False
        self.server: grpc.Server | None = None
        self.engine: Engine | None = None

    # -- start-up ---------------------------------------------------------------------------

    def _prepare_dirs(self) -> None:
        cfg = self.config
        cfg.data_root.mkdir(mode=0o711, parents=True, exist_ok=True)
        cfg.exec_root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _take_lock(self) -> None:
        path = self.config.data_root / "pyengined.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise FailedPrecondition(
                f"data root {self.config.data_root} is in use by another pyengined "
                f"(pid {holder}); refusing to start twice on the same data root"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def _write_pidfile(self) -> None:
        path = self.config.pid_path
        try:
            old = int(path.read_text().strip())
        except (OSError, ValueError):
            old = 0
        if old and old != os.getpid() and _alive(old):
            raise FailedPrecondition(
                f"pid file found, ensure pyengined is not running or delete {path} (pid {old})"
            )
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(f"{os.getpid()}\n")
        os.replace(tmp, path)
        self._pid_written = True

    def _listen(self, server: grpc.Server) -> None:
        import grpc

        for host in self.config.hosts:
            if host.startswith("unix://"):
                path = Path(host[len("unix://") :])
                _prepare_socket_path(path)
                old_umask = os.umask(0o177)
                try:
                    server.add_insecure_port(f"unix:{path}")
                finally:
                    os.umask(old_umask)
                self._sockets.append(path)
            else:
                cfg = self.config
                assert cfg.tlscacert and cfg.tlscert and cfg.tlskey
                creds = grpc.ssl_server_credentials(
                    [(cfg.tlskey.read_bytes(), cfg.tlscert.read_bytes())],
                    root_certificates=cfg.tlscacert.read_bytes(),
                    require_client_auth=True,
                )
                address = host[len("tcp://") :]
                if server.add_secure_port(address, creds) == 0:
                    raise FailedPrecondition(f"listen on {host}: cannot bind")

    def start(self) -> None:
        import grpc

        from pyengine.domain import Engine
        from pyengine.services import images as images_edge
        from pyengine.services import system as system_edge
        from pyengine.services.jobs import Jobs

        self._prepare_dirs()
        self._take_lock()
        self._write_pidfile()
        engine = self.engine = Engine(self.config)
        engine.open()
        result = engine.recover()
        service = engine.images
        if result.blobs or result.snapshots:
            log.info(
                "garbage collected at start-up",
                extra={"fields": {"blobs": len(result.blobs), "snapshots": len(result.snapshots)}},
            )
        self.jobs = Jobs()
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="grpc"),
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE),
                ("grpc.max_send_message_length", MAX_MESSAGE),
                ("grpc.so_reuseport", 0),
            ],
        )
        images_edge.add_to_server(server, service, self.jobs)
        system_edge.add_to_server(server, self.config, service)
        self._listen(server)
        server.start()
        for path in self._sockets:
            os.chown(path, 0, 0)
            os.chmod(path, 0o600)
        self.server = server
        log.info(
            "daemon started",
            extra={
                "fields": {
                    "version": __version__,
                    "hosts": self.config.hosts,
                    "data_root": str(self.config.data_root),
                    "storage_driver": self.config.storage_driver,
                    "pid": os.getpid(),
                }
            },
        )

    # -- shutdown ---------------------------------------------------------------------------

    def stop(self) -> None:
        log.info(
            "shutting down: cancelling in-flight calls",
            extra={"fields": {"grace_seconds": GRACE_SECONDS}},
        )
        if self.server is not None:
            self.jobs.cancel_all()
            self.server.stop(GRACE_SECONDS).wait()
        if self.engine is not None:
            self.engine.close()
        for path in self._sockets:
            path.unlink(missing_ok=True)
        if self._pid_written:
            self.config.pid_path.unlink(missing_ok=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
        log.info("daemon shutdown complete")

    # -- reload (SIGHUP) ---------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the config file and apply the options that can change while running."""
        if self.config_file is None:
            log.info("reload: no config file to read")
            return
        try:
            values = daemon_config.load_file(self.config_file)
            both = sorted(set(values) & self.flag_keys)
            if both:
                raise InvalidArgument(
                    "the following directives are specified both as a flag and in the "
                    f"configuration file: {', '.join(both)}"
                )
            fresh = daemon_config.build_config(values, {})
        except EngineError as err:
            log.error("reload failed, configuration unchanged",
                      extra={"fields": {"error": str(err)}})
            return
        changed = []
        for key in RELOADABLE:
            if getattr(fresh, key) != getattr(self.config, key):
                setattr(self.config, key, getattr(fresh, key))
                changed.append(key)
        if "log_level" in changed:
            logging.getLogger().setLevel(logs.LEVELS[self.config.log_level])
        ignored = sorted(
            key for key in values
            if key not in RELOADABLE and getattr(fresh, key) != getattr(self.config, key)
        )
        log.info("configuration reloaded", extra={"fields": {
            "changed": changed, "needs_restart": ignored}})

    def run(self) -> None:
        reload_requested = threading.Event()

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal received", extra={"fields": {"signal": signal.Signals(signum).name}})
            if signum == signal.SIGHUP:
                reload_requested.set()
            else:
                self.stop_requested.set()

        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, on_signal)
        try:
            self.start()
            while not self.stop_requested.wait(0.5):
                if reload_requested.is_set():
                    reload_requested.clear()
                    self.reload()
        finally:
            self.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prepare_socket_path(path: Path) -> None:
    """Parent 0700; a stale socket is removed, a live one (another daemon) is an error."""
    if not path.is_absolute():
        raise InvalidArgument(f"socket path {path} must be absolute")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    if not path.exists() and not path.is_symlink():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError as err:
        if err.errno in (errno.ECONNREFUSED, errno.ENOENT, errno.ENOTSOCK):
            path.unlink(missing_ok=True)
            return
        raise
    else:
        raise FailedPrecondition(f"listen on unix://{path}: another daemon is serving it")
    finally:
        probe.close()


def main(argv: list[str] | None = None) -> int:
    args, flags = parse_args(argv)
    config_file = args.config_file
    if config_file is None and Path("/etc/pyengine/daemon.json").exists():
        config_file = "/etc/pyengine/daemon.json"
    try:
        file_values = daemon_config.load_file(Path(config_file)) if config_file else {}
        cfg = daemon_config.build_config(file_values, flags)
    except EngineError as err:
        print(f"pyengined: {err}", file=sys.stderr)
        return 1
    logs.setup(cfg.log_level, cfg.log_format)
    if os.geteuid() != 0:
        print("pyengined: needs to be started with root privileges", file=sys.stderr)
        return 1
    try:
        Daemon(cfg, Path(config_file) if config_file else None, frozenset(flags)).run()
    except EngineError as err:
        log.error("failed to start daemon", extra={"fields": {"error": str(err)}})
        print(f"pyengined: failed to start daemon: {err}", file=sys.stderr)
        return 1
    return 0


def _exit_now(status: int) -> None:
    """Exit without joining worker threads: after a shutdown the metadata is closed and a
    transfer thread still blocked on the network (it holds no lock; its lease is cleaned at
    the next start) must not keep the process alive."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def entry() -> None:
    """Console-script entry point (pyengined)."""
    _exit_now(main())


if __name__ == "__main__":
    entry()
