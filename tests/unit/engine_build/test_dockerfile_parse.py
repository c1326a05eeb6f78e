"""The Dockerfile parser: directives, logical lines, every instruction in its forms, stages and
docker's errors (FILE:LINE: message). Texts are docker's: the dockerfile frontend's (moby/buildkit),
and where they differ docker 20.10's (checked with `DOCKER_BUILDKIT=0 docker build` against a
private dockerd 20.10.24: flag errors, --retries, parse errors' texts)."""

from __future__ import annotations

import pytest
from pyengine.build.dockerfile.duration import parse_duration
from pyengine.build.dockerfile.instructions import (
    Arg,
    ArgDecl,
    Cmd,
    Command,
    Copy,
    Dockerfile,
    Entrypoint,
    Env,
    Expose,
    Flag,
    From,
    Healthcheck,
    Instruction,
    KeyValue,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    StopSignal,
    User,
    Volume,
    Workdir,
)
from pyengine.build.dockerfile.parser import parse
from pyengine.build.errors import DockerfileError
from pyengine.errors import InvalidArgument


def one(text: str) -> Instruction:
    """The single instruction after `FROM busybox`."""
    (inst,) = parse("FROM busybox\n" + text).stages[0].instructions
    return inst


def error(text: str, file: str = "Dockerfile") -> str:
    with pytest.raises(DockerfileError) as info:
        parse(text, file)
    return str(info.value)


# -- the walk-through Dockerfiles --------------------------------------------------------------

FLASKAPP = """\
FROM python:3.8

# set a directory for the app
WORKDIR /usr/src/app

# copy all the files to the container
COPY . .

# install dependencies
RUN pip install --no-cache-dir -r requirements.txt

# define the port number the container should expose
EXPOSE 5000

# run the command
CMD ["python", "./app.py"]
"""


def test_flaskapp_walkthrough() -> None:
    df = parse(FLASKAPP)
    assert df.escape == "\\" and df.syntax is None and df.global_args == ()
    (stage,) = df.stages
    assert stage.index == 0 and stage.name == ""
    assert stage.base.image == "python:3.8" and stage.base.location.line == 1
    workdir, copy, run, expose, cmd = stage.instructions
    assert isinstance(workdir, Workdir) and workdir.path == "/usr/src/app"
    assert workdir.location.line == 4
    assert isinstance(copy, Copy) and (copy.sources, copy.dest) == ((".",), ".")
    assert isinstance(run, Run)
    assert run.command == Command(False, ("pip install --no-cache-dir -r requirements.txt",))
    assert run.location.line == 10
    assert isinstance(expose, Expose) and expose.ports == ("5000",)
    assert isinstance(cmd, Cmd) and cmd.command == Command(True, ("python", "./app.py"))
    assert cmd.original == 'CMD ["python", "./app.py"]' and cmd.location.line == 16


def test_nginx_two_liner() -> None:
    df = parse("FROM nginx\nCOPY nginx.conf /etc/nginx/conf.d/default.conf\n")
    (stage,) = df.stages
    assert stage.base.image == "nginx"
    (copy,) = stage.instructions
    assert isinstance(copy, Copy) and not copy.is_add
    assert copy.sources == ("nginx.conf",) and copy.dest == "/etc/nginx/conf.d/default.conf"


MULTISTAGE = """\
# syntax=docker/dockerfile:1
ARG GO_VERSION=1.21
ARG BASE
FROM golang:${GO_VERSION} AS Build
WORKDIR /src
COPY go.mod main.go ./
RUN --mount=type=cache,target=/root/.cache/go-build \\
    go build -o /out/app .

FROM --platform=$BUILDPLATFORM busybox AS runtime
COPY --from=build /out/app /usr/local/bin/app
COPY --from=alpine:3.19 /etc/os-release /etc/
ENTRYPOINT ["/usr/local/bin/app"]

FROM runtime
"""


