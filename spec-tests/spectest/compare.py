"""Normalise probe reports so two runtimes' observations of one bundle can be compared, and
match differences against spec-tests/known-differences.json."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NS_BASE = {"pid_for_children": "pid", "time_for_children": "time"}
INODE = re.compile(r"^(pipe|socket|anon_inode:\[?\w+\]?):\[\d+\]$")


@dataclass
class Context:
    """What differs legitimately between two runs: ids, paths, the host's namespaces."""

    cid: str
    bundle: str
    workdir: str
    host_ns: dict[str, str]


def _scrub(value: Any, ctx: Context) -> Any:
    if isinstance(value, str):
        return (value.replace(ctx.bundle, "<BUNDLE>").replace(ctx.workdir, "<WORKDIR>")
                .replace(ctx.cid, "<ID>"))
    if isinstance(value, list):
        return [_scrub(v, ctx) for v in value]
    if isinstance(value, dict):
        return {_scrub(k, ctx): _scrub(v, ctx) for k, v in value.items()}
    return value


def normalize(report: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Replace run-specific values (ids, pids, inode numbers, temp paths) by stable tokens."""
    r = _scrub(report, ctx)
    r.pop("clocks", None)  # wall-clock readings differ between any two runs
    if "namespaces" in r:
        ns = {}
        for name, link in r["namespaces"].items():
            base = NS_BASE.get(name, name)
            if base in ctx.host_ns:
                ns[name] = None if link is None else ("host" if link == ctx.host_ns[base]
                                                      else "new")
            else:
                ns[name] = " ".join(link.split()) if link else link  # uid_map / gid_map
        r["namespaces"] = ns
    if "pid" in r:
        r["pid"] = {"pid": 1 if r["pid"]["pid"] == 1 else "<pid>",
                    "ppid": 0 if r["pid"]["ppid"] == 0 else "<ppid>"}
    if "fds" in r:
        r["fds"] = {fd: _fd_target(t) for fd, t in r["fds"].items()}
    if "mounts" in r:
        r["mounts"] = _mounts_by_target(r["mounts"])
    return r


def _fd_target(target: str) -> str:
    m = INODE.match(target)
    if m:
        return m.group(1)
    if target.startswith("/tmp/"):
        return "<tmpfile>"
    return target


def _mounts_by_target(mounts: list[dict[str, Any]]) -> dict[str, Any]:
    """Key mounts by target (the Nth duplicate as target#N), keeping order in 'order'."""
    keyed: dict[str, Any] = {}
    for m in mounts:
        key = m["target"]
        n = 2
        while key in keyed:
            key = f"{m['target']}#{n}"
            n += 1
        keyed[key] = {k: v for k, v in m.items() if k != "target"}
    keyed["order"] = list(keyed)
    return keyed


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": [1]}} -> {"a.b": [1]}; lists stay whole values, dict keys go in [..] when
    they contain dots or slashes (mount targets, device names, paths)."""
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for k, v in value.items():
        part = f"[{k}]" if ("/" in k or "." in k) else (f".{k}" if prefix else k)
        out.update(flatten(v, prefix + part))
    if not value:
        out[prefix] = {}
    return out


@dataclass
class Difference:
    path: str
    ours: Any
    reference: Any

    def __str__(self) -> str:
        return f"{self.path}: {self.ours!r} != reference {self.reference!r}"


def differences(ours: dict[str, Any], reference: dict[str, Any]) -> list[Difference]:
    a, b = flatten(ours), flatten(reference)
    missing = object()
    found = []
    for path in sorted(set(a) | set(b)):
        va, vb = a.get(path, missing), b.get(path, missing)
        if va != vb:
            found.append(Difference(path, None if va is missing else va,
                                    None if vb is missing else vb))
    return found


@dataclass
class KnownDifference:
    scenario: str
    path: str
    reason: str
    runtime: str = "*"

    def matches(self, runtime: str, scenario: str, diff: Difference) -> bool:
        # paths contain [..] (mount targets, devices): an exact match needs no escaping
        path_ok = diff.path == self.path or fnmatch.fnmatchcase(diff.path, self.path)
        return (fnmatch.fnmatchcase(runtime, self.runtime)
                and fnmatch.fnmatchcase(scenario, self.scenario) and path_ok)


def load_known(path: Path) -> list[KnownDifference]:
    data = json.loads(path.read_text())
    return [KnownDifference(e["scenario"], e["path"], e["reason"], e.get("runtime", "*"))
            for e in data["differences"]]


def unexplained(runtime: str, scenario: str, diffs: list[Difference],
                known: list[KnownDifference]) -> list[Difference]:
    return [d for d in diffs if not any(k.matches(runtime, scenario, d) for k in known)]
