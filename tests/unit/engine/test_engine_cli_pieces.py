"""Pieces of pyctl that need no daemon: units, tables, progress lines, credentials, output."""

from __future__ import annotations

import base64
import io
import json
import os
import stat

import pytest
from pyengine.cli import table
from pyengine.cli.credentials import DOCKER_HUB_KEY, CredentialStore, config_dir, server_key
from pyengine.cli.output import FormatError, write_rows
from pyengine.cli.progress_view import ProgressView, bar
from pyengine.units import human_duration, human_size, since


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0B"), (999, "999B"), (1000, "1kB"), (4261056, "4.26MB"), (2140160, "2.14MB"),
     (1_500_000_000, "1.5GB"), (123456789, "123MB")],
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "Less than a second"), (1, "1 second"), (42, "42 seconds"), (60, "About a minute"),
     (600, "10 minutes"), (3600, "About an hour"), (5 * 3600, "5 hours"),
     (3 * 86400, "3 days"), (15 * 86400, "2 weeks"), (90 * 86400, "3 months"),
     (800 * 86400, "2 years")],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_since() -> None:
    assert since(1000, now=1000 + 120) == "2 minutes ago"
    assert since(0) == "N/A"


def test_table_matches_docker_layout() -> None:
    out = table.render([["REPOSITORY", "TAG", "IMAGE ID"], ["busybox", "latest", "584712b2ad71"]])
    assert out.splitlines() == [
        "REPOSITORY   TAG       IMAGE ID",
        "busybox      latest    584712b2ad71",
    ]


def test_write_rows_formats() -> None:
    rows = [{"Repository": "busybox", "Tag": "latest"}]
    out = io.StringIO()
    write_rows(out, rows, "{{.Repository}}:{{.Tag}}", "")
    assert out.getvalue() == "busybox:latest\n"
    out = io.StringIO()
    write_rows(out, rows, "json", "")
    assert json.loads(out.getvalue()) == rows[0]
    out = io.StringIO()
    write_rows(out, rows, "table {{.Repository}}\t{{.Tag}}", "")
    assert out.getvalue().splitlines()[0].split() == ["REPOSITORY", "TAG"]
    with pytest.raises(FormatError):
        write_rows(io.StringIO(), rows, "{{.Missing}}", "")


@pytest.mark.parametrize("rows", [
    [{"ID": "abc", "Repository": "busybox", "Tag": "latest", "Size": "1MB"}],
    [{"ID": "a\tb", "Repository": "ünï", "Tag": "", "Size": "1MB"}, {"ID": "x", "Repository": "y",
                                                                   "Tag": "z", "Size": "2"}],
    [{"ID": "abc", "Repository": "r", "Tag": "t", "Size": 3}],  # not a string: the template
    [{"ID": "abc", "Repository": "r", "Size": "1"}],  # missing: the template's error
    [],
])
def test_plain_tables_print_as_the_template_engine_does(rows: list[dict]) -> None:
    """`write_rows` prints "{{.Field}}" tables itself (no template engine on `pyctl images`):
    the same text as the template engine prints for the same table ("{{ .Field }}")."""
    def printed(fmt: str) -> str:
        out = io.StringIO()
        try:
            write_rows(out, rows, "", fmt, {"ID": "MY ID"})
        except FormatError as err:
            return f"error: {err}"
        return out.getvalue()

    fast = printed("table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}")
    assert fast == printed("table {{ .Repository }}\t{{ .Tag }}\t{{ .ID }}\t{{ .Size }}")
    assert fast.startswith("error:" if len(rows) == 1 and "Tag" not in rows[0] else "REPOSITORY")


