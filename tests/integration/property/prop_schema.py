"""The OCI runtime-spec JSON schema pyrunc ships, as a source of hypothesis strategies and as the
oracle for what a field accepts.

Only the schema keywords the shipped schema uses are understood: ``$ref`` into ``$defs``,
``type``, ``enum``, ``properties``/``required``, ``additionalProperties`` (string-keyed maps),
``items``/``minItems``, ``minimum``/``maximum``, ``minLength``, ``pattern`` (the handful of
patterns the schema spells, each mapped to a generator), ``allOf`` and the device ``if``/``then``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[3]
if str(REPO / "runtime") not in sys.path:  # this checkout's pyrunc, as spec-tests does
    sys.path.insert(0, str(REPO / "runtime"))
SCHEMA_FILE = REPO / "runtime" / "pyrunc" / "spec" / "schema" / "config.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())

JsonPath = tuple[str | int, ...]

CAPS = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE", "CAP_SETUID",
        "CAP_SETGID", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SYS_CHROOT", "CAP_NET_RAW"]
RLIMITS = ["RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_CORE", "RLIMIT_STACK", "RLIMIT_AS",
           "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE"]
NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref (and merge allOf) until a node with its own keywords."""
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/$defs/"), ref
        extra = {k: v for k, v in node.items() if k != "$ref"}
        node = {**SCHEMA["$defs"][ref.removeprefix("#/$defs/")], **extra}
    if "allOf" in node:
        merged = {k: v for k, v in node.items() if k != "allOf"}
        for part in node["allOf"]:
            part = resolve(part)
            merged["properties"] = {**part.get("properties", {}), **merged.get("properties", {})}
            merged["required"] = [*part.get("required", []), *merged.get("required", [])]
            merged.setdefault("type", part.get("type"))
        node = merged
    return node


def node_at(path: JsonPath) -> dict[str, Any] | None:
    """The schema node describing the value at path, or None where the schema says nothing
    (an unknown property: the spec tells runtimes to ignore it)."""
    node: dict[str, Any] = resolve(SCHEMA)
    for part in path:
        if isinstance(part, int):
            if "items" not in node:
                return None
            node = resolve(node["items"])
            continue
        props = node.get("properties", {})
        if part in props:
            node = resolve(props[part])
        elif isinstance(node.get("additionalProperties"), dict):
            node = resolve(node["additionalProperties"])
        else:
            return None
    extra = _posix_extra(path)
    merged = {**node, **{k: v for k, v in extra.items() if k not in ("properties", "required")}}
    merged["required"] = [*node.get("required", []),
                          *[r for r in extra.get("required", []) if r not in
                            node.get("required", [])]]
    return merged


def _posix_extra(path: JsonPath) -> dict[str, Any]:
    """What the schema's Linux ("posixRequirements") branch adds for the node at path."""
    extra: dict[str, Any] = SCHEMA["$defs"]["posixRequirements"]
    for part in path:
        if isinstance(part, int):
            return {}
        extra = extra.get("properties", {}).get(part, {})
    return resolve(extra) if extra else {}


def required_at(path: JsonPath) -> list[str]:
    """Members the schema requires in the object at path (Linux's extra requirements too)."""
    node = node_at(path)
    if node is None:
        return []
    return list(node.get("required", []))


def is_map(path: JsonPath) -> bool:
    """A string-keyed map (annotations, sysctl, unified, rdma, timeOffsets): keys are data."""
    node = node_at(path)
    return node is not None and isinstance(node.get("additionalProperties"), dict)


@dataclass(frozen=True)
class IntRange:
    lo: int | None
    hi: int | None


def int_range(node: dict[str, Any]) -> IntRange:
    return IntRange(node.get("minimum"), node.get("maximum"))


def json_type(node: dict[str, Any]) -> str | None:
    """The JSON type a schema node wants ("enum" nodes: the type of their values)."""
    if "type" in node:
        return str(node["type"])
    if "enum" in node:
        first = node["enum"][0]
        return "string" if isinstance(first, str) else "integer"
    return None


