"""A container's filesystem from outside: diff, export, cp (both ways, running and stopped,
with a hostile symlink in the container) and commit (the new image runs, its history shows
the commit, the base image stays pinned while the container exists)."""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ctr_harness import ContainerEngine

pytestmark = [pytest.mark.root]

CHANGES = ("echo added > /etc/added; echo more >> /etc/passwd; rm /etc/group; "
           "mkdir -p /data/sub && touch /data/sub/f; rm -r /root 2>/dev/null; true")


def _container(engine: ContainerEngine, name: str, script: str, running: bool,
               image: str = "busybox", runtime: str = "") -> str:
    """A container that made its changes with `script`; running (sleeping) or exited."""
    flags = ["--runtime", runtime] if runtime else []
    if running:
        cid = engine.out("run", "-d", *flags, "--name", name, image, "sh", "-c",
                         f"{script}; touch /ready; exec sleep 1000").strip()
        engine.out("exec", cid, "sh", "-c", "while [ ! -e /ready ]; do sleep 0.05; done")
        return cid
    cid = engine.out("create", *flags, "--name", name, image, "sh", "-c", script).strip()
    engine.out("start", cid)
    assert engine.out("wait", cid).strip() == "0"
    return cid


@pytest.fixture
def stopped(engine: ContainerEngine) -> Iterator[str]:
    cid = _container(engine, "fs-stopped", CHANGES, running=False)
    yield cid
    engine.pyctl("rm", "-f", cid)


@pytest.fixture
def running(engine: ContainerEngine) -> Iterator[str]:
    cid = _container(engine, "fs-running", CHANGES, running=True)
    yield cid
    engine.pyctl("rm", "-f", cid)


def _diff(engine: ContainerEngine, ref: str) -> list[str]:
    return engine.out("diff", ref).splitlines()


@pytest.mark.parametrize("state", ["stopped", "running"])
def test_diff_shows_added_changed_and_deleted(engine: ContainerEngine, state: str,
                                              request: pytest.FixtureRequest) -> None:
    cid = request.getfixturevalue(state)
    lines = _diff(engine, cid)
    for line in ("C /etc", "A /etc/added", "C /etc/passwd", "D /etc/group", "A /data",
                 "A /data/sub", "A /data/sub/f"):
        assert line in lines, lines
    assert lines.index("C /etc") < lines.index("A /etc/added") < lines.index("D /etc/group") \
        < lines.index("C /etc/passwd")
    assert "A /etc/passwd" not in lines and "C /bin" not in lines


def test_diff_of_an_unknown_container_is_an_error(engine: ContainerEngine) -> None:
    result = engine.pyctl("diff", "no-such-container")
    assert result.returncode == 1
    assert b"No such container: no-such-container" in result.stderr


@pytest.mark.parametrize("state", ["stopped", "running"])
def test_export_is_the_whole_filesystem(engine: ContainerEngine, state: str,
                                        request: pytest.FixtureRequest,
                                        tmp_path: Path) -> None:
    cid = request.getfixturevalue(state)
    out = tmp_path / "fs.tar"
    engine.out("export", "-o", str(out), cid)
    with tarfile.open(out) as tar:
        names = set(tar.getnames())
        assert tar.extractfile("etc/added").read() == b"added\n"  # type: ignore[union-attr]
        assert tar.extractfile("etc/passwd").read().endswith(b"more\n")  # type: ignore[union-attr]
    assert {"bin/busybox", "bin/sh", "etc/added", "data/sub/f"} <= names
    assert "etc/group" not in names
    # nothing stays mounted for a stopped container
    assert not any(p.is_mount() for p in (engine.exec_root / "fs-mounts").glob("*"))
    streamed = engine.pyctl("export", cid)
    assert streamed.returncode == 0
    with tarfile.open(fileobj=io.BytesIO(streamed.stdout)) as tar:
        assert set(tar.getnames()) == names


