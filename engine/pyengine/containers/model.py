"""A container's records: what was asked for at create (`Spec`) and where it is (`State`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import TypeVar

CREATED = "created"
RUNNING = "running"
EXITED = "exited"
REMOVING = "removing"
DEAD = "dead"
STATUSES = (CREATED, RUNNING, EXITED, REMOVING, DEAD)

# status -> the statuses it may move to (docker's lifecycle without pause and restart)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    CREATED: (RUNNING, EXITED, REMOVING, DEAD),
    RUNNING: (EXITED, REMOVING, DEAD),
    EXITED: (RUNNING, REMOVING, DEAD),
    REMOVING: (DEAD,),
    DEAD: (REMOVING,),
}


class TransitionError(ValueError):
    """A state change the lifecycle does not allow."""


class JsonRecord:
    """A dataclass stored as a JSON document; unknown keys (from a newer daemon) are ignored."""

    def to_json(self) -> str:
        data = asdict(self)  # type: ignore[call-overload]  # every subclass is a dataclass
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls: type[R], text: str) -> R:
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]  # a dataclass too
        return cls(**{k: v for k, v in raw.items() if k in known})


R = TypeVar("R", bound=JsonRecord)


@dataclass
class Spec(JsonRecord):
    """Create options, docker's semantics (see bundles.ContainerOptions)."""

    image: str = ""  # as the user named it
    cmd: list[str] | None = None
    entrypoint: list[str] | None = None
    env: list[str] = field(default_factory=list)
    workdir: str = ""
    user: str = ""
    hostname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    tty: bool = False
    open_stdin: bool = False  # -i: the container's stdin is a fifo the engine writes
    stdin_once: bool = False  # docker's StdinOnce (run -i): an attached client's EOF closes it
    # docker's Config.Attach*: the streams the creating client meant to attach (run without -d;
    # -i adds stdin); kept and shown, they change nothing here (attach is its own call)
    attach_stdin: bool = False
    attach_stdout: bool = False
    attach_stderr: bool = False
    memory: int = 0
    nano_cpus: int = 0
    pids_limit: int = 0
    runtime: str = ""
    read_only: bool = False
    stop_signal: str = ""
    stop_timeout: int | None = None
    auto_remove: bool = False
    log_max_size: int = 0  # bytes; 0: unbounded
    log_max_file: int = 1
    isolation: str = ""  # docker's HostConfig.Isolation: "" or "default" (Linux has one)
    log_options: dict[str, str] = field(default_factory=dict)  # docker's LogConfig.Config, as given
    restart: str = "no"  # docker's restart policy: no, always, unless-stopped, on-failure[:N]
    # resources docker update changes too (resources.py turns them into linux.resources)
    memory_swap: int = 0  # memory + swap, bytes; -1: unlimited swap; 0: not set
    cpu_shares: int = 0
    cpu_quota: int = 0
    cpu_period: int = 0
    cpuset_cpus: str = ""
    init: bool = False  # --init: docker's init (tini) runs the command as PID 1
    # --network: "" (the default bridge), "bridge", "none", "host", a network's name or id,
    # "container:NAME"
    network: str = ""
    publish: list[str] = field(default_factory=list)  # -p as typed
    publish_all: bool = False  # -P
    expose: list[str] = field(default_factory=list)  # --expose
    ip: str = ""  # --ip (on the first network)
    network_aliases: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)
    add_hosts: list[str] = field(default_factory=list)  # --add-host host:ip
    links: list[str] = field(default_factory=list)  # --link name[:alias]
    mac_address: str = ""
    ip6: str = ""  # --ip6 (on the first network)
    link_local_ips: list[str] = field(default_factory=list)  # --link-local-ip (first network)
    endpoint_options: dict[str, str] = field(default_factory=dict)  # the first network's
    # endpoint DriverOpts (docker's, kept and shown)
    endpoint_links: list[str] = field(default_factory=list)  # its EndpointConfig.Links (a user
    # network's names of other containers; HostConfig.Links are `links`)
    # mounts as the user wrote them (volumes/mountspec.py parses them)
    binds: list[str] = field(default_factory=list)  # -v
    mounts: list[str] = field(default_factory=list)  # --mount (csv)
    tmpfs: list[str] = field(default_factory=list)  # --tmpfs path[:options]
    volumes_from: list[str] = field(default_factory=list)  # container[:ro|rw]
    # --health-*: over the image's HEALTHCHECK field by field (containers/health.py); the
    # command as docker's Healthcheck.Test (["CMD-SHELL", "cmd"]), durations in ns; 0: unset
    health_cmd: list[str] = field(default_factory=list)
    health_interval_ns: int = 0
    health_timeout_ns: int = 0
    health_start_period_ns: int = 0
    health_retries: int = 0
    no_healthcheck: bool = False
    # namespaces as docker names them (containers/namespaces.py): PidMode "" or "host" or
    # "container:<id>", IpcMode private/shareable/none/host/container:<id>, UTSMode "" or
    # "host", CgroupnsMode private/host (recorded resolved: the daemon's default filled in)
    pid_mode: str = ""
    ipc_mode: str = ""
    uts_mode: str = ""
    cgroupns_mode: str = ""
    group_add: list[str] = field(default_factory=list)  # --group-add: names or gids
    device_cgroup_rules: list[str] = field(default_factory=list)  # "c 1:3 mr", as given
    log_driver: str = ""  # "" and "json-file": the json-file log; "none": no log kept
    volume_driver: str = ""  # docker's HostConfig.VolumeDriver (only "local" makes volumes)
    # privileges, devices and kernel options (containers/secopts.py checks them and turns
    # them into bundles' options)
    privileged: bool = False
    cap_add: list[str] = field(default_factory=list)  # docker's names, as given
    cap_drop: list[str] = field(default_factory=list)
    security_opt: list[str] = field(default_factory=list)  # as given (seccomp=<profile JSON>)
    devices: list[str] = field(default_factory=list)  # HOST[:CONTAINER[:PERMISSIONS]]
    sysctls: dict[str, str] = field(default_factory=dict)
    ulimits: list[str] = field(default_factory=list)  # NAME=SOFT[:HARD], docker's --ulimit
    shm_size: int = 0  # bytes of /dev/shm; 0: docker's 64 MiB
    oom_score_adj: int = 0


