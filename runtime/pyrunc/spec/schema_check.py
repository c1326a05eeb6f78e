"""Validate a parsed config.json against pyrunc's OCI runtime-spec JSON Schema.

Not on the hot path: jsonschema (50-100 ms to import) is imported on the first call only. pyrunc
runs as ``python -I -S``, so when jsonschema is not importable the interpreter's site-packages are
added first (``site.main()``), then the import is retried.

    problems = validate(config)   # [] when valid
    for p in problems: print(f"{p.path}: {p.message}")

Paths look like ``linux.namespaces[2].type``; keys that are not plain names are quoted, e.g.
``linux.sysctl["net.ipv4.ip_forward"]``. Beyond the schema, namespace types must be unique
(config-linux.md: duplicated namespaces MUST be an error).
"""

from __future__ import annotations

import os
import sys

from pyrunc.errors import PyruncError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import ModuleType
    from typing import Any

    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema",
                           "config.schema.json")
_validator: Draft202012Validator | None = None


class SchemaProblem:
    """One violation: where (a dotted path into the config) and what is wrong."""

    __slots__ = ("message", "path")

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return f"{self.path or '(config)'}: {self.message}"

    def __repr__(self) -> str:
        return f"SchemaProblem({self.path!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, SchemaProblem) and self.path == other.path
                and self.message == other.message)

    def __hash__(self) -> int:
        return hash((self.path, self.message))


def validate(config: object) -> list[SchemaProblem]:
    """All schema problems of `config` (a dict parsed from config.json), sorted by path."""
    problems = [p for error in _get_validator().iter_errors(config) for p in _problems(error)]
    problems += _duplicate_namespaces(config)
    unique = {(p.path, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.path, p.message))


def _import_jsonschema() -> ModuleType:
    try:
        import jsonschema
    except ImportError:
        import site

        site.main()  # -S skipped it: put site-packages on sys.path now
        sys.modules.pop("jsonschema", None)
        try:
            import jsonschema
        except ImportError as err:
            raise PyruncError(f"schema check: import jsonschema: {err} "
                              f"(install the jsonschema package)") from None
    return jsonschema


def _get_validator() -> Draft202012Validator:
    global _validator
    if _validator is None:
        import json

        jsonschema = _import_jsonschema()
        try:
            with open(SCHEMA_PATH, encoding="utf-8") as f:
                schema = json.load(f)
        except OSError as err:
            raise PyruncError(f"schema check: read {SCHEMA_PATH}: {err.strerror} "
                              f"(package data not installed?)") from None
        _validator = jsonschema.Draft202012Validator(schema)
    return _validator


def format_path(parts: Iterable[str | int]) -> str:
    """deque(['linux', 'namespaces', 2, 'type']) -> 'linux.namespaces[2].type'."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}" if out else part
        else:
            out += '["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out


_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
               (list, "array"), (dict, "object"), (type(None), "null"))


def _json_type(value: object) -> str:
    for py, name in _JSON_TYPES:
        if isinstance(value, py):
            return name
    return type(value).__name__


def _problems(error: ValidationError) -> list[SchemaProblem]:
    """Turn one jsonschema error into problems with a precise path and a short message."""
    path = list(error.absolute_path)
    kind = error.validator
    value: Any = error.validator_value  # the schema's value for that keyword (always set here)
    if kind == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = [name for name in value if name not in instance]
        return [SchemaProblem(format_path([*path, name]), "required field is missing")
                for name in missing]
    if kind == "type":
        want = value
        want = " or ".join(want) if isinstance(want, list) else want
        message = f"must be of type {want}, not {_json_type(error.instance)}"
    elif kind == "enum":
        allowed = ", ".join(repr(v) for v in value)
        message = f"{error.instance!r} is not one of {allowed}"
    elif kind == "pattern":
        message = f"{error.instance!r} does not match {_pattern_hint(value)}"
    elif kind in ("minimum", "maximum"):
        word = "at least" if kind == "minimum" else "at most"
        message = f"{error.instance!r} must be {word} {value}"
    elif kind == "minItems":
        message = f"must have at least {value} item(s)"
    elif kind == "minLength":
        in_keys = "propertyNames" in error.absolute_schema_path
        message = "keys must not be empty" if in_keys else "must not be empty"
    else:
        message = error.message
    return [SchemaProblem(format_path(path), message)]


_PATTERN_HINTS = {
    "^/": "an absolute path",
    "^[^=]+=": "KEY=value",
    "^CAP_[A-Z0-9_]+$": "a capability name like CAP_CHOWN",
    "^RLIMIT_[A-Z]+$": "an rlimit name like RLIMIT_NOFILE",
    "^[rwm]{0,3}$": "a combination of r, w and m",
    "^[0-9]+[KMG]B$": "a page size like 2MB",
}


def _pattern_hint(pattern: str) -> str:
    if pattern in _PATTERN_HINTS:
        return _PATTERN_HINTS[pattern]
    if pattern.startswith("^(0|[1-9]"):
        return "a SemVer 2.0.0 version like 1.0.2"
    return f"the pattern {pattern}"


def _duplicate_namespaces(config: object) -> list[SchemaProblem]:
    if not isinstance(config, dict):
        return []
    linux = config.get("linux")
    namespaces = linux.get("namespaces") if isinstance(linux, dict) else None
    if not isinstance(namespaces, list):
        return []
    seen: dict[str, int] = {}
    problems = []
    for i, ns in enumerate(namespaces):
        ns_type = ns.get("type") if isinstance(ns, dict) else None
        if not isinstance(ns_type, str):
            continue
        if ns_type in seen:
            first = f"linux.namespaces[{seen[ns_type]}]"
            problems.append(SchemaProblem(
                f"linux.namespaces[{i}].type",
                f"duplicate namespace type {ns_type!r} (first at {first})"))
        else:
            seen[ns_type] = i
    return problems
