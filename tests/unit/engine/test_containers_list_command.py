"""The COMMAND column of a listed container, as docker 20.10's daemon words it."""

from __future__ import annotations

from pyengine.containers.listing import list_command


def test_arguments_with_spaces_are_single_quoted() -> None:
    # docker ps -a: "sh -c 'echo out1; e…" for sh -c 'echo out1; echo err1 >&2; ...'
    assert list_command(["sh", "-c", "echo out1; echo err1"]) == "sh -c 'echo out1; echo err1'"
    # docker ps -a: "echo hi"
    assert list_command(["echo", "hi"]) == "echo hi"
    assert list_command([]) == ""
