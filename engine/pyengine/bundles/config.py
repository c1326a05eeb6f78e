"""build_config: an image config plus create options become an OCI runtime config.json."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from pyengine.bundles import defaults
from pyengine.bundles.device_rules import parse_rule
from pyengine.bundles.errors import InvalidContainerConfig
from pyengine.bundles.options import ContainerOptions
from pyengine.bundles.seccomp import default_profile
from pyengine.bundles.user import ResolvedUser, resolve_user

OCI_VERSION = "1.0.2"
ETC_FILES = ("hostname", "hosts", "resolv.conf")


def _image_section(image_config: Mapping) -> Mapping:
    """The runtime part of an image config (the OCI "config" object)."""
    section = image_config.get("config", image_config.get("Config"))
    return section if isinstance(section, Mapping) else {}


def image_env(image_config: Mapping) -> list[str]:
    """The image config's Env as build_config reads it."""
    return _strings(_image_section(image_config), "Env")


def _get(section: Mapping, name: str) -> object:
    """Image configs use "Env", "Cmd"...; tolerate lower case too."""
    return section.get(name, section.get(name.lower()))


def _strings(section: Mapping, name: str) -> list[str]:
    """A list-of-strings field (Entrypoint, Cmd, Env): absent or null is empty and a single
    string is a list of one, as docker reads them."""
    value = _get(section, name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise InvalidContainerConfig(f"image config: {name} must be a list of strings")


def process_args(section: Mapping, opts: ContainerOptions) -> list[str]:
    """Entrypoint + cmd with docker's override rules."""
    if opts.entrypoint is not None:
        entrypoint = list(opts.entrypoint)
        cmd = list(opts.cmd or [])
    else:
        entrypoint = _strings(section, "Entrypoint")
        cmd = list(opts.cmd) if opts.cmd else _strings(section, "Cmd")
    args = entrypoint + cmd
    if not args:
        raise InvalidContainerConfig("create container: no command specified")
    return args


def merge_env(*layers: Iterable[str]) -> dict[str, str]:
    """KEY=VALUE lists merged by key, later wins; first occurrence keeps its position. A KEY
    without "=" unsets KEY (docker's rule: "Foo" in a container's Env removes Foo)."""
    merged: dict[str, str] = {}
    for layer in layers:
        for item in layer:
            key, sep, value = item.partition("=")
            if not key:
                continue
            if sep:
                merged[key] = value
            else:
                merged.pop(key, None)
    return merged


def config_env(image_env: Iterable[str], env: Iterable[str]) -> list[str]:
    """docker's Config.Env of a container (inspect, commit): its own entries as given ("Foo"
    stays "Foo"), then the image's whose name it does not set."""
    own = list(env)
    names = {item.partition("=")[0] for item in own}
    return own + [item for item in image_env if item.partition("=")[0] not in names]


def capabilities(opts: ContainerOptions) -> list[str]:
    """docker's: the default set then --cap-drop and --cap-add; ALL in the adds is every
    capability but the drops, ALL in the drops leaves only the adds. Every capability (for
    privileged or ALL) means those in `opts.bounding`, the engine's own bounding set."""
    def norm(cap: str) -> str:
        cap = cap.upper()
        return cap if cap.startswith("CAP_") or cap == "ALL" else "CAP_" + cap

    every = [c for c in defaults.ALL_CAPABILITIES
             if opts.bounding is None or c in opts.bounding]
    if opts.privileged:
        return every
    adds = [c for c in map(norm, opts.cap_add) if c == "ALL" or c in defaults.ALL_CAPABILITIES]
    drops = {norm(c) for c in opts.cap_drop}
    if "ALL" in adds:
        return [c for c in every if c not in drops]
    caps = [] if "ALL" in drops else [c for c in defaults.DEFAULT_CAPABILITIES
                                      if c not in drops]
    return list(dict.fromkeys([*caps, *adds]))


def _namespaces(opts: ContainerOptions) -> list[dict]:
    namespaces = [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
    if opts.network in ("private", "none", "bridge"):
        namespaces.append({"type": "network"})
    elif opts.network != "host":
        namespaces.append({"type": "network", "path": opts.network})
    return namespaces


def _resources(opts: ContainerOptions) -> dict:
    if opts.privileged:
        devices = [{"allow": True, "access": "rwm"}]
    else:
        devices = defaults.device_cgroup_rules()
        for d in opts.devices:  # docker's: the device denied, then allowed as asked
            rule = {"type": d.type, "major": d.major, "minor": d.minor}
            devices += [{"allow": False, **rule, "access": "rwm"},
                        {"allow": True, **rule, "access": d.permissions}]
        devices += [parse_rule(rule) for rule in opts.device_cgroup_rules]
    resources: dict = {"devices": devices}
    if opts.memory_limit:
        resources["memory"] = {"limit": opts.memory_limit}
    if opts.cpu_shares:
        resources["cpu"] = {"shares": opts.cpu_shares}
    if opts.pids_limit:
        resources["pids"] = {"limit": opts.pids_limit}
    return resources


def _devices(opts: ContainerOptions) -> list[dict]:
    return [{"path": d.path, "type": d.type, "major": d.major, "minor": d.minor,
             "fileMode": d.file_mode, "uid": d.uid, "gid": d.gid} for d in opts.devices]


def _mounts(opts: ContainerOptions) -> list[dict]:
    """The default filesystems as privileged and --shm-size want them (the IPC modes change
    /dev/shm afterwards: containers/namespaces.py)."""
    mounts = defaults.default_mounts()
    for mount in mounts:
        if opts.privileged and mount["destination"] in ("/sys", "/sys/fs/cgroup"):
            mount["options"] = [o for o in mount["options"] if o != "ro"] + ["rw"]
        if mount["destination"] == "/dev/shm" and opts.shm_size:
            mount["options"] = [o for o in mount["options"] if not o.startswith("size=")]
            mount["options"].append(f"size={opts.shm_size}")
    return mounts


def _etc_mounts(bundle_dir: Path) -> list[dict]:
    """Bind mounts of the generated /etc/hostname, /etc/hosts and /etc/resolv.conf."""
    return [{"destination": f"/etc/{name}", "type": "bind", "source": str(bundle_dir / name),
             "options": ["rbind", "rprivate"]} for name in ETC_FILES]


def _working_dir(section: Mapping, opts: ContainerOptions) -> str:
    workdir = opts.workdir or _get(section, "WorkingDir") or "/"
    return posixpath.normpath(posixpath.join("/", str(workdir)))


def process_user(user: ResolvedUser) -> dict:
    """The OCI process.user of a resolved user (additionalGids only when there are some)."""
    return {"uid": user.uid, "gid": user.gid,
            **({"additionalGids": list(user.additional_gids)} if user.additional_gids else {})}


def build_config(image_config: Mapping, opts: ContainerOptions, rootfs: Path) -> dict:
    """An OCI runtime config for running `image_config` with `opts` on `rootfs`.

    `rootfs` must already hold the image's files (it is read for /etc/passwd and
    /etc/group); the config points at it as given (absolute, or relative to the bundle).
    """
    section = _image_section(image_config)
    user_spec = opts.user if opts.user is not None else str(_get(section, "User") or "")
    user = resolve_user(rootfs, user_spec, opts.group_add)
    hostname = opts.hostname or (opts.container_id[:12] if opts.container_id else "pyengine")

    env = merge_env([f"PATH={defaults.DEFAULT_PATH}", f"HOSTNAME={hostname}"],
                    _strings(section, "Env"),
                    opts.env)
    if opts.tty and "TERM" not in env:
        env["TERM"] = "xterm"
    env.setdefault("HOME", user.home)

    caps = capabilities(opts)
    process: dict = {
        "terminal": opts.tty,
        "user": process_user(user),
        "args": process_args(section, opts),
        "env": [f"{k}={v}" for k, v in env.items()],
        "cwd": _working_dir(section, opts),
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "noNewPrivileges": opts.no_new_privileges,
        "oomScoreAdj": opts.oom_score_adj,  # docker's 0 unless set: not the shim's own
    }
    if opts.rlimits:
        process["rlimits"] = [{"type": r.type, "soft": r.soft, "hard": r.hard}
                              for r in opts.rlimits]

    mounts = _mounts(opts)
    if opts.bundle_dir is not None:
        mounts += _etc_mounts(opts.bundle_dir)
    mounts += [dict(m) for m in opts.mounts]

    linux: dict = {
        "namespaces": _namespaces(opts),
        "resources": _resources(opts),
        "cgroupsPath": opts.cgroups_path or f"/pyengine/{opts.container_id or hostname}",
    }
    if opts.devices:
        linux["devices"] = _devices(opts)
    if not opts.privileged:
        linux["maskedPaths"] = list(defaults.MASKED_PATHS)
        linux["readonlyPaths"] = list(defaults.READONLY_PATHS)
    if opts.network != "host":
        linux["sysctl"] = {"net.ipv4.ip_unprivileged_port_start": "0",
                           "net.ipv4.ping_group_range": "0 2147483647"}
    if opts.sysctls:
        linux["sysctl"] = {**linux.get("sysctl", {}), **opts.sysctls}
    seccomp = _seccomp(opts, caps)
    if seccomp is not None:
        linux["seccomp"] = seccomp

    config: dict = {
        "ociVersion": OCI_VERSION,
        "process": process,
        "root": {"path": str(rootfs), "readonly": opts.read_only},
        "hostname": hostname,
        "mounts": mounts,
        "linux": linux,
    }
    if opts.domainname:
        config["domainname"] = opts.domainname
    if opts.annotations:
        config["annotations"] = dict(opts.annotations)
    return config


def _seccomp(opts: ContainerOptions, caps: Sequence[str]) -> dict | None:
    if opts.privileged or opts.seccomp == "unconfined":
        return None
    if isinstance(opts.seccomp, dict):
        return opts.seccomp
    if opts.seccomp not in ("default", "builtin"):  # a profile in docker's format
        from pyengine.bundles.seccomp_profile import oci_seccomp

        return oci_seccomp(opts.seccomp, caps)
    return default_profile(caps)
