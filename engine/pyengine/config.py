"""Daemon configuration: command-line flags merged over a JSON config file (dockerd style)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pyengine.errors import InvalidArgument

DEFAULT_HOST = "unix:///run/pyengine/pyengine.sock"
DEFAULT_DATA_ROOT = Path("/var/lib/pyengine")
DEFAULT_EXEC_ROOT = Path("/run/pyengine")
DEFAULT_MAX_LAYER_SIZE = 8 << 30
STORAGE_DRIVERS = ("overlay", "native")
LOG_LEVELS = ("debug", "info", "warn", "error")
EVENT_LOOPS = ("uvloop", "asyncio")
DOCKER_API_SOCKET = "docker.sock"  # under the exec root

# JSON key -> attribute, with dockerd's spelling of the keys.
FILE_KEYS = {
    "hosts": "hosts",
    "data-root": "data_root",
    "exec-root": "exec_root",
    "pidfile": "pidfile",
    "insecure-registries": "insecure_registries",
    "registry-mirrors": "registry_mirrors",
    "default-runtime": "default_runtime",
    "storage-driver": "storage_driver",
    "log-level": "log_level",
    "log-format": "log_format",
    "max-layer-size": "max_layer_size",
    "max-layer-files": "max_layer_files",
    "max-concurrent-downloads": "max_concurrent_downloads",
    "max-concurrent-uploads": "max_concurrent_uploads",
    "tlsverify": "tlsverify",
    "tlscacert": "tlscacert",
    "tlscert": "tlscert",
    "tlskey": "tlskey",
    "certs-dir": "certs_dir",
    "shim-binary": "shim_binary",
    "bip": "bip",
    "dns-upstream": "dns_upstream",
    "docker-api": "docker_api",
    "event-loop": "event_loop",
}


@dataclass
class DaemonConfig:
    """Everything the daemon needs to know at start-up."""

    hosts: list[str] = field(default_factory=lambda: [DEFAULT_HOST])
    data_root: Path = DEFAULT_DATA_ROOT
    exec_root: Path = DEFAULT_EXEC_ROOT
    pidfile: Path | None = None
    insecure_registries: list[str] = field(default_factory=list)
    registry_mirrors: list[str] = field(default_factory=list)
    default_runtime: str = "pyrunc"  # an OCI runtime name (pyrunc, runc, crun) or path
    shim_binary: str = "containerd-shim-runc-v2"  # the runtime v2 shim containers run under
    storage_driver: str = "overlay"
    log_level: str = "info"
    log_format: str = "json"
    max_layer_size: int = DEFAULT_MAX_LAYER_SIZE
    max_layer_files: int = 1_000_000
    max_concurrent_downloads: int = 3
    max_concurrent_uploads: int = 5  # layers a push uploads at once (docker's default)
    tlsverify: bool = False
    tlscacert: Path | None = None
    tlscert: Path | None = None
    tlskey: Path | None = None
    certs_dir: Path = Path("/etc/pyengine/certs.d")
    bip: str = ""  # the default bridge's gateway address and prefix: "172.20.0.1/16"
    # servers the embedded DNS forwards to ("IP[:PORT]"); none: the host's resolv.conf's
    dns_upstream: list[str] = field(default_factory=list)
    # the Docker Engine REST API's listeners (unix:///path, tcp://addr:port with mutual TLS);
    # none given: unix://EXEC_ROOT/docker.sock; ["none"]: not served
    docker_api: list[str] = field(default_factory=list)
    # the daemon's event loop: uvloop (libuv; falls back to asyncio's when not installed) or
    # asyncio's own selector loop (docs/ENGINE.md "Concurrency model")
    event_loop: str = "uvloop"

    @property
    def pid_path(self) -> Path:
        return self.pidfile or self.exec_root / "pyengined.pid"

    @property
    def docker_api_addresses(self) -> list[str]:
        """Where the Docker Engine API listens (empty: it is not served)."""
        if not self.docker_api:
            return [f"unix://{self.exec_root / DOCKER_API_SOCKET}"]
        return [] if self.docker_api == ["none"] else list(self.docker_api)

    def validate(self) -> None:
        if self.storage_driver not in STORAGE_DRIVERS:
            raise InvalidArgument(
                f"storage-driver {self.storage_driver!r}: must be one of "
                f"{', '.join(STORAGE_DRIVERS)}"
            )
        if self.log_level not in LOG_LEVELS:
            raise InvalidArgument(
                f"log-level {self.log_level!r}: must be one of {', '.join(LOG_LEVELS)}"
            )
        if self.event_loop not in EVENT_LOOPS:
            raise InvalidArgument(
                f"event-loop {self.event_loop!r}: must be one of {', '.join(EVENT_LOOPS)}")
        if self.log_format not in ("json", "logfmt"):
            raise InvalidArgument(f"log-format {self.log_format!r}: must be json or logfmt")
        if self.max_layer_size <= 0:
            raise InvalidArgument("max-layer-size must be positive")
        _check_bip(self.bip)
        for server in self.dns_upstream:
            parse_upstream(server)
        for host in self.hosts:
            self._check_listener("host", host)
        if "none" in self.docker_api and len(self.docker_api) > 1:
            raise InvalidArgument("docker-api 'none' cannot be combined with other addresses")
        for address in self.docker_api_addresses:
            self._check_listener("docker-api", address)

    def _check_listener(self, option: str, address: str) -> None:
        """A unix:///absolute/path, or tcp://addr:port when mutual TLS is configured."""
        if address.startswith("unix://"):
            if not address[len("unix://") :].startswith("/"):
                raise InvalidArgument(f"{option} {address!r}: unix socket path must be absolute")
        elif address.startswith("tcp://"):
            if not self.tlsverify or not (self.tlscacert and self.tlscert and self.tlskey):
                raise InvalidArgument(
                    f"{option} {address!r}: tcp listeners need mutual TLS "
                    "(--tlsverify --tlscacert --tlscert --tlskey)"
                )
            _split_tcp(option, address)
        else:
            raise InvalidArgument(f"{option} {address!r}: must be unix:///path or tcp://addr:port")


