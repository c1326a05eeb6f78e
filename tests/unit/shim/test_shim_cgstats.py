"""Our shim's Stats: cgroup v1 and v2 files of faked hierarchies (as the kernel writes them)
read into containerd's Metrics messages, and what the engine makes of them (docker's
figures), so both ends of the Any agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyengine.containers import metrics
from pyengine.shim import cgstats
from pyengine.shim.api import cgroups_v1_pb2, cgroups_v2_pb2

CID = "/pyengine/abc"


def _write(base: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _proc(tmp_path: Path, pid: int, text: str) -> Path:
    proc = tmp_path / "proc"
    _write(proc, {f"{pid}/cgroup": text})
    return proc


@pytest.fixture
def v1_root(tmp_path: Path) -> Path:
    root = tmp_path / "cgroup"
    _write(root, {
        f"pids{CID}/pids.current": "3\n",
        f"pids{CID}/pids.max": "max\n",
        f"cpuacct{CID}/cpuacct.usage": "2500000000\n",
        f"cpuacct{CID}/cpuacct.stat": "user 150\nsystem 50\n",
        f"cpuacct{CID}/cpuacct.usage_percpu": "2000000000 500000000 \n",
        f"cpu{CID}/cpu.stat": "nr_periods 10\nnr_throttled 2\nthrottled_time 300\n",
        f"memory{CID}/memory.stat": "cache 8192\nrss 4096\npgpgin 7\nhierarchical_memsw_limit "
                                    "9\ntotal_inactive_file 1000\ntotal_pgfault 11\n",
        f"memory{CID}/memory.usage_in_bytes": "11000\n",
        f"memory{CID}/memory.limit_in_bytes": "67108864\n",
        f"memory{CID}/memory.max_usage_in_bytes": "12000\n",
        f"memory{CID}/memory.failcnt": "0\n",
        f"memory{CID}/memory.memsw.usage_in_bytes": "11000\n",
        f"memory{CID}/memory.memsw.limit_in_bytes": "134217728\n",
        f"memory{CID}/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
        # no CFQ: the scheduler's counters are empty, the throttle layer's are not
        f"blkio{CID}/blkio.io_service_bytes_recursive": "Total 0\n",
        f"blkio{CID}/blkio.throttle.io_service_bytes_recursive":
            "254:0 Read 4096\n254:0 Write 53248\n254:0 Sync 0\n254:0 Async 57344\n"
            "254:0 Discard 0\n254:0 Total 57344\n8:0 Read 100\nTotal 57444\n",
    })
    return root


def test_v1_tree_becomes_v1_metrics(tmp_path: Path, v1_root: Path) -> None:
    proc = _proc(tmp_path, 42, f"12:name=systemd:/\n8:pids:{CID}\n4:memory:{CID}\n"
                                f"3:cpu,cpuacct:{CID}\n7:blkio:{CID}\n0::/\n")
    found = cgstats.metrics_of(42, root=str(v1_root), proc=str(proc))
    assert found.type_url == "io.containerd.cgroups.v1.Metrics"
    m = cgroups_v1_pb2.Metrics()
    m.ParseFromString(found.value)
    assert (m.pids.current, m.pids.limit) == (3, 0)
    assert m.cpu.usage.total == 2_500_000_000
    assert list(m.cpu.usage.per_cpu) == [2_000_000_000, 500_000_000]
    assert (m.cpu.throttling.periods, m.cpu.throttling.throttled_periods,
            m.cpu.throttling.throttled_time) == (10, 2, 300)
    assert (m.memory.cache, m.memory.rss, m.memory.pg_pg_in, m.memory.total_pg_fault,
            m.memory.hierarchical_swap_limit) == (8192, 4096, 7, 11, 9)
    assert (m.memory.usage.usage, m.memory.usage.limit, m.memory.usage.max) == \
        (11000, 67108864, 12000)
    assert m.memory.swap.limit == 134217728
    assert m.memory_oom_control.oom_kill == 1
    ops = [(e.major, e.minor, e.op, e.value) for e in m.blkio.io_service_bytes_recursive]
    assert (254, 0, "Read", 4096) in ops and (254, 0, "Write", 53248) in ops
    assert len(ops) == 7  # the "Total" summary line is not a device


def test_v1_clock_ticks_give_nanoseconds(v1_root: Path) -> None:
    m = cgstats.v1_metrics({c: CID for c in ("cpuacct",)}, root=str(v1_root), clock_ticks=100)
    assert (m.cpu.usage.user, m.cpu.usage.kernel) == (1_500_000_000, 500_000_000)


def test_engine_reads_our_v1_answer_as_docker_does(tmp_path: Path, v1_root: Path) -> None:
    proc = _proc(tmp_path, 7, f"8:pids:{CID}\n4:memory:{CID}\n2:cpuacct:{CID}\n"
                               f"7:blkio:{CID}\n")
    usage = metrics.decode(cgstats.metrics_of(7, root=str(v1_root), proc=str(proc)))
    # memory usage leaves the inactive page cache out (total_inactive_file)
    assert usage == metrics.Usage(cpu_ns=2_500_000_000, memory=10000, memory_limit=67108864,
                                  block_read=4196, block_write=53248, pids=3)


def test_missing_files_leave_zeros(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    root.mkdir()
    m = cgstats.v1_metrics({"memory": CID, "pids": CID, "cpuacct": CID}, root=str(root))
    assert m.memory.usage.usage == 0 and m.pids.current == 0 and m.cpu.usage.total == 0


@pytest.fixture
def v2_root(tmp_path: Path) -> Path:
    root = tmp_path / "unified"
    _write(root, {
        "cgroup.controllers": "cpuset cpu io memory pids\n",
        f"{CID[1:]}/pids.current": "2\n",
        f"{CID[1:]}/pids.max": "100\n",
        f"{CID[1:]}/cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
                               "nr_periods 4\nnr_throttled 1\nthrottled_usec 20\n",
        f"{CID[1:]}/memory.stat": "anon 4096\nfile 8192\ninactive_file 2000\npgfault 5\n"
                                  "unknown_counter 9\n",
        f"{CID[1:]}/memory.current": "12288\n",
        f"{CID[1:]}/memory.max": "max\n",
        f"{CID[1:]}/memory.swap.current": "0\n",
        f"{CID[1:]}/memory.swap.max": "max\n",
        f"{CID[1:]}/memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
        f"{CID[1:]}/io.stat": "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"
                              "254:0 rbytes=1000 wbytes=2000 rios=10 wios=20\n",
    })
    return root


def test_v2_tree_becomes_v2_metrics(tmp_path: Path, v2_root: Path) -> None:
    assert cgstats.unified(str(v2_root))
    proc = _proc(tmp_path, 9, f"0::{CID}\n")
    found = cgstats.metrics_of(9, root=str(v2_root), proc=str(proc))
    assert found.type_url == "io.containerd.cgroups.v2.Metrics"
    m = cgroups_v2_pb2.Metrics()
    m.ParseFromString(found.value)
    assert (m.pids.current, m.pids.limit) == (2, 100)
    assert (m.cpu.usage_usec, m.cpu.user_usec, m.cpu.system_usec, m.cpu.nr_throttled) == \
        (1500, 1000, 500, 1)
    assert (m.memory.anon, m.memory.file, m.memory.inactive_file, m.memory.pgfault) == \
        (4096, 8192, 2000, 5)
    assert m.memory.usage == 12288 and m.memory.usage_limit == cgstats.UNLIMITED
    assert (m.memory_events.max, m.memory_events.oom_kill) == (3, 1)
    assert [(e.major, e.rbytes, e.wbytes) for e in m.io.usage] == [(8, 100, 200),
                                                                   (254, 1000, 2000)]
    usage = metrics.decode(found)
    assert usage == metrics.Usage(cpu_ns=1_500_000, memory=10288,
                                  memory_limit=cgstats.UNLIMITED, block_read=1100,
                                  block_write=2200, pids=2)


def test_v2_host_without_a_unified_line_is_an_os_error(tmp_path: Path, v2_root: Path) -> None:
    proc = _proc(tmp_path, 9, f"4:memory:{CID}\n")
    with pytest.raises(OSError):
        cgstats.metrics_of(9, root=str(v2_root), proc=str(proc))


def test_a_gone_process_is_an_os_error(tmp_path: Path, v1_root: Path) -> None:
    with pytest.raises(OSError):
        cgstats.metrics_of(123456, root=str(v1_root), proc=str(tmp_path / "proc"))


def test_proc_cgroup_lines() -> None:
    assert cgstats.cgroups_of("12:name=systemd:/x\n3:cpu,cpuacct:/a:b\n0::/u\n") == \
        {"cpu": "/a:b", "cpuacct": "/a:b", "": "/u"}


class _Runtime:
    """Stands in for the runtime binary: records what `update --resources` was given."""

    def __init__(self) -> None:
        self.updates: list[str] = []

    async def update(self, container_id: str, path: str) -> None:
        self.updates.append(Path(path).read_text())


def _service(tmp_path: Path, state: str, pid: int) -> tuple[Any, _Runtime]:
    """A TaskService holding one container whose init is in `state`."""
    from pyengine.shim.events import Publisher
    from pyengine.shim.process import Process
    from pyengine.shim.reaper import Reaper
    from pyengine.shim.service import Container, TaskService
    from pyengine.shim.ttrpc.server import Server

    service = TaskService("ns", str(tmp_path), Publisher("", "ns"), Reaper(), Server(),
                          lambda: None)
    runtime = _Runtime()
    init = Process("c1", "", "", "", "", False, pid=pid, state=state)
    service.containers["c1"] = Container("c1", str(tmp_path), runtime, init)
    return service, runtime


def test_task_service_stats_and_update(tmp_path: Path) -> None:
    import asyncio
    import json
    import os

    from google.protobuf import any_pb2
    from pyengine.shim.api import shim_pb2
    from pyengine.shim.process import RUNNING, STOPPED
    from pyengine.shim.ttrpc import errors

    url = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"

    async def scenario() -> None:
        service, runtime = _service(tmp_path, RUNNING, os.getpid())
        answer = await service.stats(None, shim_pb2.StatsRequest(id="c1"))
        assert answer.stats.type_url in (cgstats.V1_URL, cgstats.V2_URL)
        assert metrics.decode(answer.stats).cpu_ns > 0  # this very process' cgroup
        resources = {"memory": {"limit": 64 << 20}, "pids": {"limit": 10}}
        await service.update(None, shim_pb2.UpdateTaskRequest(
            id="c1", resources=any_pb2.Any(type_url=url,
                                           value=json.dumps(resources).encode())))
        assert [json.loads(u) for u in runtime.updates] == [resources]
        assert not (tmp_path / "update-resources.json").exists()
        with pytest.raises(errors.InvalidArgument, match="not JSON"):
            await service.update(None, shim_pb2.UpdateTaskRequest(
                id="c1", resources=any_pb2.Any(type_url=url, value=b"{memory")))
        stopped, _ = _service(tmp_path, STOPPED, 0)
        with pytest.raises(errors.FailedPrecondition, match="stopped"):
            await stopped.update(None, shim_pb2.UpdateTaskRequest(
                id="c1", resources=any_pb2.Any(type_url=url, value=b"{}")))
        stopped.containers["c1"].init.exited.set()
        with pytest.raises(errors.NotFound, match="exited"):
            await stopped.stats(None, shim_pb2.StatsRequest(id="c1"))

    asyncio.run(scenario())
