"""What one build is asked to do (the gRPC edge fills it from BuildOptions) and the events it
reports while it runs (the edge turns them into BuildEvent messages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyengine.images.service import RegistryAuth


@dataclass(frozen=True)
class BuildOptions:
    tags: tuple[str, ...] = ()
    dockerfile: str = "Dockerfile"  # the path inside the context
    build_args: dict[str, str] = field(default_factory=dict)
    target: str = ""
    no_cache: bool = False
    cache_from: tuple[str, ...] = ()  # images whose steps a build may take (cache_from.py)
    pull: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    network: str = ""  # RUN's network: "" (the default bridge), none, host, a network
    quiet: bool = False
    platform: str = ""
    dockerfile_content: bytes | None = None  # the Dockerfile when it is not in the context
    secrets: dict[str, bytes] = field(default_factory=dict, repr=False)
    extra_hosts: tuple[str, ...] = ()
    ignore_file: str | None = None  # .dockerignore sent beside a non-directory context
    # credentials for the base images' registries (docker's X-Registry-Config), one each
    registry_auths: tuple[RegistryAuth, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class StepStarted:
    index: int
    total: int
    stage: str
    stage_index: int
    stage_steps: int
    instruction: str
    container_id: str = ""


@dataclass(frozen=True)
class StepDone:
    index: int
    cached: bool
    duration_ns: int
    result_id: str = ""


@dataclass(frozen=True)
class StepOutput:
    index: int
    stream: int  # 1 stdout, 2 stderr
    data: bytes


@dataclass(frozen=True)
class BuildWarning:
    text: str


@dataclass(frozen=True)
class PullProgress:
    """One report of a FROM (or COPY --from) image's pull, as `pull` streams them."""

    id: str  # a layer's short id, "" for the whole pull
    status: str
    current: int = 0
    total: int = 0


BuildEventValue = StepStarted | StepDone | StepOutput | BuildWarning | PullProgress


@dataclass(frozen=True)
class BuildResultValue:
    image_id: str
    tags: tuple[str, ...]
