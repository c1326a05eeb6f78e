"""/volumes through the REST edge: the docker CLI 28 (create/ls/inspect/rm/prune, run -v),
docker-py 7 and raw HTTP for docker's statuses and texts (checked against a private dockerd
20.10)."""

from __future__ import annotations

import re

import pytest
from netvol_harness import NetVol, nv_fixture  # noqa: F401 - a fixture

pytestmark = [pytest.mark.root]


def test_cli_create_list_inspect_remove(nv: NetVol) -> None:
    assert nv.docker("volume", "create", "--label", "tier=db", "data",
                         check=True).stdout.decode().strip() == "data"
    nv.docker("volume", "create", "--driver", "local", "--opt", "type=tmpfs", "--opt",
                  "device=tmpfs", "--opt", "o=size=1m", "scratch", check=True)
    anonymous = nv.docker("volume", "create", check=True).stdout.decode().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", anonymous)
    doc = nv.docker_json("volume", "inspect", "data")[0]
    assert doc["Name"] == "data" and doc["Driver"] == "local" and doc["Scope"] == "local"
    assert doc["Labels"] == {"tier": "db"}
    assert doc["Mountpoint"] == str(nv.data_root / "volumes" / "data" / "_data")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["CreatedAt"])
    scratch = nv.docker_json("volume", "inspect", "scratch")[0]
    assert scratch["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}
    assert nv.docker("volume", "inspect", "-f", "{{.Driver}} {{.Labels.tier}}", "data",
                         check=True).stdout.decode().strip() == "local db"

    def names(*flags: str) -> list[str]:
        out = nv.docker("volume", "ls", "-q", *flags, check=True)
        return sorted(out.stdout.decode().split())

    assert names() == sorted(["data", "scratch", anonymous])
    assert names("--filter", "label=tier=db") == ["data"]
    assert names("--filter", "name=scr") == ["scratch"]
    assert names("--filter", "driver=local") == sorted(["data", "scratch", anonymous])
    assert names("--filter", "dangling=true") == sorted(["data", "scratch", anonymous])
    listed = nv.docker("volume", "ls", "--filter", "name=data", "--format",
                           "{{.Driver}} {{.Name}}", check=True).stdout.decode()
    assert listed.splitlines() == ["local data"]
    bad = nv.docker("volume", "ls", "--filter", "colour=red")
    assert bad.returncode == 1
    assert "Error response from daemon: Invalid filter 'colour'" in bad.stderr.decode()
    short = nv.docker("volume", "create", "x")
    assert short.returncode == 1
    assert "Error response from daemon: create x: volume name is too short" in \
        short.stderr.decode()

    assert nv.docker("volume", "rm", "data", "scratch", anonymous,
                         check=True).stdout.decode().split() == ["data", "scratch", anonymous]
    gone = nv.docker("volume", "inspect", "data")
    assert gone.returncode == 1 and "no such volume" in gone.stderr.decode()
    assert names() == []


def test_a_volume_in_use_is_kept_and_prune_takes_the_unused(nv: NetVol) -> None:
    nv.docker("volume", "create", "used", check=True)
    nv.docker("volume", "create", "--label", "keep=no", "spare", check=True)
    nv.docker("volume", "create", "--label", "keep=yes", "kept", check=True)
    nv.run("-d", "--name", "writer", "-v", "used:/data", "busybox", "sh", "-c",
           "echo hello > /data/greeting")
    assert nv.docker("wait", "writer", check=True).stdout.decode().strip() == "0"
    cid = nv.docker("inspect", "-f", "{{.Id}}", "writer", check=True).stdout.decode().strip()
    for flags in ((), ("-f",)):  # force does not remove a volume in use (docker's)
        refused = nv.docker("volume", "rm", *flags, "used")
        assert refused.returncode == 1
        assert f"remove used: volume is in use - [{cid}]" in refused.stderr.decode()
    mountpoint = nv.docker_json("volume", "inspect", "used")[0]["Mountpoint"]
    with open(f"{mountpoint}/greeting") as handle:
        assert handle.read() == "hello\n"
    in_use = nv.docker("volume", "ls", "-q", "--filter", "dangling=false", check=True)
    assert in_use.stdout.decode().split() == ["used"]

    out = nv.docker("volume", "prune", "-f", "--filter", "label=keep=no", check=True)
    lines = out.stdout.decode().splitlines()
    assert lines[:2] == ["Deleted Volumes:", "spare"]
    assert lines[-1].startswith("Total reclaimed space:")
    out = nv.docker("volume", "prune", "-f", check=True)  # docker 20.10: named ones too
    assert out.stdout.decode().splitlines()[:2] == ["Deleted Volumes:", "kept"]
    assert nv.docker("volume", "ls", "-q", check=True).stdout.decode().split() == ["used"]
    nv.docker("rm", "writer", check=True)
    assert nv.docker("volume", "rm", "used", check=True).returncode == 0


def test_http_statuses_and_bodies(nv: NetVol) -> None:
    assert nv.http("GET", "/volumes") == (200, {"Volumes": [], "Warnings": None})
    status, body = nv.http("POST", "/v1.41/volumes/create", {
        "Name": "raw", "Driver": "local", "DriverOpts": {}, "Labels": {"a": "b"}})
    assert status == 201
    assert body == nv.http("GET", "/volumes/raw")[1]
    assert body["Name"] == "raw" and body["Labels"] == {"a": "b"}
    again = nv.http("POST", "/volumes/create", {"Name": "raw"})  # docker's: the same one
    assert again == (201, body)
    status, listed = nv.http("GET", '/volumes?filters={"label":{"a=b":true}}')
    assert status == 200 and listed == {"Volumes": [body], "Warnings": None}
    status, err = nv.http("POST", "/volumes/create", {"Name": "plug", "Driver": "nfs"})
    assert status == 404 and err["message"] == \
        'create plug: error looking up volume plugin nfs: plugin "nfs" not found'
    status, err = nv.http("POST", "/volumes/create", {"Name": "o",
                                                          "DriverOpts": {"colour": "red"}})
    assert status == 400
    for method in ("GET", "DELETE"):
        assert nv.http(method, "/volumes/nosuch") == \
            (404, {"message": "get nosuch: no such volume"})
    assert nv.http("DELETE", "/volumes/nosuch?force=1") == (204, None)
    assert nv.http("DELETE", "/volumes/raw") == (204, None)
    assert nv.http("POST", "/volumes/prune") == \
        (200, {"VolumesDeleted": [], "SpaceReclaimed": 0})  # dockerd 20.10: [], not null
    assert nv.http("POST", '/volumes/prune?filters={"dangling":["true"]}') == \
        (400, {"message": "Invalid filter 'dangling'"})
    assert nv.http("GET", '/volumes?filters={"dangling":["maybe"]}') == \
        (400, {"message": "Invalid filter 'dangling=[maybe]'"})


def test_docker_py_volumes(nv: NetVol) -> None:
    import docker

    client = nv.client()
    try:
        made = client.volumes.create("pyvol", labels={"made": "by-docker-py"})
        assert made.name == "pyvol" and made.attrs["Labels"] == {"made": "by-docker-py"}
        assert client.volumes.get("pyvol").attrs == made.attrs
        assert [v.name for v in client.volumes.list(filters={"label": "made"})] == ["pyvol"]
        client.volumes.create("other")
        assert sorted(v.name for v in client.volumes.list()) == ["other", "pyvol"]
        made.remove()
        with pytest.raises(docker.errors.NotFound):
            client.volumes.get("pyvol")
        report = client.volumes.prune()
        assert report["VolumesDeleted"] == ["other"]
        assert isinstance(report["SpaceReclaimed"], int)
        assert client.volumes.list() == []
    finally:
        client.close()
