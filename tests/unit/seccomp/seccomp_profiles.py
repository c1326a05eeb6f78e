"""Profiles for the seccomp tests: podman's default profile turned into an OCI linux.seccomp.

containers/common's seccomp.json (installed with podman) has includes/excludes by capability and
architecture and an archMap; podman resolves them when it writes config.json. ``podman_default``
does the same resolution for the default capability set, so tests see what podman sends.
"""

from __future__ import annotations

import json
import os

PODMAN_PROFILE = "/usr/share/containers/seccomp.json"
PODMAN_DEFAULT_CAPS = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
    "CAP_SYS_CHROOT",
)
GO_ARCH = {"SCMP_ARCH_X86_64": "amd64", "SCMP_ARCH_AARCH64": "arm64"}


def have_podman_profile() -> bool:
    return os.path.exists(PODMAN_PROFILE)


def podman_default(native: str = "SCMP_ARCH_X86_64", caps: tuple[str, ...] = PODMAN_DEFAULT_CAPS,
                   path: str = PODMAN_PROFILE) -> dict:
    """The linux.seccomp object podman 4 writes for ``caps`` on ``native``."""
    with open(path) as f:
        profile = json.load(f)
    go_arch = GO_ARCH[native]
    arches: list[str] = []
    for entry in profile.get("archMap") or ():
        if entry["architecture"] == native:
            arches = [native, *entry.get("subArchitectures", [])]
    syscalls = []
    for call in profile["syscalls"]:
        inc, exc = call.get("includes") or {}, call.get("excludes") or {}
        if inc.get("arches") and go_arch not in inc["arches"]:
            continue
        if exc.get("arches") and go_arch in exc["arches"]:
            continue
        if inc.get("caps") and not all(c in caps for c in inc["caps"]):
            continue
        if exc.get("caps") and any(c in caps for c in exc["caps"]):
            continue
        out = {"names": call["names"], "action": call["action"]}
        if call.get("errnoRet") is not None:
            out["errnoRet"] = call["errnoRet"]
        if call.get("args"):
            out["args"] = call["args"]
        syscalls.append(out)
    result = {"defaultAction": profile["defaultAction"], "architectures": arches,
              "syscalls": syscalls}
    if profile.get("defaultErrnoRet") is not None:
        result["defaultErrnoRet"] = profile["defaultErrnoRet"]
    return result
