"""A container's cgroup statistics for the Task service's Stats, read from the cgroup files of
its init process: io.containerd.cgroups.v1.Metrics on a v1 (or hybrid) host,
io.containerd.cgroups.v2.Metrics on a unified one, as containerd-shim-runc-v2 answers (an Any
whose type URL is the message's full name).

The host's mode is the Go shim's: /sys/fs/cgroup is a cgroup2 mount (it has cgroup.controllers)
or v1 is used. The cgroup of each controller comes from /proc/<pid>/cgroup, so any cgroupsPath
(cgroupfs or systemd style) is found. A file a kernel lacks leaves its fields zero.
"""

from __future__ import annotations

import os

from google.protobuf import any_pb2

from .api import cgroups_v1_pb2, cgroups_v2_pb2

ROOT = "/sys/fs/cgroup"
V1_URL = "io.containerd.cgroups.v1.Metrics"
V2_URL = "io.containerd.cgroups.v2.Metrics"
UNLIMITED = (1 << 64) - 1  # what the Go shim reports for "max"

# memory.stat (v1) names whose proto field is spelled apart
_V1_MEMORY_NAMES = {
    "pgpgin": "pg_pg_in", "pgpgout": "pg_pg_out", "pgfault": "pg_fault",
    "pgmajfault": "pg_maj_fault", "hierarchical_memsw_limit": "hierarchical_swap_limit",
    "total_pgpgin": "total_pg_pg_in", "total_pgpgout": "total_pg_pg_out",
    "total_pgfault": "total_pg_fault", "total_pgmajfault": "total_pg_maj_fault",
}


def unified(root: str = ROOT) -> bool:
    return os.path.exists(os.path.join(root, "cgroup.controllers"))


def cgroups_of(text: str) -> dict[str, str]:
    """/proc/<pid>/cgroup: controller -> path ("" for the v2 line "0::/path"); a v1 line
    naming several controllers ("4:cpu,cpuacct:/x") gives each; name= hierarchies are skipped."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(","):
            if not controller.startswith("name="):
                out[controller] = parts[2]
    return out


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _number(text: str | None) -> int:
    """A counter file's value; "max" (no limit) is UNLIMITED; missing or bad: 0."""
    if text is None:
        return 0
    text = text.strip()
    if text == "max":
        return UNLIMITED
    try:
        return max(int(text), 0)
    except ValueError:
        return 0


def _pairs(text: str | None) -> dict[str, int]:
    """A flat keyed file ("key value" per line)."""
    out: dict[str, int] = {}
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        try:
            out[key] = int(value.strip())
        except ValueError:
            continue
    return out


def _limit(text: str | None) -> int:
    """pids.max: 0 for no limit (containerd's PidsStat.limit)."""
    value = _number(text)
    return 0 if value == UNLIMITED else value


# -- v1 ---------------------------------------------------------------------------------------

def _v1_entry(entry: cgroups_v1_pb2.MemoryEntry, directory: str, prefix: str) -> None:
    entry.usage = _number(_read(f"{directory}/{prefix}usage_in_bytes"))
    entry.limit = _number(_read(f"{directory}/{prefix}limit_in_bytes"))
    entry.max = _number(_read(f"{directory}/{prefix}max_usage_in_bytes"))
    entry.failcnt = _number(_read(f"{directory}/{prefix}failcnt"))


def _v1_blkio(directory: str, name: str) -> list[cgroups_v1_pb2.BlkIOEntry]:
    """blkio.<name>, or the throttle layer's when the I/O scheduler keeps no counts."""
    text = _read(f"{directory}/blkio.{name}")
    if not (text or "").strip() or (text or "").strip().startswith("Total"):
        text = _read(f"{directory}/blkio.throttle.{name}")
    out = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) != 3 or ":" not in fields[0]:
            continue  # the "Total N" line
        major, _, minor = fields[0].partition(":")
        try:
            out.append(cgroups_v1_pb2.BlkIOEntry(op=fields[1], major=int(major),
                                                 minor=int(minor), value=int(fields[2])))
        except ValueError:
            continue
    return out


