"""A shim's Stats answer (cgroups v1 or v2 Metrics in an Any) turned into the figures docker
stats shows, and docker's arithmetic over two samples: CPU % is the container's CPU time delta
over the host's CPU time delta (/proc/stat) times the online CPUs; memory usage leaves out the
inactive page cache; block I/O sums the read and write byte counters."""

from __future__ import annotations

import os
from dataclasses import dataclass

from google.protobuf import any_pb2

from pyengine.errors import InvalidArgument

V1_NAME = "io.containerd.cgroups.v1.Metrics"
V2_NAME = "io.containerd.cgroups.v2.Metrics"


@dataclass(frozen=True)
class Usage:
    """One sample of one container's cgroups."""

    cpu_ns: int  # CPU time used so far
    memory: int  # bytes, without the inactive page cache
    memory_limit: int  # bytes; the cgroup's (may exceed the machine's memory: no limit)
    block_read: int
    block_write: int
    pids: int


def _message_name(any_: any_pb2.Any) -> str:
    return any_.type_url.rsplit("/", 1)[-1]


def decode(any_: any_pb2.Any) -> Usage:
    """The figures of a Stats answer; InvalidArgument for another message type."""
    name = _message_name(any_)
    if name == V1_NAME:
        from pyengine.shim.api import cgroups_v1_pb2

        m1 = cgroups_v1_pb2.Metrics()
        m1.ParseFromString(any_.value)
        usage = m1.memory.usage.usage
        inactive = m1.memory.total_inactive_file
        read = write = 0
        for entry in m1.blkio.io_service_bytes_recursive:
            op = entry.op.lower()
            if op == "read":
                read += entry.value
            elif op == "write":
                write += entry.value
        return Usage(cpu_ns=m1.cpu.usage.total,
                     memory=usage - inactive if inactive < usage else usage,
                     memory_limit=m1.memory.usage.limit, block_read=read, block_write=write,
                     pids=m1.pids.current)
    if name == V2_NAME:
        from pyengine.shim.api import cgroups_v2_pb2

        m2 = cgroups_v2_pb2.Metrics()
        m2.ParseFromString(any_.value)
        usage = m2.memory.usage
        inactive = m2.memory.inactive_file
        return Usage(cpu_ns=m2.cpu.usage_usec * 1000,
                     memory=usage - inactive if inactive < usage else usage,
                     memory_limit=m2.memory.usage_limit,
                     block_read=sum(e.rbytes for e in m2.io.usage),
                     block_write=sum(e.wbytes for e in m2.io.usage), pids=m2.pids.current)
    raise InvalidArgument(f"stats: unknown metrics type {any_.type_url!r}")


def system_cpu_ns(proc_stat: str, clock_ticks: int) -> int:
    """The host's CPU time so far from /proc/stat's "cpu" line, as docker counts it: user,
    nice, system, idle, iowait, irq and softirq ticks, in nanoseconds."""
    for line in proc_stat.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            ticks = sum(int(v) for v in fields[1:8])
            return ticks * 1_000_000_000 // clock_ticks
    raise InvalidArgument("/proc/stat has no cpu line")


def read_system_cpu_ns() -> int:
    with open("/proc/stat") as f:
        return system_cpu_ns(f.read(), os.sysconf("SC_CLK_TCK"))


def cpu_percent(cpu_before: int, system_before: int, cpu_now: int, system_now: int,
                online_cpus: int) -> float:
    """docker's CPU %: 0 unless both the container and the host used CPU time between."""
    cpu_delta = cpu_now - cpu_before
    system_delta = system_now - system_before
    if cpu_delta <= 0 or system_delta <= 0:
        return 0.0
    return cpu_delta / system_delta * online_cpus * 100.0


def memory_percent(usage: int, limit: int) -> float:
    return usage / limit * 100.0 if limit else 0.0


def machine_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def shown_limit(limit: int, machine: int) -> int:
    """docker shows the machine's memory for a cgroup without a limit."""
    return machine if machine and (limit == 0 or limit > machine) else limit


def net_bytes(net_dev: str) -> tuple[int, int]:
    """(received, sent) bytes over a network namespace's interfaces (/proc/<pid>/net/dev),
    loopback left out as docker leaves it out."""
    rx = tx = 0
    for line in net_dev.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        if not sep or name.strip() == "lo":
            continue
        fields = rest.split()
        if len(fields) >= 9:
            rx += int(fields[0])
            tx += int(fields[8])
    return rx, tx