def test_multi_stage() -> None:
    df = parse(MULTISTAGE)
    assert df.syntax == "docker/dockerfile:1"
    assert [a.args for a in df.global_args] == [
        (ArgDecl("GO_VERSION", "1.21"),),
        (ArgDecl("BASE", None),),
    ]
    build, runtime, last = df.stages
    assert (build.index, build.name, build.base.image) == (0, "build", "golang:${GO_VERSION}")
    assert (runtime.name, runtime.base.platform) == ("runtime", "$BUILDPLATFORM")
    assert (last.index, last.name, last.base.image, last.instructions) == (2, "", "runtime", ())
    run = build.instructions[2]
    assert isinstance(run, Run) and run.mounts == ("type=cache,target=/root/.cache/go-build",)
    assert run.command.shell_text == "go build -o /out/app ."
    assert (run.location.line, run.location.end_line) == (7, 8)
    copy1, copy2, _ = runtime.instructions
    assert isinstance(copy1, Copy) and copy1.flag("from") == Flag("from", "build")
    assert isinstance(copy2, Copy) and copy2.flag("from") == Flag("from", "alpine:3.19")
    assert df.stage("BUILD") is build and df.stage("1") is runtime and df.stage("2") is last
    assert df.stage("nope") is None and df.stage("3") is None


# -- directives ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escape", "syntax"),
    [
        ("# escape=`\nFROM a\n", "`", None),
        ("#escape=`\nFROM a\n", "`", None),
        ("# ESCAPE = ` \nFROM a\n", "`", None),
        ("# escape=\\\nFROM a\n", "\\", None),
        ("# syntax=docker/dockerfile:1.4\n# escape=`\nFROM a\n", "`", "docker/dockerfile:1.4"),
        ("# check=skip=all\n# syntax=x\nFROM a\n", "\\", "x"),
        # not directives: after a comment, a blank line or an instruction; unknown keys end them
        ("# a comment\n# escape=`\nFROM a\n", "\\", None),
        ("\n# escape=`\nFROM a\n", "\\", None),
        ("FROM a\n# escape=`\n", "\\", None),
        ("# foo=bar\n# escape=`\nFROM a\n", "\\", None),
        ("  # escape=`\nFROM a\n", "`", None),  # the first line's indentation is dropped
    ],
)
def test_directives(text: str, escape: str, syntax: str | None) -> None:
    df = parse(text)
    assert (df.escape, df.syntax) == (escape, syntax)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# escape=x\nFROM a\n", "Dockerfile:1: invalid escape token 'x' does not match ` or \\"),
        ("# escape=`\n# escape=\\\nFROM a\n",
         "Dockerfile:2: only one escape parser directive can be used"),
        ("# syntax=a\n# SYNTAX=b\nFROM a\n",
         "Dockerfile:2: only one syntax parser directive can be used"),
    ],
)
def test_directive_errors(text: str, message: str) -> None:
    assert error(text) == message


WINDOWS = """\
# escape=`

FROM mcr.microsoft.com/windows/servercore
COPY testfile.txt c:\\
RUN dir c:\\
RUN powershell -Command `
    $ErrorActionPreference = 'Stop'; `
    # a comment inside the continuation
    Write-Host hi
"""


def test_backtick_escape_windows_style() -> None:
    df = parse(WINDOWS)
    assert df.escape == "`"
    copy, run1, run2 = df.stages[0].instructions
    assert isinstance(copy, Copy) and copy.dest == "c:\\"
    assert isinstance(run1, Run) and run1.command.shell_text == "dir c:\\"
    assert isinstance(run2, Run)
    assert run2.command.shell_text == (
        "powershell -Command     $ErrorActionPreference = 'Stop';     Write-Host hi"
    )
    assert (run2.location.line, run2.location.end_line) == (6, 9)


# -- logical lines -------------------------------------------------------------------------------


def test_continuations_comments_and_blank_lines() -> None:
    df = parse(
        "FROM busybox\n"
        "\n"
        "   # indented comment\n"
        "RUN echo a \\\n"
        "# comment inside\n"
        "  # indented comment inside\n"
        "    b \\  \n"  # spaces after the continuation character
        "\n"  # an empty continuation line: dropped, with docker's warning
        "    c\n"
        "   ENV   A=1\n"
    )
    run, env = df.stages[0].instructions
    assert isinstance(run, Run)
    assert run.command.shell_text == "echo a     b     c"
    assert run.original == "RUN echo a     b     c"
    assert (run.location.line, run.location.end_line) == (4, 9)
    assert isinstance(env, Env) and env.location.line == 10 and env.original == "ENV   A=1"
    assert df.warnings == ("Empty continuation line found in: RUN echo a     b     c",)


