"""containers/service.py container_json and graph_driver: docker 20.10's inspect document has
every key dockerd's has (the zero values of what the engine does not use), and GraphDriver
names the container's overlay directories."""

from __future__ import annotations

import json
from pathlib import Path

from pyengine.containers.model import Container, Spec, State
from pyengine.containers.service import container_json, graph_driver
from pyengine.snapshots.mount import Mount

# keys of a `docker run -d -v /data busybox sleep` on dockerd 20.10 (2026-12-06), less the
# network ones (containers/networking.py)
DOCKERD_HOST_CONFIG = {
    "AutoRemove", "BlkioDeviceReadBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteBps",
    "BlkioDeviceWriteIOps", "BlkioWeight", "BlkioWeightDevice", "CapAdd", "CapDrop", "Cgroup",
    "CgroupParent", "CgroupnsMode", "ConsoleSize", "ContainerIDFile", "CpuCount",
    "CpuPercent", "CpuPeriod", "CpuQuota", "CpuRealtimePeriod", "CpuRealtimeRuntime",
    "CpuShares", "CpusetCpus", "CpusetMems", "DeviceCgroupRules", "DeviceRequests", "Devices",
    "GroupAdd", "IOMaximumBandwidth", "IOMaximumIOps", "IpcMode", "Isolation", "KernelMemory",
    "KernelMemoryTCP", "LogConfig", "MaskedPaths", "Memory", "MemoryReservation",
    "MemorySwap", "MemorySwappiness", "NanoCpus", "NetworkMode", "OomKillDisable",
    "OomScoreAdj", "PidMode", "PidsLimit", "Privileged", "ReadonlyPaths", "ReadonlyRootfs",
    "RestartPolicy", "Runtime", "SecurityOpt", "ShmSize", "UTSMode", "Ulimits", "UsernsMode",
    "VolumeDriver", "Binds", "VolumesFrom"}
DOCKERD_TOP = {"AppArmorProfile", "Args", "Config", "Created", "Driver", "ExecIDs",
               "GraphDriver", "HostConfig", "Id", "Image", "LogPath", "MountLabel", "Mounts",
               "Name", "NetworkSettings", "Path", "Platform", "ProcessLabel", "RestartCount",
               "State"}
DOCKERD_CONFIG = {"AttachStderr", "AttachStdin", "AttachStdout", "Cmd", "Domainname",
                  "Entrypoint", "Env", "Hostname", "Image", "Labels", "OnBuild", "OpenStdin",
                  "StdinOnce", "Tty", "User", "Volumes", "WorkingDir"}


def _container(**spec: object) -> Container:
    return Container(id="c" * 64, name="n", image_id="sha256:" + "a" * 64,
                     image_name="busybox", snapshot="c" * 64, created="", spec=Spec(**spec),
                     state=State(), config={"args": ["sleep", "1"]})


def test_every_key_dockerd_shows() -> None:
    doc = json.loads(container_json(_container(binds=["/data"])))
    assert set(doc) >= DOCKERD_TOP
    assert set(doc["HostConfig"]) >= DOCKERD_HOST_CONFIG, \
        sorted(DOCKERD_HOST_CONFIG - set(doc["HostConfig"]))
    assert set(doc["Config"]) == DOCKERD_CONFIG  # StopSignal: only when not SIGTERM
    assert doc["Config"]["Volumes"] == {"/data": {}}  # an anonymous volume, as docker shows
    assert "Init" not in doc["HostConfig"]  # docker's omitempty
    assert doc["HostConfig"]["MaskedPaths"][0] == "/proc/asound"
    privileged = json.loads(container_json(_container(privileged=True)))["HostConfig"]
    assert privileged["MaskedPaths"] is None and privileged["ReadonlyPaths"] is None
    stop = json.loads(container_json(_container(init=True)))
    assert stop["HostConfig"]["Init"] is True


class _Snapshots:
    def __init__(self, mounts: list[Mount]) -> None:
        self._mounts = mounts

    def mounts(self, key: str) -> list[Mount]:
        if not self._mounts:
            raise KeyError(key)
        return self._mounts


def test_graph_driver_names_the_overlay_directories(tmp_path: Path) -> None:
    overlay = Mount("overlay", "overlay", ["index=off", "lowerdir=/s/2/fs:/s/1/fs",
                                            "upperdir=/s/3/fs", "workdir=/s/3/work"])
    assert graph_driver(_Snapshots([overlay]), "k", tmp_path / "rootfs") == {
        "Name": "overlay2", "Data": {"LowerDir": "/s/2/fs:/s/1/fs", "UpperDir": "/s/3/fs",
                                     "WorkDir": "/s/3/work",
                                     "MergedDir": str(tmp_path / "rootfs")}}
    bind = Mount("bind", "/s/4/fs", ["rw", "rbind"])  # no parent: one directory
    assert graph_driver(_Snapshots([bind]), "k", tmp_path)["Data"]["UpperDir"] == "/s/4/fs"
    assert graph_driver(_Snapshots([]), "gone", tmp_path) == {"Name": "overlay2",
                                                              "Data": None}


def test_config_attach_and_stdin_once_are_the_create_body_s() -> None:
    """docker run -i (attached) sends AttachStdin/Stdout/Stderr and StdinOnce; run -di sends
    OpenStdin alone: inspect shows each as the client sent it."""
    from pyengine.dockerapi.container_config import from_body

    attached = from_body({"Image": "busybox", "OpenStdin": True, "StdinOnce": True,
                          "AttachStdin": True, "AttachStdout": True,
                          "AttachStderr": True}).spec
    config = json.loads(container_json(_container(**vars(attached))))["Config"]
    assert [config[k] for k in ("AttachStdin", "AttachStdout", "AttachStderr", "OpenStdin",
                                "StdinOnce")] == [True] * 5
    detached = from_body({"Image": "busybox", "OpenStdin": True}).spec
    config = json.loads(container_json(_container(**vars(detached))))["Config"]
    assert [config[k] for k in ("AttachStdin", "AttachStdout", "AttachStderr", "OpenStdin",
                                "StdinOnce")] == [False, False, False, True, False]
