"""Loading a bundle's config.json: parsed, then decoded once into the typed objects of
:mod:`pyrunc.spec.model` (types, ranges, enumerations, each error naming the field path, e.g.
``linux.namespaces[2].type: 'foo' is not one of pid, ...``). Nothing downstream reads the raw
JSON. The decoder is cheap enough for the hot path. Full validation against the OCI JSON schema
(jsonschema, 50-100 ms of imports) lives in :mod:`pyrunc.spec.schema_check` and runs with
``PYRUNC_VALIDATE=schema`` or ``pyrunc validate``.
"""

from __future__ import annotations

import os

from pyrunc import jsonio
from pyrunc.errors import ConfigError
from pyrunc.spec.model import Config, Process, decode, decode_config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Bundle:
    """A loaded bundle: absolute bundle dir, decoded config and absolute rootfs path."""

    __slots__ = ("config", "path", "rootfs")

    def __init__(self, path: str, config: Config, rootfs: str) -> None:
        self.path = path
        self.config = config
        self.rootfs = rootfs


def load_bundle(bundle: str) -> Bundle:
    path = os.path.abspath(bundle or ".")
    cfg_path = os.path.join(path, "config.json")
    try:
        raw = jsonio.load_file(cfg_path)
    except FileNotFoundError:
        if not os.path.isdir(path):
            raise ConfigError(f"bundle {path}: no such directory") from None
        raise ConfigError(f"load {cfg_path}: no such file or directory") from None
    except OSError as err:
        raise ConfigError(f"load {cfg_path}: {err.strerror}") from None
    except ValueError as err:
        raise ConfigError(f"load {cfg_path}: malformed JSON: {err}") from None
    if os.environ.get("PYRUNC_VALIDATE") == "schema":
        from pyrunc.spec.schema_check import validate

        problems = validate(raw)
        if problems:
            raise ConfigError(f"invalid config {cfg_path}: "
                              + "; ".join(str(p) for p in problems))
    config = decode_config(raw)
    from pyrunc.spec.rootpath import rootfs_path

    return Bundle(path, config, rootfs_path(path, config.root.path))


def check(config: Any) -> Config:
    """The typed config, or a ConfigError naming the first bad field."""
    return decode_config(config)


def check_process(process: Any, path: str = "process") -> Process:
    """A process object (also ``exec --process`` files and exec's flags)."""
    return decode(Process, process, path)