def test_escaped_escape_before_newline_is_not_a_continuation_at_line_start() -> None:
    run, env = parse("FROM a\nRUN echo \\\\\nENV A=1\n").stages[0].instructions
    # docker's continuation regex: a `\` preceded by a non-`\` (or alone on its line)
    assert isinstance(run, Run) and run.command.shell_text == "echo \\\\"
    assert isinstance(env, Env)


def test_continuation_at_end_of_file() -> None:
    (run,) = parse("FROM a\nRUN echo hi \\").stages[0].instructions
    assert isinstance(run, Run) and run.command.shell_text == "echo hi"


def test_crlf_and_bom() -> None:
    df = parse("\ufeff# escape=`\r\nFROM a\r\nRUN echo a `\r\n  b\r\n")
    assert df.escape == "`"
    (run,) = df.stages[0].instructions
    assert isinstance(run, Run) and run.command.shell_text == "echo a   b"


def test_keywords_are_case_insensitive() -> None:
    df = parse("from a as B\nrun echo\nCmd [\"x\"]\nwOrKdIr /w\n")
    (stage,) = df.stages
    assert stage.name == "b"
    assert [i.keyword for i in stage.instructions] == ["RUN", "CMD", "WORKDIR"]


# -- instructions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "want"),
    [
        ("RUN echo hi", Command(False, ("echo hi",))),
        ('RUN ["echo", "hi"]', Command(True, ("echo", "hi"))),
        ('RUN   [ "echo" ,  "a b" ]  ', Command(True, ("echo", "a b"))),
        ("RUN []", Command(True, ())),
        ("RUN", Command(False, ())),  # docker 20.10 parses it
        ('RUN ["echo", ]', Command(False, ('["echo", ]',))),  # invalid JSON: shell form
        ('RUN [echo hi]', Command(False, ("[echo hi]",))),
        ('RUN echo ["a"]', Command(False, ('echo ["a"]',))),
        ('RUN ["a\\u0041\\n"]', Command(True, ("aA\n",))),
    ],
)
def test_run_forms(line: str, want: Command) -> None:
    run = one(line)
    assert isinstance(run, Run) and run.command == want


def test_run_flags() -> None:
    run = one(
        "RUN --mount=type=secret,id=tok --mount=type=bind,source=.,target=/src "
        "--network=none --security=insecure make"
    )
    assert isinstance(run, Run)
    assert run.mounts == ("type=secret,id=tok", "type=bind,source=.,target=/src")
    assert (run.network, run.security) == ("none", "insecure")
    assert run.command.shell_text == "make"
    assert [f.name for f in run.flags] == ["mount", "mount", "network", "security"]


def test_flag_values_lose_quotes() -> None:
    run = one('RUN --mount="type=bind,source=a b" true')
    assert isinstance(run, Run) and run.mounts == ("type=bind,source=a b",)


def test_double_dash_ends_flags() -> None:
    run = one("RUN -- --not-a-flag")
    assert isinstance(run, Run) and run.flags == () and run.command.shell_text == "--not-a-flag"


@pytest.mark.parametrize("keyword", ["CMD", "ENTRYPOINT"])
def test_cmd_and_entrypoint(keyword: str) -> None:
    shell = one(f"{keyword} python app.py")
    exec_ = one(f'{keyword} ["python", "app.py"]')
    empty = one(keyword)
    for inst in (shell, exec_, empty):
        assert isinstance(inst, Cmd | Entrypoint)
    assert shell.command == Command(False, ("python app.py",))  # type: ignore[attr-defined]  # checked above
    assert exec_.command == Command(True, ("python", "app.py"))  # type: ignore[attr-defined]  # checked above
    assert empty.command == Command(False, ())  # type: ignore[attr-defined]  # checked above


def test_shell() -> None:
    shell = one('SHELL ["powershell", "-command"]')
    assert isinstance(shell, Shell) and shell.args == ("powershell", "-command")


