from . import build_pb2 as _build_pb2
from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PingRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PingResponse(_message.Message):
    __slots__ = ("api_version",)
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    def __init__(self, api_version: _Optional[str] = ...) -> None: ...

class VersionRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VersionResponse(_message.Message):
    __slots__ = ("version", "api_version", "os", "arch", "kernel_version", "python_version")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    ARCH_FIELD_NUMBER: _ClassVar[int]
    KERNEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PYTHON_VERSION_FIELD_NUMBER: _ClassVar[int]
    version: str
    api_version: str
    os: str
    arch: str
    kernel_version: str
    python_version: str
    def __init__(self, version: _Optional[str] = ..., api_version: _Optional[str] = ..., os: _Optional[str] = ..., arch: _Optional[str] = ..., kernel_version: _Optional[str] = ..., python_version: _Optional[str] = ...) -> None: ...

class InfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class InfoResponse(_message.Message):
    __slots__ = ("data_root", "exec_root", "storage_driver", "default_runtime", "insecure_registries", "registry_mirrors", "images", "version", "kernel_version", "os", "architecture", "ncpu", "mem_total", "name", "pid", "log_level")
    DATA_ROOT_FIELD_NUMBER: _ClassVar[int]
    EXEC_ROOT_FIELD_NUMBER: _ClassVar[int]
    STORAGE_DRIVER_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_RUNTIME_FIELD_NUMBER: _ClassVar[int]
    INSECURE_REGISTRIES_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_MIRRORS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KERNEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    NCPU_FIELD_NUMBER: _ClassVar[int]
    MEM_TOTAL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    LOG_LEVEL_FIELD_NUMBER: _ClassVar[int]
    data_root: str
    exec_root: str
    storage_driver: str
    default_runtime: str
    insecure_registries: _containers.RepeatedScalarFieldContainer[str]
    registry_mirrors: _containers.RepeatedScalarFieldContainer[str]
    images: int
    version: str
    kernel_version: str
    os: str
    architecture: str
    ncpu: int
    mem_total: int
    name: str
    pid: int
    log_level: str
    def __init__(self, data_root: _Optional[str] = ..., exec_root: _Optional[str] = ..., storage_driver: _Optional[str] = ..., default_runtime: _Optional[str] = ..., insecure_registries: _Optional[_Iterable[str]] = ..., registry_mirrors: _Optional[_Iterable[str]] = ..., images: _Optional[int] = ..., version: _Optional[str] = ..., kernel_version: _Optional[str] = ..., os: _Optional[str] = ..., architecture: _Optional[str] = ..., ncpu: _Optional[int] = ..., mem_total: _Optional[int] = ..., name: _Optional[str] = ..., pid: _Optional[int] = ..., log_level: _Optional[str] = ...) -> None: ...

class DiskUsageRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ImageUsage(_message.Message):
    __slots__ = ("id", "repo_tags", "created", "size", "shared_size", "containers")
    ID_FIELD_NUMBER: _ClassVar[int]
    REPO_TAGS_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHARED_SIZE_FIELD_NUMBER: _ClassVar[int]
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    id: str
    repo_tags: _containers.RepeatedScalarFieldContainer[str]
    created: int
    size: int
    shared_size: int
    containers: int
    def __init__(self, id: _Optional[str] = ..., repo_tags: _Optional[_Iterable[str]] = ..., created: _Optional[int] = ..., size: _Optional[int] = ..., shared_size: _Optional[int] = ..., containers: _Optional[int] = ...) -> None: ...

class DiskUsageResponse(_message.Message):
    __slots__ = ("images", "layers_size", "content_size", "reclaimable", "unreferenced_blobs", "unreferenced_snapshots", "volumes", "build_cache")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    LAYERS_SIZE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SIZE_FIELD_NUMBER: _ClassVar[int]
    RECLAIMABLE_FIELD_NUMBER: _ClassVar[int]
    UNREFERENCED_BLOBS_FIELD_NUMBER: _ClassVar[int]
    UNREFERENCED_SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    BUILD_CACHE_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[ImageUsage]
    layers_size: int
    content_size: int
    reclaimable: int
    unreferenced_blobs: int
    unreferenced_snapshots: int
    volumes: _containers.RepeatedCompositeFieldContainer[VolumeUsage]
    build_cache: _containers.RepeatedCompositeFieldContainer[_build_pb2.BuildCacheRecord]
    def __init__(self, images: _Optional[_Iterable[_Union[ImageUsage, _Mapping]]] = ..., layers_size: _Optional[int] = ..., content_size: _Optional[int] = ..., reclaimable: _Optional[int] = ..., unreferenced_blobs: _Optional[int] = ..., unreferenced_snapshots: _Optional[int] = ..., volumes: _Optional[_Iterable[_Union[VolumeUsage, _Mapping]]] = ..., build_cache: _Optional[_Iterable[_Union[_build_pb2.BuildCacheRecord, _Mapping]]] = ...) -> None: ...

class VolumeUsage(_message.Message):
    __slots__ = ("name", "links", "size")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    name: str
    links: int
    size: int
    def __init__(self, name: _Optional[str] = ..., links: _Optional[int] = ..., size: _Optional[int] = ...) -> None: ...

class LoginRequest(_message.Message):
    __slots__ = ("auth",)
    AUTH_FIELD_NUMBER: _ClassVar[int]
    auth: _common_pb2.RegistryAuth
    def __init__(self, auth: _Optional[_Union[_common_pb2.RegistryAuth, _Mapping]] = ...) -> None: ...

class LoginResponse(_message.Message):
    __slots__ = ("status", "identity_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: str
    identity_token: str
    def __init__(self, status: _Optional[str] = ..., identity_token: _Optional[str] = ...) -> None: ...

class EventsRequest(_message.Message):
    __slots__ = ("filters", "since", "until")
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    filters: _containers.RepeatedScalarFieldContainer[str]
    since: int
    until: int
    def __init__(self, filters: _Optional[_Iterable[str]] = ..., since: _Optional[int] = ..., until: _Optional[int] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("type", "action", "id", "attributes", "time_nano")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    TIME_NANO_FIELD_NUMBER: _ClassVar[int]
    type: str
    action: str
    id: str
    attributes: _containers.ScalarMap[str, str]
    time_nano: int
    def __init__(self, type: _Optional[str] = ..., action: _Optional[str] = ..., id: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., time_nano: _Optional[int] = ...) -> None: ...
