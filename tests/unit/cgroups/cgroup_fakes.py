"""Helpers for the cgroup unit tests: fake cgroup trees (plain directories with files)."""

from __future__ import annotations

import os
from pathlib import Path

from pyrunc.spec.model import Device, DeviceRule, Resources, decode


def make_files(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in files.items():
        (directory / name).write_text(value)
    return directory


def read(path: Path, name: str) -> str:
    return (path / name).read_text()


def exists(path: Path, name: str) -> bool:
    return os.path.exists(path / name)


def resources(data: dict) -> Resources:
    """A ``linux.resources`` object, decoded like a config's."""
    return decode(Resources, data, "linux.resources")


def rules(data: list[dict]) -> list[DeviceRule]:
    return [decode(DeviceRule, d, "rule") for d in data]


def devices(data: list[dict]) -> list[Device]:
    return [decode(Device, d, "device") for d in data]
