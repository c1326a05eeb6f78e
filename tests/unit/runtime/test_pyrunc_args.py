"""pyrunc.cli.args: every flag spelling runc's callers use, and the errors for bad ones."""

from __future__ import annotations

import pytest
from pyrunc.cli import args as a
from pyrunc.cli.common import CREATE_FLAGS
from pyrunc.cli.main import GLOBAL_FLAGS
from pyrunc.errors import UsageError

FLAGS = [
    a.Flag("bundle,b", a.VALUE, ""),
    a.Flag("detach,d", a.BOOL),
    a.Flag("preserve-fds", a.INT, 0),
    a.Flag("env,e", a.MULTI),
]


@pytest.mark.parametrize("argv", [
    ["--bundle", "/b", "id"],
    ["--bundle=/b", "id"],
    ["-bundle", "/b", "id"],
    ["-bundle=/b", "id"],
    ["-b", "/b", "id"],
    ["-b=/b", "id"],
    ["--b", "/b", "id"],
    ["id", "--bundle", "/b"],
    ["id", "-b=/b"],
])
def test_value_flag_spellings(argv: list[str]) -> None:
    opts, rest = a.parse(argv, FLAGS)
    assert opts["bundle"] == "/b"
    assert rest == ["id"]


def test_defaults_when_absent() -> None:
    opts, rest = a.parse(["id"], FLAGS)
    assert opts == {"bundle": "", "detach": False, "preserve_fds": 0, "env": []}
    assert rest == ["id"]


def test_multi_default_is_not_shared_between_calls() -> None:
    first, _ = a.parse(["-e", "A=1"], FLAGS)
    second, _ = a.parse([], FLAGS)
    assert first["env"] == ["A=1"]
    assert second["env"] == []


@pytest.mark.parametrize(("argv", "expected"), [
    (["--detach"], True),
    (["-d"], True),
    (["-detach"], True),
    (["--detach=true"], True),
    (["--detach=1"], True),
    (["--detach=false"], False),
    (["-d=false"], False),
    (["--detach=0"], False),
    ([], False),
])
def test_bool_flag_spellings(argv: list[str], expected: bool) -> None:
    opts, rest = a.parse([*argv, "id"], FLAGS)
    assert opts["detach"] is expected
    assert rest == ["id"]


def test_bool_flag_does_not_take_the_next_argument() -> None:
    opts, rest = a.parse(["--detach", "false"], FLAGS)
    assert opts["detach"] is True
    assert rest == ["false"]


@pytest.mark.parametrize("argv", [["--preserve-fds", "3"], ["--preserve-fds=3"],
                                  ["-preserve-fds", "3"]])
def test_int_flag(argv: list[str]) -> None:
    opts, _ = a.parse(argv, FLAGS)
    assert opts["preserve_fds"] == 3


def test_multi_flag_accumulates_in_order() -> None:
    opts, _ = a.parse(["-e", "A=1", "--env=B=2", "--env", "C=3=x"], FLAGS)
    assert opts["env"] == ["A=1", "B=2", "C=3=x"]


def test_value_may_contain_equals_and_look_like_a_flag() -> None:
    opts, rest = a.parse(["--bundle", "-weird", "id"], FLAGS)
    assert opts["bundle"] == "-weird"
    assert rest == ["id"]
    opts, _ = a.parse(["--bundle=a=b"], FLAGS)
    assert opts["bundle"] == "a=b"


def test_last_value_wins() -> None:
    opts, _ = a.parse(["-b", "/one", "--bundle=/two"], FLAGS)
    assert opts["bundle"] == "/two"


def test_double_dash_ends_flags() -> None:
    opts, rest = a.parse(["--", "-b", "x"], FLAGS)
    assert opts["bundle"] == ""
    assert rest == ["-b", "x"]


def test_single_dash_is_a_positional() -> None:
    # `update --resources - <id>`: "-" means stdin
    _, rest = a.parse(["-", "id"], FLAGS)
    assert rest == ["-", "id"]


def test_interspersed_flags_after_positionals() -> None:
    opts, rest = a.parse(["id", "--detach", "extra", "-b", "/b"], FLAGS)
    assert opts["detach"] is True
    assert opts["bundle"] == "/b"
    assert rest == ["id", "extra"]


