"""One stage's state while it is built: the image config so far, the ARGs in scope, the layers
and history so far and the running cache key."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

DEFAULT_SHELL = ("/bin/sh", "-c")


@dataclass(frozen=True)
class BuiltLayer:
    chain_id: str
    diff_id: str
    blob_digest: str
    blob_size: int
    media_type: str


@dataclass
class StageState:
    name: str  # `AS name` or the index as a string
    base_id: str  # the base image's id, "" for scratch
    config: dict  # the image config (with its "config" section), a private copy
    layers: list[BuiltLayer] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    args: dict[str, str | None] = field(default_factory=dict)  # ARGs declared in the stage
    key: str = ""
    docker_media: bool = True  # the base's manifest is docker's (else OCI)
    created: str = ""  # the newest layer's time (the config's `created`)
    cmd_set: bool = False  # this stage set CMD (ENTRYPOINT then keeps it)

    @property
    def section(self) -> dict:
        return self.config.setdefault("config", {})

    @property
    def chain_id(self) -> str | None:
        return self.layers[-1].chain_id if self.layers else None

    @property
    def shell(self) -> tuple[str, ...]:
        return tuple(self.section.get("Shell") or DEFAULT_SHELL)

    @property
    def env(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for item in self.section.get("Env") or []:
            key, _, value = str(item).partition("=")
            out[key] = value
        return out

    def set_env(self, key: str, value: str) -> None:
        items = [e for e in self.section.get("Env") or [] if str(e).partition("=")[0] != key]
        self.section["Env"] = [*items, f"{key}={value}"]

    @classmethod
    def from_base(cls, name: str, base_id: str, base_config: dict,
                  docker_media: bool) -> StageState:
        config = copy.deepcopy(base_config)
        for key in ("container", "container_config", "comment", "author"):
            config.pop(key, None)
        config.setdefault("config", {})
        return cls(name=name, base_id=base_id, config=config, history=list(
            config.get("history") or []), docker_media=docker_media)