@pytest.mark.parametrize("state", ["stopped", "running"])
def test_cp_out_of_the_container(engine: ContainerEngine, state: str,
                                 request: pytest.FixtureRequest, tmp_path: Path) -> None:
    cid = request.getfixturevalue(state)
    engine.out("cp", f"{cid}:/etc/added", str(tmp_path / "copy"))
    assert (tmp_path / "copy").read_text() == "added\n"
    (tmp_path / "into").mkdir()
    engine.out("cp", f"{cid}:/etc/added", str(tmp_path / "into"))  # into a directory
    assert (tmp_path / "into" / "added").read_text() == "added\n"
    engine.out("cp", f"{cid}:/data", str(tmp_path / "into"))  # a directory into one
    assert (tmp_path / "into" / "data" / "sub" / "f").exists()
    engine.out("cp", f"{cid}:/data/.", str(tmp_path / "into"))  # its contents
    assert (tmp_path / "into" / "sub" / "f").exists()
    engine.out("cp", f"{cid}:/data", str(tmp_path / "newdir"))  # a new directory
    assert (tmp_path / "newdir" / "sub" / "f").exists()
    streamed = engine.pyctl("cp", f"{cid}:/etc/added", "-")
    with tarfile.open(fileobj=io.BytesIO(streamed.stdout)) as tar:
        assert tar.getnames() == ["added"]


def test_cp_errors(engine: ContainerEngine, stopped: str, tmp_path: Path) -> None:
    missing = engine.pyctl("cp", f"{stopped}:/no/such", str(tmp_path))
    assert missing.returncode == 1
    assert f"No such container:path: {stopped}:/no/such".encode() in missing.stderr
    file_as_dir = engine.pyctl("cp", f"{stopped}:/etc/added/", str(tmp_path / "x"))
    assert file_as_dir.returncode == 1
    assert b"not a directory" in file_as_dir.stderr or b"No such" in file_as_dir.stderr
    (tmp_path / "file").write_text("x")
    dir_to_file = engine.pyctl("cp", f"{stopped}:/data", str(tmp_path / "file"))
    assert dir_to_file.returncode == 1 and b"cannot overwrite non-directory" in \
        dir_to_file.stderr
    must_exist = engine.pyctl("cp", f"{stopped}:/etc/added", str(tmp_path / "nodir") + "/")
    assert must_exist.returncode == 1 and b"must exist" in must_exist.stderr
    no_parent = engine.pyctl("cp", str(tmp_path / "file"), f"{stopped}:/no/such/place")
    assert no_parent.returncode == 1 and b"Could not find the file" in no_parent.stderr
    no_source = engine.pyctl("cp", str(tmp_path / "absent"), f"{stopped}:/tmp")
    assert no_source.returncode == 1 and b"no such file or directory" in no_source.stderr
    both = engine.pyctl("cp", f"{stopped}:/a", f"{stopped}:/b")
    assert both.returncode == 1 and b"copying between containers" in both.stderr
    nowhere = engine.pyctl("cp", "no-such-container:/etc", str(tmp_path))
    assert nowhere.returncode == 1 and b"No such container" in nowhere.stderr


@pytest.mark.parametrize("state", ["stopped", "running"])
def test_cp_into_the_container(engine: ContainerEngine, state: str,
                               request: pytest.FixtureRequest, tmp_path: Path) -> None:
    cid = request.getfixturevalue(state)
    (tmp_path / "f.txt").write_text("from the host\n")
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "sub" / "leaf").write_text("leaf\n")
    os.chown(tmp_path / "f.txt", 1234, 1234)
    engine.out("cp", str(tmp_path / "f.txt"), f"{cid}:/data/")  # into a directory
    engine.out("cp", str(tmp_path / "f.txt"), f"{cid}:/data/renamed")  # a new name
    engine.out("cp", str(tmp_path / "tree"), f"{cid}:/data")  # a directory into one
    engine.out("cp", str(tmp_path / "tree") + "/.", f"{cid}:/data/sub")  # its contents
    engine.out("cp", "-a", str(tmp_path / "f.txt"), f"{cid}:/data/kept")
    data = engine.pyctl("cp", f"{cid}:/data", "-", check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as listing:
        members = {m.name: m for m in listing.getmembers()}
        assert listing.extractfile("data/f.txt").read() == b"from the host\n"  # type: ignore[union-attr]
    assert {"data/f.txt", "data/renamed", "data/tree/sub/leaf", "data/sub/sub/leaf",
            "data/sub/f", "data/kept"} <= set(members)
    assert (members["data/f.txt"].uid, members["data/kept"].uid) == (0, 1234)
    # a tar on stdin goes into a directory
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("from-stdin")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"in\n"))
    engine.pyctl("cp", "-", f"{cid}:/data", input=buffer.getvalue(), check=True)
    out = engine.pyctl("cp", f"{cid}:/data/from-stdin", str(tmp_path / "back"), check=True)
    assert out.returncode == 0 and (tmp_path / "back").read_text() == "in\n"


