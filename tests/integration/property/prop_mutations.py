"""Valid base configs and the mutations the properties apply to them.

A Mutation changes one field (named by its JSON path) and says what a correct runtime does with
the result: ``refuse`` (the schema or the spec forbids it, or runc refuses it for a security
reason), ``accept`` (unknown properties: the spec says to ignore them) or ``either`` (valid on
paper, the kernel may still say no). Whatever the expectation, a refusal must name the field.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from prop_harness import Deep
from prop_schema import JsonPath, format_path, is_map, json_type, node_at, walk

REFUSE, ACCEPT, EITHER = "refuse", "accept", "either"
MISSING = object()
U32 = 2**32
OUT_OF_RANGE = (-1, U32 - 1, U32, 2**63, -(2**63) - 1)
WRONG_TYPES: dict[str, Any] = {"string": "1", "integer": 1, "boolean": True, "object": {},
                               "array": [], "number": 1.5}
# Strings the kernel sees (paths, argv, env, names): a NUL cannot be passed on, so refuse.
KERNEL_STRINGS = [
    r"root\.path", r"process\.(args|env)\[\d+\]", r"process\.cwd", r"hostname", r"domainname",
    r"mounts\[\d+\]\.(destination|source|type|options\[\d+\])",
    r"hooks\.\w+\[\d+\]\.(path|args\[\d+\]|env\[\d+\])", r"linux\.cgroupsPath",
    r"linux\.sysctl\[.*", r"linux\.namespaces\[\d+\]\.path",
    r"linux\.(maskedPaths|readonlyPaths)\[\d+\]", r"linux\.devices\[\d+\]\.path",
]
# Identity fields where 2^32-1 is (uid_t)-1, "leave unchanged" to the kernel: runc refuses.
ID_FIELDS = [r"process\.user\.(uid|gid|additionalGids\[\d+\])"]
# Fields a wrong value of which weakens the container: checked against runc as well.
SECURITY_FIELDS = [*ID_FIELDS, r"linux\.(uid|gid)Mappings\[\d+\]\.\w+",
                   r"linux\.resources\.devices\[\d+\]\.\w+"]
EXTRAS = ("userns", "hooks", "resources", "devices", "seccomp", "groups", "annotations",
          "misc")


def _matches(patterns: list[str], path: JsonPath) -> bool:
    text = format_path(path)
    return any(re.fullmatch(p, text) for p in patterns)


@dataclass(frozen=True)
class Mutation:
    kind: str
    path: JsonPath
    value: Any
    expect: str
    security: bool = False
    # names a refusal may use instead of the path (e.g. the mount destination "/proc")
    aliases: tuple[str, ...] = field(default=())

    def apply(self, config: dict[str, Any], cid: str) -> dict[str, Any]:
        """A mutated copy; "@CID@" in a string value becomes the container id."""
        out = copy.deepcopy(config)
        parent: Any = out
        for part in self.path[:-1]:  # a missing object on the way (annotations) is created
            if isinstance(part, str) and part not in parent:
                parent[part] = {}
            parent = parent[part]
        key = self.path[-1]
        value = self.value.replace("@CID@", cid) if isinstance(self.value, str) else self.value
        if value is MISSING:
            del parent[key]
        elif isinstance(parent, list) and key == len(parent):
            parent.append(value)
        else:
            parent[key] = value
        return out

    def __str__(self) -> str:
        what = "delete" if self.value is MISSING else f"= {self.value!r:.120}"
        return f"{self.kind}: {format_path(self.path)} {what} (expect {self.expect})"


# -- base configs --------------------------------------------------------------------------
def add_extras(config: dict[str, Any], extras: frozenset[str]) -> dict[str, Any]:
    """Optional valid sections, so mutations reach more fields."""
    proc, linux = config["process"], config["linux"]
    if "userns" in extras:
        linux["namespaces"].append({"type": "user"})
        for key in ("uidMappings", "gidMappings"):
            linux[key] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    if "hooks" in extras:
        config["hooks"] = {
            "createRuntime": [{"path": "/bin/true", "args": ["true"], "env": ["A=b"],
                               "timeout": 10}],
            "poststop": [{"path": "/bin/true"}],
        }
    if "resources" in extras:
        linux["resources"] = {
            "devices": [{"allow": False, "access": "rwm"},
                        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
            "memory": {"limit": 268435456},
            "pids": {"limit": 100},
            "cpu": {"shares": 512},
        }
    if "devices" in extras and "userns" not in extras:
        linux["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                             "fileMode": 0o666, "uid": 0, "gid": 0}]
    if "seccomp" in extras:
        linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                            "architectures": ["SCMP_ARCH_X86_64"],
                            "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO",
                                          "errnoRet": 1}]}
    if "groups" in extras:
        proc["user"]["additionalGids"] = [10, 20]
        proc["user"]["umask"] = 18
    if "annotations" in extras:
        config["annotations"] = {"org.example.key": "value", "plain": "x"}
    if "misc" in extras:
        if "userns" not in extras:  # together: test_base_configs_run's own case
            proc["oomScoreAdj"] = 100
        proc["consoleSize"] = {"height": 24, "width": 80}
        linux["sysctl"] = {"kernel.shmmax": "68719476736"}
    return config


# -- mutation catalogue --------------------------------------------------------------------
def _fields(config: dict[str, Any]) -> list[tuple[JsonPath, Any, dict[str, Any]]]:
    """(path, value, schema node) of every field the schema describes."""
    out = []
    for path, value in walk(config):
        if not path:
            continue
        node = node_at(path)
        if node is not None and json_type(node) is not None:
            out.append((path, value, node))
    return out


def _string_expect(path: JsonPath, node: dict[str, Any], value: str) -> str:
    if path == ("ociVersion",):
        # The schema wants a SemVer, but runc 1.1.5 accepts any ociVersion ("" included) and
        # the version only labels the config: nothing is weakened whatever it says.
        return EITHER
    if "enum" in node and value not in node["enum"]:
        return REFUSE
    if "pattern" in node and not re.search(node["pattern"], value):
        return REFUSE
    if len(value) < node.get("minLength", 0):
        return REFUSE
    return EITHER


def wrong_type(config: dict[str, Any]) -> list[Mutation]:
    out = []
    for path, _value, node in _fields(config):
        want = json_type(node)
        for name, bad in WRONG_TYPES.items():
            if name == want:
                continue
            out.append(Mutation("wrong-type", path, copy.deepcopy(bad), REFUSE,
                                _matches(SECURITY_FIELDS, path)))
    return out


def int_range(config: dict[str, Any]) -> list[Mutation]:
    out = []
    for path, _value, node in _fields(config):
        if json_type(node) != "integer" or "enum" in node:
            continue
        lo, hi = node.get("minimum"), node.get("maximum")
        for v in OUT_OF_RANGE:
            outside = (lo is not None and v < lo) or (hi is not None and v > hi)
            # Go decodes every integer field into at most 64 bits
            outside = outside or v >= 2**63 or v < -(2**63)
            unchanged_id = v == U32 - 1 and _matches(ID_FIELDS, path)
            expect = REFUSE if outside or unchanged_id else EITHER
            out.append(Mutation("int-range", path, v, expect, _matches(SECURITY_FIELDS, path)))
    return out


def _strings(config: dict[str, Any]) -> list[tuple[JsonPath, str, dict[str, Any]]]:
    return [(p, v, n) for p, v, n in _fields(config) if isinstance(v, str)]


def nul(config: dict[str, Any]) -> list[Mutation]:
    out = []
    for path, value, node in _strings(config):
        bad = value + "\x00x"
        expect = REFUSE if _matches(KERNEL_STRINGS, path) else _string_expect(path, node, bad)
        out.append(Mutation("nul", path, bad, expect))
    return out


def surrogate(config: dict[str, Any]) -> list[Mutation]:
    out = []
    for path, value, node in _strings(config):
        for s in ("\ud800", "\udcff"):
            out.append(Mutation("surrogate", path, value + s,
                                _string_expect(path, node, value + s)))
    return out


def empty(config: dict[str, Any]) -> list[Mutation]:
    out = [Mutation("empty", p, "", _string_expect(p, n, "")) for p, _v, n in _strings(config)]
    for path, value, node in _fields(config):
        if isinstance(value, list) and node.get("minItems", 0) > 0:
            out.append(Mutation("empty", path, [], REFUSE))
    return out


def missing(config: dict[str, Any]) -> list[Mutation]:
    from prop_schema import required_at

    out = []
    for path, value in walk(config):
        if isinstance(value, dict) and (not path or node_at(path) is not None):
            out += [Mutation("missing", (*path, k), MISSING, _missing_expect((*path, k)),
                             _matches(SECURITY_FIELDS, (*path, k)))
                    for k in required_at(path) if k in value]
    return out


def _missing_expect(path: JsonPath) -> str:
    # Required by the schema, but runc 1.1.5 runs a config without process.user as uid 0,
    # gid 0 (Go's zero value), and pyrunc does the same (test_missing_process_user_runs_as_root
    # checks the ids from inside).
    return ACCEPT if path == ("process", "user") else REFUSE


UNKNOWN_VALUES: tuple[Any, ...] = ("x", 1, -1, 2**70, True, None, [], {"a": [1, {"b": "c"}]},
                                   "\x00", "\ud800")


def unknown(config: dict[str, Any]) -> list[Mutation]:
    out = []
    for path, value in walk(config):
        if not isinstance(value, dict) or (path and node_at(path) is None) or is_map(path):
            continue
        for i, v in enumerate(UNKNOWN_VALUES):
            out.append(Mutation("unknown", (*path, f"xUnknown{i}"), v, ACCEPT))
    hooks = config.get("hooks", {})
    for kind in ("preStart", "postStart", "createruntime", "x-vendor"):
        if kind not in hooks:
            out.append(Mutation("unknown-hook", ("hooks", kind), [{"path": "/bin/true"}],
                                ACCEPT))
    return out


def deep(config: dict[str, Any]) -> list[Mutation]:
    out = []
    for depth in (1000, 5000, 10000):
        for kind in ("array", "object"):
            for parent in ((), ("process",), ("linux",)):
                out.append(Mutation("deep", (*parent, "xDeep"), Deep(depth, kind), EITHER))
            # annotations are string -> string: a nested value is the wrong type
            out.append(Mutation("deep", ("annotations", "deep"), Deep(depth, kind), REFUSE))
    return out


def env(config: dict[str, Any]) -> list[Mutation]:
    out = []
    n = len(config["process"].get("env", []))
    for bad in ("", "=x", "A=\x00b", "A\x00=b", "\x00", "NOEQUALS"):
        out.append(Mutation("env", ("process", "env", n), bad, REFUSE))
    return out


def hook_timeout(config: dict[str, Any]) -> list[Mutation]:
    out = []
    hooks = config.get("hooks", {})
    for kind in ("createRuntime", "poststop", "prestart"):
        for i, _h in enumerate(hooks.get(kind, [])):
            for v in (0, -1):
                out.append(Mutation("hook-timeout", ("hooks", kind, i, "timeout"), v, REFUSE))
            out.append(Mutation("hook-timeout", ("hooks", kind, i, "timeout"), 2**63, EITHER))
    return out


def long_cgroups_path(config: dict[str, Any]) -> list[Mutation]:
    base = "/proptest-@CID@"
    return [
        Mutation("cgroups-path", ("linux", "cgroupsPath"),
                 base + ("/" + "c" * 200) * 25, EITHER),  # > PATH_MAX in total
        Mutation("cgroups-path", ("linux", "cgroupsPath"), base + "/" + "c" * 300,
                 EITHER),  # one component > NAME_MAX
        Mutation("cgroups-path", ("linux", "cgroupsPath"), base + "/" + "c" * 5000, EITHER),
    ]


def symlinked_rootfs(config: dict[str, Any], variants: dict[str, str]) -> list[Mutation]:
    out = []
    for name, path in sorted(variants.items()):
        dest = "/" + name.split("-", 1)[0]
        idx = next(i for i, m in enumerate(config["mounts"]) if m["destination"] == dest)
        out.append(Mutation("symlinked-rootfs", ("root", "path"), path, REFUSE,
                            aliases=(dest, f"mounts[{idx}]")))
    return out


KINDS = ("wrong-type", "int-range", "nul", "surrogate", "empty", "missing", "unknown", "deep",
         "env", "hook-timeout", "cgroups-path", "symlinked-rootfs")


def catalogue(config: dict[str, Any], kind: str, variants: dict[str, str]) -> list[Mutation]:
    """Every mutation of one kind that applies to config."""
    if kind == "cgroups-path":
        return long_cgroups_path(config)
    if kind == "symlinked-rootfs":
        return symlinked_rootfs(config, variants)
    makers = {"wrong-type": wrong_type, "int-range": int_range, "nul": nul,
              "surrogate": surrogate, "empty": empty, "missing": missing, "unknown": unknown,
              "deep": deep, "env": env, "hook-timeout": hook_timeout}
    return makers[kind](config)


# -- the security catalogue (checked against runc too) -------------------------------------
def security(config: dict[str, Any]) -> list[Mutation]:
    """Mutations of fields that weaken the container when accepted."""
    out = []
    for fld in ("uid", "gid"):
        for v in (-1, U32 - 1, U32):
            out.append(Mutation("security", ("process", "user", fld), v, REFUSE, True))
    for v in (-1, U32 - 1, U32):
        out.append(Mutation("security", ("process", "user", "additionalGids"), [v], REFUSE,
                            True, aliases=("process.user.additionalGids[0]",)))
    linux = config["linux"]
    if "uidMappings" in linux:
        for key in ("uidMappings", "gidMappings"):
            for fld, v in (("hostID", U32), ("hostID", -1), ("containerID", U32),
                           ("size", U32), ("size", -1)):
                out.append(Mutation("security", ("linux", key, 0, fld), v, REFUSE, True))
    rules = linux.get("resources", {}).get("devices", [])
    for i, _rule in enumerate(rules):
        for allow in ("false", "true", 1, 0):
            out.append(Mutation("security", ("linux", "resources", "devices", i, "allow"),
                                allow, REFUSE, True))
        for access in ("", "rwx", "r\x00"):
            out.append(Mutation("security", ("linux", "resources", "devices", i, "access"),
                                access, EITHER if access == "" else REFUSE, True))
    return out
