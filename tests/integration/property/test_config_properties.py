"""Property-based tests: pyrunc under hostile config.json (the project's issue 13).

Configs are generated from the runtime-spec JSON schema pyrunc ships
(runtime/pyrunc/spec/schema/config.schema.json) and as mutations of a valid busybox bundle (the
spec-tests baseline plus optional user namespace, hooks, resources, devices, seccomp, groups,
annotations...), then run through pyrunc for real (root: ``pyrunc --root PRIVATE create``, then
``start``/``delete``). Invariants:

- never a Python traceback, never a hang (each command is bounded; expiry fails the example);
- a refusal exits non-zero, names the mutated field by its JSON path (e.g.
  ``linux.resources.devices[0].allow``) and leaves nothing: no state dir under the private
  --root, no cgroup dir for the cgroupsPath in any /sys/fs/cgroup/* hierarchy, no process, no
  new mount mentioning the bundle, rootfs or id;
- what the schema forbids is refused, unknown properties (hook kinds included) are ignored;
- for security-relevant fields, whatever runc refuses pyrunc refuses too.
test_container_properties.py checks that accepted ids, maps, device rules, devices and mounts
are what the container really gets.

Running it:

    export PYTHONPATH=$PWD/runtime:$PWD/engine
    python3 -m pytest tests/integration/property --hypothesis-show-statistics

The default ``ci`` profile is derandomized (every run tries the same examples) and takes about
1 minute on this 2-core VM once the properties hold, 2 minutes beside a fuzz run (a failing
property stops at its first, shrunk, failure). A long fuzz, random and 40 times the examples
(roughly 40 minutes), with failures kept in .hypothesis/ and replayed first on the next run;
``PROP_FUZZ_SCALE=8`` makes it 8 times the ci examples (roughly 8 minutes):

    python3 -m pytest tests/integration/property --hypothesis-profile=fuzz \\
        --hypothesis-show-statistics -x
    # or PROP_HYPOTHESIS_PROFILE=fuzz; PROP_COMMAND_TIMEOUT=SECONDS bounds each command (60)

Hypothesis prints the shrunk failing mutation (kind, path, value, expectation); the statistics
list how many examples were refused or accepted per mutation kind.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from prop_checks import budget, check_sane, event, names_field, try_mutation
from prop_harness import Case, Env
from prop_mutations import EXTRAS, KINDS, REFUSE, Mutation, add_extras, catalogue, security
from prop_schema import format_path, node_at, strategy
from spectest.bundle import default_config

extras_st = st.frozensets(st.sampled_from(EXTRAS))
# mutation kinds that have nothing to mutate without an extra
NEEDS = {"hook-timeout": frozenset(["hooks"])}


def base(env: Env, extras: frozenset[str]) -> dict[str, Any]:
    config = default_config(env.rootfs, "base")
    config["process"]["args"] = ["/probe", "exit", "0"]
    config["linux"]["cgroupsPath"] = "/proptest-@CID@"  # mutations of it keep the id
    return add_extras(config, extras)


def mutation_st(env: Env, kinds: tuple[str, ...] = KINDS) -> st.SearchStrategy[Any]:
    """(base config, mutation): a kind first (so rare kinds are drawn as often as the rest),
    then the base's extras, then one mutation of that kind."""

    def pick(kind: str, extras: frozenset[str]) -> st.SearchStrategy[Any]:
        config = base(env, extras | NEEDS.get(kind, frozenset()))
        options = catalogue(config, kind, env.rootfs_variants)
        return st.sampled_from(options).map(lambda m: (config, m))

    return st.tuples(st.sampled_from(kinds), extras_st).flatmap(lambda t: pick(*t))


def test_base_configs_run(prop_env: Env) -> None:
    """The unmutated bases are valid: every extra alone, and all together, run to completion
    (otherwise every refusal below would be meaningless)."""
    for extras in [frozenset(), *[frozenset([e]) for e in EXTRAS], frozenset(EXTRAS)]:
        m = Mutation("none", ("hostname",), "unmutated", "accept")
        try_mutation(prop_env, prop_env.pyrunc, base(prop_env, extras), m)


def test_oom_score_adj_in_user_namespace(prop_env: Env) -> None:
    """process.oomScoreAdj (raising it needs no privilege) with a user namespace: runc runs it."""
    config = base(prop_env, frozenset(["userns"]))
    config["process"]["oomScoreAdj"] = 100
    m = Mutation("none", ("hostname",), "unmutated", "accept")
    try_mutation(prop_env, prop_env.runc, config, m)
    try_mutation(prop_env, prop_env.pyrunc, config, m)