@pytest.mark.parametrize(
    ("line", "pairs"),
    [
        ("ENV A=1", [("A", "1")]),
        ('ENV A=1 B="two words" C=\'x $y\' D=e\\ f', [
            ("A", "1"), ("B", '"two words"'), ("C", "'x $y'"), ("D", "e\\ f")]),
        ("ENV A=", [("A", "")]),
        ('ENV A=""', [("A", '""')]),
        ("ENV A=b=c", [("A", "b=c")]),
        ("ENV PATH=/x:$PATH", [("PATH", "/x:$PATH")]),
        # the legacy form: one pair, the value is the rest of the line
        ("ENV A b c", [("A", "b c")]),
        ("ENV A   \"b\"  c", [("A", '"b"  c')]),
    ],
)
def test_env(line: str, pairs: list[tuple[str, str]]) -> None:
    env = one(line)
    assert isinstance(env, Env)
    assert env.pairs == tuple(KeyValue(k, v) for k, v in pairs)


def test_label() -> None:
    label = one('LABEL "com.example.vendor"="ACME Inc" version=1.0 description="a \\\n  b"')
    assert isinstance(label, Label)
    assert label.pairs == (
        KeyValue('"com.example.vendor"', '"ACME Inc"'),
        KeyValue("version", "1.0"),
        KeyValue("description", '"a   b"'),
    )
    legacy = one("LABEL maintainer someone")
    assert isinstance(legacy, Label) and legacy.pairs == (KeyValue("maintainer", "someone"),)


@pytest.mark.parametrize(
    ("line", "decls"),
    [
        ("ARG A", [("A", None)]),
        ("ARG A=1", [("A", "1")]),
        ("ARG A= B C=\"x y\"", [("A", ""), ("B", None), ("C", '"x y"')]),
        ("ARG A=$B", [("A", "$B")]),
    ],
)
def test_arg(line: str, decls: list[tuple[str, str | None]]) -> None:
    arg = one(line)
    assert isinstance(arg, Arg) and arg.args == tuple(ArgDecl(n, d) for n, d in decls)


def test_args_before_and_after_from() -> None:
    df = parse("ARG A=1\nARG B\nFROM x\nARG A\n")
    assert [a.location.line for a in df.global_args] == [1, 2]
    (arg,) = df.stages[0].instructions
    assert isinstance(arg, Arg) and arg.args == (ArgDecl("A", None),)


@pytest.mark.parametrize(
    ("line", "image", "name", "platform"),
    [
        ("FROM busybox", "busybox", "", None),
        ("FROM busybox:1.36 AS base", "busybox:1.36", "base", None),
        ("FROM busybox as Base-1.x_y", "busybox", "base-1.x_y", None),
        ("FROM --platform=linux/arm64 busybox AS b", "busybox", "b", "linux/arm64"),
        ("FROM ${IMG:-busybox}", "${IMG:-busybox}", "", None),
        ("FROM scratch", "scratch", "", None),
    ],
)
def test_from(line: str, image: str, name: str, platform: str | None) -> None:
    base = parse(line).stages[0].base
    assert isinstance(base, From)
    assert (base.image, base.stage_name, base.platform) == (image, name, platform)


def test_expose_volume_user_workdir_stopsignal_maintainer() -> None:
    df = parse(
        "FROM a\n"
        "EXPOSE 80 443/tcp 53/udp ${PORT}\n"
        'VOLUME ["/data", "/var/log x"]\n'
        "VOLUME /a /b\n"
        "USER app:staff\n"
        "WORKDIR /srv/my app\n"
        "STOPSIGNAL SIGTERM\n"
        "MAINTAINER Jane Doe <jane@example.com>\n"
    )
    expose, vol1, vol2, user, workdir, stop, maint = df.stages[0].instructions
    assert isinstance(expose, Expose) and expose.ports == ("80", "443/tcp", "53/udp", "${PORT}")
    assert isinstance(vol1, Volume) and vol1.paths == ("/data", "/var/log x")
    assert isinstance(vol2, Volume) and vol2.paths == ("/a", "/b")
    assert isinstance(user, User) and user.user == "app:staff"
    assert isinstance(workdir, Workdir) and workdir.path == "/srv/my app"
    assert isinstance(stop, StopSignal) and stop.signal == "SIGTERM"
    assert isinstance(maint, Maintainer) and maint.name == "Jane Doe <jane@example.com>"


