"""Lean message classes of pyengine/v1/containers.proto: written by tools/gen-proto, do not edit.

Encoded and decoded by pyengine.api.lean, without protobuf; the same fields as
containers_pb2 (tests/unit/engine/test_engine_lean_proto.py).
"""

from __future__ import annotations

from pyengine.api import lean as _lean
from . import common_lean


class CreateContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.CreateContainerRequest"
    __slots__ = ('name', 'image', 'cmd', 'entrypoint', 'entrypoint_set', 'env', 'workdir', 'user', 'hostname', 'labels', 'tty', 'memory', 'nano_cpus', 'pids_limit', 'runtime', 'read_only', 'stop_signal', 'stop_timeout', 'stop_timeout_set', 'auto_remove', 'log_max_size', 'log_max_file', 'restart', 'open_stdin', 'init', 'network', 'publish', 'publish_all', 'expose', 'ip', 'network_aliases', 'dns', 'dns_search', 'dns_options', 'add_hosts', 'links', 'mac_address', 'ip6', 'link_local_ips', 'binds', 'mounts', 'tmpfs', 'volumes_from', 'health_cmd', 'health_interval_ns', 'health_timeout_ns', 'health_start_period_ns', 'health_retries', 'no_healthcheck', 'pid_mode', 'ipc_mode', 'uts_mode', 'cgroupns_mode', 'group_add', 'device_cgroup_rules', 'log_driver', 'volume_driver', 'privileged', 'cap_add', 'cap_drop', 'security_opt', 'devices', 'sysctls', 'ulimits', 'shm_size', 'oom_score_adj')
    name: str
    image: str
    cmd: list[str]
    entrypoint: list[str]
    entrypoint_set: bool
    env: list[str]
    workdir: str
    user: str
    hostname: str
    labels: dict[str, str]
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
    publish: list[str]
    publish_all: bool
    expose: list[str]
    ip: str
    network_aliases: list[str]
    dns: list[str]
    dns_search: list[str]
    dns_options: list[str]
    add_hosts: list[str]
    links: list[str]
    mac_address: str
    ip6: str
    link_local_ips: list[str]
    binds: list[str]
    mounts: list[str]
    tmpfs: list[str]
    volumes_from: list[str]
    health_cmd: list[str]
    health_interval_ns: int
    health_timeout_ns: int
    health_start_period_ns: int
    health_retries: int
    no_healthcheck: bool
    pid_mode: str
    ipc_mode: str
    uts_mode: str
    cgroupns_mode: str
    group_add: list[str]
    device_cgroup_rules: list[str]
    log_driver: str
    volume_driver: str
    privileged: bool
    cap_add: list[str]
    cap_drop: list[str]
    security_opt: list[str]
    devices: list[str]
    sysctls: dict[str, str]
    ulimits: list[str]
    shm_size: int
    oom_score_adj: int


class CreateContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.CreateContainerResponse"
    __slots__ = ('id', 'warnings')
    id: str
    warnings: list[str]


class StartContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.StartContainerRequest"
    __slots__ = ('id',)
    id: str


class StartContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.StartContainerResponse"
    __slots__ = ()


class StopContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.StopContainerRequest"
    __slots__ = ('id', 'timeout', 'timeout_set')
    id: str
    timeout: int
    timeout_set: bool


class StopContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.StopContainerResponse"
    __slots__ = ()


class KillContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.KillContainerRequest"
    __slots__ = ('id', 'signal')
    id: str
    signal: str


class KillContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.KillContainerResponse"
    __slots__ = ()


class RemoveContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.RemoveContainerRequest"
    __slots__ = ('id', 'force', 'volumes')
    id: str
    force: bool
    volumes: bool


class RemoveContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.RemoveContainerResponse"
    __slots__ = ('id',)
    id: str


class ListContainersRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.ListContainersRequest"
    __slots__ = ('all', 'filters', 'size')
    all: bool
    filters: list[str]
    size: bool


