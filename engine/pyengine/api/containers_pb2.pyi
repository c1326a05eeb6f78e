from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateContainerRequest(_message.Message):
    __slots__ = ("name", "image", "cmd", "entrypoint", "entrypoint_set", "env", "workdir", "user", "hostname", "labels", "tty", "memory", "nano_cpus", "pids_limit", "runtime", "read_only", "stop_signal", "stop_timeout", "stop_timeout_set", "auto_remove", "log_max_size", "log_max_file", "restart", "open_stdin", "init", "network", "publish", "publish_all", "expose", "ip", "network_aliases", "dns", "dns_search", "dns_options", "add_hosts", "links", "mac_address", "ip6", "link_local_ips", "binds", "mounts", "tmpfs", "volumes_from", "health_cmd", "health_interval_ns", "health_timeout_ns", "health_start_period_ns", "health_retries", "no_healthcheck", "pid_mode", "ipc_mode", "uts_mode", "cgroupns_mode", "group_add", "device_cgroup_rules", "log_driver", "volume_driver", "privileged", "cap_add", "cap_drop", "security_opt", "devices", "sysctls", "ulimits", "shm_size", "oom_score_adj")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class SysctlsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    CMD_FIELD_NUMBER: _ClassVar[int]
    ENTRYPOINT_FIELD_NUMBER: _ClassVar[int]
    ENTRYPOINT_SET_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    WORKDIR_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    TTY_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    NANO_CPUS_FIELD_NUMBER: _ClassVar[int]
    PIDS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    STOP_SIGNAL_FIELD_NUMBER: _ClassVar[int]
    STOP_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    STOP_TIMEOUT_SET_FIELD_NUMBER: _ClassVar[int]
    AUTO_REMOVE_FIELD_NUMBER: _ClassVar[int]
    LOG_MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOG_MAX_FILE_FIELD_NUMBER: _ClassVar[int]
    RESTART_FIELD_NUMBER: _ClassVar[int]
    OPEN_STDIN_FIELD_NUMBER: _ClassVar[int]
    INIT_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_ALL_FIELD_NUMBER: _ClassVar[int]
    EXPOSE_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ALIASES_FIELD_NUMBER: _ClassVar[int]
    DNS_FIELD_NUMBER: _ClassVar[int]
    DNS_SEARCH_FIELD_NUMBER: _ClassVar[int]
    DNS_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    ADD_HOSTS_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    MAC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    IP6_FIELD_NUMBER: _ClassVar[int]
    LINK_LOCAL_IPS_FIELD_NUMBER: _ClassVar[int]
    BINDS_FIELD_NUMBER: _ClassVar[int]
    MOUNTS_FIELD_NUMBER: _ClassVar[int]
    TMPFS_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FROM_FIELD_NUMBER: _ClassVar[int]
    HEALTH_CMD_FIELD_NUMBER: _ClassVar[int]
    HEALTH_INTERVAL_NS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_TIMEOUT_NS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_START_PERIOD_NS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_RETRIES_FIELD_NUMBER: _ClassVar[int]
    NO_HEALTHCHECK_FIELD_NUMBER: _ClassVar[int]
    PID_MODE_FIELD_NUMBER: _ClassVar[int]
    IPC_MODE_FIELD_NUMBER: _ClassVar[int]
    UTS_MODE_FIELD_NUMBER: _ClassVar[int]
    CGROUPNS_MODE_FIELD_NUMBER: _ClassVar[int]
    GROUP_ADD_FIELD_NUMBER: _ClassVar[int]
    DEVICE_CGROUP_RULES_FIELD_NUMBER: _ClassVar[int]
    LOG_DRIVER_FIELD_NUMBER: _ClassVar[int]
    VOLUME_DRIVER_FIELD_NUMBER: _ClassVar[int]
    PRIVILEGED_FIELD_NUMBER: _ClassVar[int]
    CAP_ADD_FIELD_NUMBER: _ClassVar[int]
    CAP_DROP_FIELD_NUMBER: _ClassVar[int]
    SECURITY_OPT_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    SYSCTLS_FIELD_NUMBER: _ClassVar[int]
    ULIMITS_FIELD_NUMBER: _ClassVar[int]
    SHM_SIZE_FIELD_NUMBER: _ClassVar[int]
    OOM_SCORE_ADJ_FIELD_NUMBER: _ClassVar[int]
    name: str
    image: str
    cmd: _containers.RepeatedScalarFieldContainer[str]
    entrypoint: _containers.RepeatedScalarFieldContainer[str]
    entrypoint_set: bool
    env: _containers.RepeatedScalarFieldContainer[str]
    workdir: str
    user: str
    hostname: str
    labels: _containers.ScalarMap[str, str]
    tty: bool
    memory: int
    nano_cpus: int
    pids_limit: int
    runtime: str
    read_only: bool
    stop_signal: str
    stop_timeout: int
    stop_timeout_set: bool
    auto_remove: bool
    log_max_size: int
    log_max_file: int
    restart: str
    open_stdin: bool
    init: bool
    network: str
    publish: _containers.RepeatedScalarFieldContainer[str]
    publish_all: bool
    expose: _containers.RepeatedScalarFieldContainer[str]
    ip: str
    network_aliases: _containers.RepeatedScalarFieldContainer[str]
    dns: _containers.RepeatedScalarFieldContainer[str]
    dns_search: _containers.RepeatedScalarFieldContainer[str]
    dns_options: _containers.RepeatedScalarFieldContainer[str]
    add_hosts: _containers.RepeatedScalarFieldContainer[str]
    links: _containers.RepeatedScalarFieldContainer[str]
    mac_address: str
    ip6: str
    link_local_ips: _containers.RepeatedScalarFieldContainer[str]
    binds: _containers.RepeatedScalarFieldContainer[str]
    mounts: _containers.RepeatedScalarFieldContainer[str]
    tmpfs: _containers.RepeatedScalarFieldContainer[str]
    volumes_from: _containers.RepeatedScalarFieldContainer[str]
    health_cmd: _containers.RepeatedScalarFieldContainer[str]
    health_interval_ns: int
    health_timeout_ns: int
    health_start_period_ns: int
    health_retries: int
    no_healthcheck: bool
    pid_mode: str
    ipc_mode: str
    uts_mode: str
    cgroupns_mode: str
    group_add: _containers.RepeatedScalarFieldContainer[str]
    device_cgroup_rules: _containers.RepeatedScalarFieldContainer[str]
    log_driver: str
    volume_driver: str
    privileged: bool
    cap_add: _containers.RepeatedScalarFieldContainer[str]
    cap_drop: _containers.RepeatedScalarFieldContainer[str]
    security_opt: _containers.RepeatedScalarFieldContainer[str]
    devices: _containers.RepeatedScalarFieldContainer[str]
    sysctls: _containers.ScalarMap[str, str]
    ulimits: _containers.RepeatedScalarFieldContainer[str]
    shm_size: int
    oom_score_adj: int
    def __init__(self, name: _Optional[str] = ..., image: _Optional[str] = ..., cmd: _Optional[_Iterable[str]] = ..., entrypoint: _Optional[_Iterable[str]] = ..., entrypoint_set: _Optional[bool] = ..., env: _Optional[_Iterable[str]] = ..., workdir: _Optional[str] = ..., user: _Optional[str] = ..., hostname: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., tty: _Optional[bool] = ..., memory: _Optional[int] = ..., nano_cpus: _Optional[int] = ..., pids_limit: _Optional[int] = ..., runtime: _Optional[str] = ..., read_only: _Optional[bool] = ..., stop_signal: _Optional[str] = ..., stop_timeout: _Optional[int] = ..., stop_timeout_set: _Optional[bool] = ..., auto_remove: _Optional[bool] = ..., log_max_size: _Optional[int] = ..., log_max_file: _Optional[int] = ..., restart: _Optional[str] = ..., open_stdin: _Optional[bool] = ..., init: _Optional[bool] = ..., network: _Optional[str] = ..., publish: _Optional[_Iterable[str]] = ..., publish_all: _Optional[bool] = ..., expose: _Optional[_Iterable[str]] = ..., ip: _Optional[str] = ..., network_aliases: _Optional[_Iterable[str]] = ..., dns: _Optional[_Iterable[str]] = ..., dns_search: _Optional[_Iterable[str]] = ..., dns_options: _Optional[_Iterable[str]] = ..., add_hosts: _Optional[_Iterable[str]] = ..., links: _Optional[_Iterable[str]] = ..., mac_address: _Optional[str] = ..., ip6: _Optional[str] = ..., link_local_ips: _Optional[_Iterable[str]] = ..., binds: _Optional[_Iterable[str]] = ..., mounts: _Optional[_Iterable[str]] = ..., tmpfs: _Optional[_Iterable[str]] = ..., volumes_from: _Optional[_Iterable[str]] = ..., health_cmd: _Optional[_Iterable[str]] = ..., health_interval_ns: _Optional[int] = ..., health_timeout_ns: _Optional[int] = ..., health_start_period_ns: _Optional[int] = ..., health_retries: _Optional[int] = ..., no_healthcheck: _Optional[bool] = ..., pid_mode: _Optional[str] = ..., ipc_mode: _Optional[str] = ..., uts_mode: _Optional[str] = ..., cgroupns_mode: _Optional[str] = ..., group_add: _Optional[_Iterable[str]] = ..., device_cgroup_rules: _Optional[_Iterable[str]] = ..., log_driver: _Optional[str] = ..., volume_driver: _Optional[str] = ..., privileged: _Optional[bool] = ..., cap_add: _Optional[_Iterable[str]] = ..., cap_drop: _Optional[_Iterable[str]] = ..., security_opt: _Optional[_Iterable[str]] = ..., devices: _Optional[_Iterable[str]] = ..., sysctls: _Optional[_Mapping[str, str]] = ..., ulimits: _Optional[_Iterable[str]] = ..., shm_size: _Optional[int] = ..., oom_score_adj: _Optional[int] = ...) -> None: ...

