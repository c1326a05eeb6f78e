"""Accepted configs: what the config asks for is what the container gets.

Generated user ids (uid, gid, additionalGids), user namespace maps, device nodes, device cgroup
rules and mounts run through pyrunc (``create`` + ``start``, or ``run``). The static probe inside
(/probe all) reports the ids, /dev and the mount table it sees; from the host, while the container
is created, /proc/<pid>/uid_map and gid_map must hold the configured maps and the v1 devices
cgroup's devices.list must equal runc's for the same rules. See test_config_properties.py for
how to run a long fuzz.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from prop_checks import budget, check_sane, event
from prop_harness import Case, Env
from spectest.probe import mount_at, mount_options
from spectest.runtime import Runtime

U32 = 2**32
ids_st = st.one_of(st.sampled_from([0, 1, 1000, 65534, 2**31, U32 - 2]),
                   st.integers(0, U32 - 2))


@st.composite
def user_st(draw: st.DrawFn) -> dict[str, Any]:
    """process.user, and the maps when a user namespace is drawn (container root mapped)."""
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        maps = {}
        for key in ("uidMappings", "gidMappings"):
            size = draw(st.one_of(st.sampled_from([1, 1000, 65536]), st.integers(1, 70000)))
            host = draw(st.one_of(st.sampled_from([100000, U32 - 1 - size]),
                                  st.integers(100000, U32 - 1 - size)))
            maps[key] = [{"containerID": 0, "hostID": host, "size": size}]
        out["maps"] = maps
        uids = st.integers(0, maps["uidMappings"][0]["size"] - 1)
        gids = st.integers(0, maps["gidMappings"][0]["size"] - 1)
    else:
        uids = gids = ids_st
    out["user"] = {"uid": draw(uids), "gid": draw(gids),
                   "additionalGids": draw(st.lists(gids, max_size=4))}
    return out


device_st = st.fixed_dictionaries(
    {"type": st.sampled_from(["c", "b", "u", "p"]), "major": st.integers(1, 511),
     "minor": st.integers(0, 1 << 16)},
    optional={"fileMode": st.integers(0, 0o777), "uid": st.integers(0, 65535),
              "gid": st.integers(0, 65535)})

rule_st = st.fixed_dictionaries(
    {"allow": st.booleans(), "access": st.sets(st.sampled_from("rwm"), min_size=1).map(
        lambda s: "".join(sorted(s)))},
    optional={"type": st.sampled_from(["a", "c", "b"]), "major": st.integers(0, 300),
              "minor": st.integers(0, 300)})

MOUNT_OPTS = ["ro", "nosuid", "nodev", "noexec"]


@st.composite
def mounts_st(draw: st.DrawFn) -> list[dict[str, Any]]:
    mounts = []
    if draw(st.booleans()):
        opts = draw(st.lists(st.sampled_from(MOUNT_OPTS), unique=True))
        mounts.append({"destination": "/mnt/a", "type": "tmpfs", "source": "tmpfs",
                       "options": [*opts, "size=1m", "mode=0755"]})
    if draw(st.booleans()):
        opts = draw(st.lists(st.sampled_from(MOUNT_OPTS), unique=True))
        mounts.append({"destination": "/mnt/b", "type": "bind", "source": "@HOSTDIR@",
                       "options": [draw(st.sampled_from(["bind", "rbind"])), *opts]})
    return mounts


@settings(max_examples=budget(80))
@given(user=user_st(), devices=st.lists(device_st, max_size=3),
       rules=st.lists(rule_st, max_size=3), mounts=mounts_st(),
       verb=st.sampled_from(["create", "run"]))
def test_accepted_config_is_what_the_container_gets(
        prop_env: Env, user: dict[str, Any], devices: list[dict[str, Any]],
        rules: list[dict[str, Any]], mounts: list[dict[str, Any]], verb: str) -> None:
    case = Case.new(prop_env)
    hostdir = prop_env.workdir / "host" / case.id
    try:
        hostdir.mkdir()
        config = case.config
        config["process"]["args"] = ["/probe", "all"]
        config["process"]["user"] = user["user"]
        linux = config["linux"]
        if "maps" in user:
            linux["namespaces"].append({"type": "user"})
            linux.update(user["maps"])
            devices = []  # in a user namespace devices are bind mounts of the host's nodes
            if user["maps"]["gidMappings"][0]["size"] <= 5:  # devpts gid=5 must be mapped
                pts = next(m for m in config["mounts"] if m["destination"] == "/dev/pts")
                pts["options"].remove("gid=5")
        linux["devices"] = [{"path": f"/dev/prop{i}", **d} for i, d in enumerate(devices)]
        for d in linux["devices"]:
            if d["type"] == "p":
                d.pop("major"), d.pop("minor")
        linux["resources"]["devices"] += rules
        config["mounts"] += [{**m, "source": str(hostdir)} if m["source"] == "@HOSTDIR@"
                             else m for m in mounts]
        case.write()
        event(f"{verb}{' userns' if 'maps' in user else ''}")
        report, host = _observe(case, prop_env.pyrunc, verb)
        _check_inside(config, report)
        if verb == "create":
            _check_host(config, host)
            if any(r.get("type", "a") == "a" and len(r["access"]) < 3 for r in rules):
                # v1 turns any "a" rule into "everything" (runc writes it as is: an allow of
                # read grants rwm on every device); pyrunc keeps the access: not compared
                event("devices.list not compared (a partial 'a' rule)")
            else:
                _compare_devices_list(prop_env, rules, config["linux"]["devices"], host)
    finally:
        case.cleanup()
        if hostdir.exists():
            hostdir.rmdir()


def _compare_devices_list(env: Env, rules: list[dict[str, Any]],
                          devices: list[dict[str, Any]], host: dict[str, Any]) -> None:
    """devices.list as runc 1.1.5 leaves it for the same rules (in a plain container: runc
    refuses ids >= 2^31). pyrunc also allows the nodes of linux.devices (runc leaves that to
    resources.devices): those lines are not compared."""
    runc_case = Case.new(env)
    try:
        runc_case.config["linux"]["resources"]["devices"] += rules
        runc_case.write()
        _, runc_host = _observe(runc_case, env.runc, "create")
    finally:
        runc_case.cleanup()
    nodes = {f"{'c' if d['type'] == 'u' else d['type']} {d['major']}:{d['minor']} rwm"
             for d in devices if d["type"] != "p"}
    assert host["devices.list"] - nodes == runc_host["devices.list"] - nodes, \
        f"devices.list differs from runc's for rules {rules}"


def _observe(case: Case, rt: Runtime, verb: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The probe's report, plus (create) the host's view of the created init."""
    host: dict[str, Any] = {}
    what = f"{rt.name} {verb} {case.id}"
    if verb == "run":
        res = case.run_foreground(rt)
        check_sane(res, what)
        assert res.rc == 0, f"{what}: {res}"
        return json.loads(res.out), host
    with tempfile.TemporaryFile() as out:
        res = case.create(rt, stdout=out)
        check_sane(res, what)
        assert res.rc == 0, f"{what}: {res}"
        pid = case.pid(rt)
        for name in ("uid_map", "gid_map"):
            with open(f"/proc/{pid}/{name}") as f:
                host[name] = [tuple(int(x) for x in line.split()) for line in f]
        host["devices.list"] = _devices_list(case.cgroups_path)
        res = case.cmd(rt, "start", case.id)
        check_sane(res, f"{what}: start")
        assert res.rc == 0, f"{what}: start: {res}"
        code = case.wait_stopped(rt, pid)
        assert code in (0, None), f"{what}: probe exited {code}"
        out.seek(0)
        data = out.read()
    return (json.loads(data) if data.strip() else {}), host  # the runc run prints nothing


