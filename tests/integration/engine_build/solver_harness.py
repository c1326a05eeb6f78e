"""The solver's build tests: a real pyengined (the engine_containers harness, under `unshare
--net`, busybox imported) and builds sent straight through the gRPC API (BuildsService) with
the generated stubs."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_containers"))

import pytest
from ctr_harness import ContainerEngine, busybox_rootfs, cleanup, install_launcher
from engine_harness import new_base
from pyengine.api import build_pb2, build_pb2_grpc, system_pb2, system_pb2_grpc


class BuildEngine(ContainerEngine):
    pass


def start_engine(launcher: Path, busybox_tar: Path, module_network: bool = False
                 ) -> BuildEngine:
    engine = BuildEngine(new_base(), {"default-runtime": str(launcher)})
    engine.module_network = module_network
    engine.launcher = launcher  # type: ignore[attr-defined]  # for cleanup
    engine.start()
    engine.pyctl("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest", check=True)
    return engine


def stop_engine(engine: BuildEngine) -> None:
    cleanup(engine)


@contextlib.contextmanager
def module_engine(tmp_path_factory: pytest.TempPathFactory, module_network: bool = False
                  ) -> Iterator[BuildEngine]:
    """A test module's daemon, removed with everything it made even when a test fails;
    `module_network`: in the module's network namespace (where the registry fixture is)."""
    launcher = install_launcher(tmp_path_factory.mktemp("bin"))
    tar = busybox_rootfs(tmp_path_factory.mktemp("bb"))
    started = start_engine(launcher, tar, module_network)
    try:
        yield started
    finally:
        stop_engine(started)


def context_tar(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, content in sorted(files.items()):
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass
class Outcome:
    events: list[build_pb2.BuildEvent] = field(default_factory=list)
    image_id: str = ""
    code: grpc.StatusCode | None = None
    message: str = ""

    def steps(self) -> list[str]:
        """The steps' instructions; each step is announced once."""
        indexes = [e.step.index for e in self.events if e.HasField("step")]
        assert len(indexes) == len(set(indexes)), indexes
        return [e.step.instruction for e in self.events if e.HasField("step")]

    def cached(self) -> list[bool]:
        return [e.done.cached for e in self.events if e.HasField("done")]

    def output(self) -> bytes:
        return b"".join(e.output.data for e in self.events if e.HasField("output"))

    def warnings(self) -> list[str]:
        return [e.warning for e in self.events if e.HasField("warning")]

    def failure(self) -> build_pb2.BuildFailure | None:
        found = [e.failure for e in self.events if e.HasField("failure")]
        return found[0] if found else None


def build(engine: BuildEngine, files: dict[str, str | bytes], **options: object) -> Outcome:
    tar = context_tar(files)

    def requests() -> Iterator[build_pb2.BuildRequest]:
        yield build_pb2.BuildRequest(options=build_pb2.BuildOptions(**options))  # type: ignore[arg-type]  # keyword options of the message
        for at in range(0, len(tar), 65536):
            yield build_pb2.BuildRequest(context=tar[at:at + 65536])

    out = Outcome()
    with engine.channel() as channel:
        stub = build_pb2_grpc.BuildsServiceStub(channel)
        try:
            for event in stub.Build(requests(), timeout=300):
                out.events.append(event)
                if event.HasField("result"):
                    out.image_id = event.result.image_id
        except grpc.RpcError as err:
            out.code, out.message = err.code(), err.details() or ""
    return out


def inspect_image(engine: BuildEngine, ref: str) -> dict:
    return json.loads(engine.out("image", "inspect", ref))[0]


def run_cat(engine: BuildEngine, image: str, *args: str) -> str:
    return engine.out("run", "--rm", image, *args)


def prune(engine: BuildEngine, all_: bool = True) -> build_pb2.PruneBuildCacheResponse:
    with engine.channel() as channel:
        return build_pb2_grpc.BuildsServiceStub(channel).Prune(
            build_pb2.PruneBuildCacheRequest(all=all_), timeout=120)


def disk_usage(engine: BuildEngine) -> system_pb2.DiskUsageResponse:
    with engine.channel() as channel:
        return system_pb2_grpc.SystemServiceStub(channel).DiskUsage(
            system_pb2.DiskUsageRequest(), timeout=120)


def leftovers(engine: BuildEngine) -> dict[str, list[str]]:
    """What a build must not leave: containers, mounts under the base dir, active snapshots,
    context and mount directories."""
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if str(engine.base) in line.split()[4]]
    snaps_db = next((engine.data_root / "snapshots").glob("*/metadata.db"))
    with sqlite3.connect(snaps_db) as db:
        active = [r[0] for r in db.execute(
            "SELECT key FROM snapshots WHERE kind != 'committed'")]
    builder = engine.data_root / "builder"
    return {
        "containers": engine.ids(),
        "mounts": mounts,
        "active_snapshots": active,
        "contexts": sorted(p.name for p in (builder / "contexts").iterdir()),
        "build_mounts": sorted(p.name for p in (builder / "mounts").iterdir()),
    }


def leases(engine: BuildEngine) -> list[str]:
    with sqlite3.connect(engine.data_root / "metadata.db") as db:
        return [row[0] for row in db.execute("SELECT purpose FROM leases")]


NOTHING: dict[str, list[str]] = {"containers": [], "mounts": [], "active_snapshots": [],
                                 "contexts": [], "build_mounts": []}


def build_until_running(engine: BuildEngine, files: dict[str, str | bytes]
                        ) -> tuple[grpc.Channel, object, str]:
    """Start a build and read its events until a RUN step's container exists; returns the
    channel (the caller closes it), the call (to cancel) and the container's id."""
    tar = context_tar(files)

    def requests() -> Iterator[build_pb2.BuildRequest]:
        yield build_pb2.BuildRequest(options=build_pb2.BuildOptions())
        yield build_pb2.BuildRequest(context=tar)

    channel = engine.channel()
    call = build_pb2_grpc.BuildsServiceStub(channel).Build(requests(), timeout=300)
    for event in call:
        if event.HasField("step") and event.step.container_id:
            return channel, call, event.step.container_id
    channel.close()
    raise AssertionError("the build ended before its RUN step started")


def wait_for(check: Callable[[], bool], what: str, tries: int = 600) -> None:
    """Poll `check` (every 0.1 s, a generous bound: never a timing assertion)."""
    for _ in range(tries):
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def container_processes(cid: str) -> list[int]:
    """Pids whose command line or cgroup names the container."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if cid in Path(f"/proc/{entry}/cgroup").read_text():
                    found.append(int(entry))
    return found
