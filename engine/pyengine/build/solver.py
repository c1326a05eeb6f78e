"""One build: the stages --target needs, built as asyncio tasks (a stage awaits the stages it
names), each instruction applied to its StageState, layer steps looked up in the build cache
and otherwise made (RUN through a container, COPY/ADD into a mounted snapshot), the target
stage exported as an image."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyengine.build import cache_from, cachekeys, history
from pyengine.build.cache import CacheRecord
from pyengine.build.dockerfile import instructions as ins
from pyengine.build.options import (
    BuildEventValue,
    BuildOptions,
    BuildResultValue,
    BuildWarning,
    PullProgress,
    StepDone,
    StepOutput,
    StepStarted,
)
from pyengine.build.stage_state import BuiltLayer, StageState
from pyengine.errors import InvalidArgument, NotFound
from pyengine.progress import ProgressChannel
from pyengine.store.records import now_rfc3339

if TYPE_CHECKING:
    from pyengine.build.layers import LayerMaker
    from pyengine.build.service import BuilderService
    from pyengine.images.service import RegistryAuth

# docker's predefined args: usable without an ARG, never in the cache key or history
PREDEFINED = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
              "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


@dataclass
class StageResult:
    state: StageState
    key: str


@dataclass
class Step:
    index: int
    total: int
    stage: str
    stage_index: int
    stage_steps: int


class _PullChannel(ProgressChannel):
    def __init__(self, emit: Callable[[BuildEventValue], None],
                 loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._emit = emit
        self._loop = loop

    def report(self, id: str, status: str, current: int = 0, total: int = 0) -> None:
        self.check()
        self._loop.call_soon_threadsafe(self._emit, PullProgress(id, status, current, total))


@dataclass
class Solver:
    service: BuilderService
    build_id: str
    options: BuildOptions
    context: Path
    dockerfile: ins.Dockerfile
    emit: Callable[[BuildEventValue], None]
    maker: LayerMaker
    scratch: Path  # per-build scratch dir (secrets under the exec root go elsewhere)
    secrets_dir: Path
    context_ignore: str | None = None  # the .dockerignore COPY/ADD apply to the context
    consumed: set[str] = field(default_factory=set)
    _results: dict[int, asyncio.Future[StageResult]] = field(default_factory=dict)
    _steps: dict[int, int] = field(default_factory=dict)  # stage index -> first step number
    _total: int = 0
    _meta: dict[str, str] = field(default_factory=dict)
    _announced: set[int] = field(default_factory=set)
    _sources: list[cache_from.CacheSource] | None = None  # --cache-from's images, if named

    # -- the plan -------------------------------------------------------------------------

    def _meta_args(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for arg in self.dockerfile.global_args:
            for decl in arg.args:
                self.consumed.add(decl.name)
                if decl.name in self.options.build_args:
                    out[decl.name] = self.options.build_args[decl.name]
                elif decl.default is not None:
                    out[decl.name] = _expand(decl.default, out, self.dockerfile.escape)
        return out

    def _target(self) -> ins.Stage:
        if not self.dockerfile.stages:
            raise InvalidArgument("the Dockerfile has no FROM instruction")
        if not self.options.target:
            return self.dockerfile.stages[-1]
        stage = self.dockerfile.stage(self.options.target)
        if stage is None:
            raise NotFound(f"failed to reach build target {self.options.target} in Dockerfile")
        return stage

    def _base_ref(self, stage: ins.Stage, meta: Mapping[str, str]) -> str:
        return _expand(stage.base.image, meta, self.dockerfile.escape)

    def _deps(self, stage: ins.Stage, meta: Mapping[str, str]) -> list[ins.Stage]:
        """The earlier stages `stage` names (FROM, COPY --from, RUN --mount from=)."""
        names = [self._base_ref(stage, meta)]
        for instruction in stage.instructions:
            flag = instruction.flag("from")
            if isinstance(instruction, ins.Copy) and flag is not None and flag.value:
                names.append(flag.value)
            if isinstance(instruction, ins.Run):
                for csv in instruction.mounts:
                    for part in csv.split(","):
                        key, _, value = part.partition("=")
                        if key.strip() == "from":
                            names.append(value)
        out = []
        for name in names:
            found = self._stage_named(name, before=stage.index)
            if found is not None:
                out.append(found)
        return out

    def _stage_named(self, name: str, before: int) -> ins.Stage | None:
        found = self.dockerfile.stage(name)
        if found is not None and found.index < before:
            return found
        return None

    async def solve(self) -> BuildResultValue:
        if self.options.cache_from and not self.options.no_cache:
            self._sources = await asyncio.to_thread(cache_from.load, self.service.images,
                                                    self.options.cache_from)
        meta = self._meta_args()
        target = self._target()
        needed: dict[int, ins.Stage] = {}
        pending = [target]
        while pending:
            stage = pending.pop()
            if stage.index not in needed:
                needed[stage.index] = stage
                pending.extend(self._deps(stage, meta))
        for index in sorted(needed):
            self._steps[index] = self._total + 1
            self._total += 1 + len(needed[index].instructions)
        loop = asyncio.get_running_loop()
        self._results = {index: loop.create_future() for index in needed}
        tasks = [asyncio.create_task(self._stage_task(needed[i], meta)) for i in sorted(needed)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]  # checked not None above
            result = self._results[target.index].result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        unused = sorted(set(self.options.build_args) - self.consumed - set(PREDEFINED))
        if unused:
            self.emit(BuildWarning(
                f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed"))
        return await self._export(result.state)

    async def _stage_task(self, stage: ins.Stage, meta: Mapping[str, str]) -> None:
        future = self._results[stage.index]
        try:
            result = await self._build_stage(stage, meta)
        except BaseException as err:
            if not future.done():
                future.set_exception(err)
                future.exception()  # retrieved: no "never retrieved" warning
            raise
        future.set_result(result)

    async def _dep(self, name: str, before: int) -> StageResult | None:
        found = self._stage_named(name, before)
        if found is None:
            return None
        return await self._results[found.index]

    # -- a stage --------------------------------------------------------------------------

    def _step(self, stage: ins.Stage, n: int) -> Step:
        total = 1 + len(stage.instructions)
        return Step(self._steps[stage.index] + n, self._total, stage.name or str(stage.index),
                    n + 1, total)

    def _start(self, step: Step, text: str, container_id: str = "") -> int:
        self._announce(step, text, container_id)
        return time.monotonic_ns()

    def _announce(self, step: Step, text: str, container_id: str = "") -> None:
        """One BuildStep event per step: a RUN step's comes once its container exists (with
        its id), or at once on a cache hit or a failure before the container."""
        if step.index in self._announced:
            return
        self._announced.add(step.index)
        self.emit(StepStarted(step.index, step.total, step.stage, step.stage_index,
                              step.stage_steps, text, container_id))

    def _done(self, step: Step, started: int, cached: bool, result: str = "") -> None:
        self.emit(StepDone(step.index, cached, time.monotonic_ns() - started, result))

    async def _build_stage(self, stage: ins.Stage, meta: Mapping[str, str]) -> StageResult:
        step = self._step(stage, 0)
        started = self._start(step, stage.base.original)
        ref = self._base_ref(stage, meta)
        parent = await self._dep(ref, stage.index)
        if parent is not None:
            state = copy.deepcopy(parent.state)
            state.name, state.args = stage.name or str(stage.index), {}
            state.key = cachekeys.extend(parent.key, "from-stage")
        else:
            state = await self._from_image(ref, stage)
            state.key = cachekeys.start(state.base_id)
        self._done(step, started, cached=False, result=state.base_id)
        if "PATH" not in state.env:  # BuildKit's rule (buildah's too): every image has a PATH
            from pyengine.bundles.defaults import DEFAULT_PATH

            state.set_env("PATH", DEFAULT_PATH)
        state.args = {}
        self._meta = dict(meta)
        state.cmd_set = False
        await self._onbuild(state, stage)
        for n, instruction in enumerate(stage.instructions, start=1):
            step = self._step(stage, n)
            started = time.monotonic_ns()
            if not isinstance(instruction, ins.Run):
                self._announce(step, instruction.original)
            candidates = [] if self._sources is None else cache_from.continuing(
                self._sources, state.history, [layer.diff_id for layer in state.layers])
            layers, entries = len(state.layers), len(state.history)
            try:
                cached, result = await self._apply(state, instruction, step, stage)
            finally:
                self._announce(step, instruction.original)
            if candidates and not cached and len(state.layers) == layers:
                cached = cache_from.restore_metadata(candidates, state, entries)
            self._done(step, started, cached, result)
        return StageResult(state, state.key)

    async def _from_image(self, ref: str, stage: ins.Stage) -> StageState:
        name = stage.name or str(stage.index)
        if ref.lower() == "scratch":
            return StageState(name=name, base_id="", config={"config": {}})
        record = await self._image(ref, self.options.pull)
        images = self.service.images
        config = await asyncio.to_thread(images.config_of, record)
        manifest = json.loads(await asyncio.to_thread(images.content.read_bytes,
                                                      record.manifest_digest))
        from pyengine.images import mediatypes
        from pyengine.images.layers import chain_ids

        docker = mediatypes.manifest_type(manifest) == mediatypes.DOCKER_MANIFEST
        diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        chains = chain_ids(diff_ids)
        refs = manifest.get("layers") or []
        state = StageState.from_base(name, record.id, config, docker)
        state.layers = [BuiltLayer(chain, diff, d["digest"], int(d["size"]), d["mediaType"])
                        for chain, diff, d in zip(chains, diff_ids, refs, strict=True)]
        state.created = str(config.get("created") or "")
        await asyncio.to_thread(self.service.pin, self.maker.lease_id, chains,
                                [layer.blob_digest for layer in state.layers])
        return state

    async def _image(self, ref: str, pull: bool) -> Any:
        images = self.service.images
        if not pull:
            try:
                return await asyncio.to_thread(images.resolve_local, ref)
            except NotFound:
                pass
        channel = _PullChannel(self.emit, asyncio.get_running_loop())
        try:
            name = await asyncio.to_thread(images.pull, ref, channel,
                                           platform=self.options.platform,
                                           auth=self._auth_for(ref))
        except asyncio.CancelledError:
            channel.cancel()  # the pull's thread stops at its next report
            raise
        return await asyncio.to_thread(images.resolve_local, name)

    def _auth_for(self, ref: str) -> RegistryAuth | None:
        """The client's credentials for `ref`'s registry, if it sent some."""
        from pyengine.images import naming

        host = naming.parse(ref).domain
        return next((a for a in self.options.registry_auths if a.matches(host)), None)

    async def _onbuild(self, state: StageState, stage: ins.Stage) -> None:
        triggers = list(state.section.get("OnBuild") or [])
        if not triggers:
            return
        state.section["OnBuild"] = None
        from pyengine.build.dockerfile.parser import parse

        text = "FROM scratch\n" + "\n".join(triggers) + "\n"
        parsed = parse(text, f"{self.dockerfile.file} (ONBUILD of the base)")
        step = self._step(stage, 0)
        for instruction in parsed.stages[0].instructions:
            await self._apply(state, instruction, step, stage)

    # -- instructions ---------------------------------------------------------------------

    def _vars(self, state: StageState) -> dict[str, str]:
        """What ${X} sees: the stage's ARGs with values, then its ENV on top."""
        out = {k: v for k, v in state.args.items() if v is not None}
        out.update(state.env)
        return out

    def _x(self, state: StageState, word: str) -> str:
        return _expand(word, self._vars(state), self.dockerfile.escape)

    def _nop(self, state: StageState, keyword: str, text: str) -> None:
        state.history.append({"created": state.created or now_rfc3339(),
                              "created_by": history.metadata(state.shell, keyword, text),
                              "empty_layer": True})
        state.key = cachekeys.extend(state.key, f"{keyword} {text}")

    async def _apply(self, state: StageState, i: ins.Instruction, step: Step,
                     stage: ins.Stage) -> tuple[bool, str]:
        section = state.section
        if isinstance(i, ins.Arg):
            for decl in i.args:
                self.consumed.add(decl.name)
                if decl.name in self.options.build_args:
                    value: str | None = self.options.build_args[decl.name]
                elif decl.default is not None:
                    value = self._x(state, decl.default)
                else:
                    value = self._meta.get(decl.name)
                state.args[decl.name] = value
                state.key = cachekeys.extend(state.key, f"ARG {decl.name}")
                # docker's classic builder records the ARG as written, its default unexpanded
                text = decl.name if decl.default is None else f"{decl.name}={decl.default}"
                state.history.append({"created": state.created or now_rfc3339(),
                                      "created_by": history.metadata(state.shell, "ARG", text),
                                      "empty_layer": True})
            return False, ""
        if isinstance(i, ins.Env):
            pairs = []
            for pair in i.pairs:
                key, value = self._x(state, pair.key), self._x(state, pair.value)
                state.set_env(key, value)
                pairs.append(f"{key}={value}")
            self._nop(state, "ENV", " ".join(pairs))
        elif isinstance(i, ins.Label):
            labels = dict(section.get("Labels") or {})
            pairs = []
            for pair in i.pairs:
                key, value = self._x(state, pair.key), self._x(state, pair.value)
                labels[key] = value
                pairs.append(f"{key}={value}")
            section["Labels"] = labels
            self._nop(state, "LABEL", " ".join(pairs))
        elif isinstance(i, ins.Workdir):
            path = self._x(state, i.path)
            if not path.startswith("/"):
                path = (section.get("WorkingDir") or "/").rstrip("/") + "/" + path
            section["WorkingDir"] = path
            self._nop(state, "WORKDIR", path)
        elif isinstance(i, ins.User):
            section["User"] = self._x(state, i.user)
            self._nop(state, "USER", section["User"])
        elif isinstance(i, ins.Shell):
            section["Shell"] = list(i.args)
            self._nop(state, "SHELL", history.go_list(i.args))
        elif isinstance(i, ins.Expose):
            ports = dict(section.get("ExposedPorts") or {})
            words = [self._x(state, p) for p in i.ports]
            for word in words:
                for port in word.split():
                    ports[port if "/" in port else f"{port}/tcp"] = {}
            section["ExposedPorts"] = ports
            self._nop(state, "EXPOSE", " ".join(words))
        elif isinstance(i, ins.Volume):
            volumes = dict(section.get("Volumes") or {})
            paths = [self._x(state, p) for p in i.paths]
            for path in paths:
                volumes[path] = {}
            section["Volumes"] = volumes
            self._nop(state, "VOLUME", history.go_list(paths))
        elif isinstance(i, (ins.Cmd, ins.Entrypoint)):
            words = list(i.command.args) if i.command.exec_form else \
                [*state.shell, i.command.shell_text]
            if isinstance(i, ins.Entrypoint):
                section["Entrypoint"] = words
                if not state.cmd_set:
                    section["Cmd"] = None  # docker: ENTRYPOINT resets an inherited CMD
            else:
                section["Cmd"] = words
                state.cmd_set = True
            self._nop(state, i.keyword, history.json_words(words))
        elif isinstance(i, ins.StopSignal):
            section["StopSignal"] = self._x(state, i.signal)
            self._nop(state, "STOPSIGNAL", section["StopSignal"])
        elif isinstance(i, ins.Healthcheck):
            check = section["Healthcheck"] = self._healthcheck(state, i)
            self._nop(state, "HEALTHCHECK", history.healthcheck(
                check["Test"], check.get("Interval", 0), check.get("Timeout", 0),
                check.get("StartPeriod", 0), check.get("Retries", 0)))
        elif isinstance(i, ins.Onbuild):
            section["OnBuild"] = [*(section.get("OnBuild") or []), i.text]
            self._nop(state, "ONBUILD", i.text)
        elif isinstance(i, ins.Maintainer):
            state.config["author"] = i.name
            self._nop(state, "MAINTAINER", i.name)
        elif isinstance(i, ins.Run):
            return await self._run(state, i, step)
        elif isinstance(i, ins.Copy):
            return await self._copy(state, i, step, stage)
        else:
            raise InvalidArgument(f"{i.location}: unsupported instruction {i.keyword}")
        return False, ""

    def _healthcheck(self, state: StageState, i: ins.Healthcheck) -> dict[str, Any]:
        """docker's HealthConfig: Test, then the durations (ns) and retries given."""
        if i.command is None:
            return {"Test": ["NONE"]}
        test = ["CMD", *i.command.args] if i.command.exec_form else \
            ["CMD-SHELL", i.command.shell_text]
        out: dict[str, Any] = {"Test": test}
        for key, word in (("Interval", i.interval), ("Timeout", i.timeout),
                          ("StartPeriod", i.start_period), ("StartInterval", i.start_interval)):
            if word:
                out[key] = _duration(self._x(state, word))
        if i.retries:
            retries = self._x(state, i.retries)
            if not retries.isdigit():
                raise InvalidArgument(f"{i.location}: HEALTHCHECK --retries: not a number: "
                                      f"{retries}")
            out["Retries"] = int(retries)
        return out

    # -- layer steps ----------------------------------------------------------------------

    async def _cached(self, key: str) -> CacheRecord | None:
        if self.options.no_cache or self._sources is not None:  # --cache-from: its images only
            return None
        return await asyncio.to_thread(self.service.cache_hit, key, self.maker)

    def _add_layer(self, state: StageState, key: str, record: CacheRecord) -> None:
        state.layers.append(BuiltLayer(record.chain_id, record.diff_id, record.blob_digest,
                                       record.blob_size, record.media_type))
        state.history.append({"created": record.created, "created_by": record.created_by})
        state.key, state.created = key, record.created

    def _run_args(self, state: StageState) -> dict[str, str]:
        env = state.env
        out = {k: v for k, v in state.args.items() if v is not None and k not in env}
        return out

    async def _run(self, state: StageState, i: ins.Run, step: Step) -> tuple[bool, str]:
        from pyengine.build import run_step

        command = i.command
        if command.exec_form:
            args = list(command.args)
        else:
            text = command.shell_text
            if command.heredocs:
                if text.strip().startswith("<<") and len(command.heredocs) == 1:
                    text = command.heredocs[0].content
                else:
                    text += "\n" + "".join(f"{h.content}{h.name}\n" for h in command.heredocs)
            args = [*state.shell, text]
        build_args = self._run_args(state)
        flags = tuple(f"--{f.name}={f.value}" for f in i.flags)
        key = cachekeys.extend(state.key, cachekeys.run_part(" ".join(args), flags, build_args))
        created_by = history.run(state.shell, args if command.exec_form else [args[-1]],
                                 command.exec_form, build_args)
        if self._sources is not None:
            hit = cache_from.layer_step(self._sources, state, created_by)
            if hit is not None:
                self._announce(step, i.original)
                return await self._from_source(state, key, *hit)
        record = await self._cached(key)
        if record is not None:
            self._announce(step, i.original)
            self._add_layer(state, key, record)
            return True, record.chain_id
        predefined = {k: v for k, v in self.options.build_args.items() if k in PREDEFINED}
        env = [*(f"{k}={v}" for k, v in {**predefined, **build_args}.items())]
        variables = self._vars(state)
        mounts = [_expand(m, variables, self.dockerfile.escape) for m in i.mounts]
        network = self._x(state, i.network) if i.network else ""
        network = self.options.network if network in ("", "default") else network
        parent = state.chain_id
        snapshot = await asyncio.to_thread(self.maker.prepare, parent)
        view_keys: list[str] = []
        try:
            roots: dict[str, Path] = {}
            for csv in mounts:
                source = _option(csv, "from")
                if source is not None and source not in roots:
                    roots[source] = await self._source_root(source, state, view_keys)
            plan = await asyncio.to_thread(
                run_step.plan_mounts, mounts, self.context,
                self.service.cache_mounts / "", self.secrets_dir, self.options.secrets,
                roots.__getitem__)
            image_config = copy.deepcopy(state.config)
            for gone in ("Entrypoint", "Cmd", "Volumes", "Healthcheck"):
                image_config["config"].pop(gone, None)
            req = run_step.RunRequest(
                args=args, env=env, user=str(state.section.get("User") or ""),
                workdir=str(state.section.get("WorkingDir") or "/"), network=network,
                snapshot=snapshot, image_config=image_config, image_id=state.base_id,
                binds=plan.binds, tmpfs=plan.tmpfs, add_hosts=list(self.options.extra_hosts))

            def output(stream: int, data: bytes) -> None:
                if not self.options.quiet:
                    self.emit(StepOutput(step.index, stream, data))

            def started(cid: str) -> None:
                self._announce(step, i.original, cid)

            async with contextlib.AsyncExitStack() as locks:
                for cache_id in sorted(plan.exclusive):  # sorted: no lock-order deadlock
                    await locks.enter_async_context(self.service.cache_lock(cache_id))
                await run_step.run(self.service.containers, req, output, started)
            layer = await asyncio.to_thread(self.maker.commit, snapshot, parent,
                                            state.docker_media,
                                            run_step.mount_point_skip(plan.targets))
        except BaseException:
            await asyncio.to_thread(self.maker.discard, snapshot)
            raise
        finally:
            await self._release(view_keys)
        return await self._recorded(state, key, layer, i, created_by)

    async def _from_source(self, state: StageState, key: str, layer: BuiltLayer,
                           entry: dict) -> tuple[bool, str]:
        """A layer step taken from a --cache-from image, its layers kept for this build."""
        state.layers.append(layer)
        state.history.append(entry)
        state.key, state.created = key, str(entry.get("created") or state.created)
        await asyncio.to_thread(self.service.pin, self.maker.lease_id,
                                [held.chain_id for held in state.layers],
                                [held.blob_digest for held in state.layers])
        return True, layer.chain_id

    async def _release(self, views: list[str]) -> None:
        for view in views:
            await asyncio.to_thread(self.maker.release_view, view)

    async def _recorded(self, state: StageState, key: str, layer: BuiltLayer,
                        i: ins.Instruction, created_by: str) -> tuple[bool, str]:
        """A layer just made: into the cache, onto the stage."""
        record = await asyncio.to_thread(self.service.record, key, layer, i.original,
                                         created_by)
        self._add_layer(state, key, record)
        return False, record.chain_id

    async def _source_root(self, name: str, state: StageState, views: list[str]) -> Path:
        """A stage's or image's rootfs, mounted on a scratch dir for this step."""
        chain, _ = await self._source_chain(name, state)
        key, path = await asyncio.to_thread(self.maker.view, chain)
        views.append(key)
        return path

    async def _source_chain(self, name: str, state: StageState) -> tuple[str | None, str]:
        """(chain id, cache-key part) of COPY --from's source: a stage or an image."""
        stage_index = int(state.name) if state.name.isdigit() else None
        before = stage_index if stage_index is not None else self._index_of(state.name)
        dep = await self._dep(name, before)
        if dep is not None:
            return dep.state.chain_id, dep.key
        record = await self._image(name, False)
        return record.chain_id or None, record.id

    def _index_of(self, name: str) -> int:
        found = self.dockerfile.stage(name)
        return found.index if found is not None else len(self.dockerfile.stages)

    async def _copy(self, state: StageState, i: ins.Copy, step: Step,
                    stage: ins.Stage) -> tuple[bool, str]:
        from pyengine.build.copyfiles import CopySpec
        from pyengine.build.sources import SourceTree, content_digest

        sources = tuple(self._x(state, s) for s in i.sources)
        written_dest = self._x(state, i.dest)
        workdir = str(state.section.get("WorkingDir") or "/")
        dest = copy_destination(workdir, written_dest)
        flags = {f.name: (self._x(state, f.value) if f.value is not None else None)
                 for f in i.flags}
        heredocs = tuple((h.name, _expand_heredoc(h.content, self._vars(state)) if h.expand
                          else h.content) for h in i.heredocs)
        spec = CopySpec(sources=sources, dest=dest, chown=flags.get("chown"),
                        chmod=flags.get("chmod"), heredocs=heredocs)
        text = " ".join([i.keyword, *(f"--{k}={v}" for k, v in sorted(flags.items())),
                         *sources, dest])
        source_from = flags.get("from")
        views: list[str] = []
        snapshot: str | None = None
        try:
            if source_from:
                chain, part = await self._source_chain(source_from, state)
                view_key, root = await asyncio.to_thread(self.maker.view, chain)
                views.append(view_key)
                tree = SourceTree(root=root)
                content = "from:" + part
                if not heredocs:
                    content += ":" + await asyncio.to_thread(content_digest, tree, sources,
                                                             i.keyword)
            else:
                tree = SourceTree(root=self.context, ignore=self._ignore_matcher())
                content = ("heredoc:" + json.dumps(heredocs)) if heredocs and not sources \
                    else await asyncio.to_thread(self._content_digest, tree, sources, i)
            key = cachekeys.extend(state.key, cachekeys.copy_part(text, content))
            record = await self._cached(key)
            if record is not None:
                self._add_layer(state, key, record)
                return True, record.chain_id
            parent = state.chain_id
            snapshot = await asyncio.to_thread(self.maker.prepare, parent)
            detail = await asyncio.to_thread(self._write, snapshot, tree, spec, i, flags,
                                             workdir)
            created_by = history.copy(state.shell, i.keyword, detail, written_dest)
            layer = await asyncio.to_thread(self.maker.commit, snapshot, parent,
                                            state.docker_media)
            snapshot = None
        except BaseException:
            if snapshot is not None:
                await asyncio.to_thread(self.maker.discard, snapshot)
            raise
        finally:
            await self._release(views)
        return await self._recorded(state, key, layer, i, created_by)

    def _ignore_matcher(self) -> Any:
        if not self.context_ignore:
            return None
        from pyengine.build.ignore import IgnoreMatcher

        return IgnoreMatcher.parse(self.context_ignore)

    def _content_digest(self, tree: Any, sources: tuple[str, ...], i: ins.Copy) -> str:
        from pyengine.build.sources import content_digest

        digest = content_digest(tree, sources, i.keyword)  # URLs are left out
        if not i.is_add:
            return digest
        from pyengine.build.fetch import url_digest

        checksum = i.flag("checksum")
        return "\0".join([digest, *(url_digest(s, checksum.value if checksum else None)
                                    for s in sources if _is_url(s))])

    def _write(self, snapshot: str, tree: Any, spec: Any, i: ins.Copy,
               flags: dict[str, str | None], workdir: str) -> str:
        with self.maker.mounted(snapshot) as rootfs:
            _make_workdir(rootfs, workdir)
            if not i.is_add:
                from pyengine.build.copyfiles import copy_into

                return copy_into(tree, spec, rootfs, i.keyword)
            from pyengine.build.addfiles import add_into

            downloads = self.scratch / "downloads"
            downloads.mkdir(mode=0o700, parents=True, exist_ok=True)
            return add_into(tree, spec, rootfs, flags.get("checksum"), downloads)

    # -- export ---------------------------------------------------------------------------

    async def _export(self, state: StageState) -> BuildResultValue:
        from pyengine.build import export
        from pyengine.images import naming

        if self.options.labels:
            labels = dict(state.section.get("Labels") or {})
            labels.update(self.options.labels)
            state.section["Labels"] = labels
        arch, os_name = self.service.platform()
        created = state.created or now_rfc3339()
        config = export.image_config(state, created, arch, os_name)
        names = [naming.tag_name(naming.parse(t)) for t in self.options.tags]
        image_id = await asyncio.to_thread(
            self.service.record_image, config, export.layer_refs(state),
            state.docker_media, names, self.maker.lease_id)
        return BuildResultValue(image_id, tuple(names))


