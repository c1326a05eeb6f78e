"""The gRPC edge: one grpc.aio server serving every service over the engine's domains."""

from __future__ import annotations

import grpc.aio

from pyengine.engine import Engine
from pyengine.services import builds as builds_edge
from pyengine.services import containers as containers_edge
from pyengine.services import images as images_edge
from pyengine.services import networks as networks_edge
from pyengine.services import system as system_edge
from pyengine.services import volumes as volumes_edge
from pyengine.services.jobs import Jobs
from pyengine.services.workers import Workers

MAX_MESSAGE = 16 << 20


def build_server(engine: Engine, jobs: Jobs, workers: Workers) -> grpc.aio.Server:
    """A server with the engine's services added and no port yet. Call on the loop."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.so_reuseport", 0),
        ],
    )
    images_edge.add_to_server(server, engine.images, jobs, workers)
    system_edge.add_to_server(server, engine.config, engine.images, engine.events, workers,
                              engine.volumes, engine.builds)
    containers_edge.add_to_server(server, engine.containers, workers)
    networks_edge.add_to_server(server, engine.networks, engine.containers, workers)
    volumes_edge.add_to_server(server, engine.volumes, workers)
    builds_edge.add_to_server(server, engine.builds, workers)
    return server
