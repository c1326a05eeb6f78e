"""Connection to the daemon: -H / PYENGINE_HOST selects a unix socket or a TLS TCP address."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOST = "unix:///run/pyengine/pyengine.sock"


class ConnectError(Exception):
    """The daemon cannot be reached."""


@dataclass
class TlsOptions:
    verify: bool = False
    ca: str = ""
    cert: str = ""
    key: str = ""


def resolve_host(flag: str | None) -> str:
    return flag or os.environ.get("PYENGINE_HOST") or DEFAULT_HOST


class Client:
    """gRPC stubs for each service, over one channel."""

    def __init__(self, host: str, tls: TlsOptions | None = None) -> None:
        import grpc

        from pyengine.api import containers_pb2_grpc, images_pb2_grpc, system_pb2_grpc

        self.host = host
        options = [
            ("grpc.max_receive_message_length", 16 << 20),
            ("grpc.max_send_message_length", 16 << 20),
        ]
        if host.startswith("unix://"):
            self.channel = grpc.insecure_channel("unix:" + host[len("unix://"):], options=options)
        elif host.startswith("tcp://"):
            tls = tls or TlsOptions()
            if not (tls.ca and tls.cert and tls.key):
                raise ConnectError(
                    f"{host}: TCP connections need --tlsverify with --tlscacert, --tlscert and "
                    "--tlskey"
                )
            creds = grpc.ssl_channel_credentials(
                root_certificates=Path(tls.ca).read_bytes(),
                private_key=Path(tls.key).read_bytes(),
                certificate_chain=Path(tls.cert).read_bytes(),
            )
            self.channel = grpc.secure_channel(host[len("tcp://"):], creds, options=options)
        else:
            raise ConnectError(f"{host}: host must be unix:///path or tcp://host:port")
        self.images = images_pb2_grpc.ImagesServiceStub(self.channel)
        self.system = system_pb2_grpc.SystemServiceStub(self.channel)
        self.containers = containers_pb2_grpc.ContainersServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()
