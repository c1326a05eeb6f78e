"""Runtime logging with runc's conventions (--log, --log-format text|json, --debug).

Without --log, messages go to stderr as logrus text lines. With --log, the file gets formatted
lines (JSON objects {"level","msg","time"} for containerd's and podman's parsers) and stderr gets
the bare error message (conmon forwards stderr when the log cannot be read). Only errors (and
debug lines with --debug) are written to the file: podman parses the whole file as ONE object.
"""

from __future__ import annotations

import os
import sys
import time
from _json import encode_basestring as _quote

_log_path: str | None = None
_log_format = "text"
_debug = False


def configure(path: str | None, fmt: str, debug: bool) -> None:
    global _log_path, _log_format, _debug
    _log_path, _log_format, _debug = path or None, fmt, debug


def _timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def format_line(level: str, msg: str) -> str:
    if _log_format == "json":
        return f'{{"level":{_quote(level)},"msg":{_quote(msg)},"time":"{_timestamp()}"}}\n'
    return f'time="{_timestamp()}" level={level} msg={_quote(msg)}\n'


def _append(line: str) -> None:
    assert _log_path is not None
    try:
        fd = os.open(_log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        sys.stderr.write(line)
        return
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def error(msg: str) -> None:
    if _log_path:
        _append(format_line("error", msg))
        sys.stderr.write(msg + "\n")
    else:
        sys.stderr.write(format_line("error", msg))
    sys.stderr.flush()


def warning(msg: str) -> None:
    line = format_line("warning", msg)
    if _log_path and _debug:
        _append(line)
    sys.stderr.write(line)
    sys.stderr.flush()


def debug(msg: str) -> None:
    if not _debug:
        return
    line = format_line("debug", msg)
    if _log_path:
        _append(line)
    else:
        sys.stderr.write(line)
        sys.stderr.flush()


def debug_enabled() -> bool:
    return _debug


def phase(what: str) -> None:
    """With --debug: a timestamped step (ms since the process started), for finding where a
    create spends its time."""
    if _debug:
        debug(f"{what} (+{(time.monotonic() - _T0) * 1000:.1f} ms, pid {os.getpid()})")


_T0 = time.monotonic()