class ContainerSummary(_lean.Message):
    FULL_NAME = "pyengine.v1.ContainerSummary"
    __slots__ = ('id', 'names', 'image', 'image_id', 'command', 'created', 'state', 'status', 'labels', 'size_rw', 'size_root_fs', 'ports', 'networks')
    id: str
    names: list[str]
    image: str
    image_id: str
    command: str
    created: int
    state: str
    status: str
    labels: dict[str, str]
    size_rw: int
    size_root_fs: int
    ports: list[PortMapping]
    networks: list[str]


class PortMapping(_lean.Message):
    FULL_NAME = "pyengine.v1.PortMapping"
    __slots__ = ('ip', 'private_port', 'public_port', 'type')
    ip: str
    private_port: int
    public_port: int
    type: str


class ListContainersResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.ListContainersResponse"
    __slots__ = ('containers',)
    containers: list[ContainerSummary]


class InspectContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.InspectContainerRequest"
    __slots__ = ('id',)
    id: str


class InspectContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.InspectContainerResponse"
    __slots__ = ('json',)
    json: str


class WaitContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.WaitContainerRequest"
    __slots__ = ('id', 'condition')
    id: str
    condition: str


class WaitContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.WaitContainerResponse"
    __slots__ = ('status_code',)
    status_code: int


class ContainerLogsRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.ContainerLogsRequest"
    __slots__ = ('id', 'follow', 'tail', 'since', 'until', 'stdout', 'stderr')
    id: str
    follow: bool
    tail: int
    since: int
    until: int
    stdout: bool
    stderr: bool


class LogEntry(_lean.Message):
    FULL_NAME = "pyengine.v1.LogEntry"
    __slots__ = ('stream', 'data', 'time_nano')
    stream: str
    data: bytes
    time_nano: int


class ExecRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.ExecRequest"
    __slots__ = ('id', 'cmd', 'env', 'workdir', 'user')
    id: str
    cmd: list[str]
    env: list[str]
    workdir: str
    user: str


class ExecOutput(_lean.Message):
    FULL_NAME = "pyengine.v1.ExecOutput"
    __slots__ = ('stream', 'data', 'exited', 'exit_code', 'detached')
    stream: str
    data: bytes
    exited: bool
    exit_code: int
    detached: bool


class RestartContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.RestartContainerRequest"
    __slots__ = ('id', 'timeout', 'timeout_set')
    id: str
    timeout: int
    timeout_set: bool


class RestartContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.RestartContainerResponse"
    __slots__ = ()


class RenameContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.RenameContainerRequest"
    __slots__ = ('id', 'name')
    id: str
    name: str


class RenameContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.RenameContainerResponse"
    __slots__ = ()


class PruneContainersRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.PruneContainersRequest"
    __slots__ = ()


class PruneContainersResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.PruneContainersResponse"
    __slots__ = ('deleted', 'space_reclaimed')
    deleted: list[str]
    space_reclaimed: int


class StdinChunk(_lean.Message):
    FULL_NAME = "pyengine.v1.StdinChunk"
    __slots__ = ('id', 'data')
    id: str
    data: bytes


class WriteStdinResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.WriteStdinResponse"
    __slots__ = ()


class DiffContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.DiffContainerRequest"
    __slots__ = ('id',)
    id: str


class FileChange(_lean.Message):
    FULL_NAME = "pyengine.v1.FileChange"
    __slots__ = ('kind', 'path')
    kind: str
    path: str


class DiffContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.DiffContainerResponse"
    __slots__ = ('changes',)
    changes: list[FileChange]


class ExportContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.ExportContainerRequest"
    __slots__ = ('id',)
    id: str


class CopyFromContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.CopyFromContainerRequest"
    __slots__ = ('id', 'path', 'follow_link', 'stat_only')
    id: str
    path: str
    follow_link: bool
    stat_only: bool


class ContainerPathStat(_lean.Message):
    FULL_NAME = "pyengine.v1.ContainerPathStat"
    __slots__ = ('name', 'mode', 'size', 'mtime', 'link_target')
    name: str
    mode: int
    size: int
    mtime: int
    link_target: str


class CopyFromContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.CopyFromContainerResponse"
    __slots__ = ('stat', 'data')
    stat: ContainerPathStat
    data: bytes
    _oneofs = {'part': ('stat', 'data')}


class CopyToHeader(_lean.Message):
    FULL_NAME = "pyengine.v1.CopyToHeader"
    __slots__ = ('id', 'path')
    id: str
    path: str


class CopyToContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.CopyToContainerRequest"
    __slots__ = ('header', 'data')
    header: CopyToHeader
    data: bytes
    _oneofs = {'part': ('header', 'data')}


class CopyToContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.CopyToContainerResponse"
    __slots__ = ()


class CommitContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.CommitContainerRequest"
    __slots__ = ('id', 'reference', 'comment', 'author', 'changes', 'no_pause')
    id: str
    reference: str
    comment: str
    author: str
    changes: list[str]
    no_pause: bool


class CommitContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.CommitContainerResponse"
    __slots__ = ('id',)
    id: str


class PauseContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.PauseContainerRequest"
    __slots__ = ('id',)
    id: str


class PauseContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.PauseContainerResponse"
    __slots__ = ()


class UnpauseContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.UnpauseContainerRequest"
    __slots__ = ('id',)
    id: str


class UnpauseContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.UnpauseContainerResponse"
    __slots__ = ()


class TopContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.TopContainerRequest"
    __slots__ = ('id', 'ps_args')
    id: str
    ps_args: list[str]


class TopRow(_lean.Message):
    FULL_NAME = "pyengine.v1.TopRow"
    __slots__ = ('fields',)
    fields: list[str]


class TopContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.TopContainerResponse"
    __slots__ = ('titles', 'processes')
    titles: list[str]
    processes: list[TopRow]


class UpdateContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.UpdateContainerRequest"
    __slots__ = ('id', 'memory', 'memory_set', 'memory_swap', 'memory_swap_set', 'nano_cpus', 'nano_cpus_set', 'cpu_shares', 'cpu_shares_set', 'cpu_quota', 'cpu_quota_set', 'cpu_period', 'cpu_period_set', 'cpuset_cpus', 'pids_limit', 'pids_limit_set', 'restart')
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


class UpdateContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.UpdateContainerResponse"
    __slots__ = ('warnings',)
    warnings: list[str]


class ContainerStatsRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.ContainerStatsRequest"
    __slots__ = ('ids', 'stream')
    ids: list[str]
    stream: bool


class ContainerStats(_lean.Message):
    FULL_NAME = "pyengine.v1.ContainerStats"
    __slots__ = ('id', 'name', 'cpu_percent', 'memory_usage', 'memory_limit', 'memory_percent', 'net_rx', 'net_tx', 'block_read', 'block_write', 'pids', 'running')
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


class ContainerStatsFrame(_lean.Message):
    FULL_NAME = "pyengine.v1.ContainerStatsFrame"
    __slots__ = ('containers',)
    containers: list[ContainerStats]


class AttachInput(_lean.Message):
    FULL_NAME = "pyengine.v1.AttachInput"
    __slots__ = ('id', 'stdin', 'stdout', 'stderr', 'detach_keys', 'stdin_once', 'data', 'height', 'width')
    id: str
    stdin: bool
    stdout: bool
    stderr: bool
    detach_keys: str
    stdin_once: bool
    data: bytes
    height: int
    width: int


class AttachOutput(_lean.Message):
    FULL_NAME = "pyengine.v1.AttachOutput"
    __slots__ = ('stream', 'data', 'exited', 'exit_code', 'detached')
    stream: str
    data: bytes
    exited: bool
    exit_code: int
    detached: bool


class ExecInput(_lean.Message):
    FULL_NAME = "pyengine.v1.ExecInput"
    __slots__ = ('start', 'tty', 'stdin', 'detach', 'detach_keys', 'data', 'height', 'width')
    start: ExecRequest
    tty: bool
    stdin: bool
    detach: bool
    detach_keys: str
    data: bytes
    height: int
    width: int


class PortContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.PortContainerRequest"
    __slots__ = ('id',)
    id: str


class PortContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.PortContainerResponse"
    __slots__ = ('ports',)
    ports: list[PortMapping]


class ContainersService(_lean.Service):
    FULL_NAME = "pyengine.v1.ContainersService"
    METHODS = {
        'Create': ('unary_unary', CreateContainerRequest, CreateContainerResponse),
        'Start': ('unary_unary', StartContainerRequest, StartContainerResponse),
        'Stop': ('unary_unary', StopContainerRequest, StopContainerResponse),
        'Kill': ('unary_unary', KillContainerRequest, KillContainerResponse),
        'Remove': ('unary_unary', RemoveContainerRequest, RemoveContainerResponse),
        'List': ('unary_unary', ListContainersRequest, ListContainersResponse),
        'Inspect': ('unary_unary', InspectContainerRequest, InspectContainerResponse),
        'Wait': ('unary_unary', WaitContainerRequest, WaitContainerResponse),
        'Logs': ('unary_stream', ContainerLogsRequest, LogEntry),
        'Exec': ('unary_stream', ExecRequest, ExecOutput),
        'Restart': ('unary_unary', RestartContainerRequest, RestartContainerResponse),
        'Rename': ('unary_unary', RenameContainerRequest, RenameContainerResponse),
        'Prune': ('unary_unary', PruneContainersRequest, PruneContainersResponse),
        'WriteStdin': ('stream_unary', StdinChunk, WriteStdinResponse),
        'Diff': ('unary_unary', DiffContainerRequest, DiffContainerResponse),
        'Export': ('unary_stream', ExportContainerRequest, common_lean.DataChunk),
        'CopyFrom': ('unary_stream', CopyFromContainerRequest, CopyFromContainerResponse),
        'CopyTo': ('stream_unary', CopyToContainerRequest, CopyToContainerResponse),
        'Commit': ('unary_unary', CommitContainerRequest, CommitContainerResponse),
        'Pause': ('unary_unary', PauseContainerRequest, PauseContainerResponse),
        'Unpause': ('unary_unary', UnpauseContainerRequest, UnpauseContainerResponse),
        'Top': ('unary_unary', TopContainerRequest, TopContainerResponse),
        'Update': ('unary_unary', UpdateContainerRequest, UpdateContainerResponse),
        'Stats': ('unary_stream', ContainerStatsRequest, ContainerStatsFrame),
        'Attach': ('stream_stream', AttachInput, AttachOutput),
        'ExecStream': ('stream_stream', ExecInput, ExecOutput),
        'Port': ('unary_unary', PortContainerRequest, PortContainerResponse),
    }


