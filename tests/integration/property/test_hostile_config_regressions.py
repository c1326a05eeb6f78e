"""One explicit case per config defect of the project's issue 13 ("pyrunc under hostile input"),
each asserting the correct behaviour, so which ones are fixed shows test by test. The property
tests (test_config_properties.py) explore the same ground at random; these never change.

Same invariants: no traceback, no hang, a refusal exits non-zero, names the field by its JSON
path and leaves nothing behind; an accepted config runs, and `delete` leaves nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from prop_checks import check_sane, try_mutation
from prop_harness import Case, Env, Outcome
from prop_mutations import ACCEPT, EITHER, REFUSE, U32, Mutation, add_extras
from spectest.bundle import default_config
from spectest.host import MARK_ENV


def base(env: Env, *extras: str) -> dict[str, Any]:
    config = default_config(env.rootfs, "base")
    config["process"]["args"] = ["/probe", "exit", "0"]
    config["linux"]["cgroupsPath"] = "/proptest-@CID@"  # mutations of it keep the id
    return add_extras(config, frozenset(extras))


def refused(env: Env, config: dict[str, Any], path: tuple[str | int, ...], value: Any,
            *aliases: str) -> None:
    try_mutation(env, env.pyrunc, config, Mutation("regression", path, value, REFUSE,
                                                   aliases=aliases))


def either(env: Env, config: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    try_mutation(env, env.pyrunc, config, Mutation("regression", path, value, EITHER))


def accepted(env: Env, config: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    try_mutation(env, env.pyrunc, config, Mutation("regression", path, value, ACCEPT))


# -- typed decoding with ranges ----------------------------------------------------------------
@pytest.mark.parametrize("field", ["uid", "gid"])
@pytest.mark.parametrize("value", [-1, U32 - 1, U32, 2**63, -(2**63) - 1])
def test_user_id_out_of_range(prop_env: Env, field: str, value: int) -> None:
    """-1 and 2^32-1 are (uid_t)-1, "leave unchanged": the process would keep root's id."""
    refused(prop_env, base(prop_env), ("process", "user", field), value)


@pytest.mark.parametrize("value", [-1, U32 - 1, U32])
def test_additional_gid_out_of_range(prop_env: Env, value: int) -> None:
    refused(prop_env, base(prop_env), ("process", "user", "additionalGids"), [value],
            "process.user.additionalGids[0]")


@pytest.mark.parametrize("field,value", [("hostID", U32), ("hostID", -1), ("containerID", U32),
                                         ("size", U32), ("size", -1)])
def test_id_mapping_out_of_range(prop_env: Env, field: str, value: int) -> None:
    refused(prop_env, base(prop_env, "userns"), ("linux", "uidMappings", 0, field), value)


@pytest.mark.parametrize("path,value", [
    (("process", "consoleSize", "height"), -1),
    (("process", "rlimits", 0, "soft"), 2**64),
    (("process", "rlimits", 0, "hard"), -1),
    (("process", "user", "umask"), -1),
    (("process", "oomScoreAdj"), 1001),
    (("linux", "resources", "pids", "limit"), 2**63),
    (("linux", "resources", "memory", "limit"), -(2**63) - 1),
    (("linux", "resources", "cpu", "shares"), -1),
    (("linux", "devices", 0, "major"), 2**63),
    (("linux", "devices", 0, "fileMode"), U32),
])
def test_int_out_of_schema_range(prop_env: Env, path: tuple[str | int, ...], value: int) -> None:
    refused(prop_env, base(prop_env, "misc", "resources", "devices"), path, value)


@pytest.mark.parametrize("path,value", [
    (("process", "rlimits", 0, "hard"), U32 - 1),
    (("process", "oomScoreAdj"), -1000),
], ids=["rlimit-hard-raised", "oom-score-adj-lowered"])
def test_privileged_value_runs_or_is_refused_by_name(prop_env: Env,
                                                     path: tuple[str | int, ...],
                                                     value: int) -> None:
    """Valid values that need CAP_SYS_RESOURCE (raising a hard rlimit, lowering oomScoreAdj):
    run where the runtime has it, else the kernel's refusal names the field."""
    either(prop_env, base(prop_env), path, value)