class CreateContainerResponse(_message.Message):
    __slots__ = ("id", "warnings")
    ID_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    id: str
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class StartContainerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class StartContainerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StopContainerRequest(_message.Message):
    __slots__ = ("id", "timeout", "timeout_set")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SET_FIELD_NUMBER: _ClassVar[int]
    id: str
    timeout: int
    timeout_set: bool
    def __init__(self, id: _Optional[str] = ..., timeout: _Optional[int] = ..., timeout_set: _Optional[bool] = ...) -> None: ...

class StopContainerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class KillContainerRequest(_message.Message):
    __slots__ = ("id", "signal")
    ID_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    id: str
    signal: str
    def __init__(self, id: _Optional[str] = ..., signal: _Optional[str] = ...) -> None: ...

class KillContainerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RemoveContainerRequest(_message.Message):
    __slots__ = ("id", "force", "volumes")
    ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    id: str
    force: bool
    volumes: bool
    def __init__(self, id: _Optional[str] = ..., force: _Optional[bool] = ..., volumes: _Optional[bool] = ...) -> None: ...

class RemoveContainerResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListContainersRequest(_message.Message):
    __slots__ = ("all", "filters", "size")
    ALL_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    all: bool
    filters: _containers.RepeatedScalarFieldContainer[str]
    size: bool
    def __init__(self, all: _Optional[bool] = ..., filters: _Optional[_Iterable[str]] = ..., size: _Optional[bool] = ...) -> None: ...