# -- strategies ------------------------------------------------------------------------------
def _pattern(pattern: str) -> st.SearchStrategy[str]:
    name = st.text(NAME_CHARS, min_size=1, max_size=8)
    if pattern == "^/":
        return st.lists(name, max_size=3).map(lambda parts: "/" + "/".join(parts))
    if pattern == "^[^=]+=":
        return st.tuples(name.map(str.upper), st.text(NAME_CHARS, max_size=8)).map("=".join)
    if pattern == "^CAP_[A-Z0-9_]+$":
        return st.sampled_from(CAPS)
    if pattern == "^RLIMIT_[A-Z]+$":
        return st.sampled_from(RLIMITS)
    if pattern == "^[rwm]{0,3}$":
        return st.sets(st.sampled_from("rwm")).map(lambda s: "".join(sorted(s)))
    if pattern == "^[0-9]+[KMG]B$":
        return st.sampled_from(["2MB", "1GB", "64KB"])
    if pattern.startswith("^(0|[1-9]"):
        return st.sampled_from(["1.0.2", "1.1.0", "1.0.0-rc.1", "1.2.0+dev"])
    raise ValueError(f"no generator for pattern {pattern}")


def _integer(node: dict[str, Any]) -> st.SearchStrategy[int]:
    lo, hi = node.get("minimum"), node.get("maximum")
    edges = [v for v in (lo, hi, 0, 1) if v is not None and (lo is None or v >= lo)
             and (hi is None or v <= hi)]
    return st.one_of(st.sampled_from(edges), st.integers(lo, hi)) if edges else st.integers(lo, hi)


def strategy(node: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Schema-valid values for node (small: a few optional members, short arrays)."""
    node = resolve(node)
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type")
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return _integer(node)
    if kind == "string":
        if "pattern" in node:
            return _pattern(node["pattern"])
        return st.text(NAME_CHARS, min_size=node.get("minLength", 0), max_size=12)
    if kind == "array":
        items = strategy(node.get("items", {"type": "string"}), depth + 1)
        return st.lists(items, min_size=node.get("minItems", 0), max_size=3 if depth < 3 else 1)
    if kind == "object" or "properties" in node:
        return _object(node, depth)
    return st.just(None)


def _object(node: dict[str, Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    props = node.get("properties", {})
    required = [k for k in node.get("required", []) if k in props]
    if not props and isinstance(node.get("additionalProperties"), dict):
        return st.dictionaries(st.text(NAME_CHARS, min_size=1, max_size=8),
                               strategy(node["additionalProperties"], depth + 1), max_size=3)
    fixed = {k: strategy(props[k], depth + 1) for k in required}
    optional = {k: strategy(v, depth + 1) for k, v in props.items() if k not in required}
    base = st.fixed_dictionaries(fixed, optional=optional)
    cond = node.get("if")
    if cond is None:
        return base
    # the device rule: c/b/u devices need major and minor
    wanted = cond["properties"]["type"]["enum"]
    then_required = node["then"]["required"]

    def fill(obj: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        if obj.get("type") in wanted:
            for k in then_required:
                obj.setdefault(k, extra[k])
        return obj

    extras = st.fixed_dictionaries({k: strategy(props[k], depth + 1) for k in then_required})
    return st.tuples(base, extras).map(lambda t: fill(*t))


def def_strategy(name: str) -> st.SearchStrategy[Any]:
    return strategy({"$ref": f"#/$defs/{name}"})


# -- paths ---------------------------------------------------------------------------------
def format_path(path: JsonPath) -> str:
    """('linux', 'devices', 0, 'major') -> 'linux.devices[0].major', and map keys in brackets,
    ('annotations', 'a.b') -> 'annotations["a.b"]': the spelling of pyrunc's config decoder
    (pyrunc.spec.model), which knows a map's keys are data, not member names."""
    out = ""
    for i, part in enumerate(path):
        if isinstance(part, int):
            out += f"[{part}]"
        elif is_map(path[:i]):
            out += f'["{part}"]'
        else:
            out += f".{part}" if out else part
    return out


def path_spellings(path: JsonPath) -> list[str]:
    """The spellings of a path pyrunc may use in a message: the decoder's (format_path) and,
    under ``PYRUNC_VALIDATE=schema``, the schema checker's (map keys that are identifiers
    dotted: it sees JSON paths without the schema)."""
    from pyrunc.spec.schema_check import format_path as schema_check_path

    return sorted({format_path(path), str(schema_check_path(path))})


def walk(value: Any, path: JsonPath = ()) -> list[tuple[JsonPath, Any]]:
    """Every (path, value) in a parsed config, parents before children."""
    out = [(path, value)]
    if isinstance(value, dict):
        for k, v in value.items():
            out += walk(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += walk(v, (*path, i))
    return out


def get(config: Any, path: JsonPath) -> Any:
    for part in path:
        config = config[part]
    return config