def _devices_list(cgroups_path: str) -> set[str]:
    path = f"/sys/fs/cgroup/devices/{cgroups_path.strip('/')}/devices.list"
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return set(f.read().split("\n")) - {""}


def _check_inside(config: dict[str, Any], report: dict[str, Any]) -> None:
    user = config["process"]["user"]
    ids = report["ids"]
    assert (ids["uid"], ids["euid"]) == (user["uid"], user["uid"]), ids
    assert (ids["gid"], ids["egid"]) == (user["gid"], user["gid"]), ids
    assert sorted(set(ids["groups"])) == sorted(set(user["additionalGids"])), ids
    dev = report["devices"]["/dev"]
    for d in config["linux"]["devices"]:
        name = d["path"].removeprefix("/dev/")
        assert name in dev, f"{d['path']} missing in the container's /dev"
        got = dev[name]
        assert got["type"] == {"u": "c"}.get(d["type"], d["type"]), (d, got)
        if d["type"] != "p":
            assert (got["major"], got["minor"]) == (d["major"], d["minor"]), (d, got)
        if "fileMode" in d:
            assert int(got["mode"], 8) == d["fileMode"], (d, got)
        assert (got["uid"], got["gid"]) == (d.get("uid", 0), d.get("gid", 0)), (d, got)
    for m in config["mounts"]:
        if not m["destination"].startswith("/mnt/"):
            continue
        got = mount_at(report, m["destination"])
        assert got is not None, f"{m['destination']} not mounted"
        opts = mount_options(got)
        if m["type"] == "tmpfs":
            assert got["fstype"] == "tmpfs", got
        for o in ("nosuid", "nodev", "noexec"):
            assert (o in opts) == (o in m["options"]), (m, got)
        assert ("ro" in opts) == ("ro" in m["options"]), (m, got)


def _check_host(config: dict[str, Any], host: dict[str, Any]) -> None:
    linux = config["linux"]
    for key, name in (("uidMappings", "uid_map"), ("gidMappings", "gid_map")):
        if key in linux:
            want = [(m["containerID"], m["hostID"], m["size"]) for m in linux[key]]
        else:
            want = [(0, 0, U32 - 1)]
        assert host[name] == want, f"{name}: {host[name]} != {want}"