def _split_tcp(option: str, address: str) -> tuple[str, int]:
    host, colon, port = address[len("tcp://") :].rpartition(":")
    if not colon or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidArgument(f"{option} {address!r}: must be tcp://addr:port")
    return host.strip("[]"), int(port)


def tcp_address(address: str) -> tuple[str, int]:
    """A validated tcp://addr:port listener as (host, port)."""
    return _split_tcp("address", address)


def _check_bip(bip: str) -> None:
    if not bip:
        return
    import ipaddress

    try:
        iface = ipaddress.IPv4Interface(bip)
    except ValueError:
        raise InvalidArgument(f"bip {bip!r}: must be an IPv4 address with a prefix length "
                              "(172.20.0.1/16)") from None
    if "/" not in bip or iface.network.prefixlen > 30 or \
            iface.ip in (iface.network.network_address, iface.network.broadcast_address):
        raise InvalidArgument(f"bip {bip!r}: must be a host address of a subnet of at most /30 "
                              "(172.20.0.1/16)")


def parse_upstream(server: str) -> tuple[str, int]:
    """A --dns-upstream value, "IP" or "IP:PORT", as (ip, port)."""
    import ipaddress

    host, _, port = server.partition(":")
    try:
        ipaddress.IPv4Address(host)
        number = int(port) if port else 53
    except ValueError:
        number = 0
    if not 0 < number < 65536:
        raise InvalidArgument(f"dns-upstream {server!r}: must be IP or IP:PORT (IPv4)")
    return host, number


def load_file(path: Path) -> dict:
    """Read a daemon JSON config file; unknown keys are an error, as in dockerd."""
    try:
        data = json.loads(path.read_text())
    except OSError as err:
        raise InvalidArgument(f"config file {path}: {err.strerror}") from err
    except json.JSONDecodeError as err:
        raise InvalidArgument(f"config file {path}: invalid JSON: {err}") from err
    if not isinstance(data, dict):
        raise InvalidArgument(f"config file {path}: top level must be an object")
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise InvalidArgument(f"config file {path}: unknown keys: {', '.join(unknown)}")
    return {FILE_KEYS[k]: v for k, v in data.items()}


def build_config(file_values: dict, flag_values: dict) -> DaemonConfig:
    """Merge: defaults < config file < flags that were given. A key in both is an error."""
    both = sorted(set(file_values) & set(flag_values))
    if both:
        raise InvalidArgument(
            "the following directives are specified both as a flag and in the configuration "
            f"file: {', '.join(both)}"
        )
    cfg = DaemonConfig()
    for key, value in {**file_values, **flag_values}.items():
        current = getattr(cfg, key)
        if isinstance(current, Path) or key in ("pidfile", "tlscacert", "tlscert", "tlskey"):
            value = Path(value) if value is not None else None
        elif isinstance(current, bool):
            value = bool(value)
        elif isinstance(current, int):
            value = int(value)
        elif isinstance(current, list):
            value = list(value) if isinstance(value, list) else [value]
        setattr(cfg, key, value)
    cfg.validate()
    return cfg