def test_empty_executable_is_refused_by_name(prop_env: Env) -> None:
    """process.args[0] = "": runc's 'exec: "": executable file not found in $PATH', naming
    the field."""
    refused(prop_env, base(prop_env), ("process", "args", 0), "")


def test_recursively_unbindable_rootfs_is_refused_by_name(prop_env: Env) -> None:
    """linux.rootfsPropagation "runbindable": the container's bind mounts (cgroup, read-only
    paths) cannot be made from an unbindable tree; runc 1.1.5 fails too, without the field."""
    refused(prop_env, base(prop_env), ("linux", "rootfsPropagation"), "runbindable")


def test_empty_masked_path_is_refused_by_name(prop_env: Env) -> None:
    """The schema wants an absolute path; "" names no file."""
    refused(prop_env, base(prop_env), ("linux", "maskedPaths", 0), "")


def test_failed_mount_names_its_entry(prop_env: Env) -> None:
    """A mount without type or source (the kernel says ENODEV) is refused naming mounts[i]."""
    config = base(prop_env)
    n = len(config["mounts"])
    refused(prop_env, config, ("mounts", n), {"destination": "/mnt/a"})


def test_inheritable_capability_outside_bounding_is_refused_by_name(prop_env: Env) -> None:
    """The kernel refuses an inheritable set beyond the bounding set (capset EPERM)."""
    config = base(prop_env)
    config["process"]["capabilities"]["bounding"] = []
    refused(prop_env, config, ("process", "capabilities", "inheritable"), ["CAP_CHOWN"])


def test_device_node_the_kernel_refuses_names_its_entry(prop_env: Env) -> None:
    """linux.devices path "/dev/" (a directory): refused naming linux.devices[i]."""
    config = base(prop_env, "devices")
    n = len(config["linux"]["devices"])
    refused(prop_env, config, ("linux", "devices", n), {"type": "p", "path": "/dev/"})


def test_id_map_beyond_32_bits_names_the_mutated_field(prop_env: Env) -> None:
    """hostID + size > 2^32 (each in range alone): the refusal names hostID (and size)."""
    refused(prop_env, base(prop_env, "userns"), ("linux", "gidMappings", 0, "hostID"), U32 - 1)


def test_cpu_shares_beyond_the_kernel_maximum_is_refused_by_name(prop_env: Env) -> None:
    """cgroup v1 clamps cpu.shares to 2..262144; runc refuses what does not read back."""
    either(prop_env, base(prop_env, "resources"), ("linux", "resources", "cpu", "shares"),
           U32 - 1)


def test_empty_root_path_is_refused_by_name(prop_env: Env) -> None:
    """root.path "" would make the bundle directory the rootfs."""
    refused(prop_env, base(prop_env), ("root", "path"), "")


def test_namespace_path_that_is_no_namespace_names_its_entry(prop_env: Env) -> None:
    """linux.namespaces[i].path "/" (a directory, not a namespace): setns refuses it."""
    config = base(prop_env)
    i = next(i for i, ns in enumerate(config["linux"]["namespaces"]) if ns["type"] == "pid")
    refused(prop_env, config, ("linux", "namespaces", i, "path"), "/")


def test_unified_resources_run_or_are_refused_by_name(prop_env: Env) -> None:
    """linux.resources.unified: applied on cgroup v2, refused by name where v2 is missing."""
    either(prop_env, base(prop_env), ("linux", "resources", "unified"), {"pids.max": "10"})


def test_empty_mount_destination_is_refused_by_name(prop_env: Env) -> None:
    refused(prop_env, base(prop_env), ("mounts", 0, "destination"), "")


