"""Structured logs on stderr: JSON lines or logfmt. Callers pass fields via extra={"fields":...}."""

from __future__ import annotations

import json
import logging
import sys
import time

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
          "error": logging.ERROR}
_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning",
          logging.ERROR: "error", logging.CRITICAL: "fatal"}
_SECRET_KEYS = ("password", "secret", "token", "auth", "key")


def _record_fields(record: logging.LogRecord) -> dict:
    out = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        + f".{int(record.msecs):03d}Z",
        "level": _NAMES.get(record.levelno, record.levelname.lower()),
        "msg": record.getMessage(),
        "logger": record.name,
    }
    for key, value in (getattr(record, "fields", None) or {}).items():
        if any(s in key.lower() for s in _SECRET_KEYS) and key.lower() != "tokens":
            value = "<redacted>"
        out[key] = value
    if record.exc_info:
        out["exception"] = logging.Formatter().formatException(record.exc_info)
    return out


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_record_fields(record), default=str)


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        parts = []
        for key, value in _record_fields(record).items():
            text = str(value)
            if not text or any(c in text for c in ' "=\n\t'):
                text = json.dumps(text)
            parts.append(f"{key}={text}")
        return " ".join(parts)


def setup(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(LEVELS.get(level, logging.INFO))
    # grpc.aio logs its event-loop plumbing at debug level on every call: not the engine's
    # story, and it would drown the daemon's own debug lines
    logging.getLogger("grpc").setLevel(max(logging.INFO, root.level))
    logging.getLogger("asyncio").setLevel(max(logging.INFO, root.level))