def _expand(word: str, env: Mapping[str, str], escape: str) -> str:
    from pyengine.build.dockerfile.expand import expand

    return expand(word, env, escape)


def copy_destination(workdir: str, dest: str) -> str:
    """COPY/ADD's destination as docker resolves it: a relative one joined with WORKDIR
    (cleaned); one ending in "/" or naming a directory by "." or ".." keeps a trailing "/"
    (it is a directory to copy into)."""
    import posixpath

    as_dir = dest.endswith("/") or dest in (".", "..") or dest.endswith(("/.", "/.."))
    joined = posixpath.normpath(posixpath.join("/", workdir, dest))
    joined = "/" + joined.lstrip("/")
    return joined.rstrip("/") + "/" if as_dir else joined


def _make_workdir(rootfs: Path, workdir: str) -> None:
    """WORKDIR's directory, made (with its parents, inside the rootfs) by the first COPY/ADD
    after it, as BuildKit does; RUN's runtime makes it for RUN."""
    if workdir.strip("/") == "":
        return
    from pyengine.build.destination import DestWriter, Owner

    with DestWriter(rootfs, Owner()) as writer:
        resolved = writer.resolve(workdir)
        if not resolved.exists:
            writer.ensure_dir(resolved.path)


def _expand_heredoc(content: str, env: Mapping[str, str]) -> str:
    from pyengine.build.dockerfile.expand import expand_heredoc

    return expand_heredoc(content, env)


def _option(csv: str, name: str) -> str | None:
    for part in csv.split(","):
        key, eq, value = part.partition("=")
        if eq and key.strip().lower() == name:
            return value
    return None


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _duration(text: str | None, default: int = 0) -> int:
    from pyengine.timevalues import go_duration

    if not text:
        return default
    value = go_duration(text)
    if value is None:
        raise InvalidArgument(f"HEALTHCHECK: invalid duration {text}")
    return value