class ContainerSummary(_message.Message):
    __slots__ = ("id", "names", "image", "image_id", "command", "created", "state", "status", "labels", "size_rw", "size_root_fs", "ports", "networks")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    SIZE_RW_FIELD_NUMBER: _ClassVar[int]
    SIZE_ROOT_FS_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    NETWORKS_FIELD_NUMBER: _ClassVar[int]
    id: str
    names: _containers.RepeatedScalarFieldContainer[str]
    image: str
    image_id: str
    command: str
    created: int
    state: str
    status: str
    labels: _containers.ScalarMap[str, str]
    size_rw: int
    size_root_fs: int
    ports: _containers.RepeatedCompositeFieldContainer[PortMapping]
    networks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., names: _Optional[_Iterable[str]] = ..., image: _Optional[str] = ..., image_id: _Optional[str] = ..., command: _Optional[str] = ..., created: _Optional[int] = ..., state: _Optional[str] = ..., status: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., size_rw: _Optional[int] = ..., size_root_fs: _Optional[int] = ..., ports: _Optional[_Iterable[_Union[PortMapping, _Mapping]]] = ..., networks: _Optional[_Iterable[str]] = ...) -> None: ...

class PortMapping(_message.Message):
    __slots__ = ("ip", "private_port", "public_port", "type")
    IP_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_PORT_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_PORT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ip: str
    private_port: int
    public_port: int
    type: str
    def __init__(self, ip: _Optional[str] = ..., private_port: _Optional[int] = ..., public_port: _Optional[int] = ..., type: _Optional[str] = ...) -> None: ...

