"""A container's files and figures through the Docker Engine API: diff, cp both ways (the
archive endpoints and their X-Docker-Container-Path-Stat header), export, stats."""

from __future__ import annotations

import base64
import io
import json
import tarfile
from pathlib import Path

from api_harness import DockerApi, tar_of
from ctr_harness import ContainerEngine


def test_diff_cp_export(api: DockerApi, tmp_path: Path) -> None:
    cid = api.docker("run", "-d", "--name", "fs1", "busybox", "sh", "-c",
                     "mkdir /made && echo data > /made/f && ln -s f /made/l && rm /bin/ls"
                     ).stdout.strip()
    assert api.docker("wait", "fs1").stdout.strip() == "0"  # its files stay: cp works after
    diff = api.docker("diff", "fs1").stdout.splitlines()
    assert {"A /made", "A /made/f", "A /made/l", "C /bin", "D /bin/ls"} <= set(diff)
    changes = api.http("GET", f"/containers/{cid}/changes").json()
    assert {"Path": "/bin/ls", "Kind": 2} in changes
    assert {"Path": "/made/f", "Kind": 1} in changes
    # out of the container: the file, then the directory
    api.docker("cp", "fs1:/made/f", str(tmp_path / "f"))
    assert (tmp_path / "f").read_text() == "data\n"
    api.docker("cp", "fs1:/made", str(tmp_path / "made"))
    assert (tmp_path / "made" / "f").read_text() == "data\n"
    assert (tmp_path / "made" / "l").is_symlink()
    # the stat header: docker's JSON, the mode as Go's FileMode (1<<31: a directory)
    head = api.http("HEAD", f"/containers/{cid}/archive?path=/made")
    assert head.status == 200
    found = json.loads(base64.b64decode(head.headers["X-Docker-Container-Path-Stat"]))
    assert (found["name"], found["mode"] & ~0o777, found["linkTarget"]) == ("made", 1 << 31, "")
    assert found["mtime"].endswith("Z")
    link = api.http("HEAD", f"/containers/{cid}/archive?path=/made/l")
    stat_l = json.loads(base64.b64decode(link.headers["X-Docker-Container-Path-Stat"]))
    # the link as it reads (docker 20.10 gives it resolved, "/made/f"; the CLI takes both)
    assert (stat_l["mode"] & ~0o777, stat_l["linkTarget"]) == (1 << 27, "f")
    missing = api.http("HEAD", f"/containers/{cid}/archive?path=/nosuch")
    assert missing.status == 404
    gone = api.http("GET", f"/containers/{cid}/archive?path=/nosuch")
    assert gone.json() == {"message": "Could not find the file /nosuch in container fs1"}
    # into the container: a file, then a directory
    (tmp_path / "in.txt").write_text("into\n")
    api.docker("cp", str(tmp_path / "in.txt"), "fs1:/made/")
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "x").write_text("x\n")
    api.docker("cp", str(tmp_path / "tree"), "fs1:/tree")
    api.docker("cp", "fs1:/made/in.txt", str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_text() == "into\n"
    api.docker("cp", "fs1:/tree/x", str(tmp_path / "back-x"))
    assert (tmp_path / "back-x").read_text() == "x\n"
    # a raw PUT of a tar
    put = api.http("PUT", f"/containers/{cid}/archive?path=/made", tar_of("put.txt", b"put\n"),
                   {"Content-Type": "application/x-tar"})
    assert put.status == 200, put.text
    # export: the whole root filesystem, with what the container wrote
    api.docker("export", "-o", str(tmp_path / "fs.tar"), "fs1")
    with tarfile.open(tmp_path / "fs.tar") as tar:
        names = set(tar.getnames())
    assert {"made/f", "made/put.txt", "made/in.txt", "tree/x", "bin/sh"} <= names
    assert "bin/ls" not in names


def test_stats(api: DockerApi) -> None:
    cid = api.docker("run", "-d", "--name", "st1", "-m", "64m", "busybox", "sleep",
                     "300").stdout.strip()
    line = api.docker("stats", "--no-stream", "--format",
                      "{{.Name}}|{{.MemUsage}}|{{.PIDs}}|{{.CPUPerc}}", "st1").stdout.strip()
    name, mem, pids, cpu = line.split("|")
    assert (name, pids) == ("st1", "1")
    assert mem.endswith("/ 64MiB")
    assert cpu.endswith("%")
    one = api.http("GET", f"/containers/{cid}/stats?stream=false&one-shot=true").json()
    assert (one["id"], one["name"]) == (cid, "/st1")
    assert one["preread"] == "0001-01-01T00:00:00Z"
    assert one["memory_stats"]["limit"] == 64 << 20
    assert one["pids_stats"] == {"current": 1}
    assert one["cpu_stats"]["cpu_usage"]["total_usage"] > 0
    assert "eth0" in one["networks"]
    two = api.http("GET", f"/containers/{cid}/stats?stream=false").json()
    assert two["preread"] != "0001-01-01T00:00:00Z"
    assert two["precpu_stats"]["system_cpu_usage"] > 0
    bad = api.http("GET", f"/containers/{cid}/stats?stream=true&one-shot=true")
    assert bad.status == 400
    api.docker("stop", "-t", "0", "st1")
    stopped = api.http("GET", f"/containers/{cid}/stats?stream=false").json()
    assert stopped["read"] == "0001-01-01T00:00:00Z"
    assert api.http("GET", "/containers/nosuch/stats?stream=false").status == 404


def _file_of(api: DockerApi, cid: str, path: str) -> bytes | None:
    reply = api.http("GET", f"/containers/{cid}/archive?path={path}")
    if reply.status == 404:
        return None
    assert reply.status == 200, reply.text
    with tarfile.open(fileobj=io.BytesIO(reply.body)) as tar:
        member = tar.extractfile(tar.getmembers()[0])
        assert member is not None
        return member.read()


def test_resize_a_tty_container(api: DockerApi) -> None:
    import time

    created = api.docker("create", "-t", "--name", "tty1", "busybox", "sh", "-c",
                         'trap "stty size > /size" WINCH; while :; do sleep 1; done')
    cid = created.stdout.strip()
    stopped = api.http("POST", f"/containers/{cid}/resize?h=30&w=100")
    assert (stopped.status, stopped.json()["message"]) == (
        409, f"Container {cid} is not running")
    api.docker("start", "tty1")
    assert api.http("POST", f"/containers/{cid}/resize?h=30&w=100").status == 200
    deadline = time.monotonic() + 60  # the trap runs when the shell's sleep ends
    while (size := _file_of(api, cid, "/size")) in (None, b"") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert size == b"30 100\n"


def _stat_of(api: DockerApi, cid: str, path: str) -> dict:
    head = api.http("HEAD", f"/containers/{cid}/archive?path={path}")
    assert head.status == 200, path
    return dict(json.loads(base64.b64decode(head.headers["X-Docker-Container-Path-Stat"])))


def _view_mounts(engine: ContainerEngine) -> list[str]:
    scratch = str(engine.exec_root / "fs-mounts")
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if scratch in line]


