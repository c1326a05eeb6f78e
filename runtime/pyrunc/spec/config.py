"""Loading a bundle's config.json and the fast checks every create runs.

The checks cover every field pyrunc acts on (types, required members, enumerations), each error
naming the field path, e.g. ``linux.namespaces[2].type: unknown namespace type "foo"``. They are
cheap enough for the hot path. Full validation against the OCI JSON schema (jsonschema, 50-100 ms
of imports) lives in :mod:`pyrunc.spec.schema_check` and runs with ``PYRUNC_VALIDATE=schema``
or ``pyrunc validate``.
"""

from __future__ import annotations

import os

from pyrunc import jsonio
from pyrunc.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeGuard, TypeVar

    T = TypeVar("T")

NAMESPACE_TYPES = ("pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time")
HOOK_KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart",
              "poststop")
ROOTFS_PROPAGATIONS = ("private", "rprivate", "slave", "rslave", "shared", "rshared",
                       "unbindable", "runbindable")
DEVICE_TYPES = ("c", "b", "u", "p")


class Bundle:
    """A loaded bundle: absolute bundle dir, parsed config and absolute rootfs path."""

    __slots__ = ("config", "path", "rootfs")

    def __init__(self, path: str, config: dict, rootfs: str) -> None:
        self.path = path
        self.config = config
        self.rootfs = rootfs


def load_bundle(bundle: str) -> Bundle:
    path = os.path.abspath(bundle or ".")
    cfg_path = os.path.join(path, "config.json")
    try:
        config = jsonio.load_file(cfg_path)
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

        problems = validate(config)
        if problems:
            raise ConfigError(f"invalid config {cfg_path}: "
                              + "; ".join(str(p) for p in problems))
    check(config)
    from pyrunc.spec.rootpath import rootfs_path

    return Bundle(path, config, rootfs_path(path, config["root"]["path"]))


# -- fast checks ---------------------------------------------------------------------------------
def _fail(path: str, msg: str) -> None:
    raise ConfigError(f"invalid config: {path}: {msg}")


def _type(value: Any, kind: type[T] | tuple[type[T], ...], path: str,
          required: bool = False) -> TypeGuard[T]:
    """True when present and of the right type; raises on a wrong type or a missing required."""
    if value is None:
        if required:
            _fail(path, "is required")
        return False
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        expected = {"dict": "object", "list": "array", "str": "string", "int": "integer",
                    "bool": "boolean"}.get(names, names)
        _fail(path, f"expected {expected}, got {type(value).__name__}")
    return True


def _strings(value: Any, path: str) -> None:
    if _type(value, list, path):
        for i, item in enumerate(value):
            _type(item, str, f"{path}[{i}]", True)


def check(config: Any) -> None:
    if not isinstance(config, dict):
        _fail("(root)", "expected object")
    _type(config.get("ociVersion"), str, "ociVersion", True)
    root = config.get("root")
    _type(root, dict, "root", True)
    _type(root.get("path"), str, "root.path", True)
    _type(root.get("readonly"), bool, "root.readonly")
    _type(config.get("hostname"), str, "hostname")
    _type(config.get("domainname"), str, "domainname")
    _check_process(config.get("process"), "process")
    mounts = config.get("mounts")
    if _type(mounts, list, "mounts"):
        for i, m in enumerate(mounts):
            p = f"mounts[{i}]"
            _type(m, dict, p, True)
            _type(m.get("destination"), str, f"{p}.destination", True)
            _type(m.get("type"), str, f"{p}.type")
            _type(m.get("source"), str, f"{p}.source")
            _strings(m.get("options"), f"{p}.options")
    hooks = config.get("hooks")
    if _type(hooks, dict, "hooks"):
        for kind, entries in hooks.items():
            if kind not in HOOK_KINDS:
                _fail(f"hooks.{kind}", "unknown hook kind")
            if _type(entries, list, f"hooks.{kind}"):
                for i, h in enumerate(entries):
                    p = f"hooks.{kind}[{i}]"
                    _type(h, dict, p, True)
                    _type(h.get("path"), str, f"{p}.path", True)
                    if not os.path.isabs(h["path"]):
                        _fail(f"{p}.path", f"{h['path']!r} is not an absolute path")
                    _strings(h.get("args"), f"{p}.args")
                    _strings(h.get("env"), f"{p}.env")
                    if _type(h.get("timeout"), int, f"{p}.timeout") and h["timeout"] <= 0:
                        _fail(f"{p}.timeout", "must be greater than zero")
    _type(config.get("annotations"), dict, "annotations")
    linux = config.get("linux")
    if _type(linux, dict, "linux"):
        _check_linux(linux)


def check_process(process: Any, path: str = "process") -> None:
    """Checks a process object (also used for exec --process files)."""
    _check_process(process, path, required=True)