@pytest.mark.parametrize("value", [-2, -(2**63)])
def test_negative_memory_limit_is_refused_by_name(prop_env: Env, value: int) -> None:
    """-1 means unlimited; the kernel refuses every other negative value (EINVAL)."""
    refused(prop_env, base(prop_env, "resources"), ("linux", "resources", "memory", "limit"),
            value)


@pytest.mark.parametrize("value", [2, -(2**63)])
def test_cpu_idle_other_than_0_or_1_is_refused_by_name(prop_env: Env, value: int) -> None:
    refused(prop_env, base(prop_env, "resources"), ("linux", "resources", "cpu", "idle"), value)


# -- resource types ------------------------------------------------------------------------
@pytest.mark.parametrize("path,value", [
    (("linux", "resources", "pids"), 1),
    (("linux", "resources", "cpu"), True),
    (("linux", "resources", "memory"), "1"),
    (("linux", "resources", "devices"), True),
    (("linux", "resources", "devices", 0), 1),
    (("linux", "resources", "devices", 0, "allow"), 1),
    (("linux", "resources", "devices", 0, "allow"), "false"),
    (("linux", "resources", "devices", 1, "access"), 1),
    (("linux", "resources", "devices", 1, "type"), 1),
    (("linux", "resources", "devices", 1, "major"), []),
    (("linux", "resources", "devices", 1, "minor"), "1"),
    (("linux", "resources", "memory", "limit"), []),
    (("linux", "resources", "pids", "limit"), "1"),
    (("linux", "resources", "cpu", "shares"), 1.5),
])
def test_resource_wrong_type(prop_env: Env, path: tuple[str | int, ...], value: Any) -> None:
    refused(prop_env, base(prop_env, "resources"), path, value)


def test_device_rule_without_allow(prop_env: Env) -> None:
    """allow is required: a rule without it must not be read as either answer."""
    from prop_mutations import MISSING

    refused(prop_env, base(prop_env, "resources"), ("linux", "resources", "devices", 1, "allow"),
            MISSING)


@pytest.mark.parametrize("path,value", [
    (("linux", "seccomp", "defaultAction"), []),
    (("linux", "seccomp", "architectures"), "1"),
    (("linux", "seccomp", "architectures", 0), {}),
    (("linux", "seccomp", "syscalls"), True),
])
def test_seccomp_wrong_type(prop_env: Env, path: tuple[str | int, ...], value: Any) -> None:
    refused(prop_env, base(prop_env, "seccomp"), path, value)


def test_missing_process_user_runs_as_root(prop_env: Env) -> None:
    """process.user is REQUIRED by the schema, but runc 1.1.5 accepts a config without it and
    runs the process as uid 0, gid 0 (Go's zero value); pyrunc does the same. Checked from
    inside: the probe reports its real and effective ids."""
    import json

    config = base(prop_env)
    del config["process"]["user"]
    config["process"]["args"] = ["/probe", "ids"]

    def check(case: Case, res: Outcome) -> None:
        assert res.rc == 0, f"process.user missing: refused or failed: {res}"
        ids = json.loads(res.out)["ids"]
        assert (ids["uid"], ids["euid"], ids["gid"], ids["egid"]) == (0, 0, 0, 0), ids
        assert not case.leftovers(prop_env.pyrunc)

    run_and_check(prop_env, config, check)


def run_and_check(env: Env, config: dict[str, Any],
                  check: Callable[[Case, Outcome], None]) -> None:
    """`pyrunc run` config in the foreground (its own id and cgroupsPath), then check(case,
    outcome); the case is cleaned up either way."""
    case = Case.new(env)
    try:
        config["linux"]["cgroupsPath"] = f"/proptest-{case.id}"
        case.config = config
        case.write()
        res = case.run_foreground(env.pyrunc)
        check_sane(res, "run")
        check(case, res)
    finally:
        case.cleanup()


