"""Linux security modules: AppArmor profiles and SELinux labels.

A security setting that cannot be applied is an error, never a silent no-op. On a host without
AppArmor, ``process.apparmorProfile`` (or ``exec --apparmor``) is refused before anything is
made; with AppArmor the init asks for the profile on its execve, as runc does (runc 1.1.5 fails
the same config later, when that write is refused). pyrunc applies no SELinux label: a
``process.selinuxLabel``, ``linux.mountLabel`` or ``exec --process-label`` is refused, saying
whether the host has SELinux at all (runc refuses a process label without SELinux too).
"""

from __future__ import annotations

import os

from pyrunc.errors import ConfigError, KernelError, NotSupported

APPARMOR_FS = "/sys/kernel/security/apparmor"
APPARMOR_ENABLED = "/sys/module/apparmor/parameters/enabled"
SELINUX_FS = "/sys/fs/selinux"


def apparmor_enabled() -> bool:
    """runc's probe: securityfs shows AppArmor and the module says it is enabled."""
    if not os.path.isdir(APPARMOR_FS):
        return False
    try:
        with open(APPARMOR_ENABLED) as f:
            return f.read(1) == "Y"
    except OSError:
        return False


def selinux_enabled() -> bool:
    return os.path.exists(os.path.join(SELINUX_FS, "enforce"))


def refuse_unsupported(apparmor: str | None, selinux_label: str | None,
                       mount_label: str | None, apparmor_field: str = "process.apparmorProfile",
                       selinux_field: str = "process.selinuxLabel") -> None:
    """Raise for any setting this host or pyrunc cannot apply (field names as the caller's
    user wrote them: config.json members or exec flags)."""
    if apparmor and not apparmor_enabled():
        raise ConfigError(f"{apparmor_field}: profile {apparmor!r} cannot be applied: AppArmor"
                          f" is not enabled on this host ({APPARMOR_FS})")
    for field, label in ((selinux_field, selinux_label), ("linux.mountLabel", mount_label)):
        if not label:
            continue
        if not selinux_enabled():
            raise ConfigError(f"{field}: label {label!r} cannot be applied: SELinux is not"
                              f" enabled on this host ({SELINUX_FS})")
        raise NotSupported(f"{field}: label {label!r}: pyrunc does not apply SELinux labels")


def apply_apparmor(profile: str | None) -> None:
    """Ask AppArmor to confine the process from its next execve (aa_change_onexec). Needs the
    container's /proc."""
    if not profile:
        return
    path = "/proc/self/attr/apparmor/exec"
    if not os.path.exists(path):
        path = "/proc/self/attr/exec"
    try:
        with open(path, "w") as f:
            f.write("exec " + profile)
    except OSError as err:
        raise KernelError(f"apply AppArmor profile {profile!r} ({path}): {err.strerror}"
                          ) from None
