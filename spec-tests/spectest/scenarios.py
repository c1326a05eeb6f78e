"""Named bundles for the differential mode: each a config mutation plus probe arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .bundle import drop_namespace, set_namespace, share_runtime_namespaces

Config = dict[str, Any]
PATHS = ("/proc/kcore", "/proc/keys", "/proc/acpi", "/sys/firmware", "/proc/sys",
         "/proc/sys/kernel/hostname", "/dev/null", "/dev/ptmx", "/work/file", "/mnt/a/file",
         "/etc/hostname", "/etc/resolv.conf")
SYSCTLS = ("kernel.hostname", "net.ipv4.ip_forward", "kernel.msgmax")


@dataclass
class Scenario:
    name: str
    mutate: Callable[[Config, str], None]  # (config, host directory for binds)
    # the runtime runs in a private mount namespace (the container shares the runtime's)
    runtime_private_mount_ns: bool = False
    # the container joins a fresh mount namespace (held by a process) by path
    join_mount_ns: bool = False

    def apply(self, config: Config, hostdir: str) -> None:
        self.mutate(config, hostdir)
        config["process"]["args"] = ["/probe", "all", *PATHS, *SYSCTLS]


def _nothing(config: Config, hostdir: str) -> None:
    pass


def _user(config: Config, hostdir: str) -> None:
    config["process"]["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [5, 100],
                                 "umask": 0o027}
    config["process"]["capabilities"]["inheritable"] = list(
        config["process"]["capabilities"]["ambient"])


def _caps(config: Config, hostdir: str) -> None:
    config["process"]["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_NET_RAW", "CAP_SYS_ADMIN"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        "effective": ["CAP_CHOWN", "CAP_KILL"],
        "inheritable": ["CAP_KILL"],
        "ambient": ["CAP_KILL"],
    }


def _no_caps(config: Config, hostdir: str) -> None:
    del config["process"]["capabilities"]
    config["process"]["noNewPrivileges"] = False


def _process(config: Config, hostdir: str) -> None:
    p = config["process"]
    p["env"] += ["FOO=bar", "EMPTY="]
    p["cwd"] = "/work/sub"
    p["oomScoreAdj"] = 300
    p["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1000},
                    {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
                    {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]


def _writable_root(config: Config, hostdir: str) -> None:
    config["root"]["readonly"] = False


def _mounts(config: Config, hostdir: str) -> None:
    config["mounts"] += [
        {"destination": "/mnt/a", "type": "bind", "source": hostdir,
         "options": ["bind", "ro", "nosuid", "nodev", "noexec"]},
        {"destination": "/mnt/b", "type": "bind", "source": hostdir,
         "options": ["rbind", "rw", "rprivate"]},
        {"destination": "/mnt/d", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "size=1m", "mode=0700"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    ]


def _devices(config: Config, hostdir: str) -> None:
    config["linux"]["devices"] = [
        {"path": "/dev/spec-char", "type": "c", "major": 1, "minor": 3, "fileMode": 0o640,
         "uid": 1000, "gid": 1001},
        {"path": "/dev/spec-block", "type": "b", "major": 7, "minor": 0, "fileMode": 0o600},
    ]


def _paths(config: Config, hostdir: str) -> None:
    config["linux"]["maskedPaths"] += ["/work/file"]
    config["linux"]["readonlyPaths"] += ["/work/sub"]
    config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "12345"}


def _uts(config: Config, hostdir: str) -> None:
    config["hostname"] = "diff.host"
    config["domainname"] = "example.org"


def _userns(config: Config, hostdir: str) -> None:
    set_namespace(config, "user")
    mapping = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    config["linux"]["uidMappings"] = mapping
    config["linux"]["gidMappings"] = [dict(m) for m in mapping]


def _cgroupns(config: Config, hostdir: str) -> None:
    set_namespace(config, "cgroup")


def _cgroupns_mount(config: Config, hostdir: str) -> None:
    set_namespace(config, "cgroup")
    config["linux"]["resources"]["memory"] = {"limit": 48 << 20}
    config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                             "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "ro"]})


def _host_pid_net(config: Config, hostdir: str) -> None:
    drop_namespace(config, "pid")
    drop_namespace(config, "network")
    config["mounts"] = [m for m in config["mounts"] if m["type"] != "sysfs"]
    config["mounts"].append({"destination": "/sys", "type": "bind", "source": "/sys",
                             "options": ["rbind", "ro", "nosuid", "noexec", "nodev"]})


def _seccomp(config: Config, hostdir: str) -> None:
    config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    }


def _terminal_less_tty_devices(config: Config, hostdir: str) -> None:
    config["process"]["user"] = {"uid": 0, "gid": 5}
    config["process"]["noNewPrivileges"] = False
    config["root"]["readonly"] = False


def _propagation(config: Config, hostdir: str) -> None:
    config["linux"]["rootfsPropagation"] = "private"


def _no_namespaces(config: Config, hostdir: str) -> None:
    share_runtime_namespaces(config)


SCENARIOS = [Scenario(name, fn) for name, fn in [
    ("default", _nothing), ("user", _user), ("caps", _caps), ("no-caps", _no_caps),
    ("process", _process), ("writable-root", _writable_root), ("mounts", _mounts),
    ("devices", _devices), ("paths-sysctl", _paths), ("uts", _uts), ("userns", _userns),
    ("cgroupns", _cgroupns), ("cgroupns-mount", _cgroupns_mount),
    ("host-pid-net", _host_pid_net),
    ("rootfs-propagation", _propagation), ("seccomp", _seccomp),
    ("gid-tty-writable", _terminal_less_tty_devices),
]] + [
    Scenario("no-namespaces", _no_namespaces, runtime_private_mount_ns=True),
    Scenario("join-mount-ns", _nothing, join_mount_ns=True),
]