# -- NUL and lone surrogates ---------------------------------------------------------------
@pytest.mark.parametrize("path", [
    ("root", "path"), ("process", "args", 0), ("process", "cwd"), ("hostname",),
    ("mounts", 0, "destination"), ("linux", "maskedPaths", 0), ("linux", "cgroupsPath"),
    ("process", "capabilities", "bounding", 0),
])
def test_nul_in_string(prop_env: Env, path: tuple[str | int, ...]) -> None:
    config = base(prop_env)
    value = _get(config, path)
    refused(prop_env, config, path, value + "\x00x")


@pytest.mark.parametrize("path", [("hooks", "createRuntime", 0, "path"),
                                  ("hooks", "createRuntime", 0, "args", 0),
                                  ("hooks", "createRuntime", 0, "env", 0)])
def test_nul_in_hook(prop_env: Env, path: tuple[str | int, ...]) -> None:
    config = base(prop_env, "hooks")
    refused(prop_env, config, path, _get(config, path) + "\x00x")


@pytest.mark.parametrize("surrogate", ["\ud800", "\udcff"])
@pytest.mark.parametrize("path", [
    ("root", "path"), ("process", "args", 0), ("process", "cwd"), ("hostname",),
    ("process", "env", 0), ("hooks", "poststop", 0, "path"), ("linux", "cgroupsPath"),
])
def test_lone_surrogate(prop_env: Env, path: tuple[str | int, ...], surrogate: str) -> None:
    """Not Unicode: refused by name (or, as Go does, replaced and used); never a traceback."""
    config = base(prop_env, "hooks")
    either(prop_env, config, path, _get(config, path) + surrogate)


# -- deep JSON -----------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [1000, 10000])
@pytest.mark.parametrize("where", [("xDeep",), ("linux", "xDeep")])
def test_deep_nesting_in_unknown_field(prop_env: Env, depth: int,
                                       where: tuple[str, ...]) -> None:
    from prop_harness import Deep

    either(prop_env, base(prop_env), where, Deep(depth))


@pytest.mark.parametrize("depth", [1000, 10000])
def test_deep_nesting_in_annotations(prop_env: Env, depth: int) -> None:
    from prop_harness import Deep

    refused(prop_env, base(prop_env), ("annotations", "deep"), Deep(depth, "object"))


# -- unknown properties --------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["preStart", "postStart", "createruntime", "x-vendor"])
def test_unknown_hook_kind_ignored(prop_env: Env, kind: str) -> None:
    """The spec: unknown properties MUST be ignored (runc ignores unknown hook kinds)."""
    accepted(prop_env, base(prop_env, "hooks"), ("hooks", kind), [{"path": "/no/such/hook"}])


@pytest.mark.parametrize("where", [("xVendor",), ("process", "xVendor"),
                                   ("linux", "resources", "xVendor"), ("mounts", 0, "xVendor")])
def test_unknown_property_ignored(prop_env: Env, where: tuple[str | int, ...]) -> None:
    accepted(prop_env, base(prop_env, "resources"), where, {"any": [1, "thing", None]})


# -- hook timeouts -------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, -1])
def test_hook_timeout_not_positive(prop_env: Env, value: int) -> None:
    refused(prop_env, base(prop_env, "hooks"), ("hooks", "createRuntime", 0, "timeout"), value)


@pytest.mark.parametrize("value", [U32, 2**63, 2**64])
def test_hook_timeout_huge(prop_env: Env, value: int) -> None:
    """Valid by the schema (no maximum): runs, or is refused by name; never a traceback."""
    either(prop_env, base(prop_env, "hooks"), ("hooks", "createRuntime", 0, "timeout"), value)