class ListContainersResponse(_message.Message):
    __slots__ = ("containers",)
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    containers: _containers.RepeatedCompositeFieldContainer[ContainerSummary]
    def __init__(self, containers: _Optional[_Iterable[_Union[ContainerSummary, _Mapping]]] = ...) -> None: ...

class InspectContainerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class InspectContainerResponse(_message.Message):
    __slots__ = ("json",)
    JSON_FIELD_NUMBER: _ClassVar[int]
    json: str
    def __init__(self, json: _Optional[str] = ...) -> None: ...

class WaitContainerRequest(_message.Message):
    __slots__ = ("id", "condition")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    id: str
    condition: str
    def __init__(self, id: _Optional[str] = ..., condition: _Optional[str] = ...) -> None: ...

class WaitContainerResponse(_message.Message):
    __slots__ = ("status_code",)
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    status_code: int
    def __init__(self, status_code: _Optional[int] = ...) -> None: ...

class ContainerLogsRequest(_message.Message):
    __slots__ = ("id", "follow", "tail", "since", "until", "stdout", "stderr")
    ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    TAIL_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    id: str
    follow: bool
    tail: int
    since: int
    until: int
    stdout: bool
    stderr: bool
    def __init__(self, id: _Optional[str] = ..., follow: _Optional[bool] = ..., tail: _Optional[int] = ..., since: _Optional[int] = ..., until: _Optional[int] = ..., stdout: _Optional[bool] = ..., stderr: _Optional[bool] = ...) -> None: ...

class LogEntry(_message.Message):
    __slots__ = ("stream", "data", "time_nano")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    TIME_NANO_FIELD_NUMBER: _ClassVar[int]
    stream: str
    data: bytes
    time_nano: int
    def __init__(self, stream: _Optional[str] = ..., data: _Optional[bytes] = ..., time_nano: _Optional[int] = ...) -> None: ...

class ExecRequest(_message.Message):
    __slots__ = ("id", "cmd", "env", "workdir", "user")
    ID_FIELD_NUMBER: _ClassVar[int]
    CMD_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    WORKDIR_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    id: str
    cmd: _containers.RepeatedScalarFieldContainer[str]
    env: _containers.RepeatedScalarFieldContainer[str]
    workdir: str
    user: str
    def __init__(self, id: _Optional[str] = ..., cmd: _Optional[_Iterable[str]] = ..., env: _Optional[_Iterable[str]] = ..., workdir: _Optional[str] = ..., user: _Optional[str] = ...) -> None: ...

class ExecOutput(_message.Message):
    __slots__ = ("stream", "data", "exited", "exit_code", "detached")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    EXITED_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    DETACHED_FIELD_NUMBER: _ClassVar[int]
    stream: str
    data: bytes
    exited: bool
    exit_code: int
    detached: bool
    def __init__(self, stream: _Optional[str] = ..., data: _Optional[bytes] = ..., exited: _Optional[bool] = ..., exit_code: _Optional[int] = ..., detached: _Optional[bool] = ...) -> None: ...

