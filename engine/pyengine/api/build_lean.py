"""Lean message classes of pyengine/v1/build.proto: written by tools/gen-proto, do not edit.

Encoded and decoded by pyengine.api.lean, without protobuf; the same fields as
build_pb2 (tests/unit/engine/test_engine_lean_proto.py).
"""

from __future__ import annotations

from pyengine.api import lean as _lean
from . import common_lean


class BuildSecret(_lean.Message):
    FULL_NAME = "pyengine.v1.BuildSecret"
    __slots__ = ('id', 'data')
    id: str
    data: bytes


class BuildOptions(_lean.Message):
    FULL_NAME = "pyengine.v1.BuildOptions"
    __slots__ = ('tags', 'dockerfile', 'build_args', 'target', 'no_cache', 'pull', 'labels', 'network', 'quiet', 'platform', 'dockerfile_content', 'secrets', 'extra_hosts', 'registry_auth', 'ignore_file', 'has_ignore_file', 'cache_from')
    tags: list[str]
    dockerfile: str
    build_args: dict[str, str]
    target: str
    no_cache: bool
    pull: bool
    labels: dict[str, str]
    network: str
    quiet: bool
    platform: str
    dockerfile_content: bytes
    secrets: list[BuildSecret]
    extra_hosts: list[str]
    registry_auth: list[common_lean.RegistryAuth]
    ignore_file: str
    has_ignore_file: bool
    cache_from: list[str]


class BuildRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.BuildRequest"
    __slots__ = ('options', 'context')
    options: BuildOptions
    context: bytes
    _oneofs = {'part': ('options', 'context')}


class BuildStep(_lean.Message):
    FULL_NAME = "pyengine.v1.BuildStep"
    __slots__ = ('index', 'total', 'stage', 'stage_index', 'stage_steps', 'instruction', 'container_id')
    index: int
    total: int
    stage: str
    stage_index: int
    stage_steps: int
    instruction: str
    container_id: str


class BuildStepDone(_lean.Message):
    FULL_NAME = "pyengine.v1.BuildStepDone"
    __slots__ = ('index', 'cached', 'duration_ns', 'result_id')
    index: int
    cached: bool
    duration_ns: int
    result_id: str


class BuildOutput(_lean.Message):
    FULL_NAME = "pyengine.v1.BuildOutput"
    __slots__ = ('index', 'stream', 'data')
    index: int
    stream: int
    data: bytes


class BuildResult(_lean.Message):
    FULL_NAME = "pyengine.v1.BuildResult"
    __slots__ = ('image_id', 'tags')
    image_id: str
    tags: list[str]


class BuildFailure(_lean.Message):
    FULL_NAME = "pyengine.v1.BuildFailure"
    __slots__ = ('index', 'message', 'exit_code')
    index: int
    message: str
    exit_code: int


class BuildEvent(_lean.Message):
    FULL_NAME = "pyengine.v1.BuildEvent"
    __slots__ = ('step', 'done', 'output', 'result', 'pull', 'warning', 'failure')
    step: BuildStep
    done: BuildStepDone
    output: BuildOutput
    result: BuildResult
    pull: common_lean.Progress
    warning: str
    failure: BuildFailure
    _oneofs = {'event': ('step', 'done', 'output', 'result', 'pull', 'warning', 'failure')}


class PruneBuildCacheRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.PruneBuildCacheRequest"
    __slots__ = ('all', 'until', 'keep_storage')
    all: bool
    until: str
    keep_storage: int


class PruneBuildCacheResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.PruneBuildCacheResponse"
    __slots__ = ('deleted', 'space_reclaimed')
    deleted: list[str]
    space_reclaimed: int


class BuildCacheUsageRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.BuildCacheUsageRequest"
    __slots__ = ()


class BuildCacheRecord(_lean.Message):
    FULL_NAME = "pyengine.v1.BuildCacheRecord"
    __slots__ = ('id', 'kind', 'description', 'size', 'created_at', 'last_used_at', 'usage_count', 'in_use', 'shared')
    id: str
    kind: str
    description: str
    size: int
    created_at: str
    last_used_at: str
    usage_count: int
    in_use: bool
    shared: bool


class BuildCacheUsageResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.BuildCacheUsageResponse"
    __slots__ = ('records', 'size', 'reclaimable')
    records: list[BuildCacheRecord]
    size: int
    reclaimable: int


class BuildsService(_lean.Service):
    FULL_NAME = "pyengine.v1.BuildsService"
    METHODS = {
        'Build': ('stream_stream', BuildRequest, BuildEvent),
        'Prune': ('unary_unary', PruneBuildCacheRequest, PruneBuildCacheResponse),
        'Usage': ('unary_unary', BuildCacheUsageRequest, BuildCacheUsageResponse),
    }


