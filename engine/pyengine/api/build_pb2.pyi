from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BuildSecret(_message.Message):
    __slots__ = ("id", "data")
    ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    data: bytes
    def __init__(self, id: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class BuildOptions(_message.Message):
    __slots__ = ("tags", "dockerfile", "build_args", "target", "no_cache", "pull", "labels", "network", "quiet", "platform", "dockerfile_content", "secrets", "extra_hosts", "registry_auth", "ignore_file", "has_ignore_file", "cache_from")
    class BuildArgsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DOCKERFILE_FIELD_NUMBER: _ClassVar[int]
    BUILD_ARGS_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    NO_CACHE_FIELD_NUMBER: _ClassVar[int]
    PULL_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    QUIET_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    DOCKERFILE_CONTENT_FIELD_NUMBER: _ClassVar[int]
    SECRETS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_HOSTS_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_AUTH_FIELD_NUMBER: _ClassVar[int]
    IGNORE_FILE_FIELD_NUMBER: _ClassVar[int]
    HAS_IGNORE_FILE_FIELD_NUMBER: _ClassVar[int]
    CACHE_FROM_FIELD_NUMBER: _ClassVar[int]
    tags: _containers.RepeatedScalarFieldContainer[str]
    dockerfile: str
    build_args: _containers.ScalarMap[str, str]
    target: str
    no_cache: bool
    pull: bool
    labels: _containers.ScalarMap[str, str]
    network: str
    quiet: bool
    platform: str
    dockerfile_content: bytes
    secrets: _containers.RepeatedCompositeFieldContainer[BuildSecret]
    extra_hosts: _containers.RepeatedScalarFieldContainer[str]
    registry_auth: _containers.RepeatedCompositeFieldContainer[_common_pb2.RegistryAuth]
    ignore_file: str
    has_ignore_file: bool
    cache_from: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tags: _Optional[_Iterable[str]] = ..., dockerfile: _Optional[str] = ..., build_args: _Optional[_Mapping[str, str]] = ..., target: _Optional[str] = ..., no_cache: _Optional[bool] = ..., pull: _Optional[bool] = ..., labels: _Optional[_Mapping[str, str]] = ..., network: _Optional[str] = ..., quiet: _Optional[bool] = ..., platform: _Optional[str] = ..., dockerfile_content: _Optional[bytes] = ..., secrets: _Optional[_Iterable[_Union[BuildSecret, _Mapping]]] = ..., extra_hosts: _Optional[_Iterable[str]] = ..., registry_auth: _Optional[_Iterable[_Union[_common_pb2.RegistryAuth, _Mapping]]] = ..., ignore_file: _Optional[str] = ..., has_ignore_file: _Optional[bool] = ..., cache_from: _Optional[_Iterable[str]] = ...) -> None: ...

class BuildRequest(_message.Message):
    __slots__ = ("options", "context")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    options: BuildOptions
    context: bytes
    def __init__(self, options: _Optional[_Union[BuildOptions, _Mapping]] = ..., context: _Optional[bytes] = ...) -> None: ...

class BuildStep(_message.Message):
    __slots__ = ("index", "total", "stage", "stage_index", "stage_steps", "instruction", "container_id")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STAGE_INDEX_FIELD_NUMBER: _ClassVar[int]
    STAGE_STEPS_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    index: int
    total: int
    stage: str
    stage_index: int
    stage_steps: int
    instruction: str
    container_id: str
    def __init__(self, index: _Optional[int] = ..., total: _Optional[int] = ..., stage: _Optional[str] = ..., stage_index: _Optional[int] = ..., stage_steps: _Optional[int] = ..., instruction: _Optional[str] = ..., container_id: _Optional[str] = ...) -> None: ...

class BuildStepDone(_message.Message):
    __slots__ = ("index", "cached", "duration_ns", "result_id")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    DURATION_NS_FIELD_NUMBER: _ClassVar[int]
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    index: int
    cached: bool
    duration_ns: int
    result_id: str
    def __init__(self, index: _Optional[int] = ..., cached: _Optional[bool] = ..., duration_ns: _Optional[int] = ..., result_id: _Optional[str] = ...) -> None: ...

class BuildOutput(_message.Message):
    __slots__ = ("index", "stream", "data")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    index: int
    stream: int
    data: bytes
    def __init__(self, index: _Optional[int] = ..., stream: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class BuildResult(_message.Message):
    __slots__ = ("image_id", "tags")
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, image_id: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class BuildFailure(_message.Message):
    __slots__ = ("index", "message", "exit_code")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    index: int
    message: str
    exit_code: int
    def __init__(self, index: _Optional[int] = ..., message: _Optional[str] = ..., exit_code: _Optional[int] = ...) -> None: ...

class BuildEvent(_message.Message):
    __slots__ = ("step", "done", "output", "result", "pull", "warning", "failure")
    STEP_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    PULL_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    step: BuildStep
    done: BuildStepDone
    output: BuildOutput
    result: BuildResult
    pull: _common_pb2.Progress
    warning: str
    failure: BuildFailure
    def __init__(self, step: _Optional[_Union[BuildStep, _Mapping]] = ..., done: _Optional[_Union[BuildStepDone, _Mapping]] = ..., output: _Optional[_Union[BuildOutput, _Mapping]] = ..., result: _Optional[_Union[BuildResult, _Mapping]] = ..., pull: _Optional[_Union[_common_pb2.Progress, _Mapping]] = ..., warning: _Optional[str] = ..., failure: _Optional[_Union[BuildFailure, _Mapping]] = ...) -> None: ...

class PruneBuildCacheRequest(_message.Message):
    __slots__ = ("all", "until", "keep_storage")
    ALL_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    KEEP_STORAGE_FIELD_NUMBER: _ClassVar[int]
    all: bool
    until: str
    keep_storage: int
    def __init__(self, all: _Optional[bool] = ..., until: _Optional[str] = ..., keep_storage: _Optional[int] = ...) -> None: ...

class PruneBuildCacheResponse(_message.Message):
    __slots__ = ("deleted", "space_reclaimed")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    SPACE_RECLAIMED_FIELD_NUMBER: _ClassVar[int]
    deleted: _containers.RepeatedScalarFieldContainer[str]
    space_reclaimed: int
    def __init__(self, deleted: _Optional[_Iterable[str]] = ..., space_reclaimed: _Optional[int] = ...) -> None: ...

class BuildCacheUsageRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class BuildCacheRecord(_message.Message):
    __slots__ = ("id", "kind", "description", "size", "created_at", "last_used_at", "usage_count", "in_use", "shared")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    USAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    IN_USE_FIELD_NUMBER: _ClassVar[int]
    SHARED_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    description: str
    size: int
    created_at: str
    last_used_at: str
    usage_count: int
    in_use: bool
    shared: bool
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., description: _Optional[str] = ..., size: _Optional[int] = ..., created_at: _Optional[str] = ..., last_used_at: _Optional[str] = ..., usage_count: _Optional[int] = ..., in_use: _Optional[bool] = ..., shared: _Optional[bool] = ...) -> None: ...

class BuildCacheUsageResponse(_message.Message):
    __slots__ = ("records", "size", "reclaimable")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    RECLAIMABLE_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[BuildCacheRecord]
    size: int
    reclaimable: int
    def __init__(self, records: _Optional[_Iterable[_Union[BuildCacheRecord, _Mapping]]] = ..., size: _Optional[int] = ..., reclaimable: _Optional[int] = ...) -> None: ...
