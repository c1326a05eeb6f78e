"""Create options the daemon checks before it makes anything (docker's daemon messages), and
the parts of a container's OCI config that come from them beyond what bundles builds: the
CPU quota of --cpus and docker's init (--init) as PID 1."""

from __future__ import annotations

import os
import shutil

from pyengine.containers.model import Spec
from pyengine.containers.resources import MIN_MEMORY, linux_resources
from pyengine.errors import InvalidArgument, NotFound

INIT_PATH = "/sbin/docker-init"  # where docker mounts its init in the container
# the init binary on the host: docker's name first, then Debian's tini (static first: the
# image may have no libc)
INIT_BINARIES = ("docker-init", "tini-static", "tini")


def check(spec: Spec) -> None:
    """InvalidArgument/NotFound with docker's message for a value the daemon refuses."""
    if spec.memory and spec.memory < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    cpus = len(os.sched_getaffinity(0))
    if spec.nano_cpus < 0 or spec.nano_cpus > cpus * 1_000_000_000:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {cpus}.00, as there are only "
                              f"{cpus} CPUs available")
    if spec.stop_signal:
        from pyengine.containers.service import parse_signal

        parse_signal(spec.stop_signal)


def init_binary() -> str:
    for name in INIT_BINARIES:
        found = shutil.which(name)
        if found:
            return found
    raise NotFound('exec: "docker-init": executable file not found in $PATH')


def apply(config: dict, spec: Spec) -> None:
    """The CPU quota and the init on top of bundles' config (in place)."""
    if spec.nano_cpus:  # the quota and period docker sets for --cpus (as update sets them)
        cpu = linux_resources(Spec(nano_cpus=spec.nano_cpus))["cpu"]
        config["linux"]["resources"]["cpu"] = cpu
    if spec.init:
        process = config["process"]
        process["args"] = [INIT_PATH, "--", *process["args"]]
        config["mounts"].append({"destination": INIT_PATH, "type": "bind",
                                 "source": init_binary(), "options": ["rbind", "ro"]})
