"""pyctl build, builder prune/du and system df's build cache against a BuildsService speaking
the documented protocol (proto/pyengine/v1/build.proto).

The daemon's side of builds is being written beside this client, so for now the service is a
small fake served by grpc.aio in the test process (the lead switches these tests to a real
pyengined once both sides are merged). What is real: pyctl itself, run as its launcher runs
it (a process, -I -S, its own HTTP/2 wire), the context streamed from a real directory or
stdin, and the events the service sends back. The fake records what it received (options and
every context chunk) and answers per --target: a build, a failed RUN, a Dockerfile error."""

from __future__ import annotations

import asyncio
import bz2
import io
import shutil
import tarfile
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pyengine.api import build_pb2, common_pb2, system_pb2

from tests.fixtures.pyctl_probe import run_pyctl, unary_handler

IMAGE_ID = "sha256:" + "c0" * 32
FAILED = "The command '/bin/sh -c echo boom; exit 3' returned a non-zero code: 3"


def record(i: int, **fields: Any) -> build_pb2.BuildCacheRecord:
    return build_pb2.BuildCacheRecord(
        id=f"{i:x}" * 25, kind="regular", description=f"RUN step {i}",
        created_at="2020-01-01T00:00:00Z", last_used_at="2020-01-02T00:00:00Z",
        usage_count=i, **fields)


RECORDS = [record(1, size=1000, in_use=True), record(2, size=2500), record(3, size=400,
                                                                         shared=True)]


class FakeBuilds:
    def __init__(self) -> None:
        self.options: build_pb2.BuildOptions | None = None
        self.chunks: list[bytes] = []
        self.prunes: list[build_pb2.PruneBuildCacheRequest] = []

    async def build(self, requests: AsyncIterator[build_pb2.BuildRequest],
                    context: grpc.aio.ServicerContext) -> AsyncIterator[build_pb2.BuildEvent]:
        self.chunks = []
        first = await anext(aiter(requests))
        if first.options.target == "early":  # refused before reading the context
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                'failed to parse platform "x/y/z/w": too many parts')
        self.options = first.options
        async for request in requests:
            if request.HasField("options"):
                self.options = request.options
            else:
                self.chunks.append(request.context)
        assert self.options is not None
        E = build_pb2.BuildEvent
        if self.options.target == "parse":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "dockerfile parse error line 1: unknown instruction: FOO")
        yield E(step=build_pb2.BuildStep(index=1, total=2, stage="0", stage_index=1,
                                         stage_steps=2, instruction="FROM busybox"))
        yield E(pull=common_pb2.Progress(id="3f57d9401f8d", status="Pull complete"))
        yield E(done=build_pb2.BuildStepDone(index=1, duration_ns=300_000_000))
        yield E(step=build_pb2.BuildStep(index=2, total=2, stage="0", stage_index=2,
                                         stage_steps=2, instruction="RUN echo boom"))
        yield E(output=build_pb2.BuildOutput(index=2, stream=1, data=b"boom\n"))
        if self.options.target == "fail":
            yield E(failure=build_pb2.BuildFailure(index=2, message=FAILED, exit_code=3))
            await context.abort(grpc.StatusCode.ABORTED, FAILED)
        yield E(done=build_pb2.BuildStepDone(index=2, duration_ns=200_000_000))
        yield E(result=build_pb2.BuildResult(
            image_id=IMAGE_ID, tags=[f"docker.io/library/{t}" for t in self.options.tags]))

    async def prune(self, request: build_pb2.PruneBuildCacheRequest,
                    context: grpc.aio.ServicerContext) -> build_pb2.PruneBuildCacheResponse:
        self.prunes.append(request)
        return build_pb2.PruneBuildCacheResponse(deleted=["aaa", "bbb"], space_reclaimed=3500)

    async def usage(self, request: build_pb2.BuildCacheUsageRequest,
                    context: grpc.aio.ServicerContext) -> build_pb2.BuildCacheUsageResponse:
        return build_pb2.BuildCacheUsageResponse(records=RECORDS, size=3900, reclaimable=2900)

    async def disk_usage(self, request: system_pb2.DiskUsageRequest,
                         context: grpc.aio.ServicerContext) -> system_pb2.DiskUsageResponse:
        return system_pb2.DiskUsageResponse(build_cache=RECORDS)

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        unary = unary_handler
        b = build_pb2
        return [
            grpc.method_handlers_generic_handler("pyengine.v1.BuildsService", {
                "Build": grpc.stream_stream_rpc_method_handler(
                    self.build, request_deserializer=b.BuildRequest.FromString,
                    response_serializer=b.BuildEvent.SerializeToString),
                "Prune": unary(self.prune, b.PruneBuildCacheRequest,
                               b.PruneBuildCacheResponse),
                "Usage": unary(self.usage, b.BuildCacheUsageRequest,
                               b.BuildCacheUsageResponse),
            }),
            grpc.method_handlers_generic_handler("pyengine.v1.SystemService", {
                "DiskUsage": unary(self.disk_usage, system_pb2.DiskUsageRequest,
                                   system_pb2.DiskUsageResponse),
            }),
        ]


