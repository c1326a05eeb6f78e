"""pyrunc update [--resources FILE|-] [runc's resource flags] <container-id>

Resources given as an OCI LinuxResources JSON (containerd: on stdin with ``-``; podman: a file)
and/or individual flags; the result is merged into the container's recorded resources and
written to its cgroups."""

from __future__ import annotations

import sys

from pyrunc.cli import args as a

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources

V = a.VALUE
FLAGS = [
    a.Flag("resources,r", V, help="path to a file containing the resources to update, or '-' "
                                  "to read from stdin"),
    a.Flag("blkio-weight", V, help="specifies per cgroup weight, range is from 10 to 1000"),
    a.Flag("cpu-period", V, help="CPU CFS period to be used for hardcapping (in usecs)"),
    a.Flag("cpu-quota", V, help="CPU CFS hardcap limit (in usecs)"),
    a.Flag("cpu-share", V, help="CPU shares (relative weight vs. other containers)"),
    a.Flag("cpu-rt-period", V, help="CPU realtime period to be used for hardcapping"),
    a.Flag("cpu-rt-runtime", V, help="CPU realtime hardcap limit (in usecs)"),
    a.Flag("cpuset-cpus", V, help="CPU(s) to use"),
    a.Flag("cpuset-mems", V, help="memory node(s) to use"),
    a.Flag("kernel-memory", V, help="kernel memory limit (ignored: not in cgroup v2/new kernels)"),
    a.Flag("kernel-memory-tcp", V, help="kernel memory limit for tcp buffer (ignored)"),
    a.Flag("memory", V, help="memory limit (in bytes, or with a k/m/g suffix)"),
    a.Flag("memory-reservation", V, help="memory reservation or soft_limit"),
    a.Flag("memory-swap", V, help="total memory usage (memory + swap); -1 for unlimited"),
    a.Flag("pids-limit", V, help="maximum number of pids allowed in the container"),
    a.Flag("l3-cache-schema", V, help="the string of Intel RDT/CAT L3 cache schema"),
    a.Flag("mem-bw-schema", V, help="the string of Intel RDT/MBA memory bandwidth schema"),
]
# flag → (section, key, parser)
_BYTES = "bytes"
_INT = "int"
_STR = "str"
_FLAG_MAP = {
    "blkio_weight": ("blockIO", "weight", _INT), "cpu_period": ("cpu", "period", _INT),
    "cpu_quota": ("cpu", "quota", _INT), "cpu_share": ("cpu", "shares", _INT),
    "cpu_rt_period": ("cpu", "realtimePeriod", _INT),
    "cpu_rt_runtime": ("cpu", "realtimeRuntime", _INT), "cpuset_cpus": ("cpu", "cpus", _STR),
    "cpuset_mems": ("cpu", "mems", _STR), "memory": ("memory", "limit", _BYTES),
    "memory_reservation": ("memory", "reservation", _BYTES),
    "memory_swap": ("memory", "swap", _BYTES), "pids_limit": ("pids", "limit", _INT),
    "kernel_memory": ("memory", "kernel", _BYTES),
    "kernel_memory_tcp": ("memory", "kernelTCP", _BYTES),
}
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3,
          "gb": 1024**3, "t": 1024**4, "tb": 1024**4}


def parse_bytes(flag: str, text: str) -> int:
    """'67108864', '64m', '1g', '-1' → bytes (binary units, like docker's RAMInBytes)."""
    low = text.strip().lower()
    if low == "-1":
        return -1
    digits = low.rstrip("bkmgt")
    unit = low[len(digits):]
    try:
        value = float(digits)
    except ValueError:
        value = -2.0
    if unit not in _UNITS or value < 0:
        raise a.UsageError(f"invalid value for --{flag}: {text!r}")
    return int(value * _UNITS[unit])


def _parse_value(flag: str, text: str, kind: str) -> int | str:
    if kind == _STR:
        return text
    if kind == _BYTES:
        return parse_bytes(flag, text)
    try:
        return int(text)
    except ValueError:
        raise a.UsageError(f"invalid value for --{flag}: {text!r}") from None


def requested(opts: dict) -> Resources:
    """The LinuxResources object the command line asks for, decoded (and checked) like a
    config's ``linux.resources``."""
    from pyrunc import jsonio
    from pyrunc.spec.model import Resources, decode

    resources: dict = {}
    source = opts["resources"]
    if source:
        try:
            text = sys.stdin.read() if source == "-" else open(source).read()  # noqa: SIM115
            resources = jsonio.loads(text) if text.strip() else {}
        except OSError as err:
            raise a.UsageError(f"update: read {source}: {err.strerror}") from None
        except ValueError as err:
            raise a.UsageError(f"update: {source}: malformed JSON: {err}") from None
        if not isinstance(resources, dict):
            raise a.UsageError(f"update: {source}: expected a JSON object")
    for dest, (section, key, kind) in _FLAG_MAP.items():
        if opts.get(dest) is not None:
            resources.setdefault(section, {})[key] = _parse_value(
                dest.replace("_", "-"), opts[dest], kind)
    return decode(Resources, resources, "resources")


def run(ctx, argv: list[str]) -> int:
    opts, rest = a.parse(argv, FLAGS)
    a.exact_args("update", rest, 1)
    from pyrunc.container import Container

    Container.load(ctx.root, rest[0]).update(requested(opts))
    return 0
