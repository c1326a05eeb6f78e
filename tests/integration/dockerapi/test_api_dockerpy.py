"""docker-py 7 (PyPI `docker`) drives containers, images, networks, volumes and the low-level
APIClient's streams, the same session against a private dockerd 20.10 (the reference: proves the
test itself right) and against pyengined's Docker Engine API: the module is parametrized over
both daemons (clients_harness.py), each in a network namespace of its own with a registry
(Debian's docker-registry) on its 127.0.0.1."""

from __future__ import annotations

import io
import json
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
from clients_harness import DAEMONS, Daemon, started

from tests.fixtures import images
from tests.fixtures.registry import RegistryServer

pytestmark = [pytest.mark.root]

LABEL = "pe.test"


@pytest.fixture(scope="module", params=DAEMONS)
def daemon(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Daemon]:
    yield from started(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def registry(daemon: Daemon, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[RegistryServer]:
    """A registry on 127.0.0.1 of the daemon's namespace (the thread is in it)."""
    server = RegistryServer(root=tmp_path_factory.mktemp("registry"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def pushed(registry: RegistryServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A busybox image in the registry, put there by umoci and skopeo (not the client)."""
    work = tmp_path_factory.mktemp("image")
    layout = images.new_layout(work / "layout")
    images.build_busybox_image(layout, "amd64", work)
    reference = f"{registry.host}/pe/bb:1"
    images.skopeo_push(layout, "amd64", reference, docker_format=True)
    return reference


@pytest.fixture
def client(daemon: Daemon) -> Iterator[docker.DockerClient]:
    """A docker-py client negotiating the daemon's API version; what the test leaves is
    removed afterwards."""
    made = docker.DockerClient(base_url=daemon.host, version="auto", timeout=120)
    try:
        yield made
    finally:
        made.close()
        daemon.reset()


def wait_until(predicate: object, what: str, tries: int = 200) -> None:
    """Polls `predicate` (a callable) a bounded number of times; no assertion on time."""
    assert callable(predicate)
    for _ in range(tries):
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def test_api_version_is_negotiated(client: docker.DockerClient) -> None:
    version = client.version()
    assert client.api.api_version == version["ApiVersion"]
    assert client.ping() is True
    assert version["Os"] == "linux"


def test_no_swarm_answers_as_dockerd_outside_a_swarm(client: docker.DockerClient,
                                                     daemon: Daemon) -> None:
    """docker-py's suite tears its network tests down with leave_swarm(force=True), which
    takes dockerd's 503 for "not in a swarm" as done; a 404 made each of them an error."""
    assert client.api.leave_swarm(force=True) is True
    for method, path, text in (
            ("GET", "/v1.41/swarm", "This node is not a swarm manager."),
            ("POST", "/v1.41/swarm/leave", "This node is not part of a swarm"),
            ("GET", "/v1.41/services", "This node is not a swarm manager.")):
        answer = daemon.http(method, path)
        assert answer.status == 503, (path, answer.text)
        assert answer.json()["message"].startswith(text)


def test_commit_pausing_a_container_that_just_exited(client: docker.DockerClient) -> None:
    """commit(pause=True) of a container whose process ends as the commit starts (docker-py's
    CommitTest): the runtime finds nothing to freeze before the exit is recorded, and the
    commit goes on unpaused (pyengined failed it with 503 "cannot pause a stopped
    container")."""
    for n in range(5):
        ctr = client.api.create_container("busybox", ["touch", f"/made-{n}"],
                                          labels={LABEL: "commit"})
        client.api.start(ctr)
        image = client.api.commit(ctr["Id"], repository="pe-commit", tag=str(n))
        assert client.api.inspect_image(image["Id"])["Config"]["Cmd"] == [
            "touch", f"/made-{n}"]
        client.api.remove_container(ctr, force=True)
        client.api.remove_image(image["Id"])


def test_log_config_options_are_kept_as_given(client: docker.DockerClient) -> None:
    """HostConfig.LogConfig.Config reads back as created (pyengined answered {})."""
    given = docker.types.LogConfig(type="json-file", config={"max-file": "3", "max-size": "1m"})
    ctr = client.api.create_container(
        "busybox", ["true"], labels={LABEL: "log"},
        host_config=client.api.create_host_config(log_config=given))
    plain = client.api.create_container("busybox", ["true"], labels={LABEL: "log"})
    assert client.api.inspect_container(ctr)["HostConfig"]["LogConfig"] == {
        "Type": "json-file", "Config": {"max-file": "3", "max-size": "1m"}}
    assert client.api.inspect_container(plain)["HostConfig"]["LogConfig"] == {
        "Type": "json-file", "Config": {}}


def test_remove_refuses_restarting_and_paused_containers(client: docker.DockerClient) -> None:
    """rm without force of a container its restart policy is about to start again is refused
    as docker's "restarting" one (pyengined removed it), a paused one with docker's text."""
    ctr = client.api.create_container(
        "busybox", ["true"], labels={LABEL: "rm"},
        host_config=client.api.create_host_config(restart_policy={"Name": "always"},
                                                  network_mode="none"))
    client.api.start(ctr)
    client.api.wait(ctr)
    with pytest.raises(docker.errors.APIError) as refused:
        client.api.remove_container(ctr)
    assert refused.value.status_code == 409
    message = refused.value.explanation
    assert message.startswith(("You cannot remove a restarting container",
                               "You cannot remove a running container")), message
    assert message.endswith("Stop the container before attempting removal or force remove")
    client.api.remove_container(ctr, force=True)

    paused = client.api.create_container("busybox", ["sleep", "300"], labels={LABEL: "rm"})
    client.api.start(paused)
    client.api.pause(paused)
    with pytest.raises(docker.errors.APIError) as refused:
        client.api.remove_container(paused)
    assert (refused.value.status_code, refused.value.explanation) == (
        409, f"You cannot remove a paused container {paused['Id']}. Unpause and then stop "
        "the container before attempting removal or force remove")
    client.api.remove_container(paused, force=True)


def test_load_of_a_bad_archive_is_an_error_in_the_stream(client: docker.DockerClient,
                                                         daemon: Daemon) -> None:
    """dockerd answers a load it cannot read with 200 and the error as the stream's message
    (docker-py raises ImageLoadError from it); pyengined answered 400."""
    with pytest.raises(docker.errors.ImageLoadError):
        client.images.load(b"not a tar")
    answer = daemon.http("POST", "/v1.41/images/load", b"not a tar",
                         {"Content-Type": "application/x-tar"})
    assert answer.status == 200
    message = json.loads(answer.text)
    assert set(message) == {"errorDetail", "error"}
    assert message["errorDetail"] == {"message": message["error"]}


def test_isolation_default_is_linuxs_one_and_reads_back(client: docker.DockerClient) -> None:
    """HostConfig.Isolation "default" (docker's only one on Linux) is taken and read back as
    given, unset reads "" (pyengined refused "default")."""
    named = client.api.create_container(
        "busybox", ["true"], labels={LABEL: "isolation"},
        host_config=client.api.create_host_config(isolation="default"))
    plain = client.api.create_container("busybox", ["true"], labels={LABEL: "isolation"})
    assert client.api.inspect_container(named)["HostConfig"]["Isolation"] == "default"
    assert client.api.inspect_container(plain)["HostConfig"]["Isolation"] == ""


def test_containers_run_logs_exec_wait_stop_list_remove(client: docker.DockerClient) -> None:
    assert client.containers.run("busybox", ["echo", "hello"], remove=True) == b"hello\n"

    ctr = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2; sleep 1000"],
                                detach=True, name="pe-dockerpy", labels={LABEL: "dockerpy"})
    ctr.reload()
    assert ctr.status == "running"
    assert ctr.name == "pe-dockerpy"
    assert ctr.attrs["Config"]["Image"] == "busybox"
    assert ctr.attrs["Config"]["Labels"] == {LABEL: "dockerpy"}
    assert ctr.attrs["State"]["Running"] is True and ctr.attrs["State"]["Pid"] > 0
    assert ctr.image is not None and "busybox:latest" in ctr.image.tags

    wait_until(lambda: ctr.logs() == b"out\nerr\n" or ctr.logs() == b"err\nout\n", "logs")
    assert ctr.logs(stdout=True, stderr=False) == b"out\n"
    assert ctr.logs(stdout=False, stderr=True) == b"err\n"

    result = ctr.exec_run(["sh", "-c", "echo hi; exit 3"])
    assert (result.exit_code, result.output) == (3, b"hi\n")
    result = ctr.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
    assert (result.exit_code, result.output) == (0, (b"o\n", b"e\n"))
    assert ctr.exec_run("cat /etc/hostname").output.strip() == ctr.id[:12].encode()

    labelled = {"label": f"{LABEL}=dockerpy"}
    assert [c.id for c in client.containers.list(filters=labelled)] == [ctr.id]
    assert [c.id for c in client.containers.list(filters={"name": "pe-dockerpy"})] == [ctr.id]
    assert client.containers.list(filters={**labelled, "status": "exited"}, all=True) == []

    ctr.stop(timeout=1)  # sh as pid 1 ignores SIGTERM: killed after the timeout
    assert ctr.wait() == {"Error": None, "StatusCode": 137}
    ctr.reload()
    assert ctr.status == "exited" and ctr.attrs["State"]["ExitCode"] == 137
    assert client.containers.list(filters=labelled) == []
    exited = client.containers.list(all=True, filters={**labelled, "status": "exited"})
    assert [c.id for c in exited] == [ctr.id]

    ctr.remove()
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("pe-dockerpy")


def test_images_pull_tag_push_save_remove(client: docker.DockerClient, registry: RegistryServer,
                                          pushed: str) -> None:
    host = registry.host
    assert pushed == f"{host}/pe/bb:1"

    pulled = client.images.pull(f"{host}/pe/bb", tag="1")
    assert f"{host}/pe/bb:1" in pulled.tags
    assert pulled.id.startswith("sha256:")
    assert client.images.get(f"{host}/pe/bb:1").id == pulled.id
    assert [i.id for i in client.images.list(name=f"{host}/pe/bb")] == [pulled.id]

    assert pulled.tag(f"{host}/pe/copy", "2") is True
    assert client.images.get(f"{host}/pe/copy:2").id == pulled.id

    lines = list(client.images.push(f"{host}/pe/copy", tag="2", stream=True, decode=True))
    assert not [line for line in lines if "error" in line or "errorDetail" in line], lines
    assert any("digest: sha256:" in line.get("status", "") for line in lines), lines
    with urllib.request.urlopen(f"{registry.url}/v2/pe/copy/tags/list", timeout=10) as answer:
        assert json.loads(answer.read())["tags"] == ["2"]

    archive = b"".join(client.images.get(pulled.id).save(named=f"{host}/pe/copy:2"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]  # a regular member
        assert manifest[0]["RepoTags"] == [f"{host}/pe/copy:2"]
        assert set(manifest[0]["Layers"]) <= set(tar.getnames())

    # (its applet links point at the builder's path: busybox itself, by name)
    out = client.containers.run(f"{host}/pe/bb:1", ["/bin/busybox", "echo", "pulled"],
                                remove=True)
    assert out == b"pulled\n"

    client.images.remove(f"{host}/pe/copy:2")
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(f"{host}/pe/copy:2")
    assert client.images.get(pulled.id).tags == [f"{host}/pe/bb:1"]
    client.images.remove(f"{host}/pe/bb:1")
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(pulled.id)


def test_images_build_from_a_small_context(client: docker.DockerClient, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo built > /built\n"
        'LABEL pe.test=built\nCMD ["cat", "/hello.txt", "/built"]\n')
    (tmp_path / "hello.txt").write_text("hello\n")
    image, logs = client.images.build(path=str(tmp_path), tag="pe-built:1", rm=True)
    lines = list(logs)
    streamed = "".join(str(line.get("stream", "")) for line in lines)
    assert "Step 1/5 : FROM busybox" in streamed
    assert f"Successfully built {image.short_id.removeprefix('sha256:')}" in streamed
    assert "Successfully tagged pe-built:1" in streamed
    assert "pe-built:1" in image.tags
    assert image.labels == {LABEL: "built"}
    assert image.attrs["Config"]["Cmd"] == ["cat", "/hello.txt", "/built"]
    assert client.containers.list(all=True) == []  # no build container is left
    assert client.containers.run("pe-built:1", remove=True) == b"hello\nbuilt\n"
    client.images.remove("pe-built:1")
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get("pe-built:1")


def test_networks_create_connect_disconnect_remove(client: docker.DockerClient) -> None:
    net = client.networks.create("pe-net", driver="bridge", labels={LABEL: "net"})
    assert net.attrs["Driver"] == "bridge"
    assert [n.id for n in client.networks.list(names=["pe-net"])] == [net.id]
    assert [n.id for n in client.networks.list(filters={"label": f"{LABEL}=net"})] == [net.id]

    ctr = client.containers.run("busybox", ["sleep", "1000"], detach=True, name="pe-net-ctr")
    net.connect(ctr, aliases=["pe-alias"])
    ctr.reload()
    attached = ctr.attrs["NetworkSettings"]["Networks"]
    assert set(attached) == {"bridge", "pe-net"}
    assert "pe-alias" in attached["pe-net"]["Aliases"]
    assert attached["pe-net"]["IPAddress"]
    net.reload()
    assert [c.id for c in net.containers] == [ctr.id]
    # the alias resolves inside the network (the daemon's embedded DNS)
    looked_up = ctr.exec_run(["nslookup", "pe-alias"])
    assert attached["pe-net"]["IPAddress"].encode() in looked_up.output, looked_up.output

    net.disconnect(ctr)
    ctr.reload()
    assert set(ctr.attrs["NetworkSettings"]["Networks"]) == {"bridge"}
    net.reload()
    assert net.containers == []
    ctr.remove(force=True)
    net.remove()
    with pytest.raises(docker.errors.NotFound):
        client.networks.get(net.id)


def test_volumes_create_list_use_prune_remove(client: docker.DockerClient) -> None:
    vol = client.volumes.create("pe-vol", labels={LABEL: "vol"})
    assert vol.attrs["Driver"] == "local" and vol.attrs["Mountpoint"]
    assert [v.name for v in client.volumes.list(filters={"label": f"{LABEL}=vol"})] == ["pe-vol"]
    mount = {"pe-vol": {"bind": "/v", "mode": "rw"}}
    client.containers.run("busybox", ["sh", "-c", "echo data > /v/f"], volumes=mount,
                          remove=True)
    user = client.containers.run("busybox", ["sleep", "1000"], volumes=mount, detach=True)
    assert user.exec_run(["cat", "/v/f"]).output == b"data\n"

    client.volumes.create("pe-unused")
    pruned = client.volumes.prune()
    assert "pe-unused" in (pruned["VolumesDeleted"] or []), pruned
    assert "pe-vol" not in (pruned["VolumesDeleted"] or []), pruned  # in use
    with pytest.raises(docker.errors.NotFound):
        client.volumes.get("pe-unused")
    with pytest.raises(docker.errors.APIError) as in_use:
        vol.remove()
    assert in_use.value.status_code == 409

    user.remove(force=True)
    vol.remove()
    with pytest.raises(docker.errors.NotFound):
        client.volumes.get("pe-vol")


def test_apiclient_streams_events_in_a_window_and_follows_logs(
        client: docker.DockerClient) -> None:
    api = client.api
    since = int(time.time()) - 1
    cid = api.create_container(
        "busybox", ["sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done"],
        name="pe-stream")["Id"]
    api.start(cid)
    chunks = list(api.logs(cid, stream=True, follow=True))  # ends when the container exits
    assert b"".join(chunks) == b"line1\nline2\nline3\n"
    assert api.wait(cid) == {"Error": None, "StatusCode": 0}
    api.remove_container(cid)
    until = int(time.time()) + 1

    events = list(api.events(since=since, until=until, decode=True,
                             filters={"type": "container", "container": "pe-stream"}))
    actions = [e["Action"] for e in events]
    expected = iter(actions)
    assert all(step in expected for step in ("create", "start", "die", "destroy")), actions
    for event in events:
        assert event["Type"] == "container"
        assert event["Actor"]["ID"] == cid
        assert event["Actor"]["Attributes"]["name"] == "pe-stream"
        assert since * 10**9 <= event["timeNano"] <= until * 10**9
    die = next(e for e in events if e["Action"] == "die")
    assert die["Actor"]["Attributes"]["exitCode"] == "0"