def test_not_interspersed_stops_at_first_positional() -> None:
    opts, rest = a.parse(["-d", "id", "sh", "-c", "--detach", "-b"], FLAGS, interspersed=False)
    assert opts["detach"] is True
    assert rest == ["id", "sh", "-c", "--detach", "-b"]


@pytest.mark.parametrize(("argv", "needle"), [
    (["--nope"], "flag provided but not defined: -nope"),
    (["-x", "id"], "flag provided but not defined: -x"),
    (["--bundle"], "flag needs an argument"),
    (["-b"], "flag needs an argument"),
    (["--preserve-fds", "two"], "preserve-fds"),
    (["--preserve-fds="], "preserve-fds"),
    (["--detach=maybe"], "detach"),
])
def test_errors(argv: list[str], needle: str) -> None:
    with pytest.raises(UsageError) as info:
        a.parse(argv, FLAGS)
    assert needle in str(info.value)


def test_three_dashes_is_bad_syntax() -> None:
    """Go's flag package (runc) rejects `---root` ("bad flag syntax")."""
    with pytest.raises(UsageError):
        a.parse(["---bundle", "/b"], FLAGS)


def test_global_flags_stop_at_the_verb() -> None:
    argv = ["--root", "/r", "--log=/l", "--log-format", "json", "--debug", "create",
            "--bundle", "/b", "--pid-file=/p", "id"]
    opts, rest = a.parse(argv, GLOBAL_FLAGS, interspersed=False)
    assert (opts["root"], opts["log"], opts["log_format"], opts["debug"]) == \
        ("/r", "/l", "json", True)
    assert rest == ["create", "--bundle", "/b", "--pid-file=/p", "id"]
    cmd, rest = a.parse(rest[1:], CREATE_FLAGS)
    assert (cmd["bundle"], cmd["pid_file"], rest) == ("/b", "/p", ["id"])


def test_conmon_and_shim_command_lines() -> None:
    """The exact forms recorded from containerd's shim and conmon (runc-cli-contract.md)."""
    shim = ["--root", "/run/containerd/runc/default", "--log", "/B/log.json", "--log-format",
            "json", "create", "--bundle", "/B", "--pid-file", "/B/init.pid",
            "--console-socket", "/tmp/pty1/pty.sock", "c1"]
    g, rest = a.parse(shim, GLOBAL_FLAGS, interspersed=False)
    opts, ids = a.parse(rest[1:], CREATE_FLAGS)
    assert g["root"] == "/run/containerd/runc/default" and g["log_format"] == "json"
    assert opts["console_socket"] == "/tmp/pty1/pty.sock" and ids == ["c1"]
    conmon = ["--log-format=json", "--log", "/R/oci-log", "create", "--bundle", "/U",
              "--pid-file", "/R/pidfile", "--no-pivot", "--no-new-keyring",
              "--preserve-fds=2", "cid"]
    g, rest = a.parse(conmon, GLOBAL_FLAGS, interspersed=False)
    opts, ids = a.parse(rest[1:], CREATE_FLAGS)
    assert g["log"] == "/R/oci-log" and g["log_format"] == "json"
    assert opts["no_pivot"] and opts["no_new_keyring"] and opts["preserve_fds"] == 2
    assert ids == ["cid"]


def test_version_and_help_short_aliases() -> None:
    assert a.parse(["-v"], GLOBAL_FLAGS, interspersed=False)[0]["version"] is True
    assert a.parse(["-h"], GLOBAL_FLAGS, interspersed=False)[0]["help"] is True


@pytest.mark.parametrize(("fn", "args", "count", "ok"), [
    (a.exact_args, ["x"], 1, True),
    (a.exact_args, [], 1, False),
    (a.exact_args, ["x", "y"], 1, False),
    (a.min_args, ["x", "y"], 1, True),
    (a.min_args, [], 1, False),
])
def test_arity_helpers(fn, args: list[str], count: int, ok: bool) -> None:
    if ok:
        assert fn("verb", args, count) is None  # accepted: no UsageError
    else:
        with pytest.raises(UsageError, match='"verb" requires'):
            fn("verb", args, count)
