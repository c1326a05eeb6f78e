"""A container's privileges, devices and kernel options (docker's --privileged, --cap-add,
--cap-drop, --security-opt, --device, --sysctl, --ulimit, --shm-size, --oom-score-adj):
parsed and checked with docker's texts, and turned into bundles' options.

The parsers (ulimits, devices, sysctls) are pyctl's too: docker's client checks those flags
before it calls the daemon. `check` runs at create before anything is made; `apply` fills a
ContainerOptions (it reads the host's devices and the engine's bounding set)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any

from pyengine.bundles.defaults import ALL_CAPABILITIES  # in the kernel's numbering
from pyengine.bundles.options import ContainerOptions, HostDevice, Rlimit
from pyengine.containers.model import Spec
from pyengine.errors import InvalidArgument

# go-units' ulimit names (RLIMIT_ + the name in capitals)
ULIMIT_NAMES = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
                "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")
RLIM_INFINITY = (1 << 64) - 1
# the sysctls an ipc namespace holds (then fs.mqueue.*); net.* belong to a network namespace
IPC_SYSCTLS = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
               "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced")
DEFAULT_SHM_SIZE = 64 << 20  # docker's
# what a privileged container does not get from the host's /dev (libcontainer's list)
SKIPPED_DEV_DIRS = ("pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev")
SKIPPED_DEV_FILES = ("/dev/console",)


@dataclass(frozen=True)
class Ulimit:
    name: str  # docker's: nofile, nproc, ...
    soft: int
    hard: int

    def text(self) -> str:
        return f"{self.name}={self.soft}:{self.hard}"

    def rlimit(self) -> Rlimit:
        def value(n: int) -> int:
            return RLIM_INFINITY if n < 0 else n
        return Rlimit("RLIMIT_" + self.name.upper(), value(self.soft), value(self.hard))


def _go_int(text: str) -> int:
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isdigit() or not digits.isascii():
        raise ValueError(f'strconv.ParseInt: parsing "{text}": invalid syntax')
    value = int(text)
    if not -(1 << 63) <= value < 1 << 63:
        raise ValueError(f'strconv.ParseInt: parsing "{text}": value out of range')
    return value


def parse_ulimit(text: str) -> Ulimit:
    """go-units' ParseUlimit: NAME=SOFT[:HARD]; ValueError with its texts."""
    name, sep, values = text.partition("=")
    if not sep:
        raise ValueError(f"invalid ulimit argument: {text}")
    if name not in ULIMIT_NAMES:
        raise ValueError(f"invalid ulimit type: {name}")
    parts = values.split(":")
    if len(parts) > 2:
        raise ValueError(f"too many limit value arguments - {values}, can only have up to "
                         f"two, `soft:hard`")
    hard = _go_int(parts[1]) if len(parts) == 2 else None
    soft = _go_int(parts[0])
    hard = soft if hard is None else hard
    if hard != -1 and soft > hard:
        raise ValueError(f"ulimit soft limit must be less than or equal to hard limit: "
                         f"{soft} > {hard}")
    return Ulimit(name, soft, hard)


@dataclass(frozen=True)
class DeviceMapping:
    host: str  # docker's PathOnHost
    container: str  # PathInContainer
    permissions: str  # CgroupPermissions: r, w, m

    def text(self) -> str:
        return f"{self.host}:{self.container}:{self.permissions}"


def valid_device_mode(mode: str) -> bool:
    return 0 < len(mode) <= 3 and all(ch in "rwm" for ch in mode) and \
        len(set(mode)) == len(mode)


def parse_device(text: str) -> DeviceMapping:
    """docker's client --device HOST[:CONTAINER][:PERMISSIONS]; ValueError with its texts."""
    parts = text.split(":")
    if text.count(":") > 2 or not parts[0]:
        raise ValueError(f"bad format for path: {text}")
    if len(parts) == 3 and not valid_device_mode(parts[2]):
        raise ValueError(f"bad mode specified: {parts[2]}")
    host, container, permissions = parts[0], "", "rwm"
    if len(parts) == 3:
        container, permissions = parts[1], parts[2]
    elif len(parts) == 2:
        if valid_device_mode(parts[1]):
            permissions = parts[1]
        else:
            container = parts[1]
    container = os.path.normpath(container or host)
    if not container.startswith("/"):
        raise ValueError(f"{container} is not an absolute path")
    return DeviceMapping(host, container, permissions)


