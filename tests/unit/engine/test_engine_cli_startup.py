"""pyctl's start-up budget, checked without a clock: `pyctl ps`, `images` and `version` against
a real gRPC server (grpcio, protobuf's classes on the server side) print what docker prints
and import neither protobuf nor grpc, argparse, json, re, typing, enum, threading, pathlib, os or
the template engine; `pyctl run --rm` (a thread waits beside the attached streams) none of these but
threading and os. A new
import on these paths fails here, deterministically, instead of as a slower benchmark."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from pyengine.api import containers_pb2, images_pb2, system_pb2

from tests.fixtures.pyctl_probe import run_pyctl, unary_handler

# never on the hot paths (the wire client, the lean classes and the plain table are enough)
FORBIDDEN = {"grpc", "argparse", "json", "re", "typing", "enum", "threading", "pathlib",
             "dataclasses", "datetime", "locale", "shutil", "pyengine.cli.template",
             "pyengine.cli.argparser", "os", "importlib"}


class FakeDaemon:
    """The three services' hot methods, answered with protobuf's own classes."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def version(self, request: system_pb2.VersionRequest, context: Any
                ) -> system_pb2.VersionResponse:
        self.requests.append(request)
        return system_pb2.VersionResponse(version="9.9.9", api_version="v1", os="linux",
                                          arch="amd64", kernel_version="6.1",
                                          python_version="3.11.7")

    def containers(self, request: containers_pb2.ListContainersRequest, context: Any
                   ) -> containers_pb2.ListContainersResponse:
        self.requests.append(request)
        return containers_pb2.ListContainersResponse(containers=[containers_pb2.ContainerSummary(
            id="f" * 64, names=["/wal-ünïcode"], image="busybox", command="sleep 1000",
            created=int(time.time()) - 7200, state="running", status="Up 2 hours",
            labels={"a": "b"})])

    def images(self, request: images_pb2.ListImagesRequest, context: Any
               ) -> images_pb2.ListImagesResponse:
        self.requests.append(request)
        # the creation time is taken when asked, so a slow run still prints "About a minute"
        return images_pb2.ListImagesResponse(images=[images_pb2.ImageSummary(
            id="sha256:" + "e" * 64, repository="busybox", tag="latest",
            created=int(time.time()) - 90, size=2_140_160)])

    def create(self, request: containers_pb2.CreateContainerRequest, context: Any
               ) -> containers_pb2.CreateContainerResponse:
        self.requests.append(request)
        return containers_pb2.CreateContainerResponse(id="c" * 64)

    def start(self, request: containers_pb2.StartContainerRequest, context: Any
              ) -> containers_pb2.StartContainerResponse:
        self.requests.append(request)
        return containers_pb2.StartContainerResponse()

    def wait(self, request: containers_pb2.WaitContainerRequest, context: Any
             ) -> containers_pb2.WaitContainerResponse:
        self.requests.append(request)
        return containers_pb2.WaitContainerResponse(status_code=3)

    def attach(self, requests: Iterator[containers_pb2.AttachInput], context: Any
               ) -> Iterator[containers_pb2.AttachOutput]:
        self.requests.append(next(requests))
        yield containers_pb2.AttachOutput(stream="stdout", data="out ✓\n".encode())
        yield containers_pb2.AttachOutput(stream="stderr", data=b"err\n")
        yield containers_pb2.AttachOutput(exited=True, exit_code=3)

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        unary = unary_handler
        c = containers_pb2
        return [
            grpc.method_handlers_generic_handler("pyengine.v1.SystemService", {
                "Version": unary(self.version, system_pb2.VersionRequest,
                                 system_pb2.VersionResponse)}),
            grpc.method_handlers_generic_handler("pyengine.v1.ImagesService", {
                "List": unary(self.images, images_pb2.ListImagesRequest,
                              images_pb2.ListImagesResponse)}),
            grpc.method_handlers_generic_handler("pyengine.v1.ContainersService", {
                "List": unary(self.containers, c.ListContainersRequest,
                              c.ListContainersResponse),
                "Create": unary(self.create, c.CreateContainerRequest,
                                c.CreateContainerResponse),
                "Start": unary(self.start, c.StartContainerRequest, c.StartContainerResponse),
                "Wait": unary(self.wait, c.WaitContainerRequest, c.WaitContainerResponse),
                "Attach": grpc.stream_stream_rpc_method_handler(
                    self.attach, request_deserializer=c.AttachInput.FromString,
                    response_serializer=c.AttachOutput.SerializeToString),
            }),
        ]


