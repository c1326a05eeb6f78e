"""The /images endpoints with the docker CLI 28 and docker-py: list (filters, --format, -q,
--digests), inspect, history, tag, rmi, save | load, import, prune, and pull/push/search
against Debian's docker-registry on 127.0.0.1 in the module's network namespace."""

from __future__ import annotations

import base64
import io
import json
import tarfile
import urllib.parse
from typing import Any

import pytest

from tests.fixtures.registry import test_pki, token_registry  # noqa: F401 - fixtures

pytestmark = [pytest.mark.root]


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


def messages(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


def digest_of(pushed: str) -> str:
    """The manifest digest of a push's output ("TAG: digest: sha256:... size: N")."""
    return pushed.split(" digest: ", 1)[1].split()[0]


def test_list_inspect_history(api: Any) -> None:
    rows = api.http("GET", "/v1.41/images/json").json()
    busybox = [r for r in rows if "busybox:latest" in r["RepoTags"]]
    assert len(busybox) == 1
    row = busybox[0]
    assert row["Id"].startswith("sha256:") and row["ParentId"] == ""
    assert row["SharedSize"] == -1 and row["Containers"] == -1
    assert row["Size"] == row["VirtualSize"] > 0 and isinstance(row["Created"], int)
    out = api.docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout
    assert f"busybox:latest {row['Id'][7:19]}" in lines(out)
    assert row["Id"][7:19] in lines(api.docker("images", "-q").stdout)
    doc = json.loads(api.docker("image", "inspect", "busybox").stdout)[0]
    assert doc["Id"] == row["Id"] and doc["RepoTags"] == ["busybox:latest"]
    history = api.http("GET", "/images/busybox/history").json()
    assert history[0]["Id"] == row["Id"] and history[0]["Tags"] == ["busybox:latest"]
    assert set(history[0]) == {"Id", "Created", "CreatedBy", "Tags", "Size", "Comment"}
    assert api.docker("history", "-q", "busybox").stdout.split()[0] == row["Id"][7:19]


def test_unknown_image_is_404_with_dockers_text(api: Any) -> None:
    reply = api.http("GET", "/images/nosuch:1/json")
    assert reply.status == 404
    assert reply.json() == {"message": "No such image: nosuch:1"}
    result = api.docker("rmi", "nosuch:1", check=False)
    assert result.returncode == 1
    assert "No such image: nosuch:1" in result.stderr


def test_tag_filters_and_rmi(api: Any) -> None:
    api.docker("tag", "busybox", "example.org/team/tool:v1")
    api.docker("tag", "busybox", "tool:v2")
    try:
        ref = api.docker("images", "--filter", "reference=tool", "--format",
                         "{{.Repository}}:{{.Tag}}").stdout
        assert lines(ref) == ["tool:v2"]
        ref = api.docker("images", "--filter", "reference=*/team/*", "--format",
                         "{{.Repository}}:{{.Tag}}").stdout
        assert lines(ref) == ["example.org/team/tool:v1"]
        assert api.docker("images", "--filter", "dangling=true", "-q").stdout == ""
        assert api.docker("images", "--filter", "label=nosuch", "-q").stdout == ""
        assert api.docker("images", "--filter", "since=busybox", "-q").stdout == ""
        query = urllib.parse.quote(json.dumps({"nosuch": ["x"]}))
        bad = api.http("GET", f"/images/json?filters={query}")
        assert bad.status == 400 and bad.json() == {"message": "Invalid filter 'nosuch'"}
    finally:
        out = api.docker("rmi", "example.org/team/tool:v1", "tool:v2").stdout
    assert lines(out) == ["Untagged: example.org/team/tool:v1", "Untagged: tool:v2"]
    assert api.docker("image", "inspect", "tool:v2", check=False).returncode == 1


def test_rmi_of_an_image_a_container_uses_is_409(api: Any, engine: Any) -> None:
    api.docker("tag", "busybox", "inuse:1")
    created = engine.pyctl("create", "--name", "holder", "inuse:1", "true")
    assert created.returncode == 0, created.stderr
    image_id = api.http("GET", "/images/inuse:1/json").json()["Id"]
    reply = api.http("DELETE", f"/images/{image_id[7:19]}")
    assert reply.status == 409
    assert reply.json()["message"].startswith(
        f"conflict: unable to delete {image_id[7:19]} (must be forced) - image is ")
    # the name alone goes: the image keeps its other name and its container
    reply = api.http("DELETE", "/images/inuse:1")
    assert reply.status == 200 and reply.json() == [{"Untagged": "inuse:1"}]


def test_save_then_load(api: Any, tmp_path: Any) -> None:
    api.docker("tag", "busybox", "saved:1")
    archive = tmp_path / "saved.tar"
    api.docker("save", "-o", str(archive), "saved:1")
    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        manifest = json.load(member)
    assert manifest[0]["RepoTags"] == ["saved:1"]
    api.docker("rmi", "saved:1")
    out = api.docker("load", "-i", str(archive)).stdout
    assert lines(out) == ["Loaded image: saved:1"]
    reply = api.http("POST", "/images/load?quiet=1", body=archive.read_bytes(),
                     headers={"Content-Type": "application/x-tar"})
    assert reply.status == 200
    assert messages(reply.body) == [{"stream": "Loaded image: saved:1\n"}]
    api.docker("rmi", "saved:1")


def test_import_with_changes_then_prune(api: Any) -> None:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    reply = api.http("POST", "/images/create?fromSrc=-&repo=imported&tag=1"
                     "&changes=CMD%20%5B%22%2Fhello%22%5D&changes=ENV%20A%3Db",
                     body=data.getvalue())
    assert reply.status == 200, reply.body
    image_id = messages(reply.body)[0]["status"]
    doc = api.http("GET", "/images/imported:1/json").json()
    assert doc["Id"] == image_id
    assert doc["Config"]["Cmd"] == ["/hello"] and "A=b" in doc["Config"]["Env"]
    api.docker("rmi", "imported:1")
    untagged = api.http("POST", "/images/create?fromSrc=-", body=data.getvalue())
    dangling_id = messages(untagged.body)[0]["status"]
    assert dangling_id[7:19] in lines(api.docker("images", "-q", "-f", "dangling=true").stdout)
    pruned = api.http("POST", "/images/prune").json()
    assert {"Deleted": dangling_id} in pruned["ImagesDeleted"]
    assert pruned["SpaceReclaimed"] >= 0
    assert api.http("GET", f"/images/{dangling_id}/json").status == 404


def test_pull_push_search_against_a_registry(api: Any, registry: Any) -> None:
    target = f"{registry.host}/tools/box:1"
    api.docker("tag", "busybox", target)
    pushed = api.docker("push", target).stdout
    assert f"The push refers to repository [{registry.host}/tools/box]" in pushed
    assert "1: digest: sha256:" in pushed
    untagged = api.docker("rmi", target).stdout
    # the repository's digest reference goes with its last tag, listed right after it
    assert lines(untagged)[:2] == [f"Untagged: {target}",
                                   f"Untagged: {registry.host}/tools/box@{digest_of(pushed)}"]
    pulled = api.docker("pull", target).stdout
    assert "1: Pulling from tools/box" in pulled
    # one final status per layer (busybox's layer is still there)
    assert len([line for line in lines(pulled) if line.endswith(": Already exists")]) == 1
    assert f"Status: Downloaded newer image for {target}" in pulled
    digests = api.docker("images", "--digests", "--format", "{{.Repository}} {{.Digest}}",
                         f"{registry.host}/tools/box").stdout
    assert lines(digests)[0].startswith(f"{registry.host}/tools/box sha256:")
    # the raw stream: docker's JSON progress messages
    reply = api.http("POST", f"/images/create?fromImage={registry.host}/tools/box&tag=1")
    got = messages(reply.body)
    assert got[0] == {"status": "Pulling from tools/box", "id": "1"}
    assert got[-1] == {"status": f"Status: Image is up to date for {target}"}
    # Debian's docker-registry has no v1 search API: dockerd's error for its 404
    found = api.docker("search", f"{registry.host}/box", check=False)
    assert (found.returncode, found.stderr.strip()) == (
        1, "Error response from daemon: Unexpected status code 404")
    missing = api.docker("pull", f"{registry.host}/tools/nosuch:1", check=False)
    assert missing.returncode == 1 and missing.stderr.strip().endswith(
        "not found: manifest unknown: manifest unknown")
    api.docker("rmi", target)


def test_docker_py_images(api: Any, registry: Any, tmp_path: Any) -> None:
    import docker

    client = docker.DockerClient(base_url=api.host, version="1.41", timeout=60)
    try:
        image = client.images.get("busybox")
        assert image.tag(f"{registry.host}/py/box", "2")
        out = list(client.images.push(f"{registry.host}/py/box", tag="2", stream=True,
                                      decode=True))
        assert not [m for m in out if "error" in m]
        assert {"Pushed", "Layer already exists"} & {m.get("status") for m in out}
        client.images.remove(f"{registry.host}/py/box:2")
        # a push without a tag sends every tag of the repository
        image.tag(f"{registry.host}/py/all", "a")
        image.tag(f"{registry.host}/py/all", "b")
        out = list(client.api.push(f"{registry.host}/py/all", stream=True, decode=True))
        assert {m["aux"]["Tag"] for m in out if "aux" in m} == {"a", "b"}
        client.images.remove(f"{registry.host}/py/all:a")
        client.images.remove(f"{registry.host}/py/all:b")
        pulled = client.images.pull(f"{registry.host}/py/box", tag="2")
        assert pulled.id == image.id
        data = b"".join(pulled.save(named=True))
        assert tarfile.is_tarfile(io.BytesIO(data))
        client.images.remove(f"{registry.host}/py/box:2")
        loaded = client.images.load(data)
        assert [i.id for i in loaded] == [image.id]
        client.images.remove(f"{registry.host}/py/box:2")
    finally:
        client.close()


def test_push_stream_ends_with_dockers_aux(api: Any, registry: Any) -> None:
    target = f"{registry.host}/raw/box"
    api.docker("tag", "busybox", f"{target}:3")
    try:
        auth = base64.urlsafe_b64encode(json.dumps({"serveraddress": registry.host}).encode())
        reply = api.http("POST", f"/images/{target}/push?tag=3",
                         headers={"X-Registry-Auth": auth.decode()})
        got = messages(reply.body)
        assert got[0] == {"status": f"The push refers to repository [{target}]"}
        layer = [m for m in got if m.get("status") == "Pushed"]
        assert layer and set(layer[0]) == {"status", "progressDetail", "id"}
        digest = got[-2]["status"].split()[2]
        assert got[-2]["status"].startswith(f"3: digest: {digest} size: ")
        size = int(got[-2]["status"].rsplit(" ", 1)[1])
        assert got[-1] == {"progressDetail": {},
                           "aux": {"Tag": "3", "Digest": digest, "Size": size}}
        # an unreadable X-Registry-Auth is no credentials, as dockerd reads it
        again = api.http("POST", f"/images/{target}/push?tag=3",
                         headers={"X-Registry-Auth": "%%%"})
        assert again.status == 200 and messages(again.body)[-1]["aux"]["Digest"] == digest
    finally:
        api.docker("rmi", f"{target}:3")


def auth_header(server: Any) -> dict[str, str]:
    doc = {"username": server.username, "password": server.password,
           "serveraddress": server.host}
    return {"X-Registry-Auth": base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()}


def test_credentials_from_the_headers_reach_a_token_registry(
        api: Any, request: pytest.FixtureRequest, tmp_path: Any) -> None:
    server = request.getfixturevalue("token_registry")
    target = f"{server.host}/private/box"
    api.docker("tag", "busybox", f"{target}:1")
    try:
        refused = api.http("POST", f"/images/{target}/push?tag=1")
        assert refused.status >= 400 or "error" in messages(refused.body)[-1]
        pushed = api.http("POST", f"/images/{target}/push?tag=1",
                          headers=auth_header(server))
        assert "aux" in messages(pushed.body)[-1], pushed.body
        api.docker("rmi", f"{target}:1")
        anonymous = api.http("POST", f"/images/create?fromImage={target}&tag=1")
        assert anonymous.status >= 400
        pulled = api.http("POST", f"/images/create?fromImage={target}&tag=1",
                          headers=auth_header(server))
        assert messages(pulled.body)[-1] == {
            "status": f"Status: Downloaded newer image for {target}:1"}
        api.docker("rmi", f"{target}:1")
        # a build's FROM uses X-Registry-Config's entry for its registry
        (tmp_path / "Dockerfile").write_text(f"FROM {target}:1\nENV B=1\n")
        config = {server.host: json.loads(base64.urlsafe_b64decode(
            auth_header(server)["X-Registry-Auth"]))}
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            tar.add(tmp_path / "Dockerfile", "Dockerfile")
        header = base64.urlsafe_b64encode(json.dumps(config).encode()).decode()
        built = api.http("POST", "/build?t=fromprivate:1", body=context.getvalue(),
                         headers={"X-Registry-Config": header})
        assert messages(built.body)[-1] == {"stream": "Successfully tagged fromprivate:1\n"}
        api.docker("rmi", "fromprivate:1", f"{target}:1")
    finally:
        api.docker("rmi", f"{target}:1", check=False)


def test_a_committed_image_has_its_image_as_parent(api: Any) -> None:
    """docker's Parent: the local image the container was made from (inspect, the list's
    ParentId, history's ids walk it); pulled, loaded and imported images have none, and a
    parent deleted leaves none (dockerd keeps it: see docs/ENGINE.md)."""
    busybox = api.http("GET", "/images/busybox/json").json()
    assert busybox["Parent"] == ""
    api.docker("run", "--name", "par1", "busybox", "touch", "/one")
    first = api.docker("commit", "par1", "parent-one").stdout.strip()
    api.docker("run", "--name", "par2", "parent-one", "touch", "/two")
    second = api.docker("commit", "par2", "parent-two").stdout.strip()
    committed = api.http("GET", "/images/parent-one/json").json()
    assert committed["Parent"] == busybox["Id"]
    # docker 20.10's Container and ContainerConfig: the container, its Config as inspect
    # showed it (docker run in the foreground attached stdout and stderr)
    par1 = api.http("GET", "/containers/par1/json").json()
    assert committed["Container"] == par1["Id"]
    assert committed["ContainerConfig"] == {**committed["ContainerConfig"], **par1["Config"]}
    assert (par1["Config"]["AttachStdout"], par1["Config"]["AttachStderr"],
            par1["Config"]["AttachStdin"]) == (True, True, False)
    assert committed["ContainerConfig"]["Cmd"] == ["touch", "/one"]
    assert api.http("GET", "/images/parent-two/json").json()["Parent"] == first
    listed = {r["Id"]: r["ParentId"] for r in api.http("GET", "/images/json").json()}
    assert (listed[second], listed[first], listed[busybox["Id"]]) == (first, busybox["Id"], "")
    history = api.http("GET", "/images/parent-two/history").json()
    assert [(h["Id"], h["Tags"]) for h in history[:3]] == [
        (second, ["parent-two:latest"]), (first, ["parent-one:latest"]),
        (busybox["Id"], ["busybox:latest"])]
    assert api.docker("history", "-q", "parent-two").stdout.split()[:3] == [
        i[7:19] for i in (second, first, busybox["Id"])]
    api.docker("rm", "par2")
    api.docker("rmi", "parent-one")
    assert api.http("GET", "/images/parent-two/json").json()["Parent"] == ""
    api.docker("rm", "par1")
    api.docker("rmi", "parent-two")
