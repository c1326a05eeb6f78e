"""ContainerOptions: what `create`/`run` asks for on top of the image config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class HostDevice:
    """A host device node made in the container (linux.devices) and allowed by the devices
    cgroup with `permissions` (r, w, m)."""

    path: str  # in the container
    type: str  # "c" or "b"
    major: int
    minor: int
    file_mode: int = 0o666
    uid: int = 0
    gid: int = 0
    permissions: str = "rwm"


@dataclass(frozen=True)
class Rlimit:
    """process.rlimits entry: type is the kernel's name (RLIMIT_NOFILE)."""

    type: str
    soft: int
    hard: int


@dataclass
class ContainerOptions:
    """Create options, docker's semantics.

    entrypoint: None keeps the image's; a list replaces it (an empty list clears it) and also
    drops the image's Cmd. cmd: None or [] keeps the image's Cmd. env entries override the
    image's by name. user: docker's `--user` forms. seccomp: "default", "unconfined", an
    OCI seccomp section or a profile in docker's format (its JSON text). network: "private"
    (a new namespace), "host", "none", or a namespace path. bundle_dir: where hostname, hosts
    and resolv.conf are generated. group_add: supplementary groups added to the user's, by
    name in the image's /etc/group or by number. device_cgroup_rules: allow rules after the
    default device set (and `devices`' rules). bounding: what privileged (or --cap-add ALL)
    gives, the engine's own bounding set (None: every capability). shm_size: the bytes of
    /dev/shm (0: 64 MiB).
    """

    container_id: str = ""
    entrypoint: Sequence[str] | None = None
    cmd: Sequence[str] | None = None
    env: Sequence[str] = ()
    user: str | None = None
    workdir: str | None = None
    hostname: str | None = None
    domainname: str = ""
    tty: bool = False
    open_stdin: bool = False
    read_only: bool = False
    privileged: bool = False
    cap_add: Sequence[str] = ()
    cap_drop: Sequence[str] = ()
    seccomp: str | dict = "default"
    no_new_privileges: bool = False
    network: str = "private"
    cgroups_path: str | None = None
    bundle_dir: Path | None = None
    extra_hosts: Sequence[tuple[str, str]] = ()
    dns: Sequence[str] = ()
    dns_search: Sequence[str] = ()
    mounts: Sequence[Mapping[str, object]] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)
    memory_limit: int | None = None
    cpu_shares: int | None = None
    pids_limit: int | None = None
    group_add: Sequence[str] = ()  # docker's --group-add: group names or gids
    device_cgroup_rules: Sequence[str] = ()  # docker's --device-cgroup-rule: "c 1:3 mr"
    bounding: Sequence[str] | None = None
    devices: Sequence[HostDevice] = ()
    sysctls: Mapping[str, str] = field(default_factory=dict)
    rlimits: Sequence[Rlimit] = ()
    shm_size: int = 0
    oom_score_adj: int = 0