def _host_target(tmp_path: Path) -> Path:
    """A directory outside the container that a path escaping the rootfs would reach."""
    target = tmp_path / "host"
    target.mkdir()
    (target / "secret").write_text("host secret\n")
    return target


@pytest.mark.parametrize("state", ["stopped", "running"])
def test_a_hostile_symlink_never_leads_out_of_the_rootfs(engine: ContainerEngine, state: str,
                                                         tmp_path: Path) -> None:
    host = _host_target(tmp_path)
    depth = "/.." * 12
    script = (f"ln -s {depth}{host} /etc/evil && mkdir -p {host} && "
              f"echo inside > {host}/secret")
    cid = _container(engine, f"fs-evil-{state}", script, running=state == "running")
    try:
        # out: the link resolves inside the container, to the container's own file
        engine.out("cp", f"{cid}:/etc/evil/secret", str(tmp_path / "got"))
        assert (tmp_path / "got").read_text() == "inside\n"
        engine.out("cp", f"{cid}:/etc/evil", str(tmp_path / "link"))  # the link itself
        assert os.readlink(tmp_path / "link") == f"{depth}{host}"
        # in: written into the container's directory, never the host's
        (tmp_path / "payload").write_text("payload\n")
        engine.out("cp", str(tmp_path / "payload"), f"{cid}:/etc/evil/")
        engine.out("cp", str(tmp_path / "payload"), f"{cid}:/etc/evil/secret")
        assert sorted(os.listdir(host)) == ["secret"]
        assert (host / "secret").read_text() == "host secret\n"
        got = engine.pyctl("cp", f"{cid}:{host}/secret", "-", check=True)
        with tarfile.open(fileobj=io.BytesIO(got.stdout)) as tar:
            assert tar.extractfile("secret").read() == b"payload\n"  # type: ignore[union-attr]
        assert engine.pyctl("cp", f"{cid}:{host}/payload", "-").returncode == 0
    finally:
        engine.pyctl("rm", "-f", cid)


@pytest.mark.parametrize("runtime", ["", "runc"])
def test_commit_makes_an_image_that_runs(engine: ContainerEngine, runtime: str) -> None:
    """The walk-through's interactive building: the running container is paused while its
    layer is taken (by the runtime's pause; pyrunc and runc), then resumed."""
    cid = _container(engine, "fs-commit", "echo made > /made-here; rm /etc/group",
                     running=True, runtime=runtime)
    since = f"{time.time():.9f}"
    try:
        image_id = engine.out("commit", "-m", "a message", "-a", "Someone <s@example.com>",
                              "-c", 'CMD ["cat", "/made-here"]', "-c", "ENV FOO=bar",
                              "-c", "LABEL stage=two", "-c", "WORKDIR /data",
                              cid, "committed:v1").strip()
        assert image_id.startswith("sha256:")
        assert engine.out("inspect", "--type", "container", "-f", "{{.State.Status}}",
                          cid).strip() == "running"  # resumed after the commit
        # the pause is docker's: recorded and published (a kill -9 meanwhile leaves a
        # container its record calls paused, so unpause thaws it)
        events = engine.out("events", "--since", since, "--until", f"{time.time():.9f}",
                            "--filter", f"container={cid}", "--format", "{{.Action}}")
        assert events.split() == ["pause", "unpause"]
        run = engine.pyctl("run", "--rm", "committed:v1")
        assert (run.returncode, run.stdout) == (0, b"made\n"), run.stderr
        gone = engine.pyctl("run", "--rm", "committed:v1", "ls", "/etc/group")
        assert gone.returncode == 1
        pwd = engine.pyctl("run", "--rm", "committed:v1", "sh", "-c", "pwd; echo $FOO")
        assert pwd.stdout == b"/data\nbar\n"
        doc = json.loads(engine.out("inspect", "--type", "image", "committed:v1"))[0]
        assert doc["Id"] == image_id
        assert doc["Config"]["Cmd"] == ["cat", "/made-here"]
        assert doc["Config"]["Labels"] == {"stage": "two"}
        assert doc["Author"] == "Someone <s@example.com>"
        history = engine.out("history", "--no-trunc", "committed:v1")
        print(history)
        first = history.splitlines()[1]
        assert "a message" in first and "sleep 1000" in first
        base_layers = json.loads(engine.out("inspect", "--type", "image", "busybox"))[0]
        assert len(doc["RootFS"]["Layers"]) == len(base_layers["RootFS"]["Layers"]) + 1
        # the base image stays while the container uses it; the new image does not pin it
        refused = engine.pyctl("rmi", base_layers["Id"])
        assert refused.returncode == 1 and b"is being used by running container" in \
            refused.stderr
    finally:
        engine.pyctl("rm", "-f", cid)
        engine.pyctl("rmi", "committed:v1")


