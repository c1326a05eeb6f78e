"""Builds through the engine's BuildsService (a real pyengined, RUN steps as real containers):
the image's config and files, the build cache (a rebuild hits every step and gives the same
image; a changed file rebuilds from its first user on; build args bust only the RUNs they
reach), multi-stage builds with COPY --from and --target, a failing RUN (ABORTED with its exit
code, nothing left behind), builder prune and system df."""

from __future__ import annotations

import hashlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.fixtures.netns import module_network_namespace  # noqa: F401 - autouse fixture

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_containers"))

from pyengine.api import build_pb2
from solver_harness import (
    NOTHING,
    BuildEngine,
    build,
    disk_usage,
    inspect_image,
    leftovers,
    module_engine,
    prune,
    run_cat,
)

pytestmark = [pytest.mark.root]

APP = """\
FROM busybox
ENV GREETING=hello
WORKDIR /app
COPY app.txt /app/
RUN echo building && echo "$GREETING world" > /app/out.txt
CMD ["cat", "/app/out.txt"]
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuildEngine]:
    with module_engine(tmp_path_factory) as started:
        yield started


def test_build_makes_the_config_and_the_files(engine: BuildEngine) -> None:
    out = build(engine, {"Dockerfile": APP, "app.txt": "from the context\n"},
                tags=["solver-app:1"])
    assert out.code is None, out.message
    assert out.steps() == APP.splitlines()
    run_step = next(e.step for e in out.events if e.HasField("step")
                    and e.step.instruction.startswith("RUN"))
    assert len(run_step.container_id) == 64  # announced once its container exists
    assert b"building\n" in out.output()
    image = inspect_image(engine, "solver-app:1")
    assert image["Id"] == out.image_id
    config = image["Config"]
    # busybox's image has no PATH: BuildKit (and buildah) give the built image the default
    assert config["Env"] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello"]
    assert config["WorkingDir"] == "/app"
    assert config["Cmd"] == ["cat", "/app/out.txt"]
    assert run_cat(engine, "solver-app:1") == "hello world\n"
    assert run_cat(engine, "solver-app:1", "cat", "/app/app.txt") == "from the context\n"
    history = engine.out("image", "history", "--no-trunc", "--format", "{{.CreatedBy}}",
                         "solver-app:1").splitlines()
    assert history[:5] == [
        '/bin/sh -c #(nop)  CMD ["cat" "/app/out.txt"]',
        '/bin/sh -c echo building && echo "$GREETING world" > /app/out.txt',
        history[2],  # COPY file:<hex> in /app/ (the hex is the copy module's)
        "/bin/sh -c #(nop) WORKDIR /app",
        "/bin/sh -c #(nop)  ENV GREETING=hello",
    ]
    assert history[2].startswith("/bin/sh -c #(nop) COPY file:") and \
        history[2].endswith(" in /app/ ")
    assert leftovers(engine) == NOTHING


def test_unchanged_rebuild_hits_every_step_and_gives_the_same_image(
        engine: BuildEngine) -> None:
    files = {"Dockerfile": APP, "app.txt": "same\n"}
    first = build(engine, files, tags=["solver-same:1"])
    second = build(engine, files, tags=["solver-same:1"])
    assert first.code is None and second.code is None, (first.message, second.message)
    # FROM, ENV, WORKDIR are not layer steps; COPY and RUN come from the cache
    assert second.cached() == [False, False, False, True, True, False]
    assert second.image_id == first.image_id
    assert b"building" not in second.output()


def test_a_changed_file_rebuilds_from_its_first_user_on(engine: BuildEngine) -> None:
    dockerfile = ("FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /a.copy\n"
                  "COPY b.txt /b.txt\nRUN cat /b.txt > /b.copy\n")
    first = build(engine, {"Dockerfile": dockerfile, "a.txt": "a\n", "b.txt": "b1\n"},
                  tags=["solver-changed:1"])
    second = build(engine, {"Dockerfile": dockerfile, "a.txt": "a\n", "b.txt": "b2\n"},
                   tags=["solver-changed:1"])
    assert first.code is None and second.code is None, (first.message, second.message)
    assert second.cached() == [False, True, True, False, False]
    assert run_cat(engine, "solver-changed:1", "cat", "/a.copy", "/b.copy") == "a\nb2\n"
    # the tag moved; the first image stays, dangling, as docker leaves it
    assert inspect_image(engine, first.image_id)["RepoTags"] == []


def test_build_args_bust_only_the_runs_they_reach(engine: BuildEngine) -> None:
    dockerfile = ("FROM busybox\nRUN echo fixed > /fixed\nARG USED\n"
                  "RUN echo $USED > /used\n")
    first = build(engine, {"Dockerfile": dockerfile},
                  build_args={"USED": "1", "NOBODY": "x"})
    again = build(engine, {"Dockerfile": dockerfile},
                  build_args={"USED": "1", "NOBODY": "y"})
    changed = build(engine, {"Dockerfile": dockerfile},
                    build_args={"USED": "2", "NOBODY": "y"}, tags=["solver-args:1"])
    for out in (first, again, changed):
        assert out.code is None, out.message
    assert first.warnings() == [
        "[Warning] One or more build-args [NOBODY] were not consumed"]
    assert again.cached() == [False, True, False, True]
    assert again.image_id == first.image_id
    assert changed.cached() == [False, True, False, False]
    assert run_cat(engine, "solver-args:1", "cat", "/used") == "2\n"
    history = engine.out("image", "history", "--no-trunc", "--format", "{{.CreatedBy}}",
                         "solver-args:1").splitlines()
    assert history[0] == "|1 USED=2 /bin/sh -c echo $USED > /used"
    assert history[1] == "/bin/sh -c #(nop)  ARG USED"
    assert history[2] == "/bin/sh -c echo fixed > /fixed"


MULTI = """\
FROM busybox AS builder
RUN echo built > /artifact
FROM busybox AS broken
RUN exit 3
FROM busybox
COPY --from=builder /artifact /artifact
CMD ["cat", "/artifact"]
"""


def test_multi_stage_copy_from_and_target(engine: BuildEngine) -> None:
    final = build(engine, {"Dockerfile": MULTI}, tags=["solver-multi:1"])
    assert final.code is None, final.message
    assert "RUN exit 3" not in final.steps()  # a stage the target does not need is not built
    assert run_cat(engine, "solver-multi:1") == "built\n"
    target = build(engine, {"Dockerfile": MULTI}, tags=["solver-multi:builder"],
                   target="builder")
    assert target.code is None, target.message
    assert target.steps() == ["FROM busybox AS builder", "RUN echo built > /artifact"]
    assert target.cached() == [False, True]
    assert inspect_image(engine, "solver-multi:builder")["Config"]["Cmd"] == ["sh"]
    missing = build(engine, {"Dockerfile": MULTI}, target="nosuch")
    assert missing.code == grpc.StatusCode.NOT_FOUND
    assert missing.message == "failed to reach build target nosuch in Dockerfile"


def test_a_failing_run_aborts_and_leaves_nothing(engine: BuildEngine) -> None:
    out = build(engine, {"Dockerfile": "FROM busybox\nCOPY f /f\nRUN echo oops >&2; exit 7\n",
                         "f": "x"})
    assert out.code == grpc.StatusCode.ABORTED
    assert out.message == "The command '/bin/sh -c echo oops >&2; exit 7' returned a " \
        "non-zero code: 7"
    failure = out.failure()
    assert failure is not None and failure.exit_code == 7 and failure.index == 3
    assert b"oops\n" in out.output()
    assert leftovers(engine) == NOTHING


def test_builder_prune_empties_the_cache_and_df_accounts_it(engine: BuildEngine) -> None:
    out = build(engine, {"Dockerfile": "FROM busybox\nRUN head -c 100000 /dev/zero > /z\n"})
    assert out.code is None, out.message
    before = disk_usage(engine).build_cache
    assert any(r.description == "RUN head -c 100000 /dev/zero > /z" and r.size >= 100000
               for r in before)
    gone = prune(engine)
    assert len(gone.deleted) >= 1 and gone.space_reclaimed >= 100000
    assert list(disk_usage(engine).build_cache) == []
    again = build(engine, {"Dockerfile": "FROM busybox\nRUN head -c 100000 /dev/zero > /z\n"})
    assert again.cached() == [False, False]


META = """\
FROM busybox
LABEL a=b
EXPOSE 5000
USER 1000
WORKDIR /made/here
VOLUME /data
STOPSIGNAL SIGQUIT
RUN pwd > /tmp/pwd && id -u >> /tmp/pwd
ENTRYPOINT ["cat"]
"""


def test_metadata_instructions_make_docker_config(engine: BuildEngine) -> None:
    out = build(engine, {"Dockerfile": META}, tags=["solver-meta:1"], labels={"x": "y"})
    assert out.code is None, out.message
    config = inspect_image(engine, "solver-meta:1")["Config"]
    assert config["Labels"] == {"a": "b", "x": "y"}
    assert config["ExposedPorts"] == {"5000/tcp": {}}
    assert config["User"] == "1000"
    assert config["WorkingDir"] == "/made/here"
    assert config["Volumes"] == {"/data": {}}
    assert config["StopSignal"] == "SIGQUIT"
    assert config["Entrypoint"] == ["cat"]
    assert config["Cmd"] is None  # ENTRYPOINT resets the CMD busybox's image has
    # the RUN ran as the user, in the WORKDIR (made for it, as BuildKit does)
    assert run_cat(engine, "solver-meta:1", "/tmp/pwd") == "/made/here\n1000\n"
    layers = inspect_image(engine, "solver-meta:1")["RootFS"]["Layers"]
    assert len(layers) == len(inspect_image(engine, "busybox")["RootFS"]["Layers"]) + 1


MOUNTS = """\
FROM busybox
RUN --mount=type=cache,target=/var/cache/x echo run >> /var/cache/x/log && cat /var/cache/x/log
RUN --mount=type=secret,id=tok md5sum /run/secrets/tok
RUN --mount=type=tmpfs,target=/scratch touch /scratch/t && echo tmpfs-ok
"""


def test_run_mounts_cache_secret_tmpfs(engine: BuildEngine) -> None:
    secrets = [build_pb2.BuildSecret(id="tok", data=b"s3cret")]
    first = build(engine, {"Dockerfile": MOUNTS}, secrets=secrets)
    second = build(engine, {"Dockerfile": MOUNTS}, secrets=secrets, no_cache=True,
                   tags=["solver-mounts:1"])
    digest = hashlib.md5(b"s3cret").hexdigest().encode()
    for out in (first, second):
        assert out.code is None, out.message
        assert digest + b"  /run/secrets/tok\n" in out.output()
        assert b"tmpfs-ok\n" in out.output()
        assert not any(b"s3cret" in e.SerializeToString() for e in out.events)
    assert b"run\nrun\n" in second.output()  # the cache mount outlived the first build
    # the mount points are in neither the layers nor the snapshots the image runs from
    listing = run_cat(engine, "solver-mounts:1", "sh", "-c",
                      "ls -d /var/cache/x /scratch /run/secrets/tok 2>&1; true")
    assert listing.count("No such file or directory") == 3, listing
    assert leftovers(engine) == NOTHING
    assert not any((engine.exec_root / "builder" / "secrets").iterdir())


WAIT = """\
touch "/sync/$1"
i=0
until [ -e "/sync/$2" ]; do i=$((i+1)); [ $i -lt 3000 ] || exit 9; sleep 0.1; done
echo "$1" > "/$1"
"""

PARALLEL = """\
ARG SYNC
FROM busybox AS left
ARG SYNC
COPY wait.sh /wait.sh
RUN --mount=type=cache,id=$SYNC,target=/sync sh /wait.sh left right
FROM busybox AS right
ARG SYNC
COPY wait.sh /wait.sh
RUN --mount=type=cache,id=$SYNC,target=/sync sh /wait.sh right left
FROM busybox
COPY --from=left /left /left
COPY --from=right /right /right
"""


def test_independent_stages_build_at_the_same_time(engine: BuildEngine) -> None:
    """Each stage's RUN waits for the other's: built one after the other, the first would
    give up (exit 9)."""
    out = build(engine, {"Dockerfile": PARALLEL, "wait.sh": WAIT}, tags=["solver-parallel:1"],
                build_args={"SYNC": uuid.uuid4().hex})
    assert out.code is None, out.message
    assert run_cat(engine, "solver-parallel:1", "cat", "/left", "/right") == "left\nright\n"


def test_onbuild_triggers_and_copy_from_an_image(engine: BuildEngine) -> None:
    base = build(engine, {"Dockerfile": "FROM busybox\nONBUILD RUN echo triggered > /t\n"},
                 tags=["solver-onbuild:base"])
    assert base.code is None, base.message
    assert inspect_image(engine, "solver-onbuild:base")["Config"]["OnBuild"] == [
        "RUN echo triggered > /t"]
    child = build(engine, {"Dockerfile": "FROM solver-onbuild:base\n"
                                         "COPY --from=busybox /bin/busybox /bb\n"},
                  tags=["solver-onbuild:child"])
    assert child.code is None, child.message
    assert run_cat(engine, "solver-onbuild:child", "cat", "/t") == "triggered\n"
    assert run_cat(engine, "solver-onbuild:child", "sh", "-c",
                   "cmp /bb /bin/busybox && echo same") == "same\n"
    assert not inspect_image(engine, "solver-onbuild:child")["Config"]["OnBuild"]


def test_run_network_flag_and_option(engine: BuildEngine) -> None:
    dockerfile = ("FROM busybox\nRUN --network=none ls /sys/class/net\n"
                  "RUN ls /sys/class/net > /nets\n")
    out = build(engine, {"Dockerfile": dockerfile}, tags=["solver-net:1"], network="none")
    assert out.code is None, out.message
    assert out.output() == b"lo\n"  # the flag's network: loopback alone
    assert run_cat(engine, "solver-net:1", "cat", "/nets") == "lo\n"  # --network none
    bridged = build(engine, {"Dockerfile": "FROM busybox\nRUN ls /sys/class/net\n"},
                    no_cache=True)
    assert bridged.code is None, bridged.message
    assert bridged.output() == b"eth0\nlo\n"  # the default bridge


def test_a_scratch_stage_gets_only_what_it_copies(engine: BuildEngine) -> None:
    dockerfile = ("FROM busybox AS tools\nRUN mkdir /out && echo x > /out/x\n"
                  "FROM scratch\nCOPY --from=tools /out /\nCMD [\"/x\"]\n")
    out = build(engine, {"Dockerfile": dockerfile}, tags=["solver-scratch:1"])
    assert out.code is None, out.message
    image = inspect_image(engine, "solver-scratch:1")
    assert len(image["RootFS"]["Layers"]) == 1
    assert image["Os"] == "linux" and image["Architecture"]
    assert image["Config"]["Cmd"] == ["/x"]
    cid = engine.out("create", "solver-scratch:1").strip()
    try:
        assert engine.out("cp", f"{cid}:/x", "-").count("x\n") == 1
    finally:
        engine.pyctl("rm", "-f", cid)


LOCKED_SH = """\
touch "/c/$1-in"
i=0
while [ $i -lt 20 ]; do [ -e "/c/$2-in" ] && exit 5; i=$((i+1)); sleep 0.1; done
rm "/c/$1-in"
echo "$1" > "/$1"
"""

LOCKED = """\
ARG ID
FROM busybox AS one
ARG ID
COPY locked.sh /locked.sh
RUN --mount=type=cache,id=$ID,target=/c,sharing=locked sh /locked.sh one two
FROM busybox AS two
ARG ID
COPY locked.sh /locked.sh
RUN --mount=type=cache,id=$ID,target=/c,sharing=locked sh /locked.sh two one
FROM busybox
COPY --from=one /one /one
COPY --from=two /two /two
"""


def test_a_locked_cache_mount_has_one_user_at_a_time(engine: BuildEngine) -> None:
    """Both stages run at once (test_independent_stages_build_at_the_same_time); each RUN
    fails (exit 5) if it sees the other inside the cache mount while it is."""
    out = build(engine, {"Dockerfile": LOCKED, "locked.sh": LOCKED_SH},
                build_args={"ID": uuid.uuid4().hex})
    assert out.code is None, out.message


def test_copy_dot_into_the_workdir_honours_dockerignore(engine: BuildEngine) -> None:
    """WORKDIR's directory is made by the COPY after it; `.` is that directory; what
    .dockerignore excludes is neither kept (the daemon applies it to the tar again) nor copied
    (the Dockerfile stays for the build but is excluded from COPY)."""
    files = {"Dockerfile": "FROM busybox\nWORKDIR /src\nCOPY . .\nRUN ls -A > /listing\n",
             ".dockerignore": "Dockerfile\n*.tmp\n", "a.txt": "a", "b.tmp": "b"}
    out = build(engine, files, tags=["solver-dot:1"])
    assert out.code is None, out.message
    assert run_cat(engine, "solver-dot:1", "cat", "/listing") == ".dockerignore\na.txt\n"


def test_run_on_scratch_and_a_bind_mount_from_a_stage(engine: BuildEngine) -> None:
    dockerfile = ("FROM busybox AS bb\nFROM scratch\nCOPY --from=bb / /\n"
                  "RUN echo in-scratch > /s\n"
                  "RUN --mount=type=bind,from=bb,source=/bin,target=/mnt ls /mnt/busybox\n")
    out = build(engine, {"Dockerfile": dockerfile}, tags=["solver-bind:1"])
    assert out.code is None, out.message
    assert out.output() == b"/mnt/busybox\n"
    assert run_cat(engine, "solver-bind:1", "sh", "-c", "cat /s; [ -e /mnt ] || echo no-mnt") \
        == "in-scratch\nno-mnt\n"  # the mount point is in no layer
    assert leftovers(engine) == NOTHING
