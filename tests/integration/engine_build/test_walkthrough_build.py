"""The walk-through's builds with `pyctl build`, for real: flaskapp (FROM, RUN, COPY, VOLUME,
WORKDIR, EXPOSE, CMD on the Debian python base with Flask) and nginx-flask (FROM the demo's
nginx, RUN rm, COPY app.conf) built, run on a user network and served through nginx to Flask;
a multi-stage build (and --target); .dockerignore; the cache (unchanged rebuild, one file
changed, mtimes only, build args used and unused, --no-cache); -f, -t repeated, -q, --iidfile.

The expected outcomes were checked against dockerd 20.10 (BuildKit and the classic builder
agree on every one here except the multi-stage build, where the classic builder also builds the
stage nobody needs; the design follows BuildKit): .dockerignore's listing, the image IDs of the
cache cases, which steps are CACHED. The daemon runs in this module's network namespace
(ctr_harness/net_harness), everything is removed by id and path afterwards."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import build_daemon
import pytest
from build_peers import (
    FIXTURES,
    Built,
    cached_flags,
    copy_context,
    demo_images,
    pyctl_build,
    touch_all,
)
from ctr_harness import ContainerEngine

from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture

# the module's daemon and the clean-up after each test (fixtures)
engine = build_daemon.engine
nothing_outlives_its_test = build_daemon.nothing_outlives_its_test
pytestmark = [pytest.mark.root, pytest.mark.slow]

LAYER_STEPS = ["COPY", "RUN", "COPY", "RUN"]  # fixtures/cache's, in order
# `docker history --no-trunc --format '{{.CreatedBy}}'` of dockerd 20.10's classic builder on
# the same Dockerfiles, newest first; COPY's content hash (docker's tarsum) is not compared
DOCKER_HISTORY = {
    "flaskapp": [
        '/bin/sh -c #(nop)  CMD ["python3" "./app.py"]',
        "/bin/sh -c #(nop)  EXPOSE 5000",
        "/bin/sh -c #(nop) WORKDIR /opt",
        "/bin/sh -c #(nop)  VOLUME [/opt/data]",
        "/bin/sh -c #(nop) COPY dir:* in /opt/ ",
        """/bin/sh -c python3 -c 'import flask; print("flask", flask.__version__)' """
        "> /opt/flask-version     && mkdir -p /opt/data",
        "/bin/sh -c #(nop)  ENV FLASKAPP_DATA=/opt/data",
        "/bin/sh -c #(nop)  LABEL org.example.walkthrough=flaskapp org.example.step=build"],
    "cache": [
        '/bin/sh -c #(nop)  CMD ["cat" "/data/used" "/data/both"]',
        "/bin/sh -c #(nop)  ARG LATE=default",
        "|1 USED=default /bin/sh -c cat /data/a.txt /data/b.txt > /data/both",
        "/bin/sh -c #(nop) COPY file:* in /data/b.txt ",
        '|1 USED=default /bin/sh -c echo "used=$USED" > /data/used',
        "/bin/sh -c #(nop)  ARG USED=default",
        "/bin/sh -c #(nop) COPY file:* in /data/a.txt "],
}


def built_ok(built: Built) -> Built:
    assert built.returncode == 0, built.output[-4000:]
    return built


def config(engine: ContainerEngine, image: str) -> dict:
    return json.loads(engine.out("image", "inspect", "-f", "{{json .Config}}", image))


def layers(engine: ContainerEngine, image: str) -> list[str]:
    return json.loads(engine.out("image", "inspect", "-f", "{{json .RootFS.Layers}}", image))


def image_id(engine: ContainerEngine, image: str) -> str:
    return engine.out("image", "inspect", "-f", "{{.Id}}", image).strip()


def history(engine: ContainerEngine, image: str, steps: int) -> list[str]:
    """The `created_by` of the image's newest `steps` history entries, content hashes out."""
    lines = engine.out("history", "--no-trunc", "--format", "{{.CreatedBy}}", image)
    return [re.sub(r"\b(file|dir|multi):[0-9a-f]{64}\b", r"\1:*", line)
            for line in lines.split("\n")[:steps]]


