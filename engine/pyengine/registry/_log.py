"""The registry's logger, without importing ``logging`` until someone could be listening.

A process that never imported ``logging`` has no handler configured, so debug and info
records could go nowhere: skipping them keeps ~10 ms of imports off a short-lived client's
start-up. Warnings and errors always go through ``logging`` (its last-resort handler).
"""

from __future__ import annotations

import sys

NAME = "pyengine.registry"
_INFO = 20


def _emit(level: int, message: str, args: tuple) -> None:
    if level < 30 and "logging" not in sys.modules:
        return
    import logging

    logging.getLogger(NAME).log(level, message, *args)


def debug(message: str, *args: object) -> None:
    _emit(10, message, args)


def info(message: str, *args: object) -> None:
    _emit(_INFO, message, args)


def warning(message: str, *args: object) -> None:
    _emit(30, message, args)