@dataclass
class State(JsonRecord):
    status: str = CREATED
    pid: int = 0
    exit_code: int = 0
    started_at: str = ""
    finished_at: str = ""
    error: str = ""
    shim_address: str = ""  # the shim's ttrpc socket while it runs
    shim_pid: int = 0
    restart_count: int = 0
    quick_restarts: int = 0  # short runs in a row (the backoff's exponent)
    manually_stopped: bool = False  # by stop: restart policies leave it be
    paused: bool = False  # running, with every process frozen (pause)
    # exited, with a restart policy's start waiting out its backoff (docker's Restarting)
    restarting: bool = False
    # the health check's state (containers/health.py): "" (none yet), starting, healthy,
    # unhealthy; the failures in a row; the last results (docker's State.Health.Log entries)
    health_status: str = ""
    health_failing_streak: int = 0
    health_log: list[dict] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    def docker_status(self) -> str:
        """docker's State.Status: a paused container's record stays running, a restarting
        one's exited."""
        if self.paused and self.status == RUNNING:
            return "paused"
        if self.restarting and self.status == EXITED:
            return "restarting"
        return self.status

    @property
    def listed_as_running(self) -> bool:
        """docker's State.Running: true while restarting too (docker ps lists it)."""
        return self.status == RUNNING or (self.restarting and self.status == EXITED)

    def move(self, status: str) -> None:
        if status != self.status and status not in TRANSITIONS[self.status]:
            raise TransitionError(f"container state {self.status} cannot become {status}")
        self.status = status


@dataclass(frozen=True)
class ExternalRootfs:
    """A rootfs the caller made (a build step's active snapshot): create uses it as it is and
    remove leaves it to the caller."""

    snapshot: str  # an active snapshot the caller made and removes
    image_config: dict  # the full image config so far (with its "config" section)
    image_id: str  # recorded as the container's image (the stage's base image id)


@dataclass
class Container:
    id: str
    name: str  # without docker's leading "/"
    image_id: str
    image_name: str
    snapshot: str  # the writable snapshot's key
    created: str  # RFC 3339
    spec: Spec
    state: State
    config: dict = field(default_factory=dict)  # the resolved process config (args, env, ...)
    runtime: str = ""  # the OCI runtime binary the shim calls
