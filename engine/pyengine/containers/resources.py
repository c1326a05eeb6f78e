"""docker update's resources: checking a change against the container's record (docker's
rules and messages), merging it into the record's Spec, and the OCI linux.resources a Spec
gives (for the bundle's config.json and for the shim's Update)."""

from __future__ import annotations

from dataclasses import dataclass

from pyengine.containers.model import Spec
from pyengine.containers.restart import Policy
from pyengine.errors import FailedPrecondition, InvalidArgument

MIN_MEMORY = 6 * 1024 * 1024  # docker's smallest memory limit
CFS_PERIOD = 100_000  # µs: the period --cpus uses


@dataclass(frozen=True)
class ResourceUpdate:
    """What one update sets; None: left as it is."""

    memory: int | None = None
    memory_swap: int | None = None
    nano_cpus: int | None = None
    cpu_shares: int | None = None
    cpu_quota: int | None = None
    cpu_period: int | None = None
    cpuset_cpus: str | None = None
    pids_limit: int | None = None
    restart: str | None = None

    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in self.__dataclass_fields__)


def _cpu_list(text: str) -> set[int]:
    """A cpuset list ("0-2,4"); InvalidArgument when malformed."""
    out: set[int] = set()
    try:
        for part in text.split(","):
            low, sep, high = part.partition("-")
            first, last = int(low), int(high) if sep else int(low)
            if first < 0 or last < first:
                raise ValueError(part)
            out.update(range(first, last + 1))
    except ValueError:
        raise InvalidArgument(f"Invalid value {text} for cpuset cpus") from None
    return out


def _check(u: ResourceUpdate, online_cpus: int) -> None:
    """The update's own values, as docker's daemon checks them."""
    if u.memory is not None and 0 < u.memory < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if u.memory and u.memory_swap and 0 < u.memory_swap < u.memory:
        raise InvalidArgument("Minimum memoryswap limit should be larger than memory limit, "
                              "see usage")
    if u.nano_cpus and (u.cpu_period or u.cpu_quota):
        other = "CPU Period" if u.cpu_period else "CPU Quota"
        raise InvalidArgument(f"Conflicting options: Nano CPUs and {other} cannot both be set")
    if u.nano_cpus is not None and u.nano_cpus and not \
            10_000_000 <= u.nano_cpus <= online_cpus * 1_000_000_000:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {online_cpus}.00, as there are "
                              f"only {online_cpus} CPUs available")
    if u.cpu_period and not 1000 <= u.cpu_period <= 1_000_000:
        raise InvalidArgument("CPU cfs period can not be less than 1ms (i.e. 1000) or larger "
                              "than 1s (i.e. 1000000)")
    if u.cpu_quota and 0 < u.cpu_quota < 1000:
        raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    if u.cpuset_cpus:
        wanted = _cpu_list(u.cpuset_cpus)
        if max(wanted) >= online_cpus:
            raise InvalidArgument(f"Requested CPUs are not available - requested "
                                  f"{u.cpuset_cpus}, available: 0-{online_cpus - 1}")
    if u.restart is not None:
        Policy.parse(u.restart)


def merge(spec: Spec, u: ResourceUpdate, online_cpus: int) -> None:
    """Check `u` and write it into `spec`; InvalidArgument / FailedPrecondition (docker's
    conflicts with what the container already has) otherwise."""
    _check(u, online_cpus)
    if u.nano_cpus and spec.cpu_period:
        raise FailedPrecondition("Conflicting options: Nano CPUs cannot be updated as CPU "
                                 "Period has already been set")
    if u.nano_cpus and spec.cpu_quota:
        raise FailedPrecondition("Conflicting options: Nano CPUs cannot be updated as CPU "
                                 "Quota has already been set")
    if u.cpu_period and spec.nano_cpus:
        raise FailedPrecondition("Conflicting options: CPU Period cannot be updated as "
                                 "NanoCPUs has already been set")
    if u.cpu_quota and spec.nano_cpus:
        raise FailedPrecondition("Conflicting options: CPU Quota cannot be updated as "
                                 "NanoCPUs has already been set")
    if u.memory and u.memory_swap is None and spec.memory_swap > 0 and \
            u.memory > spec.memory_swap:
        raise FailedPrecondition("Memory limit should be smaller than already set memoryswap "
                                 "limit, update the memoryswap at the same time")
    if u.restart is not None and spec.auto_remove and Policy.parse(u.restart).name != "no":
        raise InvalidArgument("Restart policy cannot be updated because AutoRemove is enabled "
                              "for the container")
    for name in ("memory", "memory_swap", "nano_cpus", "cpu_shares", "cpu_quota", "cpu_period"):
        value = getattr(u, name)
        if value:  # docker: a zero leaves the value as it is
            setattr(spec, name, value)
    if u.pids_limit is not None:
        spec.pids_limit = u.pids_limit if u.pids_limit > 0 else -1  # 0 or -1: unlimited
    if u.cpuset_cpus:
        spec.cpuset_cpus = u.cpuset_cpus
    if u.restart is not None:
        spec.restart = u.restart


def linux_resources(spec: Spec) -> dict:
    """The memory, cpu and pids members of OCI linux.resources for `spec`'s limits (the
    members it does not limit are left out)."""
    out: dict = {}
    memory: dict = {}
    if spec.memory:
        memory["limit"] = spec.memory
    if spec.memory_swap:
        memory["swap"] = spec.memory_swap
    if memory:
        out["memory"] = memory
    cpu: dict = {}
    if spec.cpu_shares:
        cpu["shares"] = spec.cpu_shares
    if spec.nano_cpus:
        cpu["quota"] = spec.nano_cpus * CFS_PERIOD // 1_000_000_000
        cpu["period"] = CFS_PERIOD
    else:
        if spec.cpu_quota:
            cpu["quota"] = spec.cpu_quota
        if spec.cpu_period:
            cpu["period"] = spec.cpu_period
    if spec.cpuset_cpus:
        cpu["cpus"] = spec.cpuset_cpus
    if cpu:
        out["cpu"] = cpu
    if spec.pids_limit:
        out["pids"] = {"limit": spec.pids_limit}
    return out


def apply_to_config(config: dict, spec: Spec) -> None:
    """Write `spec`'s limits into a bundle's config.json document (kept for the next
    start)."""
    resources = config.setdefault("linux", {}).setdefault("resources", {})
    for section, values in linux_resources(spec).items():
        resources.setdefault(section, {}).update(values)