@pytest.fixture
def daemon() -> Iterator[tuple[FakeDaemon, str]]:
    base = tempfile.mkdtemp(prefix="pyctl-", dir="/tmp")  # a unix socket path is short
    fake = FakeDaemon()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=fake.handlers())
    host = f"unix://{base}/d.sock"
    server.add_insecure_port(f"unix:{base}/d.sock")
    server.start()
    try:
        yield fake, host
    finally:
        server.stop(None).wait()
        shutil.rmtree(base)


def pyctl(host: str, *argv: str) -> tuple[int, str, str, set[str]]:
    """Run pyctl as its launcher does (tests/fixtures/pyctl_probe.py): (exit code, stdout,
    stderr, modules imported)."""
    return run_pyctl(host, *argv)


def lean_only(modules: set[str]) -> set[str]:
    """What a hot path imported that it should not have: protobuf, *_pb2 modules, FORBIDDEN."""
    return {m for m in modules if m.split(".")[0] == "google" or m.endswith("_pb2")
            or m in FORBIDDEN}


def test_ps_is_lean(daemon: tuple[FakeDaemon, str]) -> None:
    fake, host = daemon
    code, out, err, modules = pyctl(host, "ps", "-a", "-f", "name=wal")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "CONTAINER ID   IMAGE     COMMAND        CREATED       STATUS       PORTS     NAMES",
        'ffffffffffff   busybox   "sleep 1000"   2 hours ago   Up 2 hours             '
        "wal-ünïcode",
    ]
    assert fake.requests == [containers_pb2.ListContainersRequest(all=True,
                                                                  filters=["name=wal"])]
    assert "pyengine.api.containers_lean" in modules
    assert not lean_only(modules)


def test_images_is_lean(daemon: tuple[FakeDaemon, str]) -> None:
    fake, host = daemon
    code, out, err, modules = pyctl(host, "images", "-f", "dangling=false")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "REPOSITORY   TAG       IMAGE ID       CREATED              SIZE",
        "busybox      latest    eeeeeeeeeeee   About a minute ago   2.14MB",
    ]
    assert fake.requests == [images_pb2.ListImagesRequest(dangling=False)]
    assert fake.requests[0].HasField("dangling")  # presence went over the wire
    assert not lean_only(modules)


def test_version_is_lean(daemon: tuple[FakeDaemon, str]) -> None:
    _, host = daemon
    code, out, err, modules = pyctl(host, "version")
    assert (code, err) == (0, "")
    assert "  Version:\t9.9.9\n" in out and "  OS/Arch:\tlinux/amd64\n" in out
    assert not lean_only(modules)


def test_other_formats_still_use_the_template_engine(daemon: tuple[FakeDaemon, str]) -> None:
    _, host = daemon
    code, out, _, modules = pyctl(host, "images", "--format", "{{.Repository | upper}}")
    assert (code, out) == (0, "BUSYBOX\n")
    assert "pyengine.cli.template" in modules
    assert not {m for m in modules if m.split(".")[0] == "google"}


def test_run_rm_imports_no_protobuf(daemon: tuple[FakeDaemon, str]) -> None:
    fake, host = daemon
    code, out, err, modules = pyctl(host, "run", "--rm", "-l", "k=v", "busybox", "sh", "-c",
                                    "x")
    assert (code, out, err) == (3, "out ✓\n", "err\n")
    create = fake.requests[0]
    assert isinstance(create, containers_pb2.CreateContainerRequest)
    assert (create.image, list(create.cmd), dict(create.labels), create.auto_remove) == \
        ("busybox", ["sh", "-c", "x"], {"k": "v"}, True)
    attach = next(r for r in fake.requests if isinstance(r, containers_pb2.AttachInput))
    assert (attach.id, attach.stdout, attach.stderr, attach.stdin) == ("c" * 64, True, True,
                                                                     False)
    assert lean_only(modules) == {"threading", "os"}
