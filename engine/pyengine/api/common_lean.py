"""Lean message classes of pyengine/v1/common.proto: written by tools/gen-proto, do not edit.

Encoded and decoded by pyengine.api.lean, without protobuf; the same fields as
common_pb2 (tests/unit/engine/test_engine_lean_proto.py).
"""

from __future__ import annotations

from pyengine.api import lean as _lean


class Platform(_lean.Message):
    FULL_NAME = "pyengine.v1.Platform"
    __slots__ = ('os', 'architecture', 'variant')
    os: str
    architecture: str
    variant: str


class RegistryAuth(_lean.Message):
    FULL_NAME = "pyengine.v1.RegistryAuth"
    __slots__ = ('server_address', 'username', 'password', 'identity_token')
    server_address: str
    username: str
    password: str
    identity_token: str


class Progress(_lean.Message):
    FULL_NAME = "pyengine.v1.Progress"
    __slots__ = ('id', 'status', 'current', 'total', 'result')
    id: str
    status: str
    current: int
    total: int
    result: str


class DataChunk(_lean.Message):
    FULL_NAME = "pyengine.v1.DataChunk"
    __slots__ = ('data',)
    data: bytes


Platform._fields = (
    (1, 'os', _lean.STRING, _lean.PLAIN, None),
    (2, 'architecture', _lean.STRING, _lean.PLAIN, None),
    (3, 'variant', _lean.STRING, _lean.PLAIN, None),
)
RegistryAuth._fields = (
    (1, 'server_address', _lean.STRING, _lean.PLAIN, None),
    (2, 'username', _lean.STRING, _lean.PLAIN, None),
    (3, 'password', _lean.STRING, _lean.PLAIN, None),
    (4, 'identity_token', _lean.STRING, _lean.PLAIN, None),
)
Progress._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'status', _lean.STRING, _lean.PLAIN, None),
    (3, 'current', _lean.INT64, _lean.PLAIN, None),
    (4, 'total', _lean.INT64, _lean.PLAIN, None),
    (5, 'result', _lean.STRING, _lean.PLAIN, None),
)
DataChunk._fields = (
    (1, 'data', _lean.BYTES, _lean.PLAIN, None),
)
