"""pyrunc.log: containerd's JSON lines and logrus text lines, stderr vs --log file."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyrunc import log

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
LOGRUS = re.compile(r'^time="(?P<time>[^"]+)" level=(?P<level>\w+) msg=(?P<msg>"(?:[^"\\]|\\.)*"'
                    r'|\S+)$')


@pytest.fixture(autouse=True)
def reset_log() -> Iterator[None]:
    saved = (log._log_path, log._log_format, log._debug)
    yield
    log._log_path, log._log_format, log._debug = saved


def parse_time(text: str) -> datetime.datetime:
    assert RFC3339.match(text), text
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("msg", ["container does not exist", 'quote " and \\ back\nslash',
                                 "ünïcode ✓", ""])
def test_json_line(msg: str) -> None:
    log.configure(None, "json", False)
    line = log.format_line("error", msg)
    assert line.endswith("\n") and line.count("\n") == 1
    obj = json.loads(line)
    assert set(obj) == {"level", "msg", "time"}
    assert obj["level"] == "error" and obj["msg"] == msg
    when = parse_time(obj["time"])
    now = datetime.datetime.now(datetime.UTC)
    assert abs((now - when).total_seconds()) < 3600  # UTC, not local time labelled Z


def test_text_line_is_logrus_format() -> None:
    log.configure(None, "text", False)
    line = log.format_line("error", "container does not exist")
    assert line.endswith("\n") and line.count("\n") == 1
    m = LOGRUS.match(line.rstrip("\n"))
    assert m, line
    assert m["level"] == "error"
    assert m["msg"].strip('"') == "container does not exist"
    parse_time(m["time"])


def test_text_line_escapes_newlines() -> None:
    log.configure(None, "text", False)
    line = log.format_line("warning", "two\nlines")
    assert line.count("\n") == 1


def test_error_without_log_file_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    log.configure(None, "text", False)
    log.error("boom")
    out, err = capsys.readouterr()
    assert out == ""
    assert LOGRUS.match(err.rstrip("\n")) and "boom" in err


def test_error_with_json_log_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "log.json"
    log.configure(str(path), "json", False)
    log.error("first failure")
    log.error("second failure")
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "first failure\nsecond failure\n"  # the bare message, as runc does
    lines = path.read_text().splitlines()
    objs = [json.loads(line) for line in lines]
    assert [o["msg"] for o in objs] == ["first failure", "second failure"]
    assert all(o["level"] == "error" for o in objs)
    for o in objs:
        parse_time(o["time"])


def test_existing_log_file_is_appended(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "log.json"
    path.write_text('{"level":"info","msg":"earlier","time":"2026-01-01T00:00:00Z"}\n')
    log.configure(str(path), "json", False)
    log.error("later")
    capsys.readouterr()
    assert [json.loads(x)["msg"] for x in path.read_text().splitlines()] == ["earlier", "later"]


def test_warning_does_not_pollute_a_podman_log(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """podman parses the whole --log file as ONE object: warnings stay out without --debug."""
    path = tmp_path / "oci-log"
    log.configure(str(path), "json", False)
    log.warning("poststart hook failed")
    log.debug("noise")
    log.error("the error")
    capsys.readouterr()
    assert json.loads(path.read_text())["msg"] == "the error"


def test_debug_only_with_debug(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log.configure(None, "text", False)
    log.debug("hidden")
    assert capsys.readouterr().err == ""
    log.configure(None, "text", True)
    log.debug("shown")
    assert "shown" in capsys.readouterr().err


def test_unwritable_log_falls_back_to_stderr(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    log.configure(str(tmp_path / "missing-dir" / "log.json"), "json", False)
    log.error("still visible")
    assert "still visible" in capsys.readouterr().err
