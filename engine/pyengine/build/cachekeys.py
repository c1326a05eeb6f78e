"""The build cache's keys: a running sha256 per stage over its base and every instruction
(BUILD-DESIGN.md "The cache key"). ARG adds only its name, so a build arg no step uses busts
nothing; RUN adds the build args its environment gets, with their values."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def start(base_image_id: str) -> str:
    """k0 of a stage: its base image's id ("scratch" for none)."""
    return _sha("from\0" + (base_image_id or "scratch"))


def extend(key: str, part: str) -> str:
    return _sha(key + "\0" + part)


def run_part(text: str, flags: tuple[str, ...], args: Mapping[str, str]) -> str:
    """RUN: the command, its flags and the build args in its environment with their values."""
    pairs = "\0".join(f"{k}={v}" for k, v in sorted(args.items()))
    return "RUN\0" + "\0".join(flags) + "\0" + text + "\0|" + pairs


def copy_part(text: str, content: str) -> str:
    """COPY/ADD: the expanded instruction and the digest of what it copies."""
    return text + "\0" + content


def _sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