def test_cp_goes_through_the_containers_volumes_and_binds(api: DockerApi, engine: ContainerEngine,
                                                          tmp_path: Path) -> None:
    """dockerd's rule: a path under a volume or bind reads and writes its source (a container
    never started too), read-only mounts and a read-only rootfs refuse a copy into them, the
    generated /etc files read as the container sees them, symlinks resolve in the container's
    view, and nothing stays mounted."""
    bind = tmp_path / "bind"
    bind.mkdir()
    (bind / "host.txt").write_text("from the host\n")
    cid = api.docker("create", "--name", "cpv", "--read-only", "-v", "/data", "-v",
                     f"{bind}:/b:ro", "busybox", "sh", "-c",
                     "cat /data/in.txt /b/host.txt; ln -s /etc /data/etc-link").stdout.strip()
    mounts = {m["Destination"]: m["Source"] for m in
              api.http("GET", f"/containers/{cid}/json").json()["Mounts"]}
    put = api.http("PUT", f"/containers/{cid}/archive?path=/data",
                   tar_of("in.txt", b"into the volume\n"), {"Content-Type": "application/x-tar"})
    assert put.status == 200, put.text
    assert (Path(mounts["/data"]) / "in.txt").read_bytes() == b"into the volume\n"
    assert _stat_of(api, cid, "/data/in.txt")["size"] == len(b"into the volume\n")
    assert _file_of(api, cid, "/b/host.txt") == b"from the host\n"
    read_only = api.http("PUT", f"/containers/{cid}/archive?path=/b", tar_of("x", b"x"))
    assert (read_only.status, read_only.json()) == (
        409, {"message": "mounted volume is marked read-only"})
    rootfs = api.http("PUT", f"/containers/{cid}/archive?path=/", tar_of("x", b"x"))
    assert (rootfs.status, rootfs.json()) == (
        409, {"message": "container rootfs is marked read-only"})
    assert not (bind / "x").exists()
    api.docker("start", "-a", "cpv")  # what it printed is what cp put there
    assert api.docker("logs", "cpv").stdout == "into the volume\nfrom the host\n"
    # the volume's symlink to /etc resolves in the container's view, to its generated hostname
    assert _file_of(api, cid, "/data/etc-link/hostname") == f"{cid[:12]}\n".encode()
    # pyctl cp shares the code (the gRPC edge)
    engine.pyctl("cp", "cpv:/data/in.txt", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_bytes() == b"into the volume\n"
    # a running container's generated /etc/hosts: cp reads what its processes read
    api.docker("run", "-d", "--name", "cph", "-v", "/data", "busybox", "sleep", "300")
    seen = api.docker("exec", "cph", "cat", "/etc/hosts").stdout.encode()
    assert _file_of(api, "cph", "/etc/hosts") == seen
    put = api.http("PUT", "/containers/cph/archive?path=/data", tar_of("live.txt", b"live\n"))
    assert put.status == 200, put.text
    assert api.docker("exec", "cph", "cat", "/data/live.txt").stdout == "live\n"
    # the export is the rootfs alone: no volume's files
    api.docker("export", "-o", str(tmp_path / "fs.tar"), "cpv")
    with tarfile.open(tmp_path / "fs.tar") as tar:
        assert "data/in.txt" not in tar.getnames()
    assert _view_mounts(engine) == []
