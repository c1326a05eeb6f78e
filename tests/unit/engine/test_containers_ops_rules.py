"""The pure parts of pause/top/stats/update: docker's stats arithmetic (CPU %, memory without
the inactive cache, block and network I/O), the figures pyctl prints, ps output filtered to a
container's pids, and docker update's rules and the linux.resources they give."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from google.protobuf import any_pb2
from pyengine import units
from pyengine.api import containers_pb2
from pyengine.cli import verb_stats, verb_update
from pyengine.cli.context import CliError
from pyengine.containers import metrics, ops, resources
from pyengine.containers.model import Spec
from pyengine.errors import FailedPrecondition, InvalidArgument
from pyengine.shim.api import cgroups_v1_pb2, cgroups_v2_pb2


def test_cpu_percent_is_dockers() -> None:
    # 0.5 s of container time over 2 s of all-CPU host time on a 4-CPU host: 100 %
    assert metrics.cpu_percent(1_000, 10_000, 500_001_000, 2_000_010_000, 4) == \
        pytest.approx(100.0)
    assert metrics.cpu_percent(5, 10, 5, 20, 2) == 0.0  # the container used nothing
    assert metrics.cpu_percent(5, 10, 9, 10, 2) == 0.0  # no host delta: no division


def test_system_cpu_sums_seven_fields_in_nanoseconds() -> None:
    stat = "cpu  100 5 50 1000 10 1 2 7 0 0\ncpu0 50 2 25 500 5 0 1 0 0 0\nintr 1\n"
    # user nice system idle iowait irq softirq (steal and guests left out), 100 ticks/s
    assert metrics.system_cpu_ns(stat, 100) == 1168 * 10_000_000
    with pytest.raises(InvalidArgument):
        metrics.system_cpu_ns("intr 1\n", 100)


def test_v1_any_decodes_to_dockers_figures() -> None:
    m = cgroups_v1_pb2.Metrics()
    m.cpu.usage.total = 77
    m.memory.usage.usage, m.memory.usage.limit = 5000, 1 << 30
    m.memory.total_inactive_file = 6000  # more than the usage: usage stays as it is
    m.pids.current = 4
    m.blkio.io_service_bytes_recursive.add(op="Read", value=10)
    m.blkio.io_service_bytes_recursive.add(op="read", value=1)
    m.blkio.io_service_bytes_recursive.add(op="Write", value=20)
    m.blkio.io_service_bytes_recursive.add(op="Total", value=31)
    found = metrics.decode(any_pb2.Any(type_url="io.containerd.cgroups.v1.Metrics",
                                       value=m.SerializeToString()))
    assert found == metrics.Usage(cpu_ns=77, memory=5000, memory_limit=1 << 30,
                                  block_read=11, block_write=20, pids=4)


def test_v2_any_with_a_type_url_prefix_decodes() -> None:
    m = cgroups_v2_pb2.Metrics()
    m.cpu.usage_usec = 3
    m.memory.usage, m.memory.inactive_file, m.memory.usage_limit = 900, 100, 2000
    found = metrics.decode(any_pb2.Any(
        type_url="type.googleapis.com/io.containerd.cgroups.v2.Metrics",
        value=m.SerializeToString()))
    assert (found.cpu_ns, found.memory, found.memory_limit) == (3000, 800, 2000)


def test_unknown_metrics_type_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="unknown metrics type"):
        metrics.decode(any_pb2.Any(type_url="io.example.Other", value=b""))


def test_limits_and_network() -> None:
    assert metrics.shown_limit(1 << 62, 8 << 30) == 8 << 30  # no limit: the machine's memory
    assert metrics.shown_limit(64 << 20, 8 << 30) == 64 << 20
    assert metrics.memory_percent(1, 4) == 25.0 and metrics.memory_percent(1, 0) == 0.0
    net_dev = ("Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n"
               "    lo:  500 5 0 0 0 0 0 0  500 5 0 0 0 0 0 0\n"
               "  eth0: 1200 10 0 0 0 0 0 0  648 6 0 0 0 0 0 0\n")
    assert metrics.net_bytes(net_dev) == (1200, 648)


def test_stats_row_prints_dockers_units() -> None:
    s = containers_pb2.ContainerStats(
        id="a" * 64, name="web", cpu_percent=1.234, memory_usage=1458176,
        memory_limit=64 << 20, memory_percent=2.17, net_rx=1200, net_tx=648, block_read=4096,
        block_write=53248, pids=2, running=True)
    assert verb_stats.row(s, "web", no_trunc=False) == {
        "Container": "web", "ID": "a" * 12, "Name": "web", "CPUPerc": "1.23%",
        "MemUsage": "1.391MiB / 64MiB", "MemPerc": "2.17%", "NetIO": "1.2kB / 648B",
        "BlockIO": "4.1kB / 53.2kB", "PIDs": "2"}
    assert units.bytes_size(0) == "0B" and units.bytes_size(7.629 * (1 << 30)) == "7.629GiB"


def test_ram_in_bytes() -> None:
    assert units.ram_in_bytes("100m") == 100 << 20
    assert units.ram_in_bytes("1.5GiB") == 3 << 29
    assert units.ram_in_bytes("512kb") == 512 << 10
    assert units.ram_in_bytes("4096") == 4096
    for bad in ("", "m", "12x", "-1"):
        with pytest.raises(ValueError):
            units.ram_in_bytes(bad)


PS = """UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init
root         300     290  0 10:01 ?        00:00:00 sh -c while true; do sleep 1; done
root         301     300  0 10:01 ?        00:00:00 sleep 1
"""


def test_ps_output_filtered_to_the_containers_pids() -> None:
    found = ops.parse_ps(PS, {300, 301})
    assert found.titles == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert found.processes == [
        ["root", "300", "290", "0", "10:01", "?", "00:00:00",
         "sh -c while true; do sleep 1; done"],
        ["root", "301", "300", "0", "10:01", "?", "00:00:00", "sleep 1"]]
    with pytest.raises(InvalidArgument, match="PID field"):
        ops.parse_ps("USER COMMAND\nroot x\n", {1})


def test_update_merges_dockers_way() -> None:
    spec = Spec(memory=64 << 20, memory_swap=128 << 20)
    with pytest.raises(FailedPrecondition, match="smaller than already set memoryswap"):
        resources.merge(spec, resources.ResourceUpdate(memory=256 << 20), 2)
    resources.merge(spec, resources.ResourceUpdate(memory=256 << 20, memory_swap=-1,
                                                   pids_limit=0, cpu_shares=512,
                                                   restart="on-failure:3"), 2)
    assert (spec.memory, spec.memory_swap, spec.pids_limit, spec.cpu_shares, spec.restart) == \
        (256 << 20, -1, -1, 512, "on-failure:3")
    assert resources.linux_resources(spec) == {
        "memory": {"limit": 256 << 20, "swap": -1}, "cpu": {"shares": 512},
        "pids": {"limit": -1}}


@pytest.mark.parametrize("change, message", [
    (resources.ResourceUpdate(memory=1 << 20), "Minimum memory limit allowed is 6MB"),
    (resources.ResourceUpdate(nano_cpus=10**9, cpu_period=100_000),
     "Nano CPUs and CPU Period cannot both be set"),
    (resources.ResourceUpdate(nano_cpus=3 * 10**9), "Range of CPUs is from 0.01 to 2.00"),
    (resources.ResourceUpdate(cpu_period=100), "CPU cfs period can not be less than 1ms"),
    (resources.ResourceUpdate(cpu_quota=10), "CPU cfs quota can not be less than 1ms"),
    (resources.ResourceUpdate(cpuset_cpus="0-5"), "Requested CPUs are not available"),
    (resources.ResourceUpdate(cpuset_cpus="a"), "Invalid value a for cpuset cpus"),
    (resources.ResourceUpdate(restart="sometimes"), "sometimes"),
])
def test_update_refuses_what_docker_refuses(change: resources.ResourceUpdate,
                                            message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        resources.merge(Spec(), change, 2)


def test_update_conflicts_with_what_the_container_has() -> None:
    with pytest.raises(FailedPrecondition, match="Nano CPUs cannot be updated as CPU Quota"):
        resources.merge(Spec(cpu_quota=50_000), resources.ResourceUpdate(nano_cpus=10**9), 2)
    with pytest.raises(FailedPrecondition, match="CPU Period cannot be updated as NanoCPUs"):
        resources.merge(Spec(nano_cpus=10**9),
                        resources.ResourceUpdate(cpu_period=50_000), 2)
    with pytest.raises(InvalidArgument, match="AutoRemove is enabled"):
        resources.merge(Spec(auto_remove=True), resources.ResourceUpdate(restart="always"), 2)


def test_cpus_become_quota_over_a_100ms_period_in_config() -> None:
    spec = Spec()
    resources.merge(spec, resources.ResourceUpdate(nano_cpus=1_500_000_000,
                                                   cpuset_cpus="0,1"), 2)
    config = {"linux": {"resources": {"devices": [{"allow": False, "access": "rwm"}],
                                      "memory": {"limit": 1 << 30}}}}
    resources.apply_to_config(config, spec)
    assert config["linux"]["resources"] == {
        "devices": [{"allow": False, "access": "rwm"}], "memory": {"limit": 1 << 30},
        "cpu": {"quota": 150_000, "period": 100_000, "cpus": "0,1"}}


def _update_args(**given: str) -> argparse.Namespace:
    values: dict = {"containers": ["c"], "memory": None, "memory_swap": None, "cpus": None,
                    "cpu_shares": None, "cpu_quota": None, "cpu_period": None,
                    "cpuset_cpus": "", "pids_limit": None, "restart": ""}
    values.update(given)
    return argparse.Namespace(**values)


def test_pyctl_update_request() -> None:
    r = verb_update.request_of(_update_args(memory="128m", memory_swap="-1", cpus="0.5",
                                            pids_limit="-1"), "c")
    assert isinstance(r, containers_pb2.UpdateContainerRequest)
    assert (r.memory, r.memory_set, r.memory_swap, r.memory_swap_set) == \
        (128 << 20, True, -1, True)
    assert (r.nano_cpus, r.pids_limit, r.pids_limit_set, r.cpu_shares_set) == \
        (500_000_000, -1, True, False)
    with pytest.raises(CliError, match='invalid argument "x" for "--cpu-quota"'):
        verb_update.request_of(_update_args(cpu_quota="x"), "c")


def test_two_updates_at_once_keep_both(tmp_path: Path) -> None:
    """Two `update`s of one container at the same time (memory, then CPU shares): each reads
    the record, merges its change and saves it, so run together one was lost."""
    import asyncio
    import copy
    from typing import cast

    from pyengine.containers.model import Container, State
    from pyengine.containers.service import ContainerService

    class Repo:
        def __init__(self) -> None:
            self.spec = Spec()

        def save_spec(self, cid: str, spec: Spec) -> None:
            self.spec = copy.deepcopy(spec)

    class Events:
        def publish(self, *args: object, **fields: object) -> None:
            pass

    class Service:
        bundles = tmp_path
        repo = Repo()
        events = Events()

        def get(self, ref: str) -> Container:
            return Container(id="c" * 64, name="n", image_id="", image_name="", snapshot="",
                             created="", spec=copy.deepcopy(self.repo.spec),
                             state=State(status="exited"))

        def shim_of(self, cid: str) -> None:
            return None

    service = Service()
    stand_in = cast("ContainerService", service)  # what update uses of a service, no more

    async def both() -> None:
        await asyncio.gather(
            ops.update(stand_in, "n", resources.ResourceUpdate(memory=64 << 20)),
            ops.update(stand_in, "n", resources.ResourceUpdate(cpu_shares=512)))

    asyncio.run(both())
    assert (service.repo.spec.memory, service.repo.spec.cpu_shares) == (64 << 20, 512)
