"""History `created_by` texts as docker 20.10's classic builder writes them: a metadata step is
the shell, "#(nop) " and " KEYWORD args"; WORKDIR and COPY/ADD use one space; RUN is the shell
and command (the exec form alone), with `|N a=b` first when build args reach it; CMD and
ENTRYPOINT are Go's %q of the list, SHELL and VOLUME its %v, HEALTHCHECK %q of the struct.
Every text below was checked against a private dockerd 20.10.24 (DOCKER_BUILDKIT=0 docker
build, `docker history --no-trunc`) on this machine, e.g.
    /bin/sh -ec #(nop)  CMD ["/bin/sh" "-ec" "echo cmd"]
    |2 A=aval B=dflt echo exec
    /bin/sh -ec #(nop)  SHELL [/bin/sh -ec]
    /bin/sh -c #(nop) COPY dir:<hex> in /dd
    /bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "test -f /x"] "5s" "2s" "0s" '\x02'}
    /bin/sh -c #(nop)  VOLUME [/data /other]
    /bin/sh -c #(nop) WORKDIR /app/sub            (a relative WORKDIR, resolved)
    /bin/sh -c #(nop)  ARG B=dflt
"""

from __future__ import annotations

from pyengine.build import history

SH = ("/bin/sh", "-c")


def test_metadata_steps_have_docker_spacing() -> None:
    assert history.metadata(SH, "ENV", "A=b") == "/bin/sh -c #(nop)  ENV A=b"
    assert history.metadata(SH, "WORKDIR", "/app") == "/bin/sh -c #(nop) WORKDIR /app"
    assert history.metadata(SH, "EXPOSE", "5000") == "/bin/sh -c #(nop)  EXPOSE 5000"
    assert history.metadata(SH, "CMD", history.json_words(["python", "./app.py"])) == \
        '/bin/sh -c #(nop)  CMD ["python" "./app.py"]'
    assert history.metadata(SH, "VOLUME", history.go_list(["/data"])) == \
        "/bin/sh -c #(nop)  VOLUME [/data]"
    assert history.metadata(("/bin/bash", "-c"), "SHELL",
                            history.go_list(["/bin/bash", "-c"])) == \
        "/bin/bash -c #(nop)  SHELL [/bin/bash -c]"


def test_run_and_copy() -> None:
    assert history.run(SH, ["echo hi"], False, {}) == "/bin/sh -c echo hi"
    assert history.run(SH, ["echo", "hi"], True, {}) == "echo hi"
    assert history.run(SH, ["echo $A"], False, {"B": "2", "A": "b"}) == \
        "|2 A=b B=2 /bin/sh -c echo $A"
    assert history.copy(SH, "COPY", "dir:abc", "/app") == "/bin/sh -c #(nop) COPY dir:abc in /app "


def test_json_words_quote_like_go() -> None:
    assert history.json_words(['say "hi"', "a\\b", "tab\t"]) == r'["say \"hi\"" "a\\b" "tab\t"]'


def test_healthcheck_is_gos_struct_text() -> None:
    assert history.healthcheck(["CMD-SHELL", "curl -f x"], 30_000_000_000, 3_000_000_000, 0,
                               3) == '&{["CMD-SHELL" "curl -f x"] "30s" "3s" "0s" \'\\x03\'}'
    assert history.healthcheck(["NONE"], 0, 0, 0, 0) == '&{["NONE"] "0s" "0s" "0s" \'\\x00\'}'


def test_go_durations() -> None:
    assert [history.go_duration(ns) for ns in (
        0, 500_000_000, 1_500_000_000, 90_000_000_000, 3_600_000_000_000)] == \
        ["0s", "500ms", "1.5s", "1m30s", "1h0m0s"]


def test_texts_checked_against_dockerd() -> None:
    ec = ("/bin/sh", "-ec")
    assert history.run(ec, ["echo", "exec"], True, {"A": "aval", "B": "dflt"}) == \
        "|2 A=aval B=dflt echo exec"
    assert history.run(ec, ["echo shell2"], False, {"A": "aval", "B": "dflt"}) == \
        "|2 A=aval B=dflt /bin/sh -ec echo shell2"
    assert history.metadata(ec, "CMD", history.json_words(["/bin/sh", "-ec", "echo cmd"])) == \
        '/bin/sh -ec #(nop)  CMD ["/bin/sh" "-ec" "echo cmd"]'
    assert history.metadata(ec, "ONBUILD", "RUN echo hi") == \
        "/bin/sh -ec #(nop)  ONBUILD RUN echo hi"
    assert history.metadata(SH, "VOLUME", history.go_list(["/data", "/other"])) == \
        "/bin/sh -c #(nop)  VOLUME [/data /other]"
    assert history.metadata(SH, "LABEL", "l=v m=x y") == "/bin/sh -c #(nop)  LABEL l=v m=x y"
    assert history.metadata(SH, "ARG", "B=dflt") == "/bin/sh -c #(nop)  ARG B=dflt"
    assert history.healthcheck(["CMD-SHELL", "test -f /x"], 5_000_000_000, 2_000_000_000, 0,
                               2) == \
        '&{["CMD-SHELL" "test -f /x"] "5s" "2s" "0s" \'\\x02\'}'
