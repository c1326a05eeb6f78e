"""pyrunc.jsonio: json-compatible loads/dumps without importing json, errors with line/column."""

from __future__ import annotations

import json
import os

import pytest
from pyrunc import jsonio

VALUES = [
    {},
    [],
    {"a": 1, "b": [1, 2.5, "x", None, True, False], "c": {"d": {}}},
    {"é": "ü\n\t\"\\", "emoji": "\U0001f600", "ctl": "\x01"},
    [[], [[]], {"": ""}],
    -12345678901234567890,
    "plain",
    None,
]


@pytest.mark.parametrize("value", VALUES)
def test_dumps_compact_matches_json(value: object) -> None:
    assert jsonio.dumps(value) == json.dumps(value, separators=(",", ":"))


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("indent", [1, 2, 4])
def test_dumps_indented_matches_json(value: object, indent: int) -> None:
    assert jsonio.dumps(value, indent=indent) == json.dumps(value, indent=indent)


@pytest.mark.parametrize("value", VALUES)
def test_round_trip(value: object) -> None:
    assert jsonio.loads(jsonio.dumps(value)) == value
    assert jsonio.loads(jsonio.dumps(value, indent=2)) == value


def test_loads_bytes_and_bom_and_whitespace() -> None:
    assert jsonio.loads(b'{"a": 1}') == {"a": 1}
    assert jsonio.loads(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    assert jsonio.loads(' \n\t[1]\r\n ') == [1]
    assert jsonio.loads('"\\u00e9"') == "é"


def test_loads_large_ints_stay_exact() -> None:
    assert jsonio.loads("18446744073709551615") == 18446744073709551615


@pytest.mark.parametrize(("doc", "line", "col"), [
    ("", 1, 1),
    ("   ", 1, 4),
    ('{"a":\n  1,,}', 2, 5),
    ('{"a": 1} x', 1, 10),
    ('{"a":1}\n\n  ]', 3, 3),
    ("[1,\n2,\n]", 3, 1),
    ('{"a" 1}', 1, 6),
    ('{\n  "a": tru\n}', 2, 8),
    ('{"a": "x}', 1, 7),
])
def test_errors_carry_line_and_column(doc: str, line: int, col: int) -> None:
    with pytest.raises(jsonio.JSONError) as info:
        jsonio.loads(doc)
    err = info.value
    assert (err.line, err.col) == (line, col)
    assert f"line {line} column {col}" in str(err)
    assert isinstance(err, ValueError)  # callers catch ValueError


def test_error_message_reads_well() -> None:
    """One clear phrase, then the position; no doubled words from json's message."""
    with pytest.raises(jsonio.JSONError) as info:
        jsonio.loads('"abc')
    text = str(info.value)
    assert "at at" not in text, text


def test_nan_is_rejected_like_go() -> None:
    """config.json is read by Go runtimes too: NaN/Infinity are not JSON."""
    for doc in ('{"a": NaN}', "[Infinity]", "-Infinity"):
        with pytest.raises(ValueError):
            jsonio.loads(doc)


def test_dumps_names_an_unserializable_value() -> None:
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        jsonio.dumps({"a": {1}})


def test_load_file_and_write_atomic(tmp_path) -> None:
    path = tmp_path / "state.json"
    jsonio.write_atomic(str(path), {"id": "c1", "pid": 5})
    assert jsonio.load_file(str(path)) == {"id": "c1", "pid": 5}
    assert os.stat(path).st_mode & 0o777 == 0o600
    jsonio.write_atomic(str(path), {"id": "c2"})
    assert json.loads(path.read_text()) == {"id": "c2"}
    assert sorted(os.listdir(tmp_path)) == ["state.json"]  # no temp file left


def test_load_file_missing_raises_filenotfound(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        jsonio.load_file(str(tmp_path / "nope.json"))
