"""pyrunc features: what this runtime implements, in runc's JSON shape (only true claims)."""

from __future__ import annotations

import sys

from pyrunc.cli import args as a


def features() -> dict:
    from pyrunc import OCI_VERSION, __version__
    from pyrunc.linux import caps, lsm, mountopts, seccomp
    from pyrunc.spec.model import HOOK_KINDS, NAMESPACE_TYPES
    from pyrunc.version import commit

    actions = ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
               "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"]
    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": OCI_VERSION,
        "hooks": list(HOOK_KINDS),
        "mountOptions": mountopts.ALL_OPTIONS,
        "linux": {
            "namespaces": sorted(NAMESPACE_TYPES),
            "capabilities": sorted(caps.BY_NAME, key=caps.BY_NAME.__getitem__),
            "cgroup": {"v1": True, "v2": True, "systemd": False, "systemdUser": False},
            "seccomp": {
                "enabled": True,
                "actions": actions,
                "operators": sorted(seccomp.OPERATORS),
                "archs": sorted(seccomp.ARCHES),
                "knownFlags": sorted(seccomp.SUPPORTED_FLAGS),
                "supportedFlags": sorted(seccomp.SUPPORTED_FLAGS),
            },
            # What pyrunc can apply here: AppArmor profiles when the host has AppArmor (probed);
            # SELinux labels never (refused, see linux/lsm.py).
            "apparmor": {"enabled": lsm.apparmor_enabled()},
            "selinux": {"enabled": False},
        },
        "annotations": {"org.opencontainers.runtime.name": "pyrunc",
                        "org.opencontainers.runtime.version": __version__,
                        "org.opencontainers.runtime.commit": commit()},
    }


def run(ctx, argv: list[str]) -> int:
    _, rest = a.parse(argv, [])
    a.exact_args("features", rest, 0)
    from pyrunc import jsonio

    sys.stdout.write(jsonio.dumps(features(), indent=4) + "\n")
    return 0
