"""Container verbs that go through a running container's shim beyond its lifecycle: pause and
unpause (the shim's Pause/Resume), kill with docker's texts, resize, top (the shim's Pids and
the host's ps, as docker does) and update (the record, the bundle's config.json, and the
shim's Update when running)."""

from __future__ import annotations

import asyncio
import os
import signal as signals
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyengine.containers import resources
from pyengine.containers.model import RUNNING, Container
from pyengine.containers.networking import rewrite_config
from pyengine.errors import EngineError, FailedPrecondition, InvalidArgument, NotFound

if TYPE_CHECKING:
    from pyengine.containers import shims
    from pyengine.containers.service import ContainerService

DEFAULT_PS_ARGS = ("-ef",)


def _running_shim(service: ContainerService, c: Container) -> shims.Shim:
    shim = service.shim_of(c.id) if c.state.status == RUNNING else None
    if shim is None:
        raise FailedPrecondition(f"Container {c.id} is not running")
    return shim


async def _set_paused(service: ContainerService, c: Container, paused: bool) -> None:
    await asyncio.to_thread(service.repo.set_paused, c.id, paused)
    service.events.publish("container", "pause" if paused else "unpause", c.id, name=c.name,
                           image=c.image_name)


async def pause(service: ContainerService, ref: str) -> None:
    c = await asyncio.to_thread(service.get, ref)
    shim = _running_shim(service, c)
    if c.state.paused:
        raise FailedPrecondition(f"Container {c.id} is already paused")
    await shim.pause()
    await _set_paused(service, c, True)


async def unpause(service: ContainerService, ref: str) -> None:
    c = await asyncio.to_thread(service.get, ref)
    if not c.state.paused or c.state.status != RUNNING:
        raise FailedPrecondition(f"Container {c.id} is not paused")
    shim = _running_shim(service, c)
    await shim.resume()
    await _set_paused(service, c, False)


async def kill(service: ContainerService, ref: str, signal: str) -> None:
    """docker's kill with its texts: "Cannot kill container: c1: Container <id> is not
    running", "Cannot kill container: nosuch: No such container: nosuch" (a bad signal is
    "Invalid signal: BOGUS" alone)."""
    try:
        await service.kill(ref, signal)
    except (NotFound, FailedPrecondition) as err:
        raise type(err)(f"Cannot kill container: {ref}: {err}") from err


async def resize(service: ContainerService, ref: str, height: int, width: int) -> None:
    """The terminal size of a running container's tty."""
    c = await asyncio.to_thread(service.get, ref)
    await _running_shim(service, c).resize(height, width)


async def thaw_after_signal(service: ContainerService, c: Container, signal: int) -> None:
    """docker's kill and stop of a paused container: the stop signal or SIGKILL is delivered
    once the container is thawed, so it is unpaused after the signal was sent."""
    if not c.state.paused:
        return
    stop_signal = c.config.get("stop_signal") or "SIGTERM"
    from pyengine.containers.service import parse_signal

    if signal not in (signals.SIGKILL, parse_signal(stop_signal)):
        return
    shim = service.shim_of(c.id)
    if shim is None:
        return
    try:
        await shim.resume()
    except EngineError:
        return  # exited meanwhile
    c.state.paused = False
    await _set_paused(service, c, False)


def paused_exec_error(ref: str) -> FailedPrecondition:
    """docker names the container as it was asked for: "Container p1 is paused, ..."."""
    return FailedPrecondition(f"Container {ref} is paused, unpause the container before exec")


# -- top --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProcessList:
    titles: list[str]
    processes: list[list[str]]


