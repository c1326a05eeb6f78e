"""The invariants every example is held to, and the budget helper for hypothesis settings."""

from __future__ import annotations

from typing import Any

from hypothesis import event as _event
from hypothesis import settings
from hypothesis.control import currently_in_test_context
from prop_harness import TRACEBACK, Case, Env, Outcome
from prop_mutations import ACCEPT, REFUSE, Mutation
from prop_schema import JsonPath, path_spellings
from spectest.runtime import Runtime


def budget(n: int) -> int:
    """n examples under the ci profile, scaled by the loaded profile's max_examples."""
    return max(1, n * settings().max_examples // 100)


def event(text: str) -> None:
    """hypothesis.event() inside a property, nothing in a plain test."""
    if currently_in_test_context():
        _event(text)


def check_sane(res: Outcome, what: str) -> None:
    """Never a hang, never a Python traceback."""
    assert not res.timed_out, f"{what}: timed out (killed): {res}"
    assert TRACEBACK not in res.err and TRACEBACK not in res.out, \
        f"{what}: Python traceback: {res}"


def names_field(message: str, paths: list[JsonPath], aliases: tuple[str, ...] = ()) -> bool:
    wanted = [s for p in paths for s in path_spellings(p)] + list(aliases)
    return any(w in message for w in wanted)


def check_refusal(case: Case, rt: Runtime, res: Outcome, paths: list[JsonPath],
                  aliases: tuple[str, ...], what: str) -> None:
    """A refusal exits non-zero, names the field and leaves nothing behind."""
    assert res.rc != 0
    spelled = [s for p in paths for s in path_spellings(p)] + list(aliases)
    assert names_field(res.message, paths, aliases), \
        f"{what}: the refusal names none of {spelled}: {res.message.strip()!r}"
    left = case.leftovers(rt)
    assert not left, f"{what}: refused but left {left}"


def run_accepted(case: Case, rt: Runtime, what: str) -> None:
    """start the created container, wait for it to stop, delete it: nothing may remain."""
    pid = case.pid(rt)
    assert pid > 0, f"{what}: created but `state` shows no pid"
    res = case.cmd(rt, "start", case.id)
    check_sane(res, f"{what}: start")
    if res.rc == 0:
        case.wait_stopped(rt, pid)
    res = case.cmd(rt, "delete", "--force", case.id)
    check_sane(res, f"{what}: delete")
    assert res.rc == 0, f"{what}: delete failed: {res}"
    left = case.leftovers(rt)
    assert not left, f"{what}: deleted but left {left}"


def try_mutation(env: Env, rt: Runtime, config: dict[str, Any], mutation: Mutation) -> bool:
    """Create the mutated config with rt and check the invariants; True when it was refused."""
    case = Case.new(env)
    try:
        mutated = mutation.apply(_own_ids(config, case), case.id)
        case.config = mutated
        case.write()
        what = f"{rt.name} {mutation}"
        res = case.create(rt)
        check_sane(res, f"{what}: create")
        if res.rc != 0:
            event(f"{rt.name}: refused ({mutation.kind}, expect {mutation.expect})")
            assert mutation.expect != ACCEPT, \
                f"{what}: refused what the spec says to ignore: {res.message.strip()!r}"
            check_refusal(case, rt, res, [mutation.path], mutation.aliases, what)
            return True
        event(f"{rt.name}: accepted ({mutation.kind}, expect {mutation.expect})")
        assert mutation.expect != REFUSE, f"{what}: accepted (create exited 0)"
        run_accepted(case, rt, what)
        return False
    finally:
        case.cleanup()


def _own_ids(config: dict[str, Any], case: Case) -> dict[str, Any]:
    """The base config with this case's id in its cgroupsPath and mark."""
    import copy

    out = copy.deepcopy(config)
    out["linux"]["cgroupsPath"] = f"/proptest-{case.id}"
    out["process"]["env"] = [e for e in out["process"]["env"]
                             if not e.startswith("SPECTEST_MARK=")] + [f"SPECTEST_MARK={case.id}"]
    return out