def page(url: str, wait: float = 60.0) -> str:
    """The page at `url`, waiting while the servers come up (refused, 502 from nginx while
    Flask starts): a bound on the wait, not a timing assertion."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return str(answer.read().decode())
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_flaskapp_and_nginx_flask_build_run_and_serve(engine: ContainerEngine) -> None:
    demo_images(engine)
    flask = built_ok(pyctl_build(engine, FIXTURES / "flaskapp", "-t", "flaskapp"))
    # BuildKit's "naming to docker.io/library/flaskapp done" (":latest" or not)
    assert re.search(r"^#\d+ naming to (docker\.io/library/)?flaskapp(:latest)? done$",
                     flask.output, re.MULTILINE), flask.output
    assert [k for k, _ in cached_flags(flask)] == ["RUN", "COPY"], flask.output
    doc = config(engine, "flaskapp")
    assert doc["Cmd"] == ["python3", "./app.py"]
    assert doc["WorkingDir"] == "/opt"
    assert doc["ExposedPorts"] == {"5000/tcp": {}}
    assert doc["Volumes"] == {"/opt/data": {}}
    assert "FLASKAPP_DATA=/opt/data" in doc["Env"]
    assert doc["Labels"] == {"org.example.walkthrough": "flaskapp", "org.example.step": "build"}
    # RUN and COPY made a layer each; the metadata instructions none
    assert len(layers(engine, "flaskapp")) == len(layers(engine, "pyengine-demo/web")) + 2
    assert history(engine, "flaskapp", 8) == DOCKER_HISTORY["flaskapp"]
    version = engine.out("run", "--rm", "--network", "none", "flaskapp", "cat",
                         "/opt/flask-version")
    assert re.fullmatch(r"flask \d+\.\d+\.\d+\n", version), version

    nginx = built_ok(pyctl_build(engine, FIXTURES / "nginx-flask", "-t", "nginx-flask"))
    assert [k for k, _ in cached_flags(nginx)] == ["RUN", "COPY"], nginx.output
    assert len(layers(engine, "nginx-flask")) == len(layers(engine, "pyengine-demo/nginx")) + 2
    files = engine.out("run", "--rm", "--network", "none", "nginx-flask", "sh", "-c",
                       "cat /etc/nginx/nginx.conf; ls /etc/nginx/sites-enabled")
    assert files == (FIXTURES / "nginx-flask" / "app.conf").read_text()  # the default is gone
    assert config(engine, "nginx-flask")["Cmd"] == ["nginx", "-g", "daemon off;"]  # inherited

    # The walk-through's way: a user network, Flask first (nginx resolves it when it starts)
    engine.out("network", "create", "walkthrough-net")
    engine.out("run", "-d", "--network", "walkthrough-net", "--name", "flaskapp", "flaskapp")
    engine.out("run", "-d", "--network", "walkthrough-net", "--name", "nginx-flask",
               "-p", "127.0.0.1:8080:80", "nginx-flask")
    hostname = engine.out("inspect", "-f", "{{.Config.Hostname}}", "flaskapp").strip()
    assert page("http://127.0.0.1:8080/") == f"flaskapp on {hostname}: visit 1\n"
    assert page("http://127.0.0.1:8080/") == f"flaskapp on {hostname}: visit 2\n"
    mounts = json.loads(engine.out("inspect", "-f", "{{json .Mounts}}", "flaskapp"))
    assert [(m["Type"], m["Destination"]) for m in mounts] == [("volume", "/opt/data")]
    # the count lives in the image's VOLUME
    assert engine.out("exec", "flaskapp", "cat", "/opt/data/visits") == "2"


def test_multi_stage_takes_only_the_file_the_builder_made(engine: ContainerEngine) -> None:
    final = built_ok(pyctl_build(engine, FIXTURES / "multistage", "-t", "staged"))
    assert "this stage must not be built" not in final.output  # `broken` is not needed
    assert engine.out("run", "--rm", "--network", "none", "staged") == \
        "HELLO FROM THE BUILDER STAGE\nmade-in-builder\n"
    assert len(layers(engine, "staged")) == len(layers(engine, "busybox")) + 1
    listing = engine.pyctl("run", "--rm", "--network", "none", "staged", "ls", "/src", "/out")
    assert listing.returncode != 0  # nothing else of the builder's filesystem

    builder = built_ok(pyctl_build(engine, FIXTURES / "multistage", "--target", "builder",
                                   "-t", "staged-builder"))
    assert "this stage must not be built" not in builder.output
    assert config(engine, "staged-builder")["WorkingDir"] == "/src"
    assert engine.out("run", "--rm", "--network", "none", "staged-builder", "cat",
                      "/out/GREETING") == "HELLO FROM THE BUILDER STAGE\nmade-in-builder\n"
    # the final build's builder stage is the --target build's: all its steps come from the cache
    assert all(cached for _, cached in cached_flags(builder)), builder.output


def test_dockerignore_with_exceptions(engine: ContainerEngine) -> None:
    built_ok(pyctl_build(engine, FIXTURES / "dockerignore", "-t", "ignoring"))
    found = engine.out("run", "--rm", "--network", "none", "ignoring").split()
    # dockerd 20.10 (BuildKit and classic) copies exactly these: *.log but keep.log, no
    # secret/, no /build-output, docs/**/*.md but docs/README.md, no src/*.tmp, and not the
    # Dockerfile (excluded, though still sent: the build needs it)
    assert sorted(found) == ["/ctx/.dockerignore", "/ctx/app.txt", "/ctx/docs/README.md",
                             "/ctx/docs/a/notes.txt", "/ctx/keep.log", "/ctx/src/main.c"]


def test_cache_hits_misses_and_build_args(engine: ContainerEngine, tmp_path: Path) -> None:
    context = copy_context("cache", tmp_path)
    iid = tmp_path / "iid"

    def build(*args: str) -> tuple[str, list[bool]]:
        done = built_ok(pyctl_build(engine, context, "-t", "cached", "--iidfile", str(iid),
                                    *args))
        flags = cached_flags(done)
        assert [k for k, _ in flags] == LAYER_STEPS, done.output
        assert done.progress.duplicates == [], done.output  # BuildKit shows each step once
        return iid.read_text(), [c for _, c in flags]

    first, hits = build()
    assert first.startswith("sha256:") and len(first) == 71
    assert hits == [False, False, False, False]
    assert image_id(engine, "cached") == first
    assert history(engine, "cached", 7) == DOCKER_HISTORY["cache"]

    again, hits = build()
    assert hits == [True, True, True, True] and again == first  # the same image, not a copy

    touch_all(context, time.time() - 86400)  # mtimes are not content
    assert build() == (first, [True, True, True, True])
    # a build arg no instruction declares, one declared after every layer step
    assert build("--build-arg", "NOT_DECLARED=x") == (first, [True, True, True, True])
    assert build("--build-arg", "LATE=x") == (first, [True, True, True, True])

    # USED is in the environment of the RUN after its ARG: from there on rebuilt
    used, hits = build("--build-arg", "USED=other")
    assert hits == [True, False, False, False] and used != first
    assert engine.out("run", "--rm", "--network", "none", "cached") == \
        "used=other\nfile a\nfile b\n"

    # one file changed: the steps before its COPY come from the cache, the rest is rebuilt
    (context / "b.txt").write_text("file b, changed\n")
    changed, hits = build()
    assert hits == [True, True, False, False] and changed not in (first, used)
    assert engine.out("run", "--rm", "--network", "none", "cached") == \
        "used=default\nfile a\nfile b, changed\n"

    # -q: only the image ID on stdout, as --iidfile has it
    quiet = built_ok(pyctl_build(engine, context, "-q", "-t", "cached", "--iidfile", str(iid)))
    assert quiet.stdout == iid.read_text() + "\n" == changed + "\n"

    # -f: another Dockerfile of the context; a step equal to one built before (same parent,
    # same instruction, same content) comes from the cache whichever Dockerfile it is in
    (context / "Dockerfile.alt").write_text("FROM busybox\nCOPY a.txt /data/a.txt\n"
                                            "RUN echo alt > /data/alt\n")
    alt = built_ok(pyctl_build(engine, context, "-f", str(context / "Dockerfile.alt"),
                               "-t", "alt", "-t", "alt:two"))
    assert cached_flags(alt) == [("COPY", True), ("RUN", False)], alt.output
    assert image_id(engine, "alt") == image_id(engine, "alt:two")  # -t repeated
    assert engine.out("run", "--rm", "--network", "none", "alt", "cat", "/data/alt") == "alt\n"

    # --no-cache: every step runs again
    fresh = built_ok(pyctl_build(engine, context, "--no-cache", "-t", "cached"))
    assert [c for _, c in cached_flags(fresh)] == [False, False, False, False], fresh.output
