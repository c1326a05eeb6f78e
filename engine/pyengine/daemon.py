"""pyengined: the engine daemon (gRPC over a root-only unix socket, or TCP with mutual TLS).

Run as `pyengined [flags]` or `python3 -m pyengine.daemon [flags]`; see docs/ENGINE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import fcntl
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pyengine import __version__, logs
from pyengine import config as daemon_config
from pyengine.config import DaemonConfig
from pyengine.errors import EngineError, FailedPrecondition, InvalidArgument

if TYPE_CHECKING:  # imported by start(), after the command line was checked
    import grpc.aio

    from pyengine.dockerapi.server import DockerApiServer
    from pyengine.engine import Engine
    from pyengine.services.jobs import Jobs
    from pyengine.services.workers import Workers

log = logging.getLogger("pyengine.daemon")

GRACE_SECONDS = 10.0
# Options SIGHUP applies without a restart (as dockerd reloads them).
RELOADABLE = ("log_level", "insecure_registries", "registry_mirrors", "max_concurrent_downloads",
              "max_concurrent_uploads")


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
    add("--docker-api", action="append", dest="docker_api", metavar="ADDR",
        help="Docker Engine API listener: unix:///path or tcp://addr:port (mutual TLS only; "
        "repeatable; default unix://EXEC_ROOT/docker.sock; 'none' disables it)")
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
    add("--default-runtime", help="OCI runtime for containers: pyrunc, runc, crun or a path "
        "(default pyrunc)")
    add("--shim-binary", help="runtime v2 shim containers run under "
        "(default containerd-shim-runc-v2)")
    add(
        "-s",
        "--storage-driver",
        choices=daemon_config.STORAGE_DRIVERS,
        help="snapshotter (default overlay)",
    )
    add("-l", "--log-level", choices=daemon_config.LOG_LEVELS, help="log level (default info)")
    add("--log-format", choices=("json", "logfmt"), help="log format (default json)")
    add("--event-loop", choices=daemon_config.EVENT_LOOPS,
        help="the daemon's event loop (default uvloop; asyncio: the standard library's)")
    add("--max-layer-size", type=int, help="largest uncompressed layer accepted, in bytes")
    add("--bip", help="the default bridge network's gateway address and prefix "
        "(default: the first free of 172.17.0.0/16 ...)")
    add("--dns-upstream", action="append", dest="dns_upstream", metavar="IP[:PORT]",
        help="DNS server the embedded DNS forwards to (repeatable; default: the host's "
        "resolv.conf nameservers)")
    add("--tlsverify", action="store_true", default=None, help="require client certificates")
    add("--tlscacert", help="CA certificate clients must be signed by")
    add("--tlscert", help="server certificate")
    add("--tlskey", help="server key")
    add("-v", "--version", action="version", version=f"pyengined {__version__}")
    args = parser.parse_args(argv)
    flags = {k: v for k, v in vars(args).items() if v is not None and k != "config_file"}
    return args, flags


class Daemon:
    """Owns the data root, the engine (its domains) and the gRPC edge.

    Everything runs on one asyncio loop (docs/ENGINE.md "Concurrency model"): the gRPC edge is
    grpc.aio, and blocking work (SQLite, disk, registry transfers) runs in `self.workers`.
    """

    def __init__(
        self, config: DaemonConfig, config_file: Path | None = None,
        flag_keys: frozenset[str] = frozenset(),
    ) -> None:
        self.config = config
        self.config_file = config_file
        self.flag_keys = flag_keys
        self._lock_fd: int | None = None
        self._sockets: list[Path] = []
        self._pid_written = False
        self.loop_kind = "asyncio"  # run() sets the kind it got
        self.server: grpc.aio.Server | None = None
        self.docker_api: DockerApiServer | None = None
        self.engine: Engine | None = None
        self.workers: Workers | None = None
        self.jobs: Jobs | None = None
        self._stop: asyncio.Event | None = None

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

    def _open_engine(self, engine: Engine) -> None:
        """Blocking: lock, pid file, then every domain opened and recovered."""
        self._prepare_dirs()
        self._take_lock()
        self._write_pidfile()
        engine.open()
        result = engine.recover()
        if result.blobs or result.snapshots:
            log.info(
                "garbage collected at start-up",
                extra={"fields": {"blobs": len(result.blobs), "snapshots": len(result.snapshots)}},
            )

    def _listen(self, server: grpc.aio.Server) -> None:
        import grpc

        for host in self.config.hosts:
            if host.startswith("unix://"):
                path = Path(host[len("unix://") :])
                prepare_socket_path(path)
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

    async def start(self) -> None:
        from pyengine.dockerapi.context import ApiContext
        from pyengine.dockerapi.server import DockerApiServer
        from pyengine.engine import Engine
        from pyengine.events import EventBus
        from pyengine.services.jobs import Jobs
        from pyengine.services.server import build_server
        from pyengine.services.workers import Workers

        loop = asyncio.get_running_loop()
        workers = self.workers = Workers()
        workers.install(loop)
        events = EventBus()
        events.bind(loop)
        engine = self.engine = Engine(self.config, events=events)
        await workers.run(self._open_engine, engine)
        await engine.containers.serve()
        self.jobs = Jobs()
        server = self.server = build_server(engine, self.jobs, workers)
        self._listen(server)
        await server.start()
        for path in self._sockets:
            os.chown(path, 0, 0)
            os.chmod(path, 0o600)
        addresses = self.config.docker_api_addresses
        if addresses:
            self.docker_api = DockerApiServer(ApiContext(engine, workers, self.jobs), addresses,
                                              GRACE_SECONDS)
            await self.docker_api.start()
        log.info(
            "daemon started",
            extra={
                "fields": {
                    "version": __version__,
                    "hosts": self.config.hosts,
                    "docker_api": addresses,
                    "data_root": str(self.config.data_root),
                    "storage_driver": self.config.storage_driver,
                    "event_loop": self.loop_kind,
                    "pid": os.getpid(),
                }
            },
        )

    # -- shutdown ---------------------------------------------------------------------------

    async def stop(self) -> None:
        log.info(
            "shutting down: cancelling in-flight calls",
            extra={"fields": {"grace_seconds": GRACE_SECONDS}},
        )
        if self.server is not None:
            assert self.jobs is not None and self.engine is not None
            self.jobs.cancel_all()
            self.engine.events.close()
            stopping = [self.server.stop(GRACE_SECONDS)]
            if self.docker_api is not None:
                stopping.append(self.docker_api.stop())
            await asyncio.gather(*stopping)
        if self.engine is not None and self.engine.domains:
            await self.engine.containers.stop_serving()
            await self.engine.networks.stop_serving()  # DNS listeners, userland proxy
        if self.engine is not None and self.workers is not None:
            await self.workers.run(self.engine.close)
        elif self.engine is not None:
            self.engine.close()
        for path in self._sockets:
            path.unlink(missing_ok=True)
        if self._pid_written:
            self.config.pid_path.unlink(missing_ok=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
        if self.workers is not None:
            self.workers.shutdown()
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

    async def serve(self) -> None:
        """Start, serve until SIGTERM/SIGINT (SIGHUP reloads), stop."""
        loop = asyncio.get_running_loop()
        stop = self._stop = asyncio.Event()

        def on_signal(signum: int) -> None:
            log.info("signal received", extra={"fields": {"signal": signal.Signals(signum).name}})
            if signum == signal.SIGHUP:
                task = loop.create_task(asyncio.to_thread(self.reload))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            else:
                stop.set()

        self._background: set[asyncio.Task[None]] = set()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            await self.start()
            await stop.wait()
        finally:
            await self.stop()

    def run(self) -> None:
        """Run the daemon on a new event loop. The loop's executor is not joined at the end:
        a transfer thread still blocked on the network (it holds no lock; its lease is
        cleaned at the next start) must not keep the process alive (see `_exit_now`)."""
        from pyengine.event_loop import new_loop

        loop, self.loop_kind = new_loop(self.config.event_loop)
        try:
            loop.run_until_complete(self.serve())
        finally:
            loop.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_socket_path(path: Path) -> None:
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