def cli_sysctl(item: str) -> tuple[str, str]:
    """docker's client --sysctl NAME=VALUE, only namespaced ones; ValueError with its text."""
    name, sep, value = item.partition("=")
    if sep and (name in IPC_SYSCTLS or name.startswith(("net.", "fs.mqueue."))):
        return name, value
    raise ValueError(f"sysctl '{item}' is not allowed")


def sysctl_error(name: str, spec: Spec) -> str:
    """The runtime's objection to a sysctl for this container ("": none), runc's texts."""
    if name in IPC_SYSCTLS or name.startswith("fs.mqueue."):
        if spec.ipc_mode == "host":
            return f'sysctl "{name}" is not allowed in the hosts ipc namespace'
        return ""
    if name.startswith("net."):
        if spec.network == "host":
            return f'sysctl "{name}" not allowed in host network namespace'
        return ""
    if name in ("kernel.domainname", "kernel.hostname"):
        field = name.partition(".")[2]
        return (f'sysctl "{name}" is not allowed; it must be set in the config\'s {field} '
                "field")
    return f'sysctl "{name}" is not in a separate kernel namespace'


def normalize_caps(caps: list[str], what: str) -> list[str]:
    """docker's: upper case, CAP_ prefixed, ALL kept; an unknown one is refused."""
    out = []
    for cap in caps:
        name = cap.upper()
        if name != "ALL" and not name.startswith("CAP_"):
            name = "CAP_" + name
        if name != "ALL" and name not in ALL_CAPABILITIES:
            raise InvalidArgument(f'invalid {what}: unknown capability: "{name}"')
        out.append(name)
    return out


@dataclass
class SecurityOptions:
    no_new_privileges: bool = False
    seccomp: str = "default"  # default, unconfined, or a profile's JSON text


_GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
             "0": False, "f": False, "F": False, "FALSE": False, "false": False,
             "False": False}


def parse_security_opts(items: list[str]) -> SecurityOptions:
    """docker's daemon reading of --security-opt; this host has neither AppArmor nor SELinux,
    so only their "off" values are taken."""
    out = SecurityOptions()
    for opt in items:
        if opt == "no-new-privileges":
            out.no_new_privileges = True
            continue
        if opt == "disable":  # label=disable's short form
            continue
        sep = "=" if "=" in opt else ":" if ":" in opt else ""
        if not sep:
            raise InvalidArgument(f'invalid --security-opt 1: "{opt}"')
        key, _, value = opt.partition(sep)
        if key == "no-new-privileges":
            if value not in _GO_BOOLS:
                raise InvalidArgument(f'invalid --security-opt 2: "{opt}"')
            out.no_new_privileges = _GO_BOOLS[value]
        elif key == "seccomp":
            out.seccomp = "default" if value == "builtin" else value
        elif key == "apparmor":
            if value != "unconfined":
                raise InvalidArgument(f"apparmor profile {value!r} cannot be applied: "
                                      "AppArmor is not enabled on this host")
        elif key == "label":
            if value != "disable":
                raise InvalidArgument(f"label {value!r} cannot be applied: SELinux is not "
                                      "enabled on this host")
        else:
            raise InvalidArgument(f'invalid --security-opt 2: "{opt}"')
    return out


def check(spec: Spec) -> None:
    """At create, before anything is made: InvalidArgument with docker's (or the runtime's)
    texts for what the container could not run with."""
    normalize_caps(spec.cap_add, "CapAdd")
    normalize_caps(spec.cap_drop, "CapDrop")
    parse_security_opts(spec.security_opt)
    if not -1000 <= spec.oom_score_adj <= 1000:
        raise InvalidArgument(f"Invalid value {spec.oom_score_adj}, range for oom score adj "
                              "is [-1000, 1000]")
    if spec.shm_size < 0:
        raise InvalidArgument("SHM size can not be less than 0")
    for item in spec.ulimits:
        try:
            parse_ulimit(item)
        except ValueError as err:
            raise InvalidArgument(str(err)) from None
    for name in spec.sysctls:
        problem = sysctl_error(name, spec)
        if problem:
            raise InvalidArgument(problem)
    for item in spec.devices:
        try:
            mapping = parse_device(item)
        except ValueError as err:
            raise InvalidArgument(str(err)) from None
        devices_of(mapping)