def _check_process(process: Any, path: str, required: bool = False) -> None:
    if not _type(process, dict, path, required):
        return
    _type(process.get("terminal"), bool, f"{path}.terminal")
    args = process.get("args")
    _strings(args, f"{path}.args")
    if not args:
        _fail(f"{path}.args", "must contain at least the executable")
    _strings(process.get("env"), f"{path}.env")
    _type(process.get("cwd"), str, f"{path}.cwd", True)
    if not os.path.isabs(process["cwd"]):
        _fail(f"{path}.cwd", f"{process['cwd']!r} is not an absolute path")
    user = process.get("user")
    if _type(user, dict, f"{path}.user"):
        _type(user.get("uid"), int, f"{path}.user.uid", True)
        _type(user.get("gid"), int, f"{path}.user.gid", True)
        _type(user.get("umask"), int, f"{path}.user.umask")
        gids = user.get("additionalGids")
        if _type(gids, list, f"{path}.user.additionalGids"):
            for i, g in enumerate(gids):
                _type(g, int, f"{path}.user.additionalGids[{i}]", True)
    caps = process.get("capabilities")
    if _type(caps, dict, f"{path}.capabilities"):
        for kind in ("bounding", "effective", "inheritable", "permitted", "ambient"):
            _strings(caps.get(kind), f"{path}.capabilities.{kind}")
    rlimits = process.get("rlimits")
    if _type(rlimits, list, f"{path}.rlimits"):
        for i, r in enumerate(rlimits):
            p = f"{path}.rlimits[{i}]"
            _type(r, dict, p, True)
            _type(r.get("type"), str, f"{p}.type", True)
            _type(r.get("soft"), int, f"{p}.soft", True)
            _type(r.get("hard"), int, f"{p}.hard", True)
    _type(process.get("noNewPrivileges"), bool, f"{path}.noNewPrivileges")
    _type(process.get("oomScoreAdj"), int, f"{path}.oomScoreAdj")
    cs = process.get("consoleSize")
    if _type(cs, dict, f"{path}.consoleSize"):
        _type(cs.get("height"), int, f"{path}.consoleSize.height", True)
        _type(cs.get("width"), int, f"{path}.consoleSize.width", True)


def _check_linux(linux: dict) -> None:
    namespaces = linux.get("namespaces")
    seen: set[str] = set()
    if _type(namespaces, list, "linux.namespaces"):
        for i, ns in enumerate(namespaces):
            p = f"linux.namespaces[{i}]"
            _type(ns, dict, p, True)
            kind = ns.get("type")
            _type(kind, str, f"{p}.type", True)
            if kind not in NAMESPACE_TYPES:
                _fail(f"{p}.type", f'unknown namespace type "{kind}"')
            if kind in seen:
                _fail(f"{p}.type", f'duplicate namespace "{kind}"')
            seen.add(kind)
            _type(ns.get("path"), str, f"{p}.path")
    for key in ("uidMappings", "gidMappings"):
        maps = linux.get(key)
        if _type(maps, list, f"linux.{key}"):
            for i, m in enumerate(maps):
                p = f"linux.{key}[{i}]"
                _type(m, dict, p, True)
                for field in ("containerID", "hostID", "size"):
                    _type(m.get(field), int, f"{p}.{field}", True)
            if maps and "user" not in seen:
                _fail(f"linux.{key}", "mappings require a user namespace")
    devices = linux.get("devices")
    if _type(devices, list, "linux.devices"):
        for i, d in enumerate(devices):
            p = f"linux.devices[{i}]"
            _type(d, dict, p, True)
            _type(d.get("path"), str, f"{p}.path", True)
            _type(d.get("type"), str, f"{p}.type", True)
            if d["type"] not in DEVICE_TYPES:
                _fail(f"{p}.type", f"unknown device type {d['type']!r}")
            for field in ("major", "minor", "fileMode", "uid", "gid"):
                _type(d.get(field), int, f"{p}.{field}")
            if d["type"] != "p" and (d.get("major") is None or d.get("minor") is None):
                _fail(p, "major and minor are required for block and character devices")
    _strings(linux.get("maskedPaths"), "linux.maskedPaths")
    _strings(linux.get("readonlyPaths"), "linux.readonlyPaths")
    sysctl = linux.get("sysctl")
    if _type(sysctl, dict, "linux.sysctl"):
        for key, value in sysctl.items():
            _type(value, str, f"linux.sysctl.{key}", True)
    prop = linux.get("rootfsPropagation")
    if _type(prop, str, "linux.rootfsPropagation") and prop not in ROOTFS_PROPAGATIONS:
        _fail("linux.rootfsPropagation", f"unknown propagation {prop!r}")
    _type(linux.get("cgroupsPath"), str, "linux.cgroupsPath")
    _type(linux.get("resources"), dict, "linux.resources")
    _type(linux.get("seccomp"), dict, "linux.seccomp")
    _type(linux.get("timeOffsets"), dict, "linux.timeOffsets")
    _type(linux.get("mountLabel"), str, "linux.mountLabel")
