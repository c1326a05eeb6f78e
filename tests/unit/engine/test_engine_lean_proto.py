"""The lean message classes (tools/gen-proto's *_lean.py, pyengine.api.lean) speak the same wire
format as the protobuf library's generated classes, for every message of the engine API: random
values (unicode, negative and extreme integers, maps, repeated, nested messages, oneofs, presence
fields set to their default) encoded by one side and decoded by the other. A field added to a
.proto and regenerated into *_pb2 only fails here; a lean module not regenerated fails too.
The same for data/leantest/v1/*.proto, generated here: every field kind, nested and enum types,
cross-file references, proto2, a keyword as a field name -- what future protos may use."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import random
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from pyengine.api import lean

REPO = Path(__file__).resolve().parents[3]
API = REPO / "engine" / "pyengine" / "api"
MODULES = sorted(p.name.removesuffix("_pb2.py") for p in API.glob("*_pb2.py"))
LEANTEST = Path(__file__).resolve().parent / "data"
ROUNDS = 25

INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(1 << 31), (1 << 31) - 1),
    FieldDescriptor.TYPE_SINT32: (-(1 << 31), (1 << 31) - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(1 << 31), (1 << 31) - 1),
    FieldDescriptor.TYPE_INT64: (-(1 << 63), (1 << 63) - 1),
    FieldDescriptor.TYPE_SINT64: (-(1 << 63), (1 << 63) - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(1 << 63), (1 << 63) - 1),
    FieldDescriptor.TYPE_UINT32: (0, (1 << 32) - 1),
    FieldDescriptor.TYPE_FIXED32: (0, (1 << 32) - 1),
    FieldDescriptor.TYPE_UINT64: (0, (1 << 64) - 1),
    FieldDescriptor.TYPE_FIXED64: (0, (1 << 64) - 1),
}
TEXT = "aZ0 -_/:\t\n\"'\\éü漢字🐳\u200b\x00\x7f"


def all_messages() -> list[tuple[str, Descriptor]]:
    found = []

    def walk(module: str, descriptor: Descriptor) -> None:
        if not descriptor.GetOptions().map_entry:
            found.append((module, descriptor))
            for nested in descriptor.nested_types:
                walk(module, nested)

    for module in MODULES:
        pb2 = importlib.import_module(f"pyengine.api.{module}_pb2")
        for descriptor in pb2.DESCRIPTOR.message_types_by_name.values():
            walk(module, descriptor)
    return found


MESSAGES = all_messages()


def classes(module: str, descriptor: Descriptor) -> tuple[Any, Any]:
    """(the *_pb2 class, the *_lean class) of a message (in whichever module defines it)."""
    name = descriptor.file.name.removesuffix(".proto")
    package = "pyengine.api" if name.startswith("pyengine/v1/") else \
        name.rsplit("/", 1)[0].replace("/", ".")
    name = name.rsplit("/", 1)[-1]
    pb2: Any = importlib.import_module(f"{package}.{name}_pb2")
    lean_module: Any = importlib.import_module(f"{package}.{name}_lean")
    path = descriptor.full_name.removeprefix(descriptor.file.package + ".").split(".")
    for part in path:
        pb2, lean_module = getattr(pb2, part), getattr(lean_module, part)
    return pb2, lean_module


def is_map(field: FieldDescriptor) -> bool:
    return (field.type == FieldDescriptor.TYPE_MESSAGE
            and field.message_type.GetOptions().map_entry)


def has_presence(field: FieldDescriptor) -> bool:
    return not field.is_repeated and field.has_presence


def scalar(rng: random.Random, field: FieldDescriptor) -> Any:
    kind = field.type
    if kind in INT_RANGES:
        low, high = INT_RANGES[kind]
        return rng.choice([low, high, 0, -1 if low else 1, rng.randint(low, high)])
    if kind == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if kind == FieldDescriptor.TYPE_ENUM:
        return rng.choice([v.number for v in field.enum_type.values])
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return rng.choice([0.5, -1e300, -0.0, rng.uniform(-1e9, 1e9)])
    if kind == FieldDescriptor.TYPE_FLOAT:  # a value float32 holds exactly
        return rng.choice([-0.0, struct.unpack("<f", struct.pack("<f", rng.uniform(-1e6, 1e6)))[0]])
    if kind == FieldDescriptor.TYPE_STRING:
        return "".join(rng.choice(TEXT) for _ in range(rng.randint(0, 12)))
    if kind == FieldDescriptor.TYPE_BYTES:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 12)))
    raise AssertionError(f"unhandled field type {kind} ({field.full_name})")


def value_of(rng: random.Random, field: FieldDescriptor, depth: int) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return tree(rng, field.message_type, depth + 1)
    return scalar(rng, field)


def tree(rng: random.Random, descriptor: Descriptor, depth: int = 0) -> dict[str, Any]:
    """Random field values for a message: {name: value}; a missing name is an unset field."""
    values: dict[str, Any] = {}
    oneofs_done: set[str] = set()
    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and not field.has_presence:
            continue
        if oneof is not None and len(oneof.fields) > 1:  # a real oneof: at most one member
            if oneof.name in oneofs_done or rng.random() < 0.3:
                continue
            oneofs_done.add(oneof.name)
        if depth > 3 and field.type == FieldDescriptor.TYPE_MESSAGE:
            continue
        if is_map(field):
            key, item = field.message_type.fields_by_name["key"], \
                field.message_type.fields_by_name["value"]
            values[field.name] = {scalar(rng, key): value_of(rng, item, depth)
                                  for _ in range(rng.randint(0, 3))}
        elif field.is_repeated:
            values[field.name] = [value_of(rng, field, depth) for _ in range(rng.randint(0, 3))]
        elif has_presence(field) and rng.random() < 0.3:
            continue  # unset
        elif field.type != FieldDescriptor.TYPE_MESSAGE and rng.random() < 0.15:
            values[field.name] = scalar_default(field)  # set to the default (presence counts)
        else:
            values[field.name] = value_of(rng, field, depth)
    return values


def scalar_default(field: FieldDescriptor) -> Any:
    return {FieldDescriptor.TYPE_STRING: "", FieldDescriptor.TYPE_BYTES: b"",
            FieldDescriptor.TYPE_BOOL: False, FieldDescriptor.TYPE_DOUBLE: 0.0,
            FieldDescriptor.TYPE_FLOAT: 0.0}.get(field.type, 0)


def build_pb2(cls: Any, descriptor: Descriptor, values: dict[str, Any]) -> Any:
    message = cls()
    for name, value in values.items():
        field = descriptor.fields_by_name[name]
        if is_map(field):
            item = field.message_type.fields_by_name["value"]
            target = getattr(message, name)
            for key, entry in value.items():
                if item.type == FieldDescriptor.TYPE_MESSAGE:
                    target[key].CopyFrom(build_pb2(type(target[key]), item.message_type, entry))
                else:
                    target[key] = entry
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            sub_cls = type(getattr(cls(), name).add()) if field.is_repeated \
                else type(getattr(message, name))
            if field.is_repeated:
                for entry in value:
                    getattr(message, name).add().CopyFrom(
                        build_pb2(sub_cls, field.message_type, entry))
            else:
                getattr(message, name).CopyFrom(build_pb2(sub_cls, field.message_type, value))
        elif field.is_repeated:
            getattr(message, name).extend(value)
        else:
            setattr(message, name, value)
    return message


def build_lean(module: str, descriptor: Descriptor, values: dict[str, Any]) -> Any:
    _, cls = classes(module, descriptor)
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        field = descriptor.fields_by_name[name]
        if is_map(field):
            item = field.message_type.fields_by_name["value"]
            if item.type == FieldDescriptor.TYPE_MESSAGE:
                value = {k: build_lean(module, item.message_type, v) for k, v in value.items()}
            kwargs[name] = value
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                kwargs[name] = [build_lean(module, field.message_type, v) for v in value]
            else:
                kwargs[name] = build_lean(module, field.message_type, value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


def plain(message: Any, descriptor: Descriptor) -> dict[str, Any]:
    """A message's fields as {name: value} by its descriptor, through the API both kinds of
    class share (attributes, HasField)."""
    out: dict[str, Any] = {}
    for field in descriptor.fields:
        if has_presence(field) and not message.HasField(field.name):
            out[field.name] = "<unset>"
            continue
        value = getattr(message, field.name)
        if is_map(field):
            item = field.message_type.fields_by_name["value"]
            out[field.name] = {k: plain(v, item.message_type)
                               if item.type == FieldDescriptor.TYPE_MESSAGE else v
                               for k, v in value.items()}
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            out[field.name] = ([plain(v, field.message_type) for v in value]
                               if field.is_repeated
                               else plain(value, field.message_type))
        elif field.is_repeated:
            out[field.name] = list(value)
        else:
            out[field.name] = value
    return out


def has_map(descriptor: Descriptor, depth: int = 0) -> bool:
    return depth < 6 and any(
        is_map(f) or (f.type == FieldDescriptor.TYPE_MESSAGE
                      and has_map(f.message_type, depth + 1)) for f in descriptor.fields)


def round_trip(module: str, descriptor: Descriptor, rounds: int = ROUNDS) -> None:
    pb2_cls, _ = classes(module, descriptor)
    rng = random.Random(descriptor.full_name)
    for _ in range(rounds):
        values = tree(rng, descriptor)
        pb2 = build_pb2(pb2_cls, descriptor, values)
        mine = build_lean(module, descriptor, values)
        expected = plain(pb2, descriptor)
        assert plain(mine, descriptor) == expected
        # protobuf's bytes decoded lean, lean's bytes decoded by protobuf
        decoded = type(mine).FromString(pb2.SerializeToString())
        assert plain(decoded, descriptor) == expected
        assert decoded == mine
        assert pb2_cls.FromString(mine.SerializeToString()) == pb2
        if not has_map(descriptor):  # map order aside, the very same bytes
            assert mine.SerializeToString() == pb2.SerializeToString()


@pytest.mark.parametrize(("module", "descriptor"), MESSAGES,
                         ids=[d.full_name for _, d in MESSAGES])
def test_round_trip_both_ways(module: str, descriptor: Descriptor) -> None:
    round_trip(module, descriptor)


@pytest.fixture(scope="module")
def leantest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Descriptor]]:
    """data/leantest/v1/*.proto compiled by protoc (*_pb2) and by tools/gen-proto (*_lean)."""
    pytest.importorskip("grpc_tools")
    from google.protobuf import descriptor_pb2
    from grpc_tools import protoc

    out = tmp_path_factory.mktemp("leantest")
    protos = sorted(str(p.relative_to(LEANTEST)) for p in LEANTEST.glob("leantest/v1/*.proto"))
    assert protoc.main(["grpc_tools.protoc", f"-I{LEANTEST}", f"--python_out={out}",
                        f"--descriptor_set_out={out / 'set.pb'}", *protos]) == 0
    loader = importlib.machinery.SourceFileLoader("gen_proto", str(REPO / "tools" / "gen-proto"))
    spec = importlib.util.spec_from_loader("gen_proto", loader)
    assert spec is not None
    gen: Any = importlib.util.module_from_spec(spec)
    sys.modules["gen_proto"] = gen  # its dataclass looks itself up
    try:
        loader.exec_module(gen)
    finally:
        del sys.modules["gen_proto"]
    fds = descriptor_pb2.FileDescriptorSet.FromString((out / "set.pb").read_bytes())
    for name, text in gen.lean_modules(gen.Package("leantest/v1", "-", grpc=False, lean=True),
                                       fds).items():
        (out / "leantest" / "v1" / name).write_text(text)
    sys.path.insert(0, str(out))
    try:
        found = []
        for proto in protos:
            pb2 = importlib.import_module(proto.removesuffix(".proto").replace("/", ".") + "_pb2")
            for message in pb2.DESCRIPTOR.message_types_by_name.values():
                found += [d for _, d in all_nested("leantest", message)]
        yield found
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.split(".")[0] == "leantest"]:
            del sys.modules[name]


def all_nested(module: str, descriptor: Descriptor) -> list[tuple[str, Descriptor]]:
    found = [(module, descriptor)]
    for nested in descriptor.nested_types:
        if not nested.GetOptions().map_entry:
            found += all_nested(module, nested)
    return found


def test_every_field_kind_round_trips(leantest: list[Descriptor]) -> None:
    names = {d.full_name for d in leantest}
    assert {"leantest.v1.Nested.Inner.Deeper", "leantest.v1.Legacy",
            "leantest.v1.Other.Part"} <= names
    for descriptor in leantest:
        round_trip("leantest", descriptor, rounds=60)
    from leantest.v1 import all_lean, legacy_lean  # type: ignore[import-not-found]  # generated

    assert all_lean.Color.BLUE == all_lean.BLUE == -2 and all_lean.Nested.FAST == 1
    assert all_lean.EveryService.METHODS["Both"][0] == "stream_stream"
    assert legacy_lean.Legacy().HasField("count") is False
    part = all_lean.Nested(text="x")
    part.number = 0
    assert (part.WhichOneof("choice"), part.text) == ("number", "")


@pytest.mark.parametrize("module", MODULES)
def test_lean_module_has_every_message_field_and_method(module: str) -> None:
    pb2 = importlib.import_module(f"pyengine.api.{module}_pb2")
    lean_module = importlib.import_module(f"pyengine.api.{module}_lean")
    for _, descriptor in [m for m in MESSAGES if m[0] == module]:
        _, cls = classes(module, descriptor)
        assert descriptor.full_name == cls.FULL_NAME
        assert [(f[0], f[1]) for f in cls._fields] == \
            [(f.number, f.name) for f in descriptor.fields]
    for service in pb2.DESCRIPTOR.services_by_name.values():
        lean_service = getattr(lean_module, service.name)
        assert service.full_name == lean_service.FULL_NAME
        assert set(lean_service.METHODS) == set(service.methods_by_name)
        for method in service.methods:
            kind, request, response = lean_service.METHODS[method.name]
            assert method.input_type.full_name == request.FULL_NAME
            assert method.output_type.full_name == response.FULL_NAME
            assert kind == (f"{'stream' if method.client_streaming else 'unary'}_"
                            f"{'stream' if method.server_streaming else 'unary'}")


def test_decoder_accepts_what_protobuf_may_send() -> None:
    from pyengine.api import containers_lean, containers_pb2, images_lean

    # unknown fields (a newer daemon) are skipped
    newer = containers_pb2.ContainerSummary(id="abc", image="busybox").SerializeToString()
    newer += bytes([0xF8, 0x7F, 0x05])  # field 2047, varint 5
    newer += bytes([0xFA, 0x7F, 0x02]) + b"hi"  # field 2047, 2 bytes
    assert containers_lean.ContainerSummary.FromString(newer).image == "busybox"
    # a repeated scalar sent unpacked, a singular message sent in two parts (merged)
    data = bytes([0x08, 0x01, 0x08, 0x00])
    assert containers_lean.ListContainersRequest.FromString(data).all is False
    # a field with the wrong wire type is skipped, as protobuf does
    assert images_lean.ListImagesRequest.FromString(bytes([0x0A, 0x00])).all is False


@pytest.mark.parametrize("data", [b"\x0a\x05ab", b"\x08", b"\x0a\x02\xff\xfe",
                                  b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"])
def test_decoder_refuses_malformed_input(data: bytes) -> None:
    from pyengine.api import containers_lean

    with pytest.raises(lean.DecodeError):
        containers_lean.ContainerSummary.FromString(data)


def test_presence_oneof_and_defaults() -> None:
    from pyengine.api import images_lean

    request = images_lean.ListImagesRequest(all=True)
    assert not request.HasField("dangling") and request.dangling is False
    request.dangling = False
    assert request.HasField("dangling")
    assert request.SerializeToString().endswith(b"\x18\x00")
    part = images_lean.LoadImagesRequest(data=b"x")
    part.options = images_lean.LoadOptions(quiet=True)
    assert part.WhichOneof("part") == "options" and part.data == b""
    assert not images_lean.LoadImagesRequest().HasField("options")
    with pytest.raises(ValueError):
        request.HasField("all")
    with pytest.raises(AttributeError):
        images_lean.ListImagesRequest(nonesuch=1)
