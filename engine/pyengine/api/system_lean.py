"""Lean message classes of pyengine/v1/system.proto: written by tools/gen-proto, do not edit.

Encoded and decoded by pyengine.api.lean, without protobuf; the same fields as
system_pb2 (tests/unit/engine/test_engine_lean_proto.py).
"""

from __future__ import annotations

from pyengine.api import lean as _lean
from . import build_lean
from . import common_lean


class PingRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.PingRequest"
    __slots__ = ()


class PingResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.PingResponse"
    __slots__ = ('api_version',)
    api_version: str


class VersionRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.VersionRequest"
    __slots__ = ()


class VersionResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.VersionResponse"
    __slots__ = ('version', 'api_version', 'os', 'arch', 'kernel_version', 'python_version')
    version: str
    api_version: str
    os: str
    arch: str
    kernel_version: str
    python_version: str


class InfoRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.InfoRequest"
    __slots__ = ()


class InfoResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.InfoResponse"
    __slots__ = ('data_root', 'exec_root', 'storage_driver', 'default_runtime', 'insecure_registries', 'registry_mirrors', 'images', 'version', 'kernel_version', 'os', 'architecture', 'ncpu', 'mem_total', 'name', 'pid', 'log_level')
    data_root: str
    exec_root: str
    storage_driver: str
    default_runtime: str
    insecure_registries: list[str]
    registry_mirrors: list[str]
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


class DiskUsageRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.DiskUsageRequest"
    __slots__ = ()


class ImageUsage(_lean.Message):
    FULL_NAME = "pyengine.v1.ImageUsage"
    __slots__ = ('id', 'repo_tags', 'created', 'size', 'shared_size', 'containers')
    id: str
    repo_tags: list[str]
    created: int
    size: int
    shared_size: int
    containers: int


class DiskUsageResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.DiskUsageResponse"
    __slots__ = ('images', 'layers_size', 'content_size', 'reclaimable', 'unreferenced_blobs', 'unreferenced_snapshots', 'volumes', 'build_cache')
    images: list[ImageUsage]
    layers_size: int
    content_size: int
    reclaimable: int
    unreferenced_blobs: int
    unreferenced_snapshots: int
    volumes: list[VolumeUsage]
    build_cache: list[build_lean.BuildCacheRecord]


class VolumeUsage(_lean.Message):
    FULL_NAME = "pyengine.v1.VolumeUsage"
    __slots__ = ('name', 'links', 'size')
    name: str
    links: int
    size: int


class LoginRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.LoginRequest"
    __slots__ = ('auth',)
    auth: common_lean.RegistryAuth


class LoginResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.LoginResponse"
    __slots__ = ('status', 'identity_token')
    status: str
    identity_token: str


class EventsRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.EventsRequest"
    __slots__ = ('filters', 'since', 'until')
    filters: list[str]
    since: int
    until: int


class Event(_lean.Message):
    FULL_NAME = "pyengine.v1.Event"
    __slots__ = ('type', 'action', 'id', 'attributes', 'time_nano')
    type: str
    action: str
    id: str
    attributes: dict[str, str]
    time_nano: int


class SystemService(_lean.Service):
    FULL_NAME = "pyengine.v1.SystemService"
    METHODS = {
        'Ping': ('unary_unary', PingRequest, PingResponse),
        'Version': ('unary_unary', VersionRequest, VersionResponse),
        'Info': ('unary_unary', InfoRequest, InfoResponse),
        'DiskUsage': ('unary_unary', DiskUsageRequest, DiskUsageResponse),
        'Login': ('unary_unary', LoginRequest, LoginResponse),
        'Events': ('unary_stream', EventsRequest, Event),
    }


