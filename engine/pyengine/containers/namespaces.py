"""docker's PidMode, IpcMode, UTSMode and CgroupnsMode (dockerd 20.10's rules).

At create (`check`) the modes are checked and recorded resolved: IpcMode "" is docker's
default "private", CgroupnsMode "" the daemon's default (private on a cgroup v2 host, host on
v1 and hybrid ones, as dockerd 20.10 chooses), and a container:NAME names the target by its full
id (inspect shows "container:<id>", as dockerd does). `configure` then shapes the bundle's
config: "host" leaves the namespace out (the daemon's is used; UTS host also drops the
hostname: the machine's stays), a private cgroup namespace is the OCI "cgroup" namespace, IPC
"none" has no /dev/shm, IPC "host" binds the machine's /dev/shm, and a "shareable" container's
/dev/shm is a directory of its bundle that containers joining its IPC namespace bind too (a
tmpfs of its shm size is mounted there while it runs: ipc_shm.py).

container:<id> targets are joined at each start (`join`: the target must run, and for IPC be
shareable or host, else docker's errors), through /proc/PID/ns/{pid,ipc} of its init.

What dockerd takes and we do not: PidMode and UTSMode values other than "host" and
container:X are kept as given and mean a private namespace (dockerd's); an IpcMode or
CgroupnsMode it does not know is refused at create (dockerd refuses the IPC one at start).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyengine.containers.model import RUNNING, Container, Spec
from pyengine.errors import FailedPrecondition, InvalidArgument, NotFound

CONTAINER = "container:"
IPC_MODES = ("private", "shareable", "none", "host")
CGROUPNS_MODES = ("private", "host")
SHM = "shm"  # a shareable container's /dev/shm, in its bundle
DONOR_SHM = "donor-shm"  # stands for the donor's /dev/shm in a joiner's config until `join`
SHM_DEST = "/dev/shm"
SHM_BIND_OPTIONS = ["rbind", "rprivate", "nosuid", "noexec", "nodev"]
UNIFIED_MARK = Path("/sys/fs/cgroup/cgroup.controllers")  # only on a cgroup v2 host


def default_cgroupns() -> str:
    """dockerd 20.10's default cgroup namespace mode for this host."""
    return "private" if UNIFIED_MARK.exists() else "host"


def target(mode: str) -> str:
    """The container a container:X mode names, or ""."""
    return mode[len(CONTAINER):] if mode.startswith(CONTAINER) else ""


def check(spec: Spec, resolve: Callable[[str], str]) -> None:
    """At create, before anything is made: docker's errors; the modes recorded resolved (in
    place). `resolve` gives a container's full id (NotFound: "No such container: X")."""
    cgroupns = spec.cgroupns_mode or default_cgroupns()
    if cgroupns not in CGROUPNS_MODES:
        raise InvalidArgument(f"invalid cgroup namespace mode: {cgroupns}")
    spec.cgroupns_mode = cgroupns
    ipc = spec.ipc_mode or "private"
    if ipc.startswith(CONTAINER):
        ipc = CONTAINER + resolve(target(ipc))
    elif ipc not in IPC_MODES:
        raise InvalidArgument(f"invalid IPC mode: {ipc}")
    spec.ipc_mode = ipc
    if spec.pid_mode.startswith(CONTAINER):
        spec.pid_mode = CONTAINER + resolve(target(spec.pid_mode))
    if spec.uts_mode == "host" and spec.hostname:
        raise InvalidArgument("conflicting options: hostname and the UTS mode")


def _without(config: dict[str, Any], kind: str) -> None:
    linux = config["linux"]
    linux["namespaces"] = [ns for ns in linux["namespaces"] if ns["type"] != kind]


def _set_namespace(config: dict[str, Any], kind: str, path: str = "") -> None:
    _without(config, kind)
    config["linux"]["namespaces"].append({"type": kind, **({"path": path} if path else {})})


def _default_shm(config: dict[str, Any]) -> int | None:
    """The index of bundles' own /dev/shm tmpfs in the mounts (a user's mount there wins)."""
    for index, mount in enumerate(config["mounts"]):
        if mount["destination"] == SHM_DEST and mount.get("type") == "tmpfs" and \
                mount.get("source") == "shm":
            return index
    return None


