"""POST /build with the docker CLI 28's legacy builder (DOCKER_BUILDKIT=0) and docker-py: the
classic JSON stream (Step N/M, ---> ids, RUN output, Successfully built/tagged), a failing
RUN's message and exit code, a Dockerfile on stdin, build args and labels, -q, and
/build/prune."""

from __future__ import annotations

import io
import json
import tarfile
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.root]

DOCKERFILE = """FROM busybox
ARG GREETING=hello
RUN echo "$GREETING from RUN"
COPY note.txt /note.txt
CMD ["cat", "/note.txt"]
"""


def legacy(api: Any, *args: str, **kw: Any) -> Any:
    """The docker CLI's legacy builder (its BuildKit client needs the gRPC session API)."""
    import subprocess

    env = api.env()
    env["DOCKER_BUILDKIT"] = "0"
    text = not isinstance(kw.get("input"), bytes)
    return subprocess.run(["docker", *args], env=env, capture_output=True, text=text,
                          input=kw.get("input"), timeout=300)


def context_tar(files: dict[str, bytes]) -> bytes:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return data.getvalue()


def messages(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


def test_cli_build_shows_the_classic_steps(api: Any, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "note.txt").write_text("a note\n")
    result = legacy(api, "build", "--build-arg", "GREETING=hi", "--label", "team=qa",
                    "-t", "built:1", str(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "Sending build context to Docker daemon  " + out[0].split("  ")[-1]
    steps = [line for line in out if line.startswith("Step ")]
    assert steps == ["Step 1/5 : FROM busybox", "Step 2/5 : ARG GREETING=hello",
                     'Step 3/5 : RUN echo "$GREETING from RUN"',
                     "Step 4/5 : COPY note.txt /note.txt", 'Step 5/5 : CMD ["cat", "/note.txt"]']
    assert "hi from RUN" in out
    assert any(line.startswith(" ---> Running in ") for line in out)
    assert any(line.startswith("Removing intermediate container ") for line in out)
    image_id = api.http("GET", "/images/built:1/json").json()["Id"]
    # the last step's result is the image
    assert out[-3:] == [f" ---> {image_id[7:19]}", f"Successfully built {image_id[7:19]}",
                        "Successfully tagged built:1"]
    doc = api.http("GET", "/images/built:1/json").json()
    assert doc["Config"]["Labels"] == {"team": "qa"}
    assert doc["Config"]["Cmd"] == ["cat", "/note.txt"]
    again = legacy(api, "build", "--build-arg", "GREETING=hi", "--label", "team=qa",
                   "-t", "built:1", str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert " ---> Using cache" in again.stdout.splitlines()
    assert again.stdout.splitlines()[-2] == f"Successfully built {image_id[7:19]}"
    quiet = legacy(api, "build", "-q", "--build-arg", "GREETING=hi", "--label", "team=qa",
                   str(tmp_path))
    assert quiet.returncode == 0 and quiet.stdout == image_id + "\n"
    api.docker("rmi", "built:1")


def test_failing_run_reports_dockers_message_and_code(api: Any, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo before; exit 3\n")
    result = legacy(api, "build", "-t", "broken:1", str(tmp_path))
    assert result.returncode == 3
    assert "before" in result.stdout.splitlines()
    assert not [line for line in result.stdout.splitlines()
                if line.startswith("Removing intermediate container ")]
    forced = legacy(api, "build", "--force-rm", str(tmp_path))
    running = [line for line in forced.stdout.splitlines() if line.startswith(" ---> Running")]
    # --force-rm: the failed RUN's container is removed, and said so, as docker does
    assert forced.returncode == 3 and forced.stdout.splitlines()[-1] == (
        "Removing intermediate container " + running[-1].split()[-1])
    assert result.stderr.strip().endswith(
        "The command '/bin/sh -c echo before; exit 3' returned a non-zero code: 3")
    reply = api.http("POST", "/build?t=broken:1",
                     body=context_tar({"Dockerfile": b"FROM busybox\nRUN exit 5\n"}),
                     headers={"Content-Type": "application/x-tar"})
    assert reply.status == 200
    last = messages(reply.body)[-1]
    text = "The command '/bin/sh -c exit 5' returned a non-zero code: 5"
    assert last == {"errorDetail": {"code": 5, "message": text}, "error": text}
    assert api.http("GET", "/images/broken:1/json").status == 404


def test_build_from_stdin_and_raw_stream(api: Any) -> None:
    result = legacy(api, "build", "-t", "fromstdin:1", "-",
                    input='FROM busybox\nRUN echo from stdin\nENV A=b\n')
    assert result.returncode == 0, result.stderr
    assert "from stdin" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == "Successfully tagged fromstdin:1"
    labels = urllib.parse.quote(json.dumps({"k": "v"}))
    reply = api.http("POST", f"/v1.41/build?t=raw:1&t=raw:2&labels={labels}",
                     body=context_tar({"Dockerfile": b"FROM busybox\nENV X=1\n"}),
                     headers={"Content-Type": "application/x-tar"})
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/json"
    got = messages(reply.body)
    assert got[:2] == [{"stream": "Step 1/2 : FROM busybox"}, {"stream": "\n"}]
    aux = [m for m in got if "aux" in m]
    assert len(aux) == 1 and aux[0]["aux"]["ID"].startswith("sha256:")
    short = aux[0]["aux"]["ID"][7:19]
    assert got[-3:] == [{"stream": f"Successfully built {short}\n"},
                        {"stream": "Successfully tagged raw:1\n"},
                        {"stream": "Successfully tagged raw:2\n"}]
    api.docker("rmi", "fromstdin:1", "raw:1", "raw:2")


def test_dockerfile_error_before_any_output_is_an_http_error(api: Any) -> None:
    reply = api.http("POST", "/build",
                     body=context_tar({"Dockerfile": b"FROM busybox\nRUNN x\n"}),
                     headers={"Content-Type": "application/x-tar"})
    assert reply.status == 400
    assert "unknown instruction" in reply.json()["message"].lower()
    missing = api.http("POST", "/build?dockerfile=nosuch",
                       body=context_tar({"Dockerfile": b"FROM busybox\n"}))
    assert missing.status in (404, 500)  # dockerd 20.10: 500
    assert missing.json() == {"message": "Cannot locate specified Dockerfile: nosuch"}


def test_docker_py_build_and_prune(api: Any) -> None:
    import docker

    client = docker.DockerClient(base_url=api.host, version="1.41", timeout=120)
    try:
        dockerfile = io.BytesIO(b"FROM busybox\nRUN echo py > /py.txt\n")
        image, logs = client.images.build(fileobj=dockerfile, tag="pybuilt:1", rm=True)
        assert "pybuilt:1" in image.tags
        assert any("Successfully built" in entry.get("stream", "") for entry in logs)
        client.images.remove("pybuilt:1")
        pruned = client.api.prune_builds()
        assert set(pruned) == {"CachesDeleted", "SpaceReclaimed"}
        assert pruned["SpaceReclaimed"] >= 0
    finally:
        client.close()


def test_an_image_without_layers(api: Any, tmp_path: Path) -> None:
    """`FROM scratch` with only ARG/USER/LABEL makes an image with no layers (docker makes
    those): it is built, listed, inspected, tagged, saved, loaded, and a container is made of
    it (an empty rootfs: what it would run is not there)."""
    built = legacy(api, "build", "-q", "-t", "nolayers", "--build-arg", "who=OK",
                   "--label", "test=OK", "-", input="FROM scratch\nARG who\nUSER $who\n")
    assert built.returncode == 0, built.stderr
    image = api.http("GET", "/images/nolayers/json").json()
    assert image["RootFS"] == {"Type": "layers"}  # docker leaves out an empty Layers
    assert (image["Config"]["User"], image["Config"]["Labels"], image["Size"]) == (
        "OK", {"test": "OK"}, 0)
    api.docker("tag", "nolayers", "nolayers:two")
    listed = api.docker("images", "--format", "{{.Tag}} {{.Size}}", "nolayers").stdout
    assert sorted(listed.splitlines()) == ["latest 0B", "two 0B"]
    api.docker("save", "-o", str(tmp_path / "nolayers.tar"), "nolayers")
    api.docker("rmi", "nolayers", "nolayers:two")
    assert api.http("GET", "/images/nolayers/json").status == 404
    assert "Loaded image: nolayers:latest" in api.docker(
        "load", "-i", str(tmp_path / "nolayers.tar")).stdout
    assert api.http("GET", "/images/nolayers/json").json()["Id"] == image["Id"]
    # (-u: a user name is resolved at create here, at start by dockerd)
    cid = api.docker("create", "--name", "nolayers-c", "-u", "0", "nolayers", "/nothing"
                     ).stdout.strip()
    made = api.http("GET", f"/containers/{cid}/json").json()
    assert (made["Image"], made["State"]["Status"]) == (image["Id"], "created")
    api.docker("rm", "nolayers-c")
    api.docker("rmi", "nolayers")


def test_cache_from_takes_steps_from_the_images_named(api: Any) -> None:
    """docker's cache_from: the steps (ENV's too) come from the images named when their
    history continues the build's, the build then gives their id; with only names that are
    no image nothing is cached, not even by the local build cache (dockerd 20.10's rule)."""
    script = "FROM busybox\nENV FOO=bar\nRUN touch /baz\nRUN touch /bax\n"

    def build(tag: str, cache_from: list[str] | None) -> tuple[int, str]:
        query = {"t": tag, **({"cachefrom": json.dumps(cache_from)} if cache_from else {})}
        reply = api.http("POST", "/build?" + urllib.parse.urlencode(query),
                         context_tar({"Dockerfile": script.encode()}),
                         {"Content-Type": "application/x-tar"})
        assert reply.status == 200
        lines = [json.loads(line) for line in reply.body.decode().splitlines() if line]
        assert not [line for line in lines if "error" in line], lines
        cached = sum("Using cache" in line.get("stream", "") for line in lines)
        return cached, api.http("GET", f"/images/{tag}/json").json()["Id"]

    _, first = build("cf-one", None)
    assert build("cf-two", ["cf-one"]) == (3, first)
    cached, other = build("cf-three", ["nosuchimage"])
    assert cached == 0 and other != first
    assert build("cf-four", None)[0] == 2  # the local cache again: the RUN steps
    bad = api.http("POST", "/build?cachefrom=notjson", context_tar({"Dockerfile": b"FROM x"}))
    assert bad.status == 400
    api.docker("rmi", "cf-one", "cf-two", "cf-three", "cf-four")
