"""JSON without the ``json`` package: its decoder imports ``re`` (~9 ms per pyrunc call).

The C accelerator ``_json`` does the real work in both directions; only indentation (for human
output such as ``pyrunc state``) is done here in Python.
"""

from __future__ import annotations

import _json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _ScanContext:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> float:
        raise ValueError(f"invalid JSON constant {name}")

    memo: dict[str, str] = {}


def _unserializable(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# The C scanner only reads _ScanContext's attributes; typeshed asks for a make_scanner.
_scan = _json.make_scanner(_ScanContext())  # type: ignore[arg-type]  # duck-typed context
_encode_compact = _json.make_encoder(
    None, _unserializable, _json.encode_basestring_ascii, None, ":", ",", False, False, True
)
_encode_str = _json.encode_basestring_ascii
_WS = " \t\n\r"
# Go's encoding/json (runc, containerd) accepts 10,000 levels of nesting. The C scanner counts
# its depth against the interpreter's recursion limit (1,000 by default), so loads() raises the
# limit for the parse; the main thread's 8 MiB C stack holds that depth many times over.
MAX_DEPTH = 10_000
_PARSE_RECURSION_LIMIT = MAX_DEPTH + 250  # + the frames already on the stack


class JSONError(ValueError):
    """Malformed JSON; ``pos`` is the character offset, ``line``/``col`` are 1-based."""

    def __init__(self, msg: str, doc: str, pos: int) -> None:
        self.pos = pos
        self.line = doc.count("\n", 0, pos) + 1
        self.col = pos - doc.rfind("\n", 0, pos)
        super().__init__(f"{msg} at line {self.line} column {self.col}")


def _skip_ws(doc: str, pos: int) -> int:
    n = len(doc)
    while pos < n and doc[pos] in _WS:
        pos += 1
    return pos


def loads(doc: str | bytes) -> Any:
    if isinstance(doc, bytes | bytearray):
        # a BOM is tolerated; decoding plain utf-8 spares importing the utf-8-sig codec
        doc = (doc[3:] if doc[:3] == b"\xef\xbb\xbf" else doc).decode()
    import sys

    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, _PARSE_RECURSION_LIMIT))
    try:
        return _loads(doc)
    except RecursionError:
        raise JSONError(f"nested more than {MAX_DEPTH} levels deep", doc, 0) from None
    finally:
        sys.setrecursionlimit(old_limit)


def _loads(doc: str) -> Any:
    pos = _skip_ws(doc, 0)
    try:
        value, end = _scan(doc, pos)
    except StopIteration as stop:
        raise JSONError("expecting a value", doc, stop.value) from None
    except (ValueError, SystemError) as first:
        if "invalid JSON constant" in str(first):
            raise JSONError(str(first), doc, pos) from None
        # The C scanner can only raise its error once json.decoder is imported: do that on this
        # (rare) error path and let the full json module produce the message and position.
        import json

        try:
            json.loads(doc)
        except json.JSONDecodeError as err:
            raise JSONError(err.msg.removesuffix(" at"), doc, err.pos) from None
        except ValueError as err:  # NaN / Infinity: valid for Python, not for JSON
            raise JSONError(str(err), doc, pos) from None
        raise
    end = _skip_ws(doc, end)
    if end != len(doc):
        raise JSONError("extra data", doc, end)
    return value


def load_file(path: str) -> Any:
    with open(path, "rb") as f:
        return loads(f.read())


def dumps(value: Any, indent: int | None = None) -> str:
    if indent is None:
        return "".join(_encode_compact(value, 0))
    out: list[str] = []
    _pretty(value, out, indent, 0)
    return "".join(out)


def _pretty(value: Any, out: list[str], indent: int, level: int) -> None:
    if isinstance(value, dict) and value:
        pad = "\n" + " " * (indent * (level + 1))
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + pad + _encode_str(str(key)) + ": ")
            _pretty(item, out, indent, level + 1)
        out.append("\n" + " " * (indent * level) + "}")
    elif isinstance(value, list) and value:
        pad = "\n" + " " * (indent * (level + 1))
        out.append("[")
        for i, item in enumerate(value):
            out.append(("," if i else "") + pad)
            _pretty(item, out, indent, level + 1)
        out.append("\n" + " " * (indent * level) + "]")
    else:
        out.append("".join(_encode_compact(value, 0)))


def write_atomic(path: str, value: Any, mode: int = 0o600) -> None:
    """Write JSON to ``path`` via a temp file + rename, so readers never see half a file (and a
    kill -9 leaves the old or the new version). No fsync: state lives on tmpfs (/run), where it
    is free, and on a disk it cost 14 ms per write while guarding only against power loss."""
    import os

    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        os.write(fd, dumps(value).encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)
