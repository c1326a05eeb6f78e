"""pyctl build's flags: docker's names and rules (repeatable -t validated as references, build
args from the environment, labels, secrets read by the client, --add-host's format), the
context's forms (a directory with -f inside or outside it, `-f -`, `-` as an archive or a
Dockerfile, URLs refused) and the exit codes of usage errors, all before any daemon is asked."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from pyengine.cli import verb_build
from pyengine.cli.context import CliError
from pyengine.cli.main import fast_parse, main


def parse(*argv: str):
    args = fast_parse(["build", *argv])
    assert args is not None, "the fast parser takes every well-formed build command"
    return args


def test_flags_become_build_options(tmp_path: Path) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_bytes(b"s3cret")
    args = parse("-t", "app", "-t", "registry.local:5000/team/app:1.0", "--build-arg", "A=1",
                 "--build-arg", "FROM_ENV", "--build-arg", "MISSING", "--build-arg", "EMPTY=",
                 "--target", "final", "--no-cache", "--pull", "--label", "k=v",
                 "--label", "bare", "--network", "host", "-q", "--platform", "linux/amd64",
                 "--secret", f"id=tok,src={secret_file}", "--secret", "id=E,env=SECRET_VAR",
                 "--add-host", "db:10.0.0.2", "--progress", "plain", ".")
    opts = verb_build.options(args, {"FROM_ENV": "from env", "SECRET_VAR": "env secret"})
    assert opts.tags == ["app", "registry.local:5000/team/app:1.0"]
    assert opts.build_args == {"A": "1", "FROM_ENV": "from env", "EMPTY": ""}
    assert (opts.target, opts.no_cache, opts.pull, opts.quiet) == ("final", True, True, True)
    assert opts.labels == {"k": "v", "bare": ""}
    assert (opts.network, opts.platform) == ("host", "linux/amd64")
    assert [(s.id, s.data) for s in opts.secrets] == [("tok", b"s3cret"), ("E", b"env secret")]
    assert opts.extra_hosts == ["db:10.0.0.2"]
    assert verb_build.options(parse("."), {}).network == ""  # docker's "default"


@pytest.mark.parametrize(("argv", "message"), [
    (["-t", "App", "."], 'invalid argument "App" for "-t, --tag" flag: invalid reference '
                         "format: repository name (library/App) must be lowercase"),
    (["-t", "a:b:c", "."], 'invalid argument "a:b:c" for "-t, --tag" flag: invalid reference '
                           "format"),
    (["--add-host", "nocolon", "."], 'invalid argument "nocolon" for "--add-host" flag: bad '
                                     'format for add-host: "nocolon"'),
    (["--progress", "fancy", "."], "invalid progress mode"),
    (["--secret", "src=/x", "."], "secret requires an id"),
])
def test_bad_flags_are_usage_errors(argv: list[str], message: str, capsys) -> None:
    assert main(["build", *argv]) == 125
    assert message in capsys.readouterr().err


def test_a_missing_secret_source_fails(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="failed to read secret s: open /nonexistent/x: no such"):
        verb_build.options(parse("--secret", "id=s,src=/nonexistent/x", "."), {})
    with pytest.raises(CliError, match="environment variable V is not set"):
        verb_build.options(parse("--secret", "id=s,env=V", "."), {})


def context_dir(root: Path) -> Path:
    (root / "ctx").mkdir()
    (root / "ctx" / "Dockerfile").write_text("FROM busybox\n")
    (root / "ctx" / "sub").mkdir()
    (root / "ctx" / "sub" / "Dockerfile.dev").write_text("FROM busybox\nRUN true\n")
    (root / "elsewhere.Dockerfile").write_text("FROM scratch\n")
    return root / "ctx"


def names(prepared: verb_build.Prepared) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(b"".join(prepared.chunks)), mode="r:") as tar:
        return tar.getnames()


def test_directory_contexts_and_their_dockerfiles(tmp_path: Path, monkeypatch) -> None:
    ctx = context_dir(tmp_path)
    no_stdin = io.BytesIO(b"")
    prepared = verb_build.prepare(parse(str(ctx)), no_stdin, {})
    assert prepared.options.dockerfile == "Dockerfile"
    assert not prepared.options.dockerfile_content
    assert names(prepared) == ["Dockerfile", "sub", "sub/Dockerfile.dev"]
    # -f is relative to the current directory, as docker's
    monkeypatch.chdir(ctx)
    prepared = verb_build.prepare(parse("-f", "sub/Dockerfile.dev", "."), no_stdin, {})
    assert prepared.options.dockerfile == "sub/Dockerfile.dev"
    assert (prepared.dockerfile, prepared.dockerfile_size) == ("Dockerfile.dev", 22)
    # outside the context: its content travels beside the context
    prepared = verb_build.prepare(parse("-f", "../elsewhere.Dockerfile", "."), no_stdin, {})
    assert prepared.options.dockerfile == ""
    assert prepared.options.dockerfile_content == b"FROM scratch\n"
    # -f -: the Dockerfile from stdin, the context from the directory
    prepared = verb_build.prepare(parse("-f", "-", "."), io.BytesIO(b"FROM x\n"), {})
    assert prepared.options.dockerfile_content == b"FROM x\n"
    assert names(prepared) == ["Dockerfile", "sub", "sub/Dockerfile.dev"]


def test_stdin_contexts(tmp_path: Path) -> None:
    prepared = verb_build.prepare(parse("-"), io.BytesIO(b"FROM busybox\nRUN true\n"), {})
    assert prepared.options.dockerfile_content == b"FROM busybox\nRUN true\n"
    assert list(prepared.chunks) == []
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(context_dir(tmp_path), arcname=".")
    prepared = verb_build.prepare(parse("-f", "sub/Dockerfile.dev", "-"),
                                  io.BytesIO(buffer.getvalue()), {})
    assert prepared.options.dockerfile == "sub/Dockerfile.dev"
    assert b"".join(prepared.chunks) == buffer.getvalue()


@pytest.mark.parametrize(("argv", "message"), [
    (["-f", "-", "-"], "invalid argument: can't use stdin for both build context and "
                       "dockerfile"),
    (["https://example.com/ctx.tar"], "unable to prepare context: https://example.com/ctx.tar: "
                                      "URL contexts (git, http) are not supported"),
    (["git@github.com:x/y.git"], "unable to prepare context: git@github.com:x/y.git: URL "
                                 "contexts"),
    (["/nonexistent/ctx"], 'unable to prepare context: path "/nonexistent/ctx" not found'),
])
def test_contexts_pyctl_refuses_exit_1(argv: list[str], message: str, capsys) -> None:
    assert main(["-H", "unix:///nonexistent.sock", "build", *argv]) == 1
    assert capsys.readouterr().err.startswith(message)


def test_a_missing_dockerfile_is_named(tmp_path: Path, capsys) -> None:
    assert main(["-H", "unix:///nonexistent.sock", "build", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat "
        f"{tmp_path}/Dockerfile: no such file or directory\n")


def test_a_lowercase_dockerfile_is_found_as_docker_finds_it(tmp_path: Path) -> None:
    (tmp_path / "dockerfile").write_text("FROM busybox\n")
    prepared = verb_build.prepare(parse(str(tmp_path)), io.BytesIO(b""), {})
    assert prepared.options.dockerfile == "dockerfile"


def test_the_iidfile_is_removed_before_the_build(tmp_path: Path, capsys) -> None:
    iid = tmp_path / "iid"
    iid.write_text("sha256:old")
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    assert main(["-H", f"unix://{tmp_path}/none.sock", "build", "--iidfile", str(iid),
                 str(tmp_path)]) == 1  # no daemon there
    assert not iid.exists()
    assert "Cannot connect to the pyengine daemon" in capsys.readouterr().err


def test_build_arg_without_value_is_not_sent_when_unset() -> None:
    assert verb_build.build_args(["X", "Y", "Z=3"], {"Y": ""}) == {"Y": "", "Z": "3"}
    assert verb_build.build_args(["HOME"], os.environ) == {"HOME": os.environ["HOME"]}
