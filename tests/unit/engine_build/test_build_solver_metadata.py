"""The solver's metadata instructions on a StageState, with typed instructions built here (no
parser, no daemon): docker's config shapes (HEALTHCHECK, ENTRYPOINT resetting an inherited
CMD, SHELL, EXPOSE), ARG scoping with --build-arg, the history entries, and cache keys that
ARG values do not change."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pyengine.build import solver as solver_module
from pyengine.build.dockerfile import instructions as ins
from pyengine.build.options import BuildOptions
from pyengine.build.solver import Solver, Step
from pyengine.build.stage_state import StageState

LOC = ins.Location("Dockerfile", 1, 1)
FROM = ins.From("FROM", "FROM busybox", LOC, (), "busybox", "", None)


def _plain_expand(word: str, env: Mapping[str, str], escape: str) -> str:
    """A stand-in for build/dockerfile/expand.py (H-parse's): $NAME only."""
    for key, value in sorted(env.items(), key=lambda kv: -len(kv[0])):
        word = word.replace("$" + key, value)
    return word


@pytest.fixture(autouse=True)
def plain_expand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver_module, "_expand", _plain_expand)


def _solver(build_args: dict[str, str] | None = None) -> Solver:
    dockerfile = ins.Dockerfile("Dockerfile", "\\", None, (), ())
    return Solver(service=None, build_id="b" * 32,  # type: ignore[arg-type]  # unused here
                  options=BuildOptions(build_args=build_args or {}), context=Path("/nonexistent"),
                  dockerfile=dockerfile, emit=lambda event: None,
                  maker=None, scratch=Path("/nonexistent"),  # type: ignore[arg-type]  # unused
                  secrets_dir=Path("/nonexistent"))


def _state() -> StageState:
    state = StageState.from_base("0", "sha256:base", {"config": {"Cmd": ["sh"]}}, True)
    state.key = "sha256:k0"
    return state


def _apply(solver: Solver, state: StageState, *instructions: ins.Instruction) -> None:
    step = Step(1, 1, "0", 1, 1)
    stage = ins.Stage(0, "", FROM, tuple(instructions))
    for i in instructions:
        asyncio.run(solver._apply(state, i, step, stage))


def _i(cls: type, keyword: str, text: str, **fields: Any) -> Any:
    return cls(keyword, f"{keyword} {text}", LOC, (), **fields)


def test_healthcheck_is_dockers_config_shape() -> None:
    state = _state()
    check = _i(ins.Healthcheck, "HEALTHCHECK", "...", command=ins.Command(
        False, ("curl -f http://localhost/",)), interval="30s", timeout="3s", retries="3")
    _apply(_solver(), state, check)
    assert state.section["Healthcheck"] == {
        "Test": ["CMD-SHELL", "curl -f http://localhost/"], "Interval": 30_000_000_000,
        "Timeout": 3_000_000_000, "Retries": 3}
    assert state.history[-1] == {
        "created": state.history[-1]["created"], "empty_layer": True,
        "created_by": '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" '
                      '"curl -f http://localhost/"] "30s" "3s" "0s" \'\\x03\'}'}
    _apply(_solver(), state, _i(ins.Healthcheck, "HEALTHCHECK", "NONE", command=None))
    assert state.section["Healthcheck"] == {"Test": ["NONE"]}


def test_entrypoint_resets_an_inherited_cmd_but_not_its_own() -> None:
    state = _state()
    _apply(_solver(), state, _i(ins.Entrypoint, "ENTRYPOINT", '["app"]',
                                command=ins.Command(True, ("app",))))
    assert state.section["Entrypoint"] == ["app"] and state.section["Cmd"] is None
    state = _state()
    _apply(_solver(), state,
           _i(ins.Cmd, "CMD", "--serve", command=ins.Command(False, ("--serve",))),
           _i(ins.Entrypoint, "ENTRYPOINT", '["app"]', command=ins.Command(True, ("app",))))
    assert state.section["Cmd"] == ["/bin/sh", "-c", "--serve"]


def test_shell_expose_and_their_history() -> None:
    state = _state()
    _apply(_solver(), state,
           _i(ins.Shell, "SHELL", '["/bin/bash", "-c"]', args=("/bin/bash", "-c")),
           _i(ins.Expose, "EXPOSE", "80 53/udp", ports=("80", "53/udp")))
    assert state.section["Shell"] == ["/bin/bash", "-c"]
    assert state.section["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert [h["created_by"] for h in state.history[-2:]] == [
        "/bin/bash -c #(nop)  SHELL [/bin/bash -c]",
        "/bin/bash -c #(nop)  EXPOSE 80 53/udp"]


def test_arg_values_scope_but_do_not_change_the_key() -> None:
    keys = []
    for value in ("1", "2"):
        solver = _solver({"V": value})
        state = _state()
        _apply(solver, state,
               _i(ins.Arg, "ARG", "V=0", args=(ins.ArgDecl("V", "0"),)),
               _i(ins.Env, "ENV", "W=$V", pairs=(ins.KeyValue("W", "x"),)))
        assert state.args == {"V": value}
        assert "V" in solver.consumed
        assert state.history[-2]["created_by"] == "/bin/sh -c #(nop)  ARG V=0"
        keys.append(state.key)
    assert keys[0] == keys[1]
    state = _state()
    _apply(_solver(), state, _i(ins.Arg, "ARG", "V=0", args=(ins.ArgDecl("V", "0"),)),
           _i(ins.Env, "ENV", "W=$V", pairs=(ins.KeyValue("W", "$V"),)))
    assert "W=0" in state.section["Env"]  # the default when no --build-arg


@pytest.mark.parametrize(("workdir", "dest", "expected"), [
    ("/src", ".", "/src/"),
    ("/src", "./", "/src/"),
    ("/src", "a", "/src/a"),
    ("/src", "a/", "/src/a/"),
    ("/src", "/abs", "/abs"),
    ("/src", "../up", "/up"),
    ("/", ".", "/"),
    ("/a/b", "..", "/a/"),
])
def test_copy_destinations_resolve_like_docker(workdir: str, dest: str, expected: str) -> None:
    assert solver_module.copy_destination(workdir, dest) == expected