class Daemon:
    """grpc.aio serving the fake on a unix socket, its loop in a thread of the test process."""

    def __init__(self, fake: FakeBuilds, socket: str) -> None:
        self.fake = fake
        self.socket = socket
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: grpc.aio.Server | None = None

    async def _start(self) -> None:
        self.server = grpc.aio.server(handlers=self.fake.handlers())
        self.server.add_insecure_port(f"unix:{self.socket}")
        await self.server.start()

    def __enter__(self) -> Daemon:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            asyncio.run_coroutine_threadsafe(self.server.stop(None), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


@pytest.fixture
def daemon() -> Iterator[tuple[FakeBuilds, str, Path]]:
    base = Path(tempfile.mkdtemp(prefix="pyctl-build-", dir="/tmp"))  # short socket path
    fake = FakeBuilds()
    try:
        with Daemon(fake, f"{base}/d.sock"):
            yield fake, f"unix://{base}/d.sock", base
    finally:
        shutil.rmtree(base)


pyctl = run_pyctl


def make_context(root: Path) -> Path:
    ctx = root / "ctx"
    (ctx / "app").mkdir(parents=True)
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo boom\n")
    (ctx / "app" / "app.py").write_text("print('hi')\n")
    (ctx / "app" / "data.bin").write_bytes(bytes(range(256)) * 1000)  # 256 kB: 4 chunks
    (ctx / "app" / "link").symlink_to("app.py")
    return ctx


def received_names(fake: FakeBuilds) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(b"".join(fake.chunks)), mode="r:*") as tar:
        return tar.getnames()


