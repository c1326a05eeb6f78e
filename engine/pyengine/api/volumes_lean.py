"""Lean message classes of pyengine/v1/volumes.proto: written by tools/gen-proto, do not edit.

Encoded and decoded by pyengine.api.lean, without protobuf; the same fields as
volumes_pb2 (tests/unit/engine/test_engine_lean_proto.py).
"""

from __future__ import annotations

from pyengine.api import lean as _lean


class Volume(_lean.Message):
    FULL_NAME = "pyengine.v1.Volume"
    __slots__ = ('name', 'driver', 'mountpoint', 'created_at', 'labels', 'options', 'scope')
    name: str
    driver: str
    mountpoint: str
    created_at: str
    labels: dict[str, str]
    options: dict[str, str]
    scope: str


class CreateVolumeRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.CreateVolumeRequest"
    __slots__ = ('name', 'driver', 'options', 'labels')
    name: str
    driver: str
    options: dict[str, str]
    labels: dict[str, str]


class CreateVolumeResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.CreateVolumeResponse"
    __slots__ = ('volume',)
    volume: Volume


class ListVolumesRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.ListVolumesRequest"
    __slots__ = ('filters',)
    filters: list[str]


class ListVolumesResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.ListVolumesResponse"
    __slots__ = ('volumes', 'warnings')
    volumes: list[Volume]
    warnings: list[str]


class InspectVolumeRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.InspectVolumeRequest"
    __slots__ = ('name',)
    name: str


class InspectVolumeResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.InspectVolumeResponse"
    __slots__ = ('json',)
    json: str


class RemoveVolumeRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.RemoveVolumeRequest"
    __slots__ = ('name', 'force')
    name: str
    force: bool


class RemoveVolumeResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.RemoveVolumeResponse"
    __slots__ = ()


class PruneVolumesRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.PruneVolumesRequest"
    __slots__ = ('filters',)
    filters: list[str]


class PruneVolumesResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.PruneVolumesResponse"
    __slots__ = ('deleted', 'space_reclaimed')
    deleted: list[str]
    space_reclaimed: int


class VolumesService(_lean.Service):
    FULL_NAME = "pyengine.v1.VolumesService"
    METHODS = {
        'Create': ('unary_unary', CreateVolumeRequest, CreateVolumeResponse),
        'List': ('unary_unary', ListVolumesRequest, ListVolumesResponse),
        'Inspect': ('unary_unary', InspectVolumeRequest, InspectVolumeResponse),
        'Remove': ('unary_unary', RemoveVolumeRequest, RemoveVolumeResponse),
        'Prune': ('unary_unary', PruneVolumesRequest, PruneVolumesResponse),
    }


Volume._fields = (
    (1, 'name', _lean.STRING, _lean.PLAIN, None),
    (2, 'driver', _lean.STRING, _lean.PLAIN, None),
    (3, 'mountpoint', _lean.STRING, _lean.PLAIN, None),
    (4, 'created_at', _lean.STRING, _lean.PLAIN, None),
    (5, 'labels', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
    (6, 'options', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
    (7, 'scope', _lean.STRING, _lean.PLAIN, None),
)
CreateVolumeRequest._fields = (
    (1, 'name', _lean.STRING, _lean.PLAIN, None),
    (2, 'driver', _lean.STRING, _lean.PLAIN, None),
    (3, 'options', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
    (4, 'labels', _lean.MAP, _lean.REPEATED, (_lean.STRING, _lean.STRING, None)),
)
CreateVolumeResponse._fields = (
    (1, 'volume', _lean.MESSAGE, _lean.PLAIN, Volume),
)
ListVolumesRequest._fields = (
    (1, 'filters', _lean.STRING, _lean.REPEATED, None),
)
ListVolumesResponse._fields = (
    (1, 'volumes', _lean.MESSAGE, _lean.REPEATED, Volume),
    (2, 'warnings', _lean.STRING, _lean.REPEATED, None),
)
InspectVolumeRequest._fields = (
    (1, 'name', _lean.STRING, _lean.PLAIN, None),
)
InspectVolumeResponse._fields = (
    (1, 'json', _lean.STRING, _lean.PLAIN, None),
)
RemoveVolumeRequest._fields = (
    (1, 'name', _lean.STRING, _lean.PLAIN, None),
    (2, 'force', _lean.BOOL, _lean.PLAIN, None),
)
RemoveVolumeResponse._fields = ()
PruneVolumesRequest._fields = (
    (1, 'filters', _lean.STRING, _lean.REPEATED, None),
)
PruneVolumesResponse._fields = (
    (1, 'deleted', _lean.STRING, _lean.REPEATED, None),
    (2, 'space_reclaimed', _lean.INT64, _lean.PLAIN, None),
)