@pytest.mark.parametrize(
    ("line", "sources", "dest", "exec_form"),
    [
        ("COPY a b /dest/", ("a", "b"), "/dest/", False),
        ('COPY ["a b", "c", "/my dir/"]', ("a b", "c"), "/my dir/", True),
        ("COPY *.txt ./", ("*.txt",), "./", False),
        ("ADD https://example.com/x.tgz /tmp/", ("https://example.com/x.tgz",), "/tmp/", False),
        ("ADD app.tar.gz /opt/", ("app.tar.gz",), "/opt/", False),
    ],
)
def test_copy_and_add(line: str, sources: tuple[str, ...], dest: str, exec_form: bool) -> None:
    copy = one(line)
    assert isinstance(copy, Copy)
    assert (copy.sources, copy.dest, copy.exec_form) == (sources, dest, exec_form)
    assert copy.is_add == line.startswith("ADD")


def test_copy_and_add_flags() -> None:
    copy = one("COPY --from=build --chown=app:app --chmod=0644 --link --parents a /b")
    assert isinstance(copy, Copy)
    assert copy.flags == (
        Flag("from", "build"), Flag("chown", "app:app"), Flag("chmod", "0644"),
        Flag("link", None), Flag("parents", None),
    )
    add = one("ADD --checksum=sha256:abc --keep-git-dir=true --link=false x /y")
    assert isinstance(add, Copy)
    assert add.flag("checksum") == Flag("checksum", "sha256:abc")
    assert add.flag("link") == Flag("link", "false")
    assert add.flag("from") is None


@pytest.mark.parametrize(
    ("line", "command", "fields"),
    [
        ("HEALTHCHECK NONE", None, {}),
        ("HEALTHCHECK none", None, {}),
        ("HEALTHCHECK CMD curl -f http://localhost/ || exit 1",
         Command(False, ("curl -f http://localhost/ || exit 1",)), {}),
        ('HEALTHCHECK cmd ["/bin/check", "--fast"]', Command(True, ("/bin/check", "--fast")), {}),
        ("HEALTHCHECK --interval=5m --timeout=3s --start-period=1m30s --start-interval=2s "
         "--retries=3 CMD true", Command(False, ("true",)),
         {"interval": "5m", "timeout": "3s", "start_period": "1m30s",
          "start_interval": "2s", "retries": "3"}),
        ("HEALTHCHECK --interval=0s CMD true", Command(False, ("true",)), {"interval": "0s"}),
    ],
)
def test_healthcheck(line: str, command: Command | None, fields: dict[str, str]) -> None:
    hc = one(line)
    assert isinstance(hc, Healthcheck) and hc.command == command
    for name in ("interval", "timeout", "start_period", "start_interval", "retries"):
        assert getattr(hc, name) == fields.get(name)