def test_progress_plain_mode_prints_state_changes_only() -> None:
    out = io.StringIO()
    view = ProgressView(out, tty=False)
    view.update("", "latest: Pulling from library/busybox")
    view.update("abc", "Waiting")
    view.update("abc", "Downloading", 10, 100)
    view.update("abc", "Downloading", 20, 100)
    view.update("abc", "Download complete")
    view.update("abc", "Pull complete")
    assert out.getvalue().splitlines() == [
        "latest: Pulling from library/busybox", "abc: Waiting", "abc: Download complete",
        "abc: Pull complete",
    ]


def test_progress_tty_mode_redraws_in_place() -> None:
    out = io.StringIO()
    view = ProgressView(out, tty=True)
    view.update("a", "Waiting")
    view.update("b", "Waiting")
    view.update("a", "Downloading", 50, 100)
    text = out.getvalue()
    assert "\x1b[2A" in text and "a: Downloading [" in text
    # docker's JSONProgress.String: half the percentage as "=", then ">", 51 wide
    assert bar(50, 100) == "[" + "=" * 25 + ">" + " " * 25 + "]      50B/100B"


def test_credentials_roundtrip(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PYCTL_CONFIG", str(tmp_path / "cfg"))
    store = CredentialStore(config_dir(None))
    store.put("127.0.0.1:5000", "alice", "pw:with:colons")
    assert store.get("127.0.0.1:5000") == ("alice", "pw:with:colons", "")
    doc = json.loads((tmp_path / "cfg" / "config.json").read_text())
    assert base64.b64decode(doc["auths"]["127.0.0.1:5000"]["auth"]) == b"alice:pw:with:colons"
    assert stat.S_IMODE(os.stat(tmp_path / "cfg" / "config.json").st_mode) == 0o600
    assert store.remove("127.0.0.1:5000") is True
    assert store.get("127.0.0.1:5000") is None
    assert store.remove("127.0.0.1:5000") is False


def test_server_keys() -> None:
    assert server_key("docker.io") == DOCKER_HUB_KEY
    assert server_key("") == DOCKER_HUB_KEY
    assert server_key("https://registry.example:5000/v2/") == "registry.example:5000"


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["images", "--bogus"], "pyctl images: unknown flag: --bogus"),
     (["image", "ls", "--bogus"], "pyctl image ls: unknown flag: --bogus"),
     (["tag", "only-one"], "pyctl tag: the following arguments are required"),
     (["save", "--format", "zip", "x"], "pyctl save: argument --format: invalid choice")],
)
def test_usage_errors_exit_125(argv, message, capsys) -> None:
    from pyengine.cli.main import main

    assert main(argv) == 125
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert "See 'pyctl" in err


def test_daemon_unreachable_exits_1(capsys) -> None:
    from pyengine.cli.main import main

    assert main(["-H", "unix:///nonexistent/dir/pyengine.sock", "images"]) == 1
    assert capsys.readouterr().err.startswith(
        "Cannot connect to the pyengine daemon at unix:///nonexistent/dir/pyengine.sock.")


def test_each_verb_is_its_own_module_imported_only_when_used() -> None:
    import subprocess
    import sys

    from pyengine.cli.argparser import build_parser
    from pyengine.cli.main import GROUPS, TOP_VERBS, verb_path

    assert verb_path(["-H", "unix:///x", "--tlsverify", "image", "ls", "-q"]) == ["image", "ls"]
    assert verb_path(["--host=unix:///x", "images", "busybox"]) == ["images"]
    parser = build_parser()  # every verb's module builds its arguments
    assert parser.parse_args(["image", "list", "-q"]).quiet
    modules = {m for m, _ in TOP_VERBS.values()} | {
        m for table in GROUPS.values() for m, _ in table.values()}
    for module in modules:
        __import__(f"pyengine.cli.verb_{module}")
    code = ("import sys; from pyengine.cli.argparser import build_parser; "
            "build_parser(['-H', 'unix:///x', 'images']).parse_args(['images']); "
            "print(sorted(m for m in sys.modules if m.startswith('pyengine.cli.verb_')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['pyengine.cli.verb_images']"