def test_commit_of_a_stopped_container_without_pause(engine: ContainerEngine,
                                                     stopped: str) -> None:
    image_id = engine.out("commit", "--pause=false", stopped).strip()
    try:
        out = engine.pyctl("run", "--rm", image_id, "cat", "/etc/added")
        assert out.stdout == b"added\n"
        assert engine.out("container", "diff", stopped) == engine.out("diff", stopped)
        assert "<none>" in engine.out("images", "-a")
    finally:
        engine.pyctl("rmi", image_id)



def _snapshots(engine: ContainerEngine) -> int:
    return len(list((engine.data_root / "snapshots").glob("*/snapshots/*")))


def test_a_committed_image_pins_only_what_it_uses(engine: ContainerEngine,
                                                  busybox_tar: Path) -> None:
    """The container pins its base image (rmi refused); the committed image does not count
    as a user of the base (rmi of the base works once the container is gone) but keeps the
    layers it shares with it; removing it leaves nothing behind."""
    blobs, snapshots = engine.blobs(), _snapshots(engine)
    engine.out("import", "-c", 'CMD ["sh"]', str(busybox_tar), "fs-base:1")
    cid = _container(engine, "fs-gc", "echo made > /made", running=False, image="fs-base:1")
    try:
        engine.out("commit", cid, "fs-child:1")
        refused = engine.pyctl("rmi", "fs-base:1")
        assert refused.returncode == 1
        assert b"conflict: unable to remove repository reference" in refused.stderr
        engine.out("rm", cid)
        engine.out("rmi", "fs-base:1")
        run = engine.pyctl("run", "--rm", "fs-child:1", "cat", "/made")
        assert (run.returncode, run.stdout) == (0, b"made\n"), run.stderr
    finally:
        engine.pyctl("rm", "-f", cid)
        engine.pyctl("rmi", "fs-base:1")
        engine.pyctl("rmi", "fs-child:1")
    assert engine.blobs() == blobs
    assert _snapshots(engine) == snapshots


def test_a_failed_copy_into_a_stopped_container_unmounts(engine: ContainerEngine,
                                                        tmp_path: Path) -> None:
    """The temporary mount of a stopped container goes even when the call fails: here the
    tar would write through the container's symlink, which the extractor refuses."""
    host = _host_target(tmp_path)
    cid = _container(engine, "fs-unmount", f"ln -s {host} /etc/evil", running=False)
    try:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo("evil/planted")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        refused = engine.pyctl("cp", "-", f"{cid}:/etc", input=buffer.getvalue())
        assert refused.returncode == 1
        assert b"refusing to write through it" in refused.stderr
        assert sorted(os.listdir(host)) == ["secret"]
        scratch = engine.exec_root / "fs-mounts"
        assert not list(scratch.iterdir())
        mounts = Path("/proc/self/mountinfo").read_text()
        assert str(scratch) not in mounts
    finally:
        engine.pyctl("rm", "-f", cid)