def test_onbuild() -> None:
    ob = one("ONBUILD   COPY --chown=a . /app")
    assert isinstance(ob, Onbuild)
    assert ob.text == "COPY --chown=a . /app"
    assert isinstance(ob.trigger, Copy) and ob.trigger.flag("chown") == Flag("chown", "a")
    assert ob.trigger.sources == (".",)
    run = one("onbuild run echo $HOME")
    assert isinstance(run, Onbuild) and isinstance(run.trigger, Run)
    assert run.text == "run echo $HOME" and run.trigger.command.shell_text == "echo $HOME"


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # the file itself
        ("", "Dockerfile:1: file with no instructions"),
        ("# only\n# comments\n\n", "Dockerfile:3: file with no instructions"),
        ("# syntax=x\n", "Dockerfile:1: file with no instructions"),
        ("RUN echo\n", "Dockerfile:1: no build stage in current context"),
        ("ARG A\nENV B=c\nFROM a\n", "Dockerfile:2: no build stage in current context"),
        ("ARG A\n", "Dockerfile:1: no build stage in current context"),
        # unknown instructions and flags
        ("FROM a\n\nRUNN echo\n", "Dockerfile:3: unknown instruction: RUNN"),
        ("FROM a\nfoo bar\n", "Dockerfile:2: unknown instruction: foo"),
        ("FROM a\nCOPY --foo=1 a b\n", "Dockerfile:2: COPY: Unknown flag: foo"),
        ("FROM a\nADD --from=x a b\n", "Dockerfile:2: ADD: Unknown flag: from"),
        ("FROM a\nRUN --device=x true\n", "Dockerfile:2: RUN: Unknown flag: device"),
        ("FROM a\nENV --x=1 A=b\n", "Dockerfile:2: ENV: Unknown flag: x"),
        ("FROM --foo a\n", "Dockerfile:1: FROM: Unknown flag: foo"),
        ("FROM a\nCOPY --chown a b\n", "Dockerfile:2: COPY: Missing a value on flag: chown"),
        ("FROM a\nCOPY --link= a b\n", "Dockerfile:2: COPY: Missing a value on flag: link"),
        ("FROM a\nCOPY --link=yes a b\n",
         "Dockerfile:2: COPY: Expecting boolean value for flag link, not: yes"),
        ("FROM a\nCOPY --from=a --from=b a b\n",
         "Dockerfile:2: COPY: Duplicate flag specified: from"),
        # FROM
        ("FROM\n", "Dockerfile:1: FROM requires either one or three arguments"),
        ("FROM a b\n", "Dockerfile:1: FROM requires either one or three arguments"),
        ("FROM a AS\n", "Dockerfile:1: FROM requires either one or three arguments"),
        ("FROM a AS b c\n", "Dockerfile:1: FROM requires either one or three arguments"),
        ("FROM a TO b\n", "Dockerfile:1: FROM requires either one or three arguments"),
        ("FROM a AS 1st\n", 'Dockerfile:1: FROM: invalid name for build stage: "1st", '
         "name can't start with a number or contain symbols"),
        ("FROM a AS b/c\n", 'Dockerfile:1: FROM: invalid name for build stage: "b/c", '
         "name can't start with a number or contain symbols"),
        ("FROM a AS x\nFROM b AS X\n", 'Dockerfile:2: FROM: duplicate stage name "x"'),
        # per instruction
        ('FROM a\nRUN ["a", 1]\n', "Dockerfile:2: RUN: when using JSON array syntax, "
         "arrays must be comprised of strings only"),
        ("FROM a\nSHELL /bin/sh -c\n",
         "Dockerfile:2: SHELL requires the arguments to be in JSON form"),
        ("FROM a\nSHELL []\n", "Dockerfile:2: SHELL requires at least one argument"),
        ("FROM a\nSHELL\n", "Dockerfile:2: SHELL requires at least one argument"),
        ("FROM a\nENV\n", "Dockerfile:2: ENV requires at least one argument"),
        ("FROM a\nENV A\n", "Dockerfile:2: ENV must have two arguments"),
        ("FROM a\nENV =b\n", "Dockerfile:2: ENV names can not be blank"),
        ("FROM a\nENV A=b c\n", 'Dockerfile:2: ENV: Syntax error - can\'t find = in "c". '
         "Must be of the form: name=value"),
        ("FROM a\nLABEL\n", "Dockerfile:2: LABEL requires at least one argument"),
        ("FROM a\nLABEL a=b c\n", 'Dockerfile:2: LABEL: Syntax error - can\'t find = in "c". '
         "Must be of the form: name=value"),
        ("FROM a\nARG\n", "Dockerfile:2: ARG requires at least one argument"),
        ("FROM a\nARG =x\n", "Dockerfile:2: ARG names can not be blank"),
        ("FROM a\nEXPOSE\n", "Dockerfile:2: EXPOSE requires at least one argument"),
        ("FROM a\nVOLUME\n", "Dockerfile:2: VOLUME requires at least one argument"),
        ('FROM a\nVOLUME ["/a", " "]\n',
         "Dockerfile:2: VOLUME specified can not be an empty string"),
        ("FROM a\nUSER\n", "Dockerfile:2: USER requires exactly one argument"),
        ("FROM a\nWORKDIR\n", "Dockerfile:2: WORKDIR requires exactly one argument"),
        ("FROM a\nSTOPSIGNAL\n", "Dockerfile:2: STOPSIGNAL requires exactly one argument"),
        ("FROM a\nMAINTAINER\n", "Dockerfile:2: MAINTAINER requires exactly one argument"),
        ("FROM a\nCOPY a\n", "Dockerfile:2: COPY requires at least two arguments, but only one "
         "was provided. Destination could not be determined"),
        ('FROM a\nADD ["a"]\n', "Dockerfile:2: ADD requires at least two arguments, but only "
         "one was provided. Destination could not be determined"),
        ("FROM a\nONBUILD\n", "Dockerfile:2: ONBUILD requires at least one argument"),
        ("FROM a\nONBUILD ONBUILD RUN x\n",
         "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("FROM a\nONBUILD FROM b\n", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"),
        ("FROM a\nONBUILD maintainer b\n",
         "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger"),
        ("FROM a\nONBUILD RUNN x\n", "Dockerfile:2: ONBUILD: unknown instruction: RUNN"),
        ("FROM a\nHEALTHCHECK\n", "Dockerfile:2: HEALTHCHECK requires at least one argument"),
        ("FROM a\nHEALTHCHECK NONE x\n", "Dockerfile:2: HEALTHCHECK NONE takes no arguments"),
        ("FROM a\nHEALTHCHECK CMD\n", "Dockerfile:2: Missing command after HEALTHCHECK CMD"),
        ("FROM a\nHEALTHCHECK RUN x\n",
         'Dockerfile:2: Unknown type "RUN" in HEALTHCHECK (try CMD)'),
        ("FROM a\nHEALTHCHECK --interval=5 CMD x\n",
         'Dockerfile:2: HEALTHCHECK: time: missing unit in duration "5"'),
        ("FROM a\nHEALTHCHECK --timeout=soon CMD x\n",
         'Dockerfile:2: HEALTHCHECK: time: invalid duration "soon"'),
        ("FROM a\nHEALTHCHECK --interval=10us CMD x\n",
         'Dockerfile:2: HEALTHCHECK: Interval "interval" cannot be less than 1ms'),
        ("FROM a\nHEALTHCHECK --retries=-1 CMD x\n",
         "Dockerfile:2: HEALTHCHECK: --retries must be at least 1 (not -1)"),
        ("FROM a\nHEALTHCHECK --retries=0 CMD x\n",
         "Dockerfile:2: HEALTHCHECK: --retries must be at least 1 (not 0)"),
        ("FROM a\nHEALTHCHECK --retries=x CMD x\n",
         'Dockerfile:2: HEALTHCHECK: strconv.ParseInt: parsing "x": invalid syntax'),
        ("FROM a\nHEALTHCHECK --foo=1 CMD x\n", "Dockerfile:2: HEALTHCHECK: Unknown flag: foo"),
        # the line is the instruction's first, also after continuations and comments
        ("FROM a\nRUN a \\\n  b\n# c\nENV \\\n  A\n", "Dockerfile:5: ENV must have two arguments"),
    ],
)
def test_errors(text: str, message: str) -> None:
    assert error(text) == message