def _device(path: str, where: str, permissions: str) -> HostDevice | None:
    """The device node at `path` (not followed), named `where` in the container."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISCHR(st.st_mode):
        kind = "c"
    elif stat.S_ISBLK(st.st_mode):
        kind = "b"
    else:
        return None
    return HostDevice(path=where, type=kind, major=os.major(st.st_rdev),
                      minor=os.minor(st.st_rdev), file_mode=stat.S_IMODE(st.st_mode),
                      uid=st.st_uid, gid=st.st_gid, permissions=permissions)


def devices_of(mapping: DeviceMapping) -> list[HostDevice]:
    """docker's: the device at the host path (symlinks followed), or every device under a
    directory; InvalidArgument with docker's text when there is none."""
    host = os.path.realpath(mapping.host) if os.path.islink(mapping.host) else mapping.host
    found = _device(host, mapping.container, mapping.permissions)
    if found is not None:
        return [found]
    devices = []
    if os.path.isdir(host):
        for top, dirs, files in os.walk(host):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(top, name)
                where = mapping.container + path[len(host):]
                device = _device(path, where, mapping.permissions)
                if device is not None:
                    devices.append(device)
    if devices:
        return devices
    cause = "not a device node" if os.path.exists(host) else "no such file or directory"
    raise InvalidArgument(f"error gathering device information while adding custom device "
                          f'"{mapping.host}": {cause}')


def host_devices() -> list[HostDevice]:
    """A privileged container's: every device node under the host's /dev."""
    devices = []
    for top, dirs, files in os.walk("/dev"):
        if top == "/dev":
            dirs[:] = [d for d in dirs if d not in SKIPPED_DEV_DIRS]
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(top, name)
            if path not in SKIPPED_DEV_FILES:
                device = _device(path, path, "rwm")
                if device is not None:
                    devices.append(device)
    return devices


def bounding_set() -> list[str]:
    """The capabilities in the engine's own bounding set: what privileged can give (a
    capability missing there, CAP_SYS_RESOURCE on some hosts, cannot be given at all)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("CapBnd:"):
                mask = int(line.split()[1], 16)
                return [c for bit, c in enumerate(ALL_CAPABILITIES) if mask >> bit & 1]
    return list(ALL_CAPABILITIES)


def apply(opts: ContainerOptions, spec: Spec) -> None:
    """The Spec's privileges, devices and kernel options into `opts` (after `check`)."""
    security = parse_security_opts(spec.security_opt)
    opts.privileged = spec.privileged
    opts.cap_add = normalize_caps(spec.cap_add, "CapAdd")
    opts.cap_drop = normalize_caps(spec.cap_drop, "CapDrop")
    if spec.privileged or "ALL" in opts.cap_add:
        opts.bounding = bounding_set()
    opts.no_new_privileges = security.no_new_privileges
    opts.seccomp = security.seccomp
    devices = host_devices() if spec.privileged else []
    for item in spec.devices:
        devices += devices_of(parse_device(item))
    opts.devices = list({d.path: d for d in devices}.values())  # a later one wins
    opts.sysctls = dict(spec.sysctls)
    opts.rlimits = [parse_ulimit(u).rlimit() for u in spec.ulimits]
    opts.shm_size = spec.shm_size or DEFAULT_SHM_SIZE
    opts.oom_score_adj = spec.oom_score_adj


def host_config(spec: Spec) -> dict[str, Any]:
    """docker inspect's HostConfig fields for these options, as dockerd 20.10 shows them
    (SecurityOpt gains label=disable for privileged, --ipc host and --pid host, unless a
    label is set)."""
    security = list(spec.security_opt)
    if (spec.privileged or "host" in (spec.ipc_mode, spec.pid_mode)) and not any(
            opt.startswith("label=") for opt in security):
        security.append("label=disable")
    ulimits = [parse_ulimit(text) for text in spec.ulimits]
    devices = [parse_device(text) for text in spec.devices]
    return {
        "CapAdd": list(spec.cap_add) or None, "CapDrop": list(spec.cap_drop) or None,
        "Privileged": spec.privileged, "SecurityOpt": security or None,
        "Devices": [{"PathOnHost": d.host, "PathInContainer": d.container,
                     "CgroupPermissions": d.permissions} for d in devices],
        **({"Sysctls": dict(spec.sysctls)} if spec.sysctls else {}),
        "Ulimits": [{"Name": u.name, "Hard": u.hard, "Soft": u.soft} for u in ulimits],
        "ShmSize": spec.shm_size or DEFAULT_SHM_SIZE, "OomScoreAdj": spec.oom_score_adj,
    }
