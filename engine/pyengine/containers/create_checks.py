"""Create options the daemon checks before it makes anything (docker's daemon messages), and
the parts of a container's OCI config that come from them beyond what bundles builds: the
CPU and swap limits (--cpus, --cpu-shares, ...) and docker's init (--init) as PID 1."""

from __future__ import annotations

import os
import shutil

from pyengine.containers.model import Spec
from pyengine.containers.resources import MIN_MEMORY, ResourceUpdate, apply_to_config, merge
from pyengine.errors import InvalidArgument, NotFound

INIT_PATH = "/sbin/docker-init"  # where docker mounts its init in the container
# the init binary on the host: docker's name first, then Debian's tini (static first: the
# image may have no libc)
INIT_BINARIES = ("docker-init", "tini-static", "tini")


# the log drivers the engine has: json-file ("" names it) and none (no log kept)
LOG_DRIVERS = ("", "json-file", "none")
# dockerd 20.10's built-in log drivers (`docker info`'s Plugins.Log)
DOCKER_LOG_DRIVERS = ("awslogs", "fluentd", "gcplogs", "gelf", "journald", "json-file",
                      "local", "logentries", "splunk", "syslog", "none")


def check_log_driver(kind: str) -> None:
    """A driver docker has and the engine not is refused naming it; another name is docker's
    error for a plugin it cannot find."""
    if kind in DOCKER_LOG_DRIVERS and kind not in LOG_DRIVERS:
        raise InvalidArgument(f"pyengined does not support the {kind} log driver "
                              "(HostConfig.LogConfig.Type): json-file and none only")
    if kind not in LOG_DRIVERS:
        raise InvalidArgument(f'error looking up logging plugin {kind}: plugin "{kind}" '
                              "not found")


def check(spec: Spec) -> None:
    """InvalidArgument/NotFound with docker's message for a value the daemon refuses."""
    check_log_driver(spec.log_driver)
    if spec.memory and spec.memory < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    cpus = len(os.sched_getaffinity(0))
    if spec.nano_cpus < 0 or spec.nano_cpus > cpus * 1_000_000_000:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {cpus}.00, as there are only "
                              f"{cpus} CPUs available")
    if spec.memory_swap or spec.cpu_shares or spec.cpu_quota or spec.cpu_period or \
            spec.cpuset_cpus:  # the values docker update checks, checked alike
        merge(Spec(), ResourceUpdate(
            memory=spec.memory or None, memory_swap=spec.memory_swap or None,
            nano_cpus=spec.nano_cpus or None, cpu_shares=spec.cpu_shares or None,
            cpu_quota=spec.cpu_quota or None, cpu_period=spec.cpu_period or None,
            cpuset_cpus=spec.cpuset_cpus or None), cpus)
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
    if spec.nano_cpus or spec.memory_swap or spec.cpu_shares or spec.cpu_quota or \
            spec.cpu_period or spec.cpuset_cpus:  # as update sets them (--cpus: its quota)
        apply_to_config(config, spec)
    if spec.init:
        process = config["process"]
        process["args"] = [INIT_PATH, "--", *process["args"]]
        config["mounts"].append({"destination": INIT_PATH, "type": "bind",
                                 "source": init_binary(), "options": ["rbind", "ro"]})