class RestartContainerRequest(_message.Message):
    __slots__ = ("id", "timeout", "timeout_set")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SET_FIELD_NUMBER: _ClassVar[int]
    id: str
    timeout: int
    timeout_set: bool
    def __init__(self, id: _Optional[str] = ..., timeout: _Optional[int] = ..., timeout_set: _Optional[bool] = ...) -> None: ...

class RestartContainerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RenameContainerRequest(_message.Message):
    __slots__ = ("id", "name")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RenameContainerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PruneContainersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PruneContainersResponse(_message.Message):
    __slots__ = ("deleted", "space_reclaimed")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    SPACE_RECLAIMED_FIELD_NUMBER: _ClassVar[int]
    deleted: _containers.RepeatedScalarFieldContainer[str]
    space_reclaimed: int
    def __init__(self, deleted: _Optional[_Iterable[str]] = ..., space_reclaimed: _Optional[int] = ...) -> None: ...

class StdinChunk(_message.Message):
    __slots__ = ("id", "data")
    ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    data: bytes
    def __init__(self, id: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class WriteStdinResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DiffContainerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class FileChange(_message.Message):
    __slots__ = ("kind", "path")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    kind: str
    path: str
    def __init__(self, kind: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class DiffContainerResponse(_message.Message):
    __slots__ = ("changes",)
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[FileChange]
    def __init__(self, changes: _Optional[_Iterable[_Union[FileChange, _Mapping]]] = ...) -> None: ...

class ExportContainerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class CopyFromContainerRequest(_message.Message):
    __slots__ = ("id", "path", "follow_link", "stat_only")
    ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_LINK_FIELD_NUMBER: _ClassVar[int]
    STAT_ONLY_FIELD_NUMBER: _ClassVar[int]
    id: str
    path: str
    follow_link: bool
    stat_only: bool
    def __init__(self, id: _Optional[str] = ..., path: _Optional[str] = ..., follow_link: _Optional[bool] = ..., stat_only: _Optional[bool] = ...) -> None: ...

class ContainerPathStat(_message.Message):
    __slots__ = ("name", "mode", "size", "mtime", "link_target")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    MTIME_FIELD_NUMBER: _ClassVar[int]
    LINK_TARGET_FIELD_NUMBER: _ClassVar[int]
    name: str
    mode: int
    size: int
    mtime: int
    link_target: str
    def __init__(self, name: _Optional[str] = ..., mode: _Optional[int] = ..., size: _Optional[int] = ..., mtime: _Optional[int] = ..., link_target: _Optional[str] = ...) -> None: ...

class CopyFromContainerResponse(_message.Message):
    __slots__ = ("stat", "data")
    STAT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    stat: ContainerPathStat
    data: bytes
    def __init__(self, stat: _Optional[_Union[ContainerPathStat, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class CopyToHeader(_message.Message):
    __slots__ = ("id", "path")
    ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    id: str
    path: str
    def __init__(self, id: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class CopyToContainerRequest(_message.Message):
    __slots__ = ("header", "data")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    header: CopyToHeader
    data: bytes
    def __init__(self, header: _Optional[_Union[CopyToHeader, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class CopyToContainerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CommitContainerRequest(_message.Message):
    __slots__ = ("id", "reference", "comment", "author", "changes", "no_pause")
    ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    NO_PAUSE_FIELD_NUMBER: _ClassVar[int]
    id: str
    reference: str
    comment: str
    author: str
    changes: _containers.RepeatedScalarFieldContainer[str]
    no_pause: bool
    def __init__(self, id: _Optional[str] = ..., reference: _Optional[str] = ..., comment: _Optional[str] = ..., author: _Optional[str] = ..., changes: _Optional[_Iterable[str]] = ..., no_pause: _Optional[bool] = ...) -> None: ...

class CommitContainerResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class PauseContainerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class PauseContainerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UnpauseContainerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class UnpauseContainerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TopContainerRequest(_message.Message):
    __slots__ = ("id", "ps_args")
    ID_FIELD_NUMBER: _ClassVar[int]
    PS_ARGS_FIELD_NUMBER: _ClassVar[int]
    id: str
    ps_args: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., ps_args: _Optional[_Iterable[str]] = ...) -> None: ...

class TopRow(_message.Message):
    __slots__ = ("fields",)
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, fields: _Optional[_Iterable[str]] = ...) -> None: ...

class TopContainerResponse(_message.Message):
    __slots__ = ("titles", "processes")
    TITLES_FIELD_NUMBER: _ClassVar[int]
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    titles: _containers.RepeatedScalarFieldContainer[str]
    processes: _containers.RepeatedCompositeFieldContainer[TopRow]
    def __init__(self, titles: _Optional[_Iterable[str]] = ..., processes: _Optional[_Iterable[_Union[TopRow, _Mapping]]] = ...) -> None: ...

class UpdateContainerRequest(_message.Message):
    __slots__ = ("id", "memory", "memory_set", "memory_swap", "memory_swap_set", "nano_cpus", "nano_cpus_set", "cpu_shares", "cpu_shares_set", "cpu_quota", "cpu_quota_set", "cpu_period", "cpu_period_set", "cpuset_cpus", "pids_limit", "pids_limit_set", "restart")
    ID_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    MEMORY_SET_FIELD_NUMBER: _ClassVar[int]
    MEMORY_SWAP_FIELD_NUMBER: _ClassVar[int]
    MEMORY_SWAP_SET_FIELD_NUMBER: _ClassVar[int]
    NANO_CPUS_FIELD_NUMBER: _ClassVar[int]
    NANO_CPUS_SET_FIELD_NUMBER: _ClassVar[int]
    CPU_SHARES_FIELD_NUMBER: _ClassVar[int]
    CPU_SHARES_SET_FIELD_NUMBER: _ClassVar[int]
    CPU_QUOTA_FIELD_NUMBER: _ClassVar[int]
    CPU_QUOTA_SET_FIELD_NUMBER: _ClassVar[int]
    CPU_PERIOD_FIELD_NUMBER: _ClassVar[int]
    CPU_PERIOD_SET_FIELD_NUMBER: _ClassVar[int]
    CPUSET_CPUS_FIELD_NUMBER: _ClassVar[int]
    PIDS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PIDS_LIMIT_SET_FIELD_NUMBER: _ClassVar[int]
    RESTART_FIELD_NUMBER: _ClassVar[int]
    id: str
    memory: int
    memory_set: bool
    memory_swap: int
    memory_swap_set: bool
    nano_cpus: int
    nano_cpus_set: bool
    cpu_shares: int
    cpu_shares_set: bool
    cpu_quota: int
    cpu_quota_set: bool
    cpu_period: int
    cpu_period_set: bool
    cpuset_cpus: str
    pids_limit: int
    pids_limit_set: bool
    restart: str
    def __init__(self, id: _Optional[str] = ..., memory: _Optional[int] = ..., memory_set: _Optional[bool] = ..., memory_swap: _Optional[int] = ..., memory_swap_set: _Optional[bool] = ..., nano_cpus: _Optional[int] = ..., nano_cpus_set: _Optional[bool] = ..., cpu_shares: _Optional[int] = ..., cpu_shares_set: _Optional[bool] = ..., cpu_quota: _Optional[int] = ..., cpu_quota_set: _Optional[bool] = ..., cpu_period: _Optional[int] = ..., cpu_period_set: _Optional[bool] = ..., cpuset_cpus: _Optional[str] = ..., pids_limit: _Optional[int] = ..., pids_limit_set: _Optional[bool] = ..., restart: _Optional[str] = ...) -> None: ...

class UpdateContainerResponse(_message.Message):
    __slots__ = ("warnings",)
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class ContainerStatsRequest(_message.Message):
    __slots__ = ("ids", "stream")
    IDS_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    stream: bool
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., stream: _Optional[bool] = ...) -> None: ...

class ContainerStats(_message.Message):
    __slots__ = ("id", "name", "cpu_percent", "memory_usage", "memory_limit", "memory_percent", "net_rx", "net_tx", "block_read", "block_write", "pids", "running")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USAGE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    NET_RX_FIELD_NUMBER: _ClassVar[int]
    NET_TX_FIELD_NUMBER: _ClassVar[int]
    BLOCK_READ_FIELD_NUMBER: _ClassVar[int]
    BLOCK_WRITE_FIELD_NUMBER: _ClassVar[int]
    PIDS_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    cpu_percent: float
    memory_usage: int
    memory_limit: int
    memory_percent: float
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int
    running: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., cpu_percent: _Optional[float] = ..., memory_usage: _Optional[int] = ..., memory_limit: _Optional[int] = ..., memory_percent: _Optional[float] = ..., net_rx: _Optional[int] = ..., net_tx: _Optional[int] = ..., block_read: _Optional[int] = ..., block_write: _Optional[int] = ..., pids: _Optional[int] = ..., running: _Optional[bool] = ...) -> None: ...

class ContainerStatsFrame(_message.Message):
    __slots__ = ("containers",)
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    containers: _containers.RepeatedCompositeFieldContainer[ContainerStats]
    def __init__(self, containers: _Optional[_Iterable[_Union[ContainerStats, _Mapping]]] = ...) -> None: ...

class AttachInput(_message.Message):
    __slots__ = ("id", "stdin", "stdout", "stderr", "detach_keys", "stdin_once", "data", "height", "width")
    ID_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    DETACH_KEYS_FIELD_NUMBER: _ClassVar[int]
    STDIN_ONCE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    id: str
    stdin: bool
    stdout: bool
    stderr: bool
    detach_keys: str
    stdin_once: bool
    data: bytes
    height: int
    width: int
    def __init__(self, id: _Optional[str] = ..., stdin: _Optional[bool] = ..., stdout: _Optional[bool] = ..., stderr: _Optional[bool] = ..., detach_keys: _Optional[str] = ..., stdin_once: _Optional[bool] = ..., data: _Optional[bytes] = ..., height: _Optional[int] = ..., width: _Optional[int] = ...) -> None: ...

class AttachOutput(_message.Message):
    __slots__ = ("stream", "data", "exited", "exit_code", "detached")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    EXITED_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    DETACHED_FIELD_NUMBER: _ClassVar[int]
    stream: str
    data: bytes
    exited: bool
    exit_code: int
    detached: bool
    def __init__(self, stream: _Optional[str] = ..., data: _Optional[bytes] = ..., exited: _Optional[bool] = ..., exit_code: _Optional[int] = ..., detached: _Optional[bool] = ...) -> None: ...

class ExecInput(_message.Message):
    __slots__ = ("start", "tty", "stdin", "detach", "detach_keys", "data", "height", "width")
    START_FIELD_NUMBER: _ClassVar[int]
    TTY_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    DETACH_FIELD_NUMBER: _ClassVar[int]
    DETACH_KEYS_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    start: ExecRequest
    tty: bool
    stdin: bool
    detach: bool
    detach_keys: str
    data: bytes
    height: int
    width: int
    def __init__(self, start: _Optional[_Union[ExecRequest, _Mapping]] = ..., tty: _Optional[bool] = ..., stdin: _Optional[bool] = ..., detach: _Optional[bool] = ..., detach_keys: _Optional[str] = ..., data: _Optional[bytes] = ..., height: _Optional[int] = ..., width: _Optional[int] = ...) -> None: ...

class PortContainerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class PortContainerResponse(_message.Message):
    __slots__ = ("ports",)
    PORTS_FIELD_NUMBER: _ClassVar[int]
    ports: _containers.RepeatedCompositeFieldContainer[PortMapping]
    def __init__(self, ports: _Optional[_Iterable[_Union[PortMapping, _Mapping]]] = ...) -> None: ...