def parse_ps(output: str, pids: set[int]) -> ProcessList:
    """ps' table, rows of `pids` only; the last column keeps its spaces (the command)."""
    lines = output.splitlines()
    if not lines:
        raise InvalidArgument("ps printed nothing")
    titles = lines[0].split()
    if "PID" not in titles:
        raise InvalidArgument("Couldn't find PID field in ps output")
    at = titles.index("PID")
    rows = []
    for line in lines[1:]:
        fields = line.split()
        if len(fields) <= at:
            continue
        try:
            pid = int(fields[at])
        except ValueError:
            continue
        if pid in pids:
            rows.append([*fields[:len(titles) - 1], " ".join(fields[len(titles) - 1:])])
    return ProcessList(titles, rows)


async def _ps(args: list[str]) -> tuple[int, bytes, bytes]:
    """ps, from a worker thread by subprocess (close_fds: no daemon socket reaches it)."""
    import subprocess

    done = await asyncio.to_thread(
        subprocess.run, ["ps", *args], stdin=subprocess.DEVNULL, capture_output=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}, check=False)
    return done.returncode, done.stdout, done.stderr


async def top(service: ContainerService, ref: str, ps_args: list[str]) -> ProcessList:
    c = await asyncio.to_thread(service.get, ref)
    shim = _running_shim(service, c)
    pids = await shim.pids()
    args = list(ps_args) or list(DEFAULT_PS_ARGS)
    for arg in args:  # docker's rule: a renamed column may not be titled PID but pid's
        key, sep, value = arg.partition("=")
        if sep and value.startswith("PID") and key != "pid":
            raise InvalidArgument(f'specifying "{key}={value}" is not allowed')
    try:
        # ps selects the pids itself (-q) when its other options allow, else all and we filter
        code, out, err = await _ps([*args, "-q", ",".join(str(p) for p in pids)])
        if code != 0:
            code, out, err = await _ps(args)
    except OSError as e:
        raise FailedPrecondition(f"ps: {e.strerror or e}") from e
    if code != 0:
        first = err.decode(errors="replace").strip().splitlines()
        raise InvalidArgument(f"ps: {first[0] if first else f'exit status {code}'}")
    return parse_ps(out.decode(errors="replace"), set(pids))


# -- update -----------------------------------------------------------------------------------

async def update(service: ContainerService, ref: str, change: resources.ResourceUpdate
                 ) -> list[str]:
    """Merge `change` into the container's record and bundle (so later starts keep it) and,
    when running, apply the resources through the shim; the warnings docker gives."""
    cid = (await asyncio.to_thread(service.get, ref)).id
    # one update of a container at a time: each reads the record, merges and writes it back
    # (and the bundle's config.json); two at once lost one of them
    lock = _update_locks.setdefault(cid, asyncio.Lock())
    async with lock:
        return await _update(service, cid, change)


_update_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


async def _update(service: ContainerService, cid: str, change: resources.ResourceUpdate
                  ) -> list[str]:
    c = await asyncio.to_thread(service.get, cid)
    if c.state.status in ("removing", "dead"):
        raise FailedPrecondition(f"Container {c.id} is marked for removal and cannot be "
                                 "updated")
    resources.merge(c.spec, change, os.sysconf("SC_NPROCESSORS_ONLN"))
    touches_resources = any(getattr(change, name) is not None for name in (
        "memory", "memory_swap", "nano_cpus", "cpu_shares", "cpu_quota", "cpu_period",
        "cpuset_cpus", "pids_limit"))
    shim = service.shim_of(c.id) if c.state.status == RUNNING else None
    if shim is not None and touches_resources:
        try:
            await shim.update(resources.linux_resources(c.spec))
        except EngineError as err:
            raise FailedPrecondition(f"Cannot update container {c.id}: {err}") from err
    bundle = service.bundles / c.id
    if (bundle / "config.json").exists():  # not while a start writes it (its user, links)
        spec = c.spec
        async with service.start_lock(c.id):
            await asyncio.to_thread(rewrite_config, bundle,
                                    lambda config: resources.apply_to_config(config, spec))
    await asyncio.to_thread(service.repo.save_spec, c.id, c.spec)
    service.events.publish("container", "update", c.id, name=c.name, image=c.image_name)
    return []
