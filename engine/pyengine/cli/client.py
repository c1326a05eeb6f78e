"""Connection to the daemon: -H / PYENGINE_HOST selects a unix socket or a TLS TCP address.

The transport is pyengine.cli.wire (gRPC over HTTP/2 in a few small modules), not grpcio:
importing grpc alone cost more than pyctl's whole start-up budget.
"""

from __future__ import annotations

from pyengine.cli.wire.status import RpcError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyengine.api.lean import Service
    from pyengine.cli.wire.channel import Stub

DEFAULT_HOST = "unix:///run/pyengine/pyengine.sock"
__all__ = ["DEFAULT_HOST", "Client", "ConfigFileError", "ConnectError", "RpcError", "TlsOptions",
           "resolve_host"]


class ConnectError(Exception):
    """The daemon cannot be reached."""


class ConfigFileError(Exception):
    """The client config file cannot be read or written (see credentials.py)."""


class TlsOptions:
    def __init__(self, verify: bool = False, ca: str = "", cert: str = "", key: str = "") -> None:
        self.verify, self.ca, self.cert, self.key = verify, ca, cert, key


def getenv(name: str) -> str | None:
    """os.environ.get(name) without importing os (~1.4 ms of pyctl's start-up): the same
    posix.environ, decoded as os decodes it."""
    import posix
    import sys

    raw = posix.environ.get(name.encode())
    return None if raw is None else raw.decode(sys.getfilesystemencoding(), "surrogateescape")


def resolve_host(flag: str | None) -> str:
    return flag or getenv("PYENGINE_HOST") or DEFAULT_HOST


class Client:
    """Stubs for each service (``client.images.List(request)``), over one channel."""

    def __init__(self, host: str, tls: TlsOptions | None = None) -> None:
        from pyengine.cli.wire.channel import Channel, TlsConfig

        self.host = host
        if host.startswith("unix://"):
            self.channel = Channel(host)
        elif host.startswith("tcp://"):
            tls = tls or TlsOptions()
            if not (tls.ca and tls.cert and tls.key):
                raise ConnectError(
                    f"{host}: TCP connections need --tlsverify with --tlscacert, --tlscert and "
                    "--tlskey"
                )
            self.channel = Channel(host, TlsConfig(tls.ca, tls.cert, tls.key))
        else:
            raise ConnectError(f"{host}: host must be unix:///path or tcp://host:port")
        self._images: Stub | None = None
        self._system: Stub | None = None
        self._containers: Stub | None = None
        self._networks: Stub | None = None
        self._volumes: Stub | None = None
        self._lean: dict[str, Stub] = {}

    # each service's protobuf module is imported at its first call (`pyctl images` does not
    # import system_pb2)
    @property
    def images(self) -> Stub:
        if self._images is None:
            from pyengine.api import images_pb2
            from pyengine.cli.wire.channel import Stub

            self._images = Stub(self.channel,
                                images_pb2.DESCRIPTOR.services_by_name["ImagesService"])
        return self._images

    @property
    def system(self) -> Stub:
        if self._system is None:
            from pyengine.api import system_pb2
            from pyengine.cli.wire.channel import Stub

            self._system = Stub(self.channel,
                                system_pb2.DESCRIPTOR.services_by_name["SystemService"])
        return self._system

    @property
    def containers(self) -> Stub:
        if self._containers is None:
            from pyengine.api import containers_pb2
            from pyengine.cli.wire.channel import Stub

            self._containers = Stub(
                self.channel, containers_pb2.DESCRIPTOR.services_by_name["ContainersService"])
        return self._containers

    @property
    def networks(self) -> Stub:
        if self._networks is None:
            from pyengine.api import networks_pb2
            from pyengine.cli.wire.channel import Stub

            self._networks = Stub(
                self.channel, networks_pb2.DESCRIPTOR.services_by_name["NetworksService"])
        return self._networks

    @property
    def volumes(self) -> Stub:
        if self._volumes is None:
            from pyengine.api import volumes_pb2
            from pyengine.cli.wire.channel import Stub

            self._volumes = Stub(
                self.channel, volumes_pb2.DESCRIPTOR.services_by_name["VolumesService"])
        return self._volumes

    def lean(self, service: type[Service]) -> Stub:
        """A stub of a lean service (``pyengine.api.containers_lean.ContainersService``): its
        requests and responses are lean messages, and protobuf is not imported. pyctl's hot
        verbs (ps, images, version, run) use these."""
        stub = self._lean.get(service.FULL_NAME)
        if stub is None:
            from pyengine.cli.wire.channel import Stub

            stub = self._lean[service.FULL_NAME] = Stub(self.channel, service)
        return stub

    def close(self) -> None:
        self.channel.close()