BuildSecret._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'data', _lean.BYTES, _lean.PLAIN, None),
)
BuildOptions._fields = (
    (1, 'tags', _lean.STRING, _lean.REPEATED, None),
    (2, 'dockerfile', _lean.STRING, _lean.PLAIN, None),
    (3, 'build_args', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
    (4, 'target', _lean.STRING, _lean.PLAIN, None),
    (5, 'no_cache', _lean.BOOL, _lean.PLAIN, None),
    (6, 'pull', _lean.BOOL, _lean.PLAIN, None),
    (7, 'labels', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
    (8, 'network', _lean.STRING, _lean.PLAIN, None),
    (9, 'quiet', _lean.BOOL, _lean.PLAIN, None),
    (10, 'platform', _lean.STRING, _lean.PLAIN, None),
    (11, 'dockerfile_content', _lean.BYTES, _lean.PLAIN, None),
    (12, 'secrets', _lean.MESSAGE, _lean.REPEATED, BuildSecret),
    (13, 'extra_hosts', _lean.STRING, _lean.REPEATED, None),
    (14, 'registry_auth', _lean.MESSAGE, _lean.REPEATED, common_lean.RegistryAuth),
    (15, 'ignore_file', _lean.STRING, _lean.PLAIN, None),
    (16, 'has_ignore_file', _lean.BOOL, _lean.PLAIN, None),
    (17, 'cache_from', _lean.STRING, _lean.REPEATED, None),
)
BuildRequest._fields = (
    (1, 'options', _lean.MESSAGE, _lean.PRESENCE, BuildOptions),
    (2, 'context', _lean.BYTES, _lean.PRESENCE, None),
)
BuildStep._fields = (
    (1, 'index', _lean.INT32, _lean.PLAIN, None),
    (2, 'total', _lean.INT32, _lean.PLAIN, None),
    (3, 'stage', _lean.STRING, _lean.PLAIN, None),
    (4, 'stage_index', _lean.INT32, _lean.PLAIN, None),
    (5, 'stage_steps', _lean.INT32, _lean.PLAIN, None),
    (6, 'instruction', _lean.STRING, _lean.PLAIN, None),
    (7, 'container_id', _lean.STRING, _lean.PLAIN, None),
)
BuildStepDone._fields = (
    (1, 'index', _lean.INT32, _lean.PLAIN, None),
    (2, 'cached', _lean.BOOL, _lean.PLAIN, None),
    (3, 'duration_ns', _lean.INT64, _lean.PLAIN, None),
    (4, 'result_id', _lean.STRING, _lean.PLAIN, None),
)
BuildOutput._fields = (
    (1, 'index', _lean.INT32, _lean.PLAIN, None),
    (2, 'stream', _lean.INT32, _lean.PLAIN, None),
    (3, 'data', _lean.BYTES, _lean.PLAIN, None),
)
BuildResult._fields = (
    (1, 'image_id', _lean.STRING, _lean.PLAIN, None),
    (2, 'tags', _lean.STRING, _lean.REPEATED, None),
)
BuildFailure._fields = (
    (1, 'index', _lean.INT32, _lean.PLAIN, None),
    (2, 'message', _lean.STRING, _lean.PLAIN, None),
    (3, 'exit_code', _lean.INT32, _lean.PLAIN, None),
)
BuildEvent._fields = (
    (1, 'step', _lean.MESSAGE, _lean.PRESENCE, BuildStep),
    (2, 'done', _lean.MESSAGE, _lean.PRESENCE, BuildStepDone),
    (3, 'output', _lean.MESSAGE, _lean.PRESENCE, BuildOutput),
    (4, 'result', _lean.MESSAGE, _lean.PRESENCE, BuildResult),
    (5, 'pull', _lean.MESSAGE, _lean.PRESENCE, common_lean.Progress),
    (6, 'warning', _lean.STRING, _lean.PRESENCE, None),
    (7, 'failure', _lean.MESSAGE, _lean.PRESENCE, BuildFailure),
)
PruneBuildCacheRequest._fields = (
    (1, 'all', _lean.BOOL, _lean.PLAIN, None),
    (2, 'until', _lean.STRING, _lean.PLAIN, None),
    (3, 'keep_storage', _lean.INT64, _lean.PLAIN, None),
)
PruneBuildCacheResponse._fields = (
    (1, 'deleted', _lean.STRING, _lean.REPEATED, None),
    (2, 'space_reclaimed', _lean.INT64, _lean.PLAIN, None),
)
BuildCacheUsageRequest._fields = ()
BuildCacheRecord._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'kind', _lean.STRING, _lean.PLAIN, None),
    (3, 'description', _lean.STRING, _lean.PLAIN, None),
    (4, 'size', _lean.INT64, _lean.PLAIN, None),
    (5, 'created_at', _lean.STRING, _lean.PLAIN, None),
    (6, 'last_used_at', _lean.STRING, _lean.PLAIN, None),
    (7, 'usage_count', _lean.INT32, _lean.PLAIN, None),
    (8, 'in_use', _lean.BOOL, _lean.PLAIN, None),
    (9, 'shared', _lean.BOOL, _lean.PLAIN, None),
)
BuildCacheUsageResponse._fields = (
    (1, 'records', _lean.MESSAGE, _lean.REPEATED, BuildCacheRecord),
    (2, 'size', _lean.INT64, _lean.PLAIN, None),
    (3, 'reclaimable', _lean.INT64, _lean.PLAIN, None),
)