def test_build_streams_the_context_and_shows_buildkit_plain_progress(daemon) -> None:
    fake, host, base = daemon
    ctx = make_context(base)
    code, out, err, modules = pyctl(host, "build", "-t", "app", "-t", "app:1", "--build-arg",
                                    "V=1", "--label", "k=v", "--cache-from", "app:0",
                                    "--cache-from", "base", str(ctx))
    assert (code, out) == (0, ""), err
    assert fake.options is not None
    assert list(fake.options.tags) == ["app", "app:1"]
    assert dict(fake.options.build_args) == {"V": "1"}
    assert dict(fake.options.labels) == {"k": "v"}
    assert list(fake.options.cache_from) == ["app:0", "base"]
    assert fake.options.dockerfile == "Dockerfile"
    assert received_names(fake) == ["Dockerfile", "app", "app/app.py", "app/data.bin",
                                    "app/link"]
    total = sum(len(c) for c in fake.chunks)
    assert total > 256_000 and len(fake.chunks) == -(-total // 65536)  # 64 KiB chunks
    assert "#1 [internal] load build definition from Dockerfile\n" in err
    assert "#2 [internal] load build context\n" in err
    assert "#3 [1/2] FROM busybox\n#3 3f57d9401f8d: Pull complete\n#3 DONE 0.3s\n" in err
    assert "#4 [2/2] RUN echo boom\n#4 0." in err and " boom\n#4 DONE 0.2s\n" in err
    assert err.endswith(f"#5 exporting to image\n#5 writing image {IMAGE_ID} done\n"
                        "#5 naming to docker.io/library/app done\n"
                        "#5 naming to docker.io/library/app:1 done\n#5 DONE 0.0s\n")
    # pyctl's own wire and lean messages: neither grpc nor protobuf in the client
    assert not {m for m in modules if m.startswith(("grpc", "google"))}


def test_quiet_prints_only_the_image_id_and_writes_the_iidfile(daemon) -> None:
    fake, host, base = daemon
    ctx = make_context(base)
    code, out, err, _ = pyctl(host, "build", "-q", "--iidfile", str(base / "iid"), str(ctx))
    assert (code, out, err) == (0, IMAGE_ID + "\n", "")
    assert fake.options is not None and fake.options.quiet
    assert (base / "iid").read_text() == IMAGE_ID


@pytest.mark.parametrize("quiet", [False, True])
def test_a_failed_run_exits_1_with_its_output_and_message(daemon, quiet: bool) -> None:
    _, host, base = daemon
    ctx = make_context(base)
    code, out, err, _ = pyctl(host, "build", *(["-q"] if quiet else []), "--target", "fail",
                              str(ctx))
    assert (code, out) == (1, "")
    assert f"#4 ERROR: {FAILED}\n------\n > [2/2] RUN echo boom:\n" in err
    assert err.endswith(f"ERROR: failed to solve: {FAILED}\n")


def test_a_daemon_error_before_any_step_exits_1(daemon) -> None:
    _, host, base = daemon
    code, out, err, _ = pyctl(host, "build", "--target", "parse", str(make_context(base)))
    assert (code, out) == (1, "")
    assert err.endswith("ERROR: failed to solve: dockerfile parse error line 1: unknown "
                        "instruction: FOO\n")


def test_a_refusal_while_the_context_is_being_sent_ends_the_build(daemon) -> None:
    _, host, base = daemon
    ctx = make_context(base)
    (ctx / "big.bin").write_bytes(b"\xa5" * 8_000_000)  # more than the HTTP/2 windows
    code, out, err, _ = pyctl(host, "build", "--target", "early", str(ctx))
    assert (code, out) == (1, "")
    assert err.endswith('ERROR: failed to solve: failed to parse platform "x/y/z/w": too many '
                        "parts\n")


def test_stdin_as_a_dockerfile_or_a_compressed_tar(daemon) -> None:
    fake, host, base = daemon
    code, _, err, _ = pyctl(host, "build", "-", stdin=b"FROM busybox\nRUN echo boom\n")
    assert code == 0, err
    assert fake.options is not None
    assert fake.options.dockerfile_content == b"FROM busybox\nRUN echo boom\n"
    assert fake.chunks == []
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(make_context(base), arcname=".")
    archive = bz2.compress(buffer.getvalue())
    code, _, err, _ = pyctl(host, "build", "-f", "Dockerfile", "-", stdin=archive)
    assert code == 0, err
    assert b"".join(fake.chunks) == archive  # as it came: the daemon decompresses
    assert fake.options.dockerfile == "Dockerfile" and not fake.options.dockerfile_content


def test_dockerfile_from_stdin_with_a_directory_context(daemon) -> None:
    fake, host, base = daemon
    ctx = make_context(base)
    code, _, err, _ = pyctl(host, "build", "-f", "-", str(ctx), stdin=b"FROM scratch\n")
    assert code == 0, err
    assert fake.options is not None and fake.options.dockerfile_content == b"FROM scratch\n"
    assert "app/data.bin" in received_names(fake)


def test_builder_prune_asks_first_and_sends_its_filters(daemon) -> None:
    fake, host, _ = daemon
    code, out, _, _ = pyctl(host, "builder", "prune", stdin=b"n\n")
    assert (code, out) == (0, "WARNING! This will remove all dangling build cache. Are you "
                              "sure you want to continue? [y/N] ")
    assert fake.prunes == []
    code, out, _, _ = pyctl(host, "builder", "prune", "-a", "--filter", "until=24h",
                            "--keep-storage", "1GB", stdin=b"y\n")
    assert code == 0
    assert out == ("WARNING! This will remove all build cache. Are you sure you want to "
                   "continue? [y/N] Deleted build cache objects:\naaa\nbbb\n\n"
                   "Total reclaimed space: 3.5kB\n")
    assert [(p.all, p.until, p.keep_storage) for p in fake.prunes] == [(True, "24h", 1 << 30)]
    code, out, _, _ = pyctl(host, "builder", "prune", "-f")
    assert code == 0 and out.startswith("Deleted build cache objects:")


def test_builder_du_and_system_df_count_the_build_cache(daemon) -> None:
    _, host, _ = daemon
    code, out, err, _ = pyctl(host, "builder", "du")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "RECLAIMABLE", "SIZE", "LAST", "ACCESSED"]
    assert lines[1].split()[:3] == ["1" * 25, "false", "1kB"]
    assert lines[-4:] == ["Shared:\t\t400B", "Private:\t3.5kB", "Reclaimable:\t2.9kB",
                          "Total:\t\t3.9kB"]
    code, out, err, _ = pyctl(host, "system", "df")
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("Build Cache"))
    # shared records are not counted; what an image uses is not reclaimable
    assert row.split() == ["Build", "Cache", "3", "1", "3.5kB", "2.5kB"]
    code, out, err, _ = pyctl(host, "system", "df", "-v")
    assert code == 0, err
    section = out[out.index("Build cache usage: 3.5kB\n\n"):].splitlines()[2:]
    assert section[0].split() == ["CACHE", "ID", "CACHE", "TYPE", "SIZE", "CREATED", "LAST",
                                  "USED", "USAGE", "SHARED"]
    assert section[1].split()[:3] == ["1" * 12 + "*", "regular", "1kB"]
    assert section[3].split()[-2:] == ["3", "true"]