def test_error_names_the_file_as_given() -> None:
    assert error("FROM a\nRUNN\n", "build/Dockerfile.dev") == (
        "build/Dockerfile.dev:2: unknown instruction: RUNN"
    )
    assert error("", "-") == "-:1: file with no instructions"


def test_errors_are_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        parse("FROM a\nRUNN\n")


def test_result_is_the_typed_dockerfile() -> None:
    df = parse("FROM a\n", "Dockerfile.x")
    assert isinstance(df, Dockerfile) and df.file == "Dockerfile.x" and df.warnings == ()
    assert str(df.stages[0].base.location) == "Dockerfile.x:1"


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0), ("30s", 30_000_000_000), ("1m30s", 90_000_000_000), ("1.5h", 5_400_000_000_000),
        ("300ms", 300_000_000), (".5s", 500_000_000), ("5.s", 5_000_000_000), ("1us", 1_000),
        ("2µs", 2_000), ("7ns", 7), ("1h2m3.5s", 3_723_500_000_000), ("-2s", -2_000_000_000),
    ],
)
def test_healthcheck_durations_are_go_durations(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("x", 'time: invalid duration "x"'),
        (".s", 'time: invalid duration ".s"'),
        ("10", 'time: missing unit in duration "10"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
    ],
)
def test_bad_durations(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.") + "$"):
        parse_duration(text)


def test_comment_lines_inside_a_continuation_are_dropped_silently() -> None:
    df = parse("FROM a\nRUN apt-get update && \\\n    # install it\n    apt-get install x\n")
    (run,) = df.stages[0].instructions
    assert isinstance(run, Run)
    assert run.command.shell_text == "apt-get update &&     apt-get install x"
    assert df.warnings == ()  # a comment is not an empty continuation line


def test_a_hash_inside_an_instruction_is_not_a_comment() -> None:
    (run,) = parse("FROM a\nRUN echo a # b \\\n  c\n").stages[0].instructions
    assert isinstance(run, Run) and run.command.shell_text == "echo a # b   c"