CreateContainerRequest._fields = (
    (1, 'name', _lean.STRING, _lean.PLAIN, None),
    (2, 'image', _lean.STRING, _lean.PLAIN, None),
    (3, 'cmd', _lean.STRING, _lean.REPEATED, None),
    (4, 'entrypoint', _lean.STRING, _lean.REPEATED, None),
    (5, 'entrypoint_set', _lean.BOOL, _lean.PLAIN, None),
    (6, 'env', _lean.STRING, _lean.REPEATED, None),
    (7, 'workdir', _lean.STRING, _lean.PLAIN, None),
    (8, 'user', _lean.STRING, _lean.PLAIN, None),
    (9, 'hostname', _lean.STRING, _lean.PLAIN, None),
    (10, 'labels', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
    (11, 'tty', _lean.BOOL, _lean.PLAIN, None),
    (12, 'memory', _lean.INT64, _lean.PLAIN, None),
    (13, 'nano_cpus', _lean.INT64, _lean.PLAIN, None),
    (14, 'pids_limit', _lean.INT64, _lean.PLAIN, None),
    (15, 'runtime', _lean.STRING, _lean.PLAIN, None),
    (16, 'read_only', _lean.BOOL, _lean.PLAIN, None),
    (17, 'stop_signal', _lean.STRING, _lean.PLAIN, None),
    (18, 'stop_timeout', _lean.INT32, _lean.PLAIN, None),
    (19, 'stop_timeout_set', _lean.BOOL, _lean.PLAIN, None),
    (20, 'auto_remove', _lean.BOOL, _lean.PLAIN, None),
    (21, 'log_max_size', _lean.INT64, _lean.PLAIN, None),
    (22, 'log_max_file', _lean.INT32, _lean.PLAIN, None),
    (23, 'restart', _lean.STRING, _lean.PLAIN, None),
    (24, 'open_stdin', _lean.BOOL, _lean.PLAIN, None),
    (25, 'init', _lean.BOOL, _lean.PLAIN, None),
    (26, 'network', _lean.STRING, _lean.PLAIN, None),
    (27, 'publish', _lean.STRING, _lean.REPEATED, None),
    (28, 'publish_all', _lean.BOOL, _lean.PLAIN, None),
    (29, 'expose', _lean.STRING, _lean.REPEATED, None),
    (30, 'ip', _lean.STRING, _lean.PLAIN, None),
    (31, 'network_aliases', _lean.STRING, _lean.REPEATED, None),
    (32, 'dns', _lean.STRING, _lean.REPEATED, None),
    (33, 'dns_search', _lean.STRING, _lean.REPEATED, None),
    (34, 'dns_options', _lean.STRING, _lean.REPEATED, None),
    (35, 'add_hosts', _lean.STRING, _lean.REPEATED, None),
    (36, 'links', _lean.STRING, _lean.REPEATED, None),
    (37, 'mac_address', _lean.STRING, _lean.PLAIN, None),
    (38, 'ip6', _lean.STRING, _lean.PLAIN, None),
    (39, 'link_local_ips', _lean.STRING, _lean.REPEATED, None),
    (40, 'binds', _lean.STRING, _lean.REPEATED, None),
    (41, 'mounts', _lean.STRING, _lean.REPEATED, None),
    (42, 'tmpfs', _lean.STRING, _lean.REPEATED, None),
    (43, 'volumes_from', _lean.STRING, _lean.REPEATED, None),
    (44, 'health_cmd', _lean.STRING, _lean.REPEATED, None),
    (45, 'health_interval_ns', _lean.INT64, _lean.PLAIN, None),
    (46, 'health_timeout_ns', _lean.INT64, _lean.PLAIN, None),
    (47, 'health_start_period_ns', _lean.INT64, _lean.PLAIN, None),
    (48, 'health_retries', _lean.INT32, _lean.PLAIN, None),
    (49, 'no_healthcheck', _lean.BOOL, _lean.PLAIN, None),
    (50, 'pid_mode', _lean.STRING, _lean.PLAIN, None),
    (51, 'ipc_mode', _lean.STRING, _lean.PLAIN, None),
    (52, 'uts_mode', _lean.STRING, _lean.PLAIN, None),
    (53, 'cgroupns_mode', _lean.STRING, _lean.PLAIN, None),
    (54, 'group_add', _lean.STRING, _lean.REPEATED, None),
    (55, 'device_cgroup_rules', _lean.STRING, _lean.REPEATED, None),
    (56, 'log_driver', _lean.STRING, _lean.PLAIN, None),
    (57, 'volume_driver', _lean.STRING, _lean.PLAIN, None),
    (70, 'privileged', _lean.BOOL, _lean.PLAIN, None),
    (71, 'cap_add', _lean.STRING, _lean.REPEATED, None),
    (72, 'cap_drop', _lean.STRING, _lean.REPEATED, None),
    (73, 'security_opt', _lean.STRING, _lean.REPEATED, None),
    (74, 'devices', _lean.STRING, _lean.REPEATED, None),
    (75, 'sysctls', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
    (76, 'ulimits', _lean.STRING, _lean.REPEATED, None),
    (77, 'shm_size', _lean.INT64, _lean.PLAIN, None),
    (78, 'oom_score_adj', _lean.INT32, _lean.PLAIN, None),
)
CreateContainerResponse._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'warnings', _lean.STRING, _lean.REPEATED, None),
)
StartContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
)
StartContainerResponse._fields = ()
StopContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'timeout', _lean.INT32, _lean.PLAIN, None),
    (3, 'timeout_set', _lean.BOOL, _lean.PLAIN, None),
)
StopContainerResponse._fields = ()
KillContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'signal', _lean.STRING, _lean.PLAIN, None),
)
KillContainerResponse._fields = ()
RemoveContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'force', _lean.BOOL, _lean.PLAIN, None),
    (3, 'volumes', _lean.BOOL, _lean.PLAIN, None),
)
RemoveContainerResponse._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
)
ListContainersRequest._fields = (
    (1, 'all', _lean.BOOL, _lean.PLAIN, None),
    (2, 'filters', _lean.STRING, _lean.REPEATED, None),
    (3, 'size', _lean.BOOL, _lean.PLAIN, None),
)
ContainerSummary._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'names', _lean.STRING, _lean.REPEATED, None),
    (3, 'image', _lean.STRING, _lean.PLAIN, None),
    (4, 'image_id', _lean.STRING, _lean.PLAIN, None),
    (5, 'command', _lean.STRING, _lean.PLAIN, None),
    (6, 'created', _lean.INT64, _lean.PLAIN, None),
    (7, 'state', _lean.STRING, _lean.PLAIN, None),
    (8, 'status', _lean.STRING, _lean.PLAIN, None),
    (9, 'labels', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
    (10, 'size_rw', _lean.INT64, _lean.PLAIN, None),
    (11, 'size_root_fs', _lean.INT64, _lean.PLAIN, None),
    (12, 'ports', _lean.MESSAGE, _lean.REPEATED, PortMapping),
    (13, 'networks', _lean.STRING, _lean.REPEATED, None),
)
PortMapping._fields = (
    (1, 'ip', _lean.STRING, _lean.PLAIN, None),
    (2, 'private_port', _lean.UINT32, _lean.PLAIN, None),
    (3, 'public_port', _lean.UINT32, _lean.PLAIN, None),
    (4, 'type', _lean.STRING, _lean.PLAIN, None),
)
ListContainersResponse._fields = (
    (1, 'containers', _lean.MESSAGE, _lean.REPEATED, ContainerSummary),
)
InspectContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
)
InspectContainerResponse._fields = (
    (1, 'json', _lean.STRING, _lean.PLAIN, None),
)
WaitContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'condition', _lean.STRING, _lean.PLAIN, None),
)
WaitContainerResponse._fields = (
    (1, 'status_code', _lean.INT64, _lean.PLAIN, None),
)
ContainerLogsRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'follow', _lean.BOOL, _lean.PLAIN, None),
    (3, 'tail', _lean.INT64, _lean.PLAIN, None),
    (4, 'since', _lean.INT64, _lean.PLAIN, None),
    (5, 'until', _lean.INT64, _lean.PLAIN, None),
    (6, 'stdout', _lean.BOOL, _lean.PLAIN, None),
    (7, 'stderr', _lean.BOOL, _lean.PLAIN, None),
)
LogEntry._fields = (
    (1, 'stream', _lean.STRING, _lean.PLAIN, None),
    (2, 'data', _lean.BYTES, _lean.PLAIN, None),
    (3, 'time_nano', _lean.INT64, _lean.PLAIN, None),
)
ExecRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'cmd', _lean.STRING, _lean.REPEATED, None),
    (3, 'env', _lean.STRING, _lean.REPEATED, None),
    (4, 'workdir', _lean.STRING, _lean.PLAIN, None),
    (5, 'user', _lean.STRING, _lean.PLAIN, None),
)
ExecOutput._fields = (
    (1, 'stream', _lean.STRING, _lean.PLAIN, None),
    (2, 'data', _lean.BYTES, _lean.PLAIN, None),
    (3, 'exited', _lean.BOOL, _lean.PLAIN, None),
    (4, 'exit_code', _lean.INT32, _lean.PLAIN, None),
    (5, 'detached', _lean.BOOL, _lean.PLAIN, None),
)
RestartContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'timeout', _lean.INT32, _lean.PLAIN, None),
    (3, 'timeout_set', _lean.BOOL, _lean.PLAIN, None),
)
RestartContainerResponse._fields = ()
RenameContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'name', _lean.STRING, _lean.PLAIN, None),
)
RenameContainerResponse._fields = ()
PruneContainersRequest._fields = ()
PruneContainersResponse._fields = (
    (1, 'deleted', _lean.STRING, _lean.REPEATED, None),
    (2, 'space_reclaimed', _lean.INT64, _lean.PLAIN, None),
)
StdinChunk._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'data', _lean.BYTES, _lean.PLAIN, None),
)
WriteStdinResponse._fields = ()
DiffContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
)
FileChange._fields = (
    (1, 'kind', _lean.STRING, _lean.PLAIN, None),
    (2, 'path', _lean.STRING, _lean.PLAIN, None),
)
DiffContainerResponse._fields = (
    (1, 'changes', _lean.MESSAGE, _lean.REPEATED, FileChange),
)
ExportContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
)
CopyFromContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'path', _lean.STRING, _lean.PLAIN, None),
    (3, 'follow_link', _lean.BOOL, _lean.PLAIN, None),
    (4, 'stat_only', _lean.BOOL, _lean.PLAIN, None),
)
ContainerPathStat._fields = (
    (1, 'name', _lean.STRING, _lean.PLAIN, None),
    (2, 'mode', _lean.UINT32, _lean.PLAIN, None),
    (3, 'size', _lean.INT64, _lean.PLAIN, None),
    (4, 'mtime', _lean.INT64, _lean.PLAIN, None),
    (5, 'link_target', _lean.STRING, _lean.PLAIN, None),
)
CopyFromContainerResponse._fields = (
    (1, 'stat', _lean.MESSAGE, _lean.PRESENCE, ContainerPathStat),
    (2, 'data', _lean.BYTES, _lean.PRESENCE, None),
)
CopyToHeader._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'path', _lean.STRING, _lean.PLAIN, None),
)
CopyToContainerRequest._fields = (
    (1, 'header', _lean.MESSAGE, _lean.PRESENCE, CopyToHeader),
    (2, 'data', _lean.BYTES, _lean.PRESENCE, None),
)
CopyToContainerResponse._fields = ()
CommitContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'reference', _lean.STRING, _lean.PLAIN, None),
    (3, 'comment', _lean.STRING, _lean.PLAIN, None),
    (4, 'author', _lean.STRING, _lean.PLAIN, None),
    (5, 'changes', _lean.STRING, _lean.REPEATED, None),
    (6, 'no_pause', _lean.BOOL, _lean.PLAIN, None),
)
CommitContainerResponse._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
)
PauseContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
)
PauseContainerResponse._fields = ()
UnpauseContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
)
UnpauseContainerResponse._fields = ()
TopContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'ps_args', _lean.STRING, _lean.REPEATED, None),
)
TopRow._fields = (
    (1, 'fields', _lean.STRING, _lean.REPEATED, None),
)
TopContainerResponse._fields = (
    (1, 'titles', _lean.STRING, _lean.REPEATED, None),
    (2, 'processes', _lean.MESSAGE, _lean.REPEATED, TopRow),
)
UpdateContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'memory', _lean.INT64, _lean.PLAIN, None),
    (3, 'memory_set', _lean.BOOL, _lean.PLAIN, None),
    (4, 'memory_swap', _lean.INT64, _lean.PLAIN, None),
    (5, 'memory_swap_set', _lean.BOOL, _lean.PLAIN, None),
    (6, 'nano_cpus', _lean.INT64, _lean.PLAIN, None),
    (7, 'nano_cpus_set', _lean.BOOL, _lean.PLAIN, None),
    (8, 'cpu_shares', _lean.INT64, _lean.PLAIN, None),
    (9, 'cpu_shares_set', _lean.BOOL, _lean.PLAIN, None),
    (10, 'cpu_quota', _lean.INT64, _lean.PLAIN, None),
    (11, 'cpu_quota_set', _lean.BOOL, _lean.PLAIN, None),
    (12, 'cpu_period', _lean.INT64, _lean.PLAIN, None),
    (13, 'cpu_period_set', _lean.BOOL, _lean.PLAIN, None),
    (14, 'cpuset_cpus', _lean.STRING, _lean.PLAIN, None),
    (15, 'pids_limit', _lean.INT64, _lean.PLAIN, None),
    (16, 'pids_limit_set', _lean.BOOL, _lean.PLAIN, None),
    (17, 'restart', _lean.STRING, _lean.PLAIN, None),
)
UpdateContainerResponse._fields = (
    (1, 'warnings', _lean.STRING, _lean.REPEATED, None),
)
ContainerStatsRequest._fields = (
    (1, 'ids', _lean.STRING, _lean.REPEATED, None),
    (2, 'stream', _lean.BOOL, _lean.PLAIN, None),
)
ContainerStats._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'name', _lean.STRING, _lean.PLAIN, None),
    (3, 'cpu_percent', _lean.DOUBLE, _lean.PLAIN, None),
    (4, 'memory_usage', _lean.UINT64, _lean.PLAIN, None),
    (5, 'memory_limit', _lean.UINT64, _lean.PLAIN, None),
    (6, 'memory_percent', _lean.DOUBLE, _lean.PLAIN, None),
    (7, 'net_rx', _lean.UINT64, _lean.PLAIN, None),
    (8, 'net_tx', _lean.UINT64, _lean.PLAIN, None),
    (9, 'block_read', _lean.UINT64, _lean.PLAIN, None),
    (10, 'block_write', _lean.UINT64, _lean.PLAIN, None),
    (11, 'pids', _lean.UINT64, _lean.PLAIN, None),
    (12, 'running', _lean.BOOL, _lean.PLAIN, None),
)
ContainerStatsFrame._fields = (
    (1, 'containers', _lean.MESSAGE, _lean.REPEATED, ContainerStats),
)
AttachInput._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'stdin', _lean.BOOL, _lean.PLAIN, None),
    (3, 'stdout', _lean.BOOL, _lean.PLAIN, None),
    (4, 'stderr', _lean.BOOL, _lean.PLAIN, None),
    (5, 'detach_keys', _lean.STRING, _lean.PLAIN, None),
    (6, 'stdin_once', _lean.BOOL, _lean.PLAIN, None),
    (7, 'data', _lean.BYTES, _lean.PLAIN, None),
    (8, 'height', _lean.UINT32, _lean.PLAIN, None),
    (9, 'width', _lean.UINT32, _lean.PLAIN, None),
)
AttachOutput._fields = (
    (1, 'stream', _lean.STRING, _lean.PLAIN, None),
    (2, 'data', _lean.BYTES, _lean.PLAIN, None),
    (3, 'exited', _lean.BOOL, _lean.PLAIN, None),
    (4, 'exit_code', _lean.INT32, _lean.PLAIN, None),
    (5, 'detached', _lean.BOOL, _lean.PLAIN, None),
)
ExecInput._fields = (
    (1, 'start', _lean.MESSAGE, _lean.PLAIN, ExecRequest),
    (2, 'tty', _lean.BOOL, _lean.PLAIN, None),
    (3, 'stdin', _lean.BOOL, _lean.PLAIN, None),
    (4, 'detach', _lean.BOOL, _lean.PLAIN, None),
    (5, 'detach_keys', _lean.STRING, _lean.PLAIN, None),
    (6, 'data', _lean.BYTES, _lean.PLAIN, None),
    (7, 'height', _lean.UINT32, _lean.PLAIN, None),
    (8, 'width', _lean.UINT32, _lean.PLAIN, None),
)
PortContainerRequest._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
)
PortContainerResponse._fields = (
    (1, 'ports', _lean.MESSAGE, _lean.REPEATED, PortMapping),
)
