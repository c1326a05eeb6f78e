"""Create options the daemon checks before it makes anything (docker's daemon messages), and
the parts of a container's OCI config that come from them beyond what bundles builds: the
CPU quota of --cpus and docker's init (--init) as PID 1."""

from __future__ import annotations

import os
import shutil

from pyengine.containers.model import Spec
from pyengine.errors import InvalidArgument, NotFound

MIN_MEMORY = 6 * 1024 * 1024  # docker's linuxMinMemory
CPU_PERIOD = 100_000  # microseconds, as docker sets it for --cpus
INIT_PATH = "/sbin/docker-init"  # where docker mounts its init in the container
# the init binary on the host: docker's name first, then Debian's tini (static first: the
# image may have no libc)
INIT_BINARIES = ("docker-init", "tini-static", "tini")
NETWORKS = ("", "none", "host")


def check(spec: Spec) -> None:
    """InvalidArgument/NotFound with docker's message for a value the daemon refuses."""
    if spec.memory and spec.memory < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    cpus = len(os.sched_getaffinity(0))
    if spec.nano_cpus < 0 or spec.nano_cpus > cpus * 1_000_000_000:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {cpus}.00, as there are only "
                              f"{cpus} CPUs available")
    if spec.network not in NETWORKS:
        raise NotFound(f"network {spec.network} not found")
    if spec.stop_signal:
        from pyengine.containers.service import parse_signal

        parse_signal(spec.stop_signal)


def network_mode(spec: Spec) -> str:
    """bundles' network option: "host" shares the daemon's namespace; anything else is a new
    one with lo up (docker's none, the default until networks exist)."""
    return "host" if spec.network == "host" else "private"


def init_binary() -> str:
    for name in INIT_BINARIES:
        found = shutil.which(name)
        if found:
            return found
    raise NotFound('exec: "docker-init": executable file not found in $PATH')


def apply(config: dict, spec: Spec) -> None:
    """The CPU quota and the init on top of bundles' config (in place)."""
    if spec.nano_cpus:
        config["linux"]["resources"]["cpu"] = {
            "quota": spec.nano_cpus * CPU_PERIOD // 1_000_000_000, "period": CPU_PERIOD}
    if spec.init:
        process = config["process"]
        process["args"] = [INIT_PATH, "--", *process["args"]]
        config["mounts"].append({"destination": INIT_PATH, "type": "bind",
                                 "source": init_binary(), "options": ["rbind", "ro"]})
