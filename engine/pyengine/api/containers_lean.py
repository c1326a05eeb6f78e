"""Lean message classes of pyengine/v1/containers.proto: written by tools/gen-proto, do not edit.

Encoded and decoded by pyengine.api.lean, without protobuf; the same fields as
containers_pb2 (tests/unit/engine/test_engine_lean_proto.py).
"""

from __future__ import annotations

from pyengine.api import lean as _lean


class CreateContainerRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.CreateContainerRequest"
    __slots__ = ('name', 'image', 'cmd', 'entrypoint', 'entrypoint_set', 'env', 'workdir', 'user', 'hostname', 'labels', 'tty', 'memory', 'nano_cpus', 'pids_limit', 'runtime', 'read_only', 'stop_signal', 'stop_timeout', 'stop_timeout_set', 'auto_remove', 'log_max_size', 'log_max_file', 'restart', 'open_stdin')
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
    __slots__ = ('id', 'force')
    id: str
    force: bool


class RemoveContainerResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.RemoveContainerResponse"
    __slots__ = ('id',)
    id: str


class ListContainersRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.ListContainersRequest"
    __slots__ = ('all', 'filters')
    all: bool
    filters: list[str]


class ContainerSummary(_lean.Message):
    FULL_NAME = "pyengine.v1.ContainerSummary"
    __slots__ = ('id', 'names', 'image', 'image_id', 'command', 'created', 'state', 'status', 'labels')
    id: str
    names: list[str]
    image: str
    image_id: str
    command: str
    created: int
    state: str
    status: str
    labels: dict[str, str]


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
    __slots__ = ('stream', 'data', 'exited', 'exit_code')
    stream: str
    data: bytes
    exited: bool
    exit_code: int


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
    __slots__ = ('deleted',)
    deleted: list[str]


class StdinChunk(_lean.Message):
    FULL_NAME = "pyengine.v1.StdinChunk"
    __slots__ = ('id', 'data')
    id: str
    data: bytes


class WriteStdinResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.WriteStdinResponse"
    __slots__ = ()


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
)
RemoveContainerResponse._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
)
ListContainersRequest._fields = (
    (1, 'all', _lean.BOOL, _lean.PLAIN, None),
    (2, 'filters', _lean.STRING, _lean.REPEATED, None),
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
)
StdinChunk._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'data', _lean.BYTES, _lean.PLAIN, None),
)
WriteStdinResponse._fields = ()