def _bind_shm(config: dict[str, Any], source: str) -> None:
    index = _default_shm(config)
    if index is not None:
        config["mounts"][index] = {"destination": SHM_DEST, "type": "bind", "source": source,
                                   "options": list(SHM_BIND_OPTIONS)}


def configure(config: dict[str, Any], spec: Spec, bundle: Path) -> None:
    """At create, on bundles' config (in place): the namespaces the modes leave out or add
    and the /dev/shm they imply (`bundle`: where a shareable container's shm is made)."""
    if spec.pid_mode == "host":
        _without(config, "pid")
    if spec.uts_mode == "host":
        _without(config, "uts")
        config.pop("hostname", None)
    if spec.cgroupns_mode == "private":
        _set_namespace(config, "cgroup")
    ipc = spec.ipc_mode
    if ipc == "host":
        _without(config, "ipc")
        _bind_shm(config, SHM_DEST)
    elif ipc == "none":
        index = _default_shm(config)
        if index is not None:
            del config["mounts"][index]
    elif ipc == "shareable":
        shm = bundle / SHM
        shm.mkdir(mode=0o700, exist_ok=True)
        os.chmod(shm, 0o1777)  # tmpfs's mode=1777, past the umask
        _bind_shm(config, str(shm))
    elif target(ipc):
        _bind_shm(config, str(bundle / DONOR_SHM))  # the donor's, set by `join`


def needs_join(spec: Spec) -> bool:
    return bool(target(spec.pid_mode) or target(spec.ipc_mode))


def join(bundle: Path, spec: Spec, get: Callable[[str], Container], bundles: Path) -> None:
    """Blocking, before the shim's Create: the config pointed at the namespaces of the
    container:<id> targets, which must run (docker's errors); an IPC target's /dev/shm is
    bound too. `bundles`: where the targets' bundles are."""
    from pyengine.containers.networking import rewrite_config

    changes: list[Callable[[dict[str, Any]], None]] = []
    pid_target = target(spec.pid_mode)
    if pid_target:
        found = _running(get, pid_target, f"cannot join PID of a non running container: "
                                          f"{pid_target}: ", "")
        path = f"/proc/{found.state.pid}/ns/pid"
        changes.append(lambda config: _set_namespace(config, "pid", path))
    ipc_target = target(spec.ipc_mode)
    if ipc_target:
        prefix = f"can't join IPC of container {ipc_target}: "
        donor = _running(get, ipc_target, prefix, prefix)
        shm = _shared_shm(donor, bundles / donor.id)
        if shm is None:
            raise FailedPrecondition(prefix + "non-shareable IPC (hint: use "
                                              "IpcMode:shareable for the donor container)")
        ipc_path = f"/proc/{donor.state.pid}/ns/ipc"
        changes.append(lambda config: _join_ipc(config, ipc_path,
                                                (str(bundle / DONOR_SHM), shm), shm))
    if changes:
        def change_all(config: dict[str, Any]) -> None:
            for change in changes:
                change(config)

        rewrite_config(bundle, change_all)


def _join_ipc(config: dict[str, Any], path: str, ours: tuple[str, ...], shm: str) -> None:
    _set_namespace(config, "ipc", path)
    for mount in config["mounts"]:  # the bind `configure` made (or an earlier start set)
        if mount["destination"] == SHM_DEST and mount.get("source") in ours:
            mount["source"] = shm


def _running(get: Callable[[str], Container], cid: str, missing: str,
             stopped: str) -> Container:
    """The running container `cid`; docker's errors, each after its prefix."""
    try:
        found = get(cid)
    except NotFound as err:
        raise NotFound(f"{missing}{err}") from None
    if found.state.status != RUNNING or not found.state.pid:
        raise FailedPrecondition(f"{stopped}container {found.id} is not running")
    return found


def _shared_shm(donor: Container, donor_bundle: Path) -> str | None:
    """The /dev/shm a donor shares: its bind's source (a shareable container's directory, the
    machine's for IPC host, or its own donor's); None when its IPC is private or none."""
    mode = donor.spec.ipc_mode
    if mode not in ("shareable", "host") and not target(mode):
        return None
    try:
        config = json.loads((donor_bundle / "config.json").read_text())
    except (OSError, ValueError):
        return None
    for mount in config.get("mounts") or []:
        if mount.get("destination") == SHM_DEST and mount.get("type") == "bind":
            return str(mount.get("source") or "") or None
    return None
