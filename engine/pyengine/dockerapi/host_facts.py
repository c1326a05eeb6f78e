"""What /version and /info say about the daemon, its runtime and the host (read from the
kernel's files; blocking parts run in the workers)."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import os
import platform
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyengine.config import DaemonConfig
    from pyengine.services.workers import Workers

GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386",
          "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}
# the backing filesystem names docker prints (its fsmagic names)
FS_NAMES = {"ext2": "extfs", "ext3": "extfs", "ext4": "extfs", "xfs": "xfs", "btrfs": "btrfs",
            "tmpfs": "tmpfs", "overlay": "overlayfs", "zfs": "zfs"}
RUNTIME_NAMES = ("pyrunc", "runc", "crun")
INDEX_CONFIG = {"docker.io": {"Name": "docker.io", "Mirrors": [], "Secure": True,
                              "Official": True}}


@dataclass(frozen=True)
class EngineFacts:
    goarch: str
    build_time: str
    git_commit: str
    python_version: str
    kernel_version: str


@functools.cache
def engine_facts() -> EngineFacts:
    from pyrunc.version import commit  # the checkout's commit (pyengine ships beside pyrunc)

    import pyengine

    built = os.stat(pyengine.__file__).st_mtime
    return EngineFacts(
        goarch=GOARCH.get(platform.machine(), platform.machine()),
        build_time=time.strftime("%Y-%m-%dT%H:%M:%S.000000000+00:00", time.gmtime(built)),
        git_commit=commit()[:7],
        python_version=f"python{platform.python_version()}",
        kernel_version=platform.release(),
    )


@dataclass(frozen=True)
class RuntimeVersion:
    name: str
    version: str
    commit: str


_runtime_versions: dict[str, RuntimeVersion] = {}


def _ask_runtime(name: str) -> RuntimeVersion:
    """`RUNTIME --version`'s first line's version and its commit line (runc's format)."""
    from pyengine.containers.shims import runtime_binary

    label = os.path.basename(name)
    try:
        out = subprocess.run([runtime_binary(name), "--version"], capture_output=True,
                             text=True, timeout=30, check=False).stdout
    except Exception:  # an unusable runtime: create reports it; /version stays up
        return RuntimeVersion(label, "", "")
    version = commit = ""
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 3 and words[1] == "version" and not version:
            label, version = words[0], words[2]
        elif line.startswith("commit:"):
            commit = line.partition(":")[2].strip()
    return RuntimeVersion(label, version, commit)


async def runtime_version(workers: Workers, name: str) -> RuntimeVersion:
    """The default runtime's version, asked once per daemon and runtime name."""
    found = _runtime_versions.get(name)
    if found is None:
        found = _runtime_versions[name] = await workers.run(_ask_runtime, name)
    return found


@dataclass
class HostInfo:
    engine_id: str
    driver_status: list[list[str]]
    cgroup_features: dict[str, bool]
    cgroup_version: str
    ipv4_forwarding: bool
    bridge_nf_iptables: bool
    bridge_nf_ip6tables: bool
    nfd: int
    threads: int
    system_time: str
    kernel_version: str
    operating_system: str
    os_version: str
    architecture: str
    ncpu: int
    mem_total: int
    name: str
    http_proxy: str
    https_proxy: str
    no_proxy: str
    runtimes: dict[str, str]
    init_binary: str
    security_options: list[str]
    warnings: list[str] = field(default_factory=list)


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _os_release() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (_read("/etc/os-release") or _read("/usr/lib/os-release")).splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value.strip().strip('"')
    return out


def _mem_total() -> int:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def _fs_type(path: Path) -> str:
    """The filesystem type of the mount holding `path` (the longest mount point prefix)."""
    best, kind = "", ""
    target = str(path.resolve())
    for line in _read("/proc/self/mountinfo").splitlines():
        fields = line.split()
        point = fields[4].replace("\\040", " ")
        fstype = fields[fields.index("-") + 1] if "-" in fields else ""
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fstype
    return FS_NAMES.get(kind, kind)


def _cgroup() -> tuple[str, dict[str, bool]]:
    """cgroup version ("2": the unified hierarchy at /sys/fs/cgroup) and docker's feature
    flags from the controllers this host has."""
    root = Path("/sys/fs/cgroup")
    if (root / "cgroup.controllers").exists():
        controllers = set(_read(str(root / "cgroup.controllers")).split())
        memory, cpu, cpuset, pids = ("memory" in controllers, "cpu" in controllers,
                                     "cpuset" in controllers, "pids" in controllers)
        version = "2"
    else:
        memory, cpu = (root / "memory").is_dir(), (root / "cpu").is_dir()
        cpuset, pids = (root / "cpuset").is_dir(), (root / "pids").is_dir()
        version = "1"
    swap = memory and (version == "2" or (root / "memory" / "memory.memsw.limit_in_bytes")
                       .exists())
    return version, {
        "MemoryLimit": memory, "SwapLimit": swap,
        "KernelMemory": False, "KernelMemoryTCP": False,  # never set by pyengined
        "CpuCfsPeriod": cpu, "CpuCfsQuota": cpu, "CPUShares": cpu, "CPUSet": cpuset,
        "PidsLimit": pids, "OomKillDisable": memory and version == "1",
    }


def engine_id(data_root: Path) -> str:
    """A stable id in docker's form (12 groups of 4 base32 characters), from the machine and
    the data root."""
    import base64

    seed = (_read("/etc/machine-id") or socket.gethostname()) + ":" + str(data_root)
    text = base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode()[:48]
    return ":".join(text[i:i + 4] for i in range(0, 48, 4))


def host_info(cfg: DaemonConfig) -> HostInfo:
    """Blocking: everything /info reports about the host and the daemon's process."""
    import shutil

    from pyengine.containers.create_checks import INIT_BINARIES
    from pyengine.containers.shims import RUNTIMES

    version, features = _cgroup()
    release = _os_release()
    runtimes = {}
    for name in RUNTIME_NAMES:
        binary = RUNTIMES.get(name, name)
        found = binary if os.access(binary, os.X_OK) else shutil.which(binary)
        if found:
            runtimes[name] = found
    if cfg.default_runtime not in runtimes:
        runtimes[cfg.default_runtime] = cfg.default_runtime
    init = next((n for n in INIT_BINARIES if shutil.which(n)), "")
    security = ["name=seccomp,profile=default"]
    if version == "2":
        security.append("name=cgroupns")
    warnings = []
    if not features["MemoryLimit"]:
        warnings.append("WARNING: No memory limit support")
    now = time.time_ns()
    return HostInfo(
        engine_id=engine_id(cfg.data_root),
        driver_status=[["Backing Filesystem", _fs_type(cfg.data_root)]],
        cgroup_features=features, cgroup_version=version,
        ipv4_forwarding=_read("/proc/sys/net/ipv4/ip_forward") == "1",
        bridge_nf_iptables=_read("/proc/sys/net/bridge/bridge-nf-call-iptables") == "1",
        bridge_nf_ip6tables=_read("/proc/sys/net/bridge/bridge-nf-call-ip6tables") == "1",
        nfd=len(os.listdir("/proc/self/fd")), threads=threading.active_count(),
        system_time=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now // 10**9))
        + f".{now % 10**9:09d}Z",
        kernel_version=platform.release(),
        operating_system=release.get("PRETTY_NAME", "Linux"),
        os_version=release.get("VERSION_ID", ""), architecture=platform.machine(),
        ncpu=os.cpu_count() or 1, mem_total=_mem_total(), name=socket.gethostname(),
        http_proxy=os.environ.get("HTTP_PROXY", os.environ.get("http_proxy", "")),
        https_proxy=os.environ.get("HTTPS_PROXY", os.environ.get("https_proxy", "")),
        no_proxy=os.environ.get("NO_PROXY", os.environ.get("no_proxy", "")),
        runtimes=runtimes, init_binary=os.path.basename(init) if init else "",
        security_options=security, warnings=warnings,
    )


def registry_config(insecure: list[str], mirrors: list[str]) -> dict[str, Any]:
    """docker's RegistryConfig: insecure CIDRs apart, one index entry per insecure host."""
    cidrs = ["127.0.0.0/8"]  # loopback registries are reached over plain HTTP too
    indexes = {k: {**v, "Mirrors": list(mirrors)} for k, v in INDEX_CONFIG.items()}
    for entry in insecure:
        try:
            network = str(ipaddress.ip_network(entry, strict=False))
            if network not in cidrs:
                cidrs.append(network)
        except ValueError:
            indexes[entry] = {"Name": entry, "Mirrors": [], "Secure": False, "Official": False}
    return {"AllowNondistributableArtifactsCIDRs": [],
            "AllowNondistributableArtifactsHostnames": [],
            "InsecureRegistryCIDRs": cidrs, "IndexConfigs": indexes, "Mirrors": list(mirrors)}