def test_hook_timeout_kills_its_process_group(prop_env: Env) -> None:
    """A hook that times out is killed with everything it started (its process group):
    create fails naming the hook, and no process of it is left."""
    config = base(prop_env)
    config["hooks"] = {"createRuntime": [{
        "path": "/bin/sh", "args": ["sh", "-c", "sleep 1000 & sleep 1000"],
        "env": [f"{MARK_ENV}=@CID@"], "timeout": 1}]}
    case = Case.new(prop_env)
    try:
        config["linux"]["cgroupsPath"] = f"/proptest-{case.id}"
        hook = config["hooks"]["createRuntime"][0]
        hook["env"] = [f"{MARK_ENV}={case.id}"]
        case.config = config
        case.write()
        res = case.create(prop_env.pyrunc)
        check_sane(res, "create")
        assert res.rc != 0, "a hook that timed out must fail create"
        assert any(w in res.message for w in ("hooks.createRuntime[0]",
                                              "createRuntime hook #0")), res.message
        left = case.leftovers(prop_env.pyrunc)
        assert not left, left
    finally:
        case.cleanup()


# -- env -----------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", ["", "=x", "A=\x00b", "A\x00=b", "NOEQUALS"])
def test_bad_env_entry(prop_env: Env, entry: str) -> None:
    config = base(prop_env)
    refused(prop_env, config, ("process", "env", len(config["process"]["env"])), entry)


# -- rootfs: /proc and /sys symlinks, symlinked root, long cgroupsPath ---------------------
@pytest.mark.parametrize("variant", ["proc-symlink", "sys-symlink"])
def test_symlinked_proc_or_sys_in_rootfs(prop_env: Env, variant: str) -> None:
    """/proc or /sys a symlink in the rootfs: refused (the mount would land where it points)."""
    config = base(prop_env)
    dest = "/" + variant.split("-")[0]
    idx = next(i for i, m in enumerate(config["mounts"]) if m["destination"] == dest)
    refused(prop_env, config, ("root", "path"), prop_env.rootfs_variants[variant],
            f"mounts[{idx}]", dest)


def test_symlinked_root_path(prop_env: Env) -> None:
    """root.path through a symlink (here: to the real rootfs) is refused by name, as runc 1.1.5
    refuses it ("invalid rootfs: not an absolute path, or a symlink"): a link inside the bundle
    could point anywhere on the host. Nothing is left behind (try_mutation checks)."""
    link = prop_env.workdir / "bundles" / f"rootlink-{os.getpid()}"
    link.symlink_to(prop_env.rootfs)
    try:
        refused(prop_env, base(prop_env), ("root", "path"), str(link))
    finally:
        link.unlink()


@pytest.mark.parametrize("tail", ["/" + "c" * 300, ("/" + "c" * 200) * 25, "/" + "c" * 5000],
                         ids=["component-300", "path-25x200", "component-5000"])
def test_long_cgroups_path(prop_env: Env, tail: str) -> None:
    """A component longer than NAME_MAX, a path longer than PATH_MAX: refused by name (or
    made); nothing left either way."""
    either(prop_env, base(prop_env), ("linux", "cgroupsPath"), "/proptest-@CID@" + tail)


# -- LSM and personality -------------------------------------------------------------------
@pytest.mark.parametrize("field", ["apparmorProfile", "selinuxLabel"])
def test_lsm_label_not_silently_ignored(prop_env: Env, field: str) -> None:
    """A profile that is not loaded (this host has no AppArmor or SELinux; with one, the name
    is still unknown) cannot be applied: refused by name, not run unconfined."""
    refused(prop_env, base(prop_env), ("process", field), "pyrunc-prop-no-such-profile")


def test_personality_applied_or_refused(prop_env: Env) -> None:
    """linux.personality LINUX32: `uname -m` says i686, or create refuses it by name."""
    config = base(prop_env)
    config["linux"]["personality"] = {"domain": "LINUX32"}
    config["process"]["args"] = ["/bin/uname", "-m"]

    def check(case: Case, res: Outcome) -> None:
        if res.rc != 0:
            assert "linux.personality" in res.message, res.message
            assert not case.leftovers(prop_env.pyrunc)
        else:
            assert res.out.strip() == b"i686", res.out

    run_and_check(prop_env, config, check)


def _get(config: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        config = config[part]
    return config