def v1_metrics(paths: dict[str, str], root: str = ROOT,
               clock_ticks: int | None = None) -> cgroups_v1_pb2.Metrics:
    """The Metrics of the v1 cgroups `paths` (controller -> path under its hierarchy)."""
    def where(controller: str) -> str | None:
        path = paths.get(controller)
        return None if path is None else os.path.join(root, controller, path.lstrip("/"))

    m = cgroups_v1_pb2.Metrics()
    if (d := where("pids")) is not None:
        m.pids.current = _number(_read(f"{d}/pids.current"))
        m.pids.limit = _limit(_read(f"{d}/pids.max"))
    if (d := where("cpuacct")) is not None:
        ticks = clock_ticks or os.sysconf("SC_CLK_TCK")
        m.cpu.usage.total = _number(_read(f"{d}/cpuacct.usage"))
        stat = _pairs(_read(f"{d}/cpuacct.stat"))
        m.cpu.usage.user = stat.get("user", 0) * 1_000_000_000 // ticks
        m.cpu.usage.kernel = stat.get("system", 0) * 1_000_000_000 // ticks
        m.cpu.usage.per_cpu.extend(int(v) for v in (_read(f"{d}/cpuacct.usage_percpu") or
                                                    "").split() if v.isdigit())
    if (d := where("cpu")) is not None:
        stat = _pairs(_read(f"{d}/cpu.stat"))
        m.cpu.throttling.periods = stat.get("nr_periods", 0)
        m.cpu.throttling.throttled_periods = stat.get("nr_throttled", 0)
        m.cpu.throttling.throttled_time = stat.get("throttled_time", 0)
    if (d := where("memory")) is not None:
        fields = m.memory.DESCRIPTOR.fields_by_name
        for key, value in _pairs(_read(f"{d}/memory.stat")).items():
            name = _V1_MEMORY_NAMES.get(key, key)
            if name in fields and fields[name].message_type is None:
                setattr(m.memory, name, max(value, 0))
        _v1_entry(m.memory.usage, d, "memory.")
        _v1_entry(m.memory.swap, d, "memory.memsw.")
        _v1_entry(m.memory.kernel, d, "memory.kmem.")
        _v1_entry(m.memory.kernel_tcp, d, "memory.kmem.tcp.")
        oom = _pairs(_read(f"{d}/memory.oom_control"))
        m.memory_oom_control.oom_kill_disable = oom.get("oom_kill_disable", 0)
        m.memory_oom_control.under_oom = oom.get("under_oom", 0)
        m.memory_oom_control.oom_kill = oom.get("oom_kill", 0)
    if (d := where("blkio")) is not None:
        m.blkio.io_service_bytes_recursive.extend(_v1_blkio(d, "io_service_bytes_recursive"))
        m.blkio.io_serviced_recursive.extend(_v1_blkio(d, "io_serviced_recursive"))
    return m


# -- v2 ---------------------------------------------------------------------------------------

def v2_metrics(path: str, root: str = ROOT) -> cgroups_v2_pb2.Metrics:
    """The Metrics of the unified cgroup `path`."""
    d = os.path.join(root, path.lstrip("/"))
    m = cgroups_v2_pb2.Metrics()
    m.pids.current = _number(_read(f"{d}/pids.current"))
    m.pids.limit = _limit(_read(f"{d}/pids.max"))
    cpu = _pairs(_read(f"{d}/cpu.stat"))
    for name in ("usage_usec", "user_usec", "system_usec", "nr_periods", "nr_throttled",
                 "throttled_usec"):
        setattr(m.cpu, name, cpu.get(name, 0))
    fields = m.memory.DESCRIPTOR.fields_by_name
    for key, value in _pairs(_read(f"{d}/memory.stat")).items():
        if key in fields:
            setattr(m.memory, key, max(value, 0))
    m.memory.usage = _number(_read(f"{d}/memory.current"))
    m.memory.usage_limit = _number(_read(f"{d}/memory.max"))
    m.memory.swap_usage = _number(_read(f"{d}/memory.swap.current"))
    m.memory.swap_limit = _number(_read(f"{d}/memory.swap.max"))
    events = _pairs(_read(f"{d}/memory.events"))
    for name in ("low", "high", "max", "oom", "oom_kill"):
        setattr(m.memory_events, name, events.get(name, 0))
    for line in (_read(f"{d}/io.stat") or "").splitlines():
        device, *pairs = line.split()
        major, _, minor = device.partition(":")
        values = dict(p.partition("=")[::2] for p in pairs)
        try:
            m.io.usage.append(cgroups_v2_pb2.IOEntry(
                major=int(major), minor=int(minor), rbytes=int(values.get("rbytes", 0)),
                wbytes=int(values.get("wbytes", 0)), rios=int(values.get("rios", 0)),
                wios=int(values.get("wios", 0))))
        except ValueError:
            continue
    return m


def metrics_of(pid: int, root: str = ROOT, proc: str = "/proc") -> any_pb2.Any:
    """The Metrics of `pid`'s cgroups in an Any; OSError when the process is gone."""
    with open(f"{proc}/{pid}/cgroup") as f:
        paths = cgroups_of(f.read())
    if unified(root):
        if "" not in paths:
            raise FileNotFoundError(f"process {pid} is in no unified cgroup")
        return any_pb2.Any(type_url=V2_URL, value=v2_metrics(paths[""], root)
                           .SerializeToString())
    return any_pb2.Any(type_url=V1_URL, value=v1_metrics(paths, root).SerializeToString())
