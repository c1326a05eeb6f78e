"""An image the project did not make: buildah (private storage, vfs, no network: nothing of it
reaches CNI or the machine's network) commits a busybox rootfs (tools/mkrootfs-busybox) with
EXPOSE 80/tcp 53/udp, VOLUME /data holding a file and an ENTRYPOINT script to an oci-archive,
which `pyctl load` reads. Run with -P: both ports published and shown by `pyctl port`, TCP
answers on 127.0.0.1 of the daemon's namespace (the module's), the anonymous volume is seeded
from the image and goes with `rm -v`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from ctr_harness import ContainerEngine
from engine_harness import REPO
from net_harness import http_get, inspect, nat_rules

pytestmark = [pytest.mark.root]

IMAGE = "foreign/web:1"
ENTRYPOINT = """#!/bin/sh
mkdir -p /www
echo "entrypoint $(hostname) $*" > /www/index.html
exec httpd -f -p 80 -h /www
"""


def _buildah(base: Path, *args: str) -> str:
    env = {**os.environ, "CONTAINERS_CONF": str(base / "containers.conf")}
    env.pop("NOTIFY_SOCKET", None)
    argv = ["buildah", "--root", str(base / "root"), "--runroot", str(base / "runroot"),
            "--storage-driver", "vfs", *args]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{argv}: {result.stderr}"
    return result.stdout.strip()


def buildah_base(base: Path) -> None:
    """Private storage and a containers.conf with netns none and no CNI plugins: a buildah
    call that would attach anything to a CNI network fails instead of making a bridge on the
    machine."""
    for sub in ("root", "runroot", "tmp", "cni", "no-cni-plugins"):
        (base / sub).mkdir(parents=True)
    (base / "containers.conf").write_text(
        '[containers]\nnetns = "none"\n'
        f'[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
        f'events_logfile_path = "{base}/events.log"\ntmp_dir = "{base}/tmp"\n'
        f'[network]\nnetwork_config_dir = "{base}/cni"\n'
        f'cni_plugin_dirs = ["{base}/no-cni-plugins"]\n')


def busybox_tree(directory: Path) -> Path:
    subprocess.run([str(REPO / "tools" / "mkrootfs-busybox"), str(directory)], check=True,
                   capture_output=True)
    script = directory / "entrypoint.sh"
    script.write_text(ENTRYPOINT)
    script.chmod(0o755)
    return directory


def commit(base: Path, rootfs: Path, name: str, *config: str) -> Path:
    """`rootfs` committed as image `name` to an oci-archive (no RUN step: no runtime and no
    network is used)."""
    container = _buildah(base, "from", "--pull-never", "scratch")
    try:
        _buildah(base, "copy", container, f"{rootfs}/", "/")
        _buildah(base, "config", "--entrypoint", '["/entrypoint.sh"]', *config, container)
        archive = base / (name.replace("/", "_").replace(":", "_") + ".tar")
        _buildah(base, "commit", "-q", container, f"oci-archive:{archive}:{name}")
    finally:
        _buildah(base, "rm", container)
    return archive


def build_foreign_image(base: Path) -> Path:
    rootfs = busybox_tree(base / "rootfs")
    (rootfs / "data").mkdir()
    (rootfs / "data" / "seed.txt").write_text("seeded by the image\n")
    return commit(base, rootfs, IMAGE, "--port", "80/tcp", "--port", "53/udp",
                  "--volume", "/data")


@pytest.fixture(scope="module")
def foreign_image(engine: ContainerEngine, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[str]:
    if shutil.which("buildah") is None:
        pytest.fail("buildah is not installed (tools/setup installs it)")
    base = tmp_path_factory.mktemp("buildah")
    try:
        buildah_base(base)
        archive = build_foreign_image(base)
        engine.out("load", "-i", str(archive))
        yield IMAGE
    finally:
        shutil.rmtree(base, ignore_errors=True)  # vfs: plain directories, nothing mounted


def test_foreign_image_publish_all_and_its_anonymous_volume(
        engine: ContainerEngine, foreign_image: str) -> None:
    config = inspect(engine, foreign_image)["Config"]
    assert set(config["ExposedPorts"]) == {"80/tcp", "53/udp"}
    assert config["Volumes"] == {"/data": {}}
    assert config["Entrypoint"] == ["/entrypoint.sh"]
    engine.out("run", "-d", "--name", "foreign", "-P", foreign_image, "arg1")
    lines = dict(line.split(" -> ") for line in engine.out("port", "foreign").splitlines()
                 if " -> [::]:" not in line)  # the "::" twins: test_net_ipv6.py
    assert set(lines) == {"80/tcp", "53/udp"}
    for key, binding in lines.items():
        host, _, port = binding.rpartition(":")
        assert host == "0.0.0.0" and int(port) > 0, key
    tcp_port = int(lines["80/tcp"].rpartition(":")[2])
    hostname = inspect(engine, "foreign")["Config"]["Hostname"]
    assert http_get("127.0.0.1", tcp_port).strip() == f"entrypoint {hostname} arg1"
    assert inspect(engine, "foreign")["NetworkSettings"]["Ports"]["53/udp"][0] == \
        {"HostIp": "0.0.0.0", "HostPort": lines["53/udp"].rpartition(":")[2]}

    [mount] = inspect(engine, "foreign")["Mounts"]
    assert (mount["Type"], mount["Destination"], mount["RW"]) == ("volume", "/data", True)
    volume, source = mount["Name"], Path(mount["Source"])
    assert (source / "seed.txt").read_text() == "seeded by the image\n"
    assert engine.out("exec", "foreign", "cat", "/data/seed.txt") == "seeded by the image\n"
    assert volume in engine.out("volume", "ls", "-q").split()

    engine.out("rm", "-f", "-v", "foreign")
    assert volume not in engine.out("volume", "ls", "-q").split()
    assert not source.exists()
    assert not [rule for rule in nat_rules() if f"--dport {tcp_port}" in rule]
    with socket.socket() as again:  # the daemon holds the port no more
        again.bind(("0.0.0.0", tcp_port))


def test_volume_paths_that_are_symlinks_out_of_the_rootfs(
        engine: ContainerEngine, foreign_image: str, tmp_path: Path) -> None:
    """VOLUME paths the image made symlinks to host directories (absolute, and relative with
    more ".." than the rootfs is deep): seeding resolves them inside the rootfs, so nothing
    of the host directories is copied into the volumes and nothing is written there, at
    create or by the running container (whose volumes are mounted inside its rootfs)."""
    outside = [tmp_path / "outside-abs", tmp_path / "outside-rel"]
    for directory in outside:
        directory.mkdir()
        (directory / "secret.txt").write_text("host only\n")
    base = tmp_path / "buildah"
    buildah_base(base)
    rootfs = busybox_tree(base / "rootfs")
    (rootfs / "abs").symlink_to(outside[0])
    (rootfs / "rel").symlink_to("../" * 40 + str(outside[1]).lstrip("/"))
    archive = commit(base, rootfs, "foreign/escape:1", "--volume", "/abs", "--volume", "/rel",
                     "--cmd", '["sleep", "1000"]')
    engine.out("load", "-i", str(archive))
    engine.out("create", "--name", "escape", "foreign/escape:1")
    mounts = inspect(engine, "escape")["Mounts"]
    assert sorted(m["Destination"] for m in mounts) == ["/abs", "/rel"]
    for m in mounts:
        assert list(Path(m["Source"]).iterdir()) == [], m
    started = engine.pyctl("start", "escape")
    if started.returncode == 0:  # the runtime mounts the volumes inside the rootfs
        engine.out("exec", "escape", "touch", "/abs/written", "/rel/written")
        for m in mounts:
            assert (Path(m["Source"]) / "written").exists(), m
    for directory in outside:
        assert [p.name for p in directory.iterdir()] == ["secret.txt"]
    engine.out("rm", "-f", "-v", "escape")
    engine.out("rmi", "foreign/escape:1")
    shutil.rmtree(base, ignore_errors=True)