@settings(max_examples=budget(300))
@given(data=st.data())
def test_mutated_config(prop_env: Env, data: st.DataObject) -> None:
    """Every mutation kind against every field: refused cleanly and by name, or accepted and
    run, as the mutation's expectation allows."""
    config, mutation = data.draw(mutation_st(prop_env), label="mutation")
    try_mutation(prop_env, prop_env.pyrunc, config, mutation)


@settings(max_examples=budget(80))
@given(data=st.data())
def test_security_mutation_refused_like_runc(prop_env: Env, data: st.DataObject) -> None:
    """ids of -1/2^32-1, maps beyond 32 bits, device rules with a non-boolean allow or a bad
    access: when runc refuses (its behaviour is right here), pyrunc must refuse too."""
    extras = data.draw(extras_st.map(lambda e: e | {"userns", "resources"}), label="extras")
    config = base(prop_env, extras)
    mutation = data.draw(st.sampled_from(security(config)), label="mutation")
    runc_refused = try_mutation(prop_env, prop_env.runc, config, _lenient(mutation))
    event(f"runc {'refuses' if runc_refused else 'accepts'} {format_path(mutation.path)}")
    expect = REFUSE if runc_refused else mutation.expect
    try_mutation(prop_env, prop_env.pyrunc, config, _with_expect(mutation, expect))


def _lenient(m: Mutation) -> Mutation:
    """runc as the reference: any outcome, its messages need not name the field."""
    return Mutation(m.kind, m.path, m.value, "either", m.security, aliases=("",))


def _with_expect(m: Mutation, expect: str) -> Mutation:
    return Mutation(m.kind, m.path, m.value, expect, m.security, m.aliases)


SECTIONS: dict[tuple[str, ...], bool] = {
    # path -> True when it may hold anything the schema allows, False when its values must be
    # host-valid too (generated hooks would run random paths on the host)
    ("linux", "resources"): True,
    ("linux", "devices"): True,
    ("linux", "seccomp"): True,
    ("linux", "namespaces"): True,
    ("linux", "timeOffsets"): True,
    ("linux", "personality"): True,
    ("linux", "intelRdt"): True,
    ("linux", "rootfsPropagation"): True,
    ("process", "rlimits"): True,
    ("process", "capabilities"): True,
    ("process", "user"): True,
    ("process", "scheduler"): True,
    ("process", "ioPriority"): True,
    ("process", "oomScoreAdj"): True,
    ("process", "consoleSize"): True,
    ("mounts",): True,
}


@settings(max_examples=budget(120))
@given(data=st.data())
def test_schema_generated_section(prop_env: Env, data: st.DataObject) -> None:
    """A schema-valid value for one section, generated from the schema, in the base config:
    pyrunc runs it or refuses it cleanly, naming a field of that section."""
    path = data.draw(st.sampled_from(sorted(SECTIONS)), label="section")
    node = node_at(path)
    assert node is not None
    value = data.draw(strategy(node), label=format_path(path))
    config = base(prop_env, frozenset())
    if path == ("mounts",):  # destinations made under /mnt: the rootfs is shared
        value = config["mounts"] + [{**m, "destination": "/mnt/" + m["destination"].lstrip("/")}
                                    for m in value]
    if path == ("linux", "devices"):  # device nodes stay in the container's /dev tmpfs
        value = [{**d, "path": "/dev" + d["path"]} for d in value]
    if path == ("linux", "namespaces") and not any(ns["type"] == "mount" for ns in value):
        value = [*value, {"type": "mount"}]  # never set a rootfs up in the host's namespace
    if path == ("linux", "namespaces") and any(ns["type"] == "user" for ns in value):
        # a new user namespace needs maps (refused by name otherwise, outside this section)
        config["linux"].update({k: [{"containerID": 0, "hostID": 100000, "size": 65536}]
                                for k in ("uidMappings", "gidMappings")})
    mutation = Mutation("schema", path, value, "either")
    _run_section(prop_env, config, mutation)


def _run_section(env: Env, config: dict[str, Any], mutation: Mutation) -> None:
    """Like try_mutation, but a refusal may name any field under the section."""
    from prop_checks import _own_ids, run_accepted
    from prop_schema import walk

    case = Case.new(env)
    try:
        case.config = mutation.apply(_own_ids(config, case), case.id)
        case.write()
        what = f"pyrunc {mutation}"
        res = case.create(env.pyrunc)
        check_sane(res, f"{what}: create")
        if res.rc == 0:
            event(f"accepted {format_path(mutation.path)}")
            run_accepted(case, env.pyrunc, what)
            return
        event(f"refused {format_path(mutation.path)}")
        sub = [(*mutation.path, *p) for p, _ in walk(mutation.value)]
        assert names_field(res.message, sub), \
            f"{what}: the refusal names no field under {format_path(mutation.path)}: " \
            f"{res.message.strip()!r}"
        left = case.leftovers(env.pyrunc)
        assert not left, f"{what}: refused but left {left}"
    finally:
        case.cleanup()
