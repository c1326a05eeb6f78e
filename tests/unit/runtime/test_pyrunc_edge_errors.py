"""No exception reaches a user as a traceback (issue 13): the CLI edge turns any exception into
one line naming the verb and the cause (traceback only with --debug), and create reads a child's
error report even when the kernel first says ECONNRESET."""

from __future__ import annotations

import os
import socket
import sys
import types

import pytest
from pyrunc import create
from pyrunc.cli import main as cli_main


@pytest.fixture
def broken_verb(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("pyrunc.cli.verb_state")

    def run(ctx: object, argv: list[str]) -> int:
        raise TypeError("unsupported operand type(s)\nfor +: 'int' and 'str'")

    module.run = run  # type: ignore[attr-defined]  # a module object built at run time
    monkeypatch.setitem(sys.modules, "pyrunc.cli.verb_state", module)


def test_unexpected_exception_is_one_line(broken_verb: None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main.main(["state", "x"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "state: internal error: TypeError: unsupported operand type(s) for +" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(broken_verb: None,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main.main(["--debug", "state", "x"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "internal error: TypeError" in err


def test_child_error_read_after_connection_reset() -> None:
    """A child that failed with P's last message unread: the kernel reports ECONNRESET once,
    before the child's queued error report, which must still be read."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        parent.close()
        child.send(b"error:ConfigError:invalid config: process.env[1]: missing '='")
        os._exit(0)  # with "go" unread: the close resets the connection
    child.close()
    try:
        parent.send(b"go")
        os.waitpid(pid, 0)
        tag, payload, _ = create._recv(parent.fileno(), False)
        assert (tag, payload) == ("error", "ConfigError:invalid config: process.env[1]: "
                                           "missing '='")
    finally:
        parent.close()
