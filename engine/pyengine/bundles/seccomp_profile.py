"""A seccomp profile in docker's format (`--security-opt seccomp=<profile JSON>`: the CLI sends
the file's content) as the OCI `linux.seccomp` section, as docker's daemon reads it: the
architectures of this machine from `archMap` (or `architectures` as given), and only the rules
whose `includes`/`excludes` (capabilities, architectures, minimum kernel) fit the container."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from pyengine.bundles.errors import InvalidContainerConfig
from pyengine.bundles.seccomp import host_arch

RULE_FIELDS = ("names", "action", "args", "errnoRet")


def _kernel() -> tuple[int, ...]:
    parts = []
    for piece in os.uname().release.split("-", 1)[0].split(".")[:2]:
        parts.append(int(piece) if piece.isdigit() else 0)
    return tuple(parts)


def _kernel_version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split(".")[:2])
    except ValueError:
        raise InvalidContainerConfig(f"Decoding seccomp profile failed: invalid kernel "
                                     f"version: {text}") from None


def _applies(rule: Mapping[str, Any], caps: set[str], arch: str) -> bool:
    includes = rule.get("includes") or {}
    excludes = rule.get("excludes") or {}
    if includes.get("arches") and arch not in includes["arches"]:
        return False
    if any(c not in caps for c in includes.get("caps") or ()):
        return False
    if includes.get("minKernel") and _kernel() < _kernel_version(includes["minKernel"]):
        return False
    if arch in (excludes.get("arches") or ()):
        return False
    return not any(c in caps for c in excludes.get("caps") or ())


def _architectures(profile: Mapping[str, Any], arch: str) -> list[str]:
    if profile.get("architectures") and profile.get("archMap"):
        raise InvalidContainerConfig("Decoding seccomp profile failed: 'architectures' and "
                                     "'archMap' were specified in the seccomp profile, use "
                                     "either 'architectures' or 'archMap'")
    if not profile.get("archMap"):
        return list(profile.get("architectures") or ())
    seccomp_arch = "SCMP_ARCH_" + {"amd64": "X86_64", "arm64": "AARCH64", "386": "X86"}.get(
        arch, arch.upper())
    for entry in profile["archMap"]:
        if entry.get("architecture") == seccomp_arch:
            return [seccomp_arch, *(entry.get("subArchitectures") or ())]
    return []


def oci_seccomp(text: str, capabilities: Iterable[str]) -> dict:
    """InvalidContainerConfig with docker's "Decoding seccomp profile failed" for a profile
    that is not a JSON object of docker's shape."""
    try:
        profile = json.loads(text)
    except ValueError as err:
        raise InvalidContainerConfig(f"Decoding seccomp profile failed: {err}") from None
    if not isinstance(profile, dict) or not isinstance(profile.get("syscalls") or [], list):
        raise InvalidContainerConfig("Decoding seccomp profile failed: not a seccomp profile")
    caps, arch = set(capabilities), host_arch()
    rules = []
    for rule in profile.get("syscalls") or []:
        if not isinstance(rule, dict):
            raise InvalidContainerConfig("Decoding seccomp profile failed: a syscall rule is "
                                         "not an object")
        if rule.get("name") and rule.get("names"):
            raise InvalidContainerConfig("Decoding seccomp profile failed: use either 'name' "
                                         "or 'names'")
        if not _applies(rule, caps, arch):
            continue
        out = {key: rule[key] for key in RULE_FIELDS if rule.get(key) is not None}
        if rule.get("name"):
            out["names"] = [rule["name"]]
        rules.append(out)
    section: dict = {"defaultAction": profile.get("defaultAction") or "SCMP_ACT_ERRNO",
                     "architectures": _architectures(profile, arch), "syscalls": rules}
    for key in ("defaultErrnoRet", "flags", "listenerPath", "listenerMetadata"):
        if profile.get(key) is not None:
            section[key] = profile[key]
    return section
