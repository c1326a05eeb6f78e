"""RUN as a real container on the step's snapshot (ContainerService.create(rootfs=...)): its
output is forwarded while it runs, its exit code checked, and the container removed in every
case (a cancelled build kills it first). RUN --mount options become the container's binds and
tmpfs mounts; secrets are files under the exec root, never in the layer."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pyengine.build.errors import StepFailed
from pyengine.errors import EngineError, InvalidArgument

if TYPE_CHECKING:
    from pyengine.containers.fanout import Subscriber
    from pyengine.containers.service import ContainerService

STREAMS = {"stdout": 1, "stderr": 2}


@dataclass(frozen=True)
class RunRequest:
    args: list[str]  # the full command (shell + text, or the exec form)
    env: list[str]  # "k=v": the stage's Env plus the build args in scope
    user: str
    workdir: str
    network: str
    snapshot: str
    image_config: dict
    image_id: str
    binds: list[str] = field(default_factory=list)
    tmpfs: list[str] = field(default_factory=list)
    add_hosts: list[str] = field(default_factory=list)


@dataclass
class MountPlan:
    """What RUN --mount options turn into, and the targets to leave out of the layer."""

    binds: list[str] = field(default_factory=list)
    tmpfs: list[str] = field(default_factory=list)
    targets: set[str] = field(default_factory=set)
    exclusive: set[str] = field(default_factory=set)  # cache ids with sharing=locked|private


def plan_mounts(raw: list[str], context: Path, cache_root: Path, secrets_dir: Path,
                secrets: dict[str, bytes], stage_root: Callable[[str], Path]) -> MountPlan:
    """Blocking: RUN --mount csvs (expanded) -> binds and tmpfs; cache dirs made, secrets
    written (mode 0400)."""
    plan = MountPlan()
    for csv in raw:
        opts: dict[str, str] = {}
        for part in csv.split(","):
            key, eq, value = part.partition("=")
            opts[key.strip().lower()] = value if eq else "true"
        kind = opts.get("type", "bind")
        target = opts.get("target") or opts.get("dst") or opts.get("destination") or ""
        if kind == "secret":
            sid = opts.get("id") or os.path.basename(target)
            target = target or f"/run/secrets/{sid}"
            if sid not in secrets:
                if opts.get("required") == "true":
                    raise InvalidArgument(f"secret {sid} not found")
                continue
            secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = secrets_dir / _safe_name(sid)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o400)
            with os.fdopen(fd, "wb") as out:
                out.write(secrets[sid])
            plan.binds.append(f"{path}:{target}:ro")
        elif not target.startswith("/"):
            raise InvalidArgument(f"RUN --mount {csv}: the target must be an absolute path")
        elif kind == "tmpfs":
            plan.tmpfs.append(target)
        elif kind == "cache":
            cid = opts.get("id") or target
            sharing = opts.get("sharing", "shared")
            if sharing not in ("shared", "private", "locked"):
                raise InvalidArgument(f"RUN --mount {csv}: invalid sharing {sharing}")
            if sharing != "shared":  # private too: one user at a time (never a shared writer)
                plan.exclusive.add(_safe_name(cid))
            directory = cache_root / _safe_name(cid)
            directory.mkdir(mode=0o755, parents=True, exist_ok=True)
            plan.binds.append(f"{directory}:{target}")
        elif kind == "bind":
            root = stage_root(opts["from"]) if "from" in opts else context
            source = _inside(root, opts.get("source") or opts.get("src") or "/")
            mode = "rw" if opts.get("rw") == "true" or opts.get("readwrite") == "true" else "ro"
            plan.binds.append(f"{source}:{target}:{mode}")
        else:
            raise InvalidArgument(f"RUN --mount: unsupported mount type {kind}")
        plan.targets.add(target.strip("/"))
    return plan


def mount_point_skip(targets: set[str]) -> Callable[[str, os.stat_result], bool]:
    """archive.diff's skip: the runtime's own mount points and the RUN --mount targets when
    they are empty (made only to mount on)."""
    from pyengine.containers.changes import runtime_mount_point

    def skip(name: str, st: os.stat_result) -> bool:
        if name.strip("/") in targets:
            return (stat.S_ISDIR(st.st_mode) and st.st_nlink <= 2) or \
                (stat.S_ISREG(st.st_mode) and st.st_size == 0)
        return runtime_mount_point(name, st)

    return skip


async def run(containers: ContainerService, req: RunRequest,
              output: Callable[[int, bytes], None] | None,
              started: Callable[[str], None]) -> None:
    """Run the command to its end; StepFailed (docker 20.10's text) when it exits non-zero."""
    from pyengine.containers.model import ExternalRootfs, Spec

    spec = Spec(image=req.image_id, cmd=req.args, env=req.env, user=req.user,
                workdir=req.workdir, network=req.network, add_hosts=req.add_hosts,
                binds=req.binds, tmpfs=req.tmpfs, labels={})
    rootfs = ExternalRootfs(snapshot=req.snapshot, image_config=req.image_config,
                            image_id=req.image_id)
    c = await asyncio.to_thread(containers.create, spec, rootfs=rootfs)
    forward: asyncio.Task[None] | None = None
    try:
        started(c.id)
        _, _, subscriber = await containers.attach(c.id, ("stdout", "stderr"))
        forward = asyncio.create_task(_forward(subscriber, output))
        await containers.start(c.id)
        code = await containers.wait(c.id)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(forward), 10)
    finally:
        if forward is not None:
            forward.cancel()
        with contextlib.suppress(EngineError):
            await asyncio.shield(containers.remove(c.id, force=True))
    if code != 0:
        raise StepFailed(f"The command '{' '.join(req.args)}' returned a non-zero code: {code}",
                         code)


async def _forward(subscriber: Subscriber, output: Callable[[int, bytes], None] | None) -> None:
    try:
        while (item := await subscriber.get()) is not None:
            if output is not None:
                output(STREAMS.get(item[0], 1), item[1])
    finally:
        subscriber.close()


def remove_secrets(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text).strip(".") or "_"


def _inside(root: Path, relative: str) -> Path:
    """`relative` resolved inside `root`, never leaving it (symlinks and .. included)."""
    parts: list[str] = []
    for part in relative.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
        candidate = root.joinpath(*parts)
        if candidate.is_symlink():
            target = os.readlink(candidate)
            parts.pop()
            base = [] if target.startswith("/") else parts
            rest = _inside(root, "/".join([*base, target])).relative_to(root)
            parts = list(rest.parts)
    return root.joinpath(*parts)