PingRequest._fields = ()
PingResponse._fields = (
    (1, 'api_version', _lean.STRING, _lean.PLAIN, None),
)
VersionRequest._fields = ()
VersionResponse._fields = (
    (1, 'version', _lean.STRING, _lean.PLAIN, None),
    (2, 'api_version', _lean.STRING, _lean.PLAIN, None),
    (3, 'os', _lean.STRING, _lean.PLAIN, None),
    (4, 'arch', _lean.STRING, _lean.PLAIN, None),
    (5, 'kernel_version', _lean.STRING, _lean.PLAIN, None),
    (6, 'python_version', _lean.STRING, _lean.PLAIN, None),
)
InfoRequest._fields = ()
InfoResponse._fields = (
    (1, 'data_root', _lean.STRING, _lean.PLAIN, None),
    (2, 'exec_root', _lean.STRING, _lean.PLAIN, None),
    (3, 'storage_driver', _lean.STRING, _lean.PLAIN, None),
    (4, 'default_runtime', _lean.STRING, _lean.PLAIN, None),
    (5, 'insecure_registries', _lean.STRING, _lean.REPEATED, None),
    (6, 'registry_mirrors', _lean.STRING, _lean.REPEATED, None),
    (7, 'images', _lean.INT32, _lean.PLAIN, None),
    (8, 'version', _lean.STRING, _lean.PLAIN, None),
    (9, 'kernel_version', _lean.STRING, _lean.PLAIN, None),
    (10, 'os', _lean.STRING, _lean.PLAIN, None),
    (11, 'architecture', _lean.STRING, _lean.PLAIN, None),
    (12, 'ncpu', _lean.INT32, _lean.PLAIN, None),
    (13, 'mem_total', _lean.INT64, _lean.PLAIN, None),
    (14, 'name', _lean.STRING, _lean.PLAIN, None),
    (15, 'pid', _lean.INT32, _lean.PLAIN, None),
    (16, 'log_level', _lean.STRING, _lean.PLAIN, None),
)
DiskUsageRequest._fields = ()
ImageUsage._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'repo_tags', _lean.STRING, _lean.REPEATED, None),
    (3, 'created', _lean.INT64, _lean.PLAIN, None),
    (4, 'size', _lean.INT64, _lean.PLAIN, None),
    (5, 'shared_size', _lean.INT64, _lean.PLAIN, None),
    (6, 'containers', _lean.INT32, _lean.PLAIN, None),
)
DiskUsageResponse._fields = (
    (1, 'images', _lean.MESSAGE, _lean.REPEATED, ImageUsage),
    (2, 'layers_size', _lean.INT64, _lean.PLAIN, None),
    (3, 'content_size', _lean.INT64, _lean.PLAIN, None),
    (4, 'reclaimable', _lean.INT64, _lean.PLAIN, None),
    (5, 'unreferenced_blobs', _lean.INT32, _lean.PLAIN, None),
    (6, 'unreferenced_snapshots', _lean.INT32, _lean.PLAIN, None),
    (7, 'volumes', _lean.MESSAGE, _lean.REPEATED, VolumeUsage),
    (8, 'build_cache', _lean.MESSAGE, _lean.REPEATED, build_lean.BuildCacheRecord),
)
VolumeUsage._fields = (
    (1, 'name', _lean.STRING, _lean.PLAIN, None),
    (2, 'links', _lean.INT32, _lean.PLAIN, None),
    (3, 'size', _lean.INT64, _lean.PLAIN, None),
)
LoginRequest._fields = (
    (1, 'auth', _lean.MESSAGE, _lean.PLAIN, common_lean.RegistryAuth),
)
LoginResponse._fields = (
    (1, 'status', _lean.STRING, _lean.PLAIN, None),
    (2, 'identity_token', _lean.STRING, _lean.PLAIN, None),
)
EventsRequest._fields = (
    (1, 'filters', _lean.STRING, _lean.REPEATED, None),
    (2, 'since', _lean.INT64, _lean.PLAIN, None),
    (3, 'until', _lean.INT64, _lean.PLAIN, None),
)
Event._fields = (
    (1, 'type', _lean.STRING, _lean.PLAIN, None),
    (2, 'action', _lean.STRING, _lean.PLAIN, None),
    (3, 'id', _lean.STRING, _lean.PLAIN, None),
    (4, 'attributes', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
    (5, 'time_nano', _lean.INT64, _lean.PLAIN, None),
)
