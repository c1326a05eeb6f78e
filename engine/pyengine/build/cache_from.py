"""docker's --cache-from (the classic builder's, dockerd 20.10's imageCache): with source
images named, a step is taken from one of them instead of being built when that image
continues the stage so far with this step: its history and diff_ids start with the stage's,
and its next history entry was made by the same instruction (the same created_by). The step
then gets that entry (its time too) and, for a layer step, the image's next layer. The local
build cache is not used in such a build: dockerd takes a local hit only when it is in a
source's lineage, which is the same match. Names that are no local image are left out, as
dockerd leaves them; none left means no cache at all.

COPY and ADD name their sources' digest in created_by only once written here, so they are
built again (dockerd would take them from a source too).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyengine.build.stage_state import BuiltLayer, StageState
from pyengine.errors import NotFound

if TYPE_CHECKING:
    from pyengine.images.service import ImageService


@dataclass(frozen=True)
class CacheSource:
    """One --cache-from image: its history and layers (base first)."""

    image_id: str
    history: list[dict]
    layers: list[BuiltLayer]

    @property
    def diff_ids(self) -> list[str]:
        return [layer.diff_id for layer in self.layers]


def load(images: ImageService, refs: Sequence[str]) -> list[CacheSource]:
    """The local images `refs` name (blocking); a name that is none is skipped."""
    from pyengine.images.layers import chain_ids

    out: list[CacheSource] = []
    for ref in refs:
        try:
            record = images.resolve_local(ref)
        except NotFound:
            continue
        config = images.config_of(record)
        manifest = json.loads(images.content.read_bytes(record.manifest_digest))
        diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        descriptors = manifest.get("layers") or []
        if len(descriptors) != len(diff_ids):
            continue  # not an image a build could stand on
        layers = [BuiltLayer(chain, diff, d["digest"], int(d["size"]), d["mediaType"])
                  for chain, diff, d in zip(chain_ids(diff_ids), diff_ids, descriptors,
                                            strict=True)]
        out.append(CacheSource(record.id, list(config.get("history") or []), layers))
    return out


def _made_by(entry: dict) -> tuple[str, bool]:
    return str(entry.get("created_by", "")), bool(entry.get("empty_layer"))


def continuing(sources: Sequence[CacheSource], history: Sequence[dict],
               diff_ids: Sequence[str]) -> list[CacheSource]:
    """The sources whose history and layers start with `history` and `diff_ids` and go on."""
    made = [_made_by(e) for e in history]
    return [s for s in sources if len(s.history) > len(history)
            and [_made_by(e) for e in s.history[:len(history)]] == made
            and s.diff_ids[:len(diff_ids)] == list(diff_ids)]


def restore_metadata(candidates: Sequence[CacheSource], state: StageState,
                     before: int) -> bool:
    """A step that made no layer (its history entries are state.history[before:]) taken from
    the first candidate that made the same entries: the stage gets its entries; whether one
    did."""
    made = [_made_by(e) for e in state.history[before:]]
    if not made:
        return False
    for source in candidates:
        theirs = source.history[before:before + len(made)]
        if [_made_by(e) for e in theirs] == made:
            state.history[before:] = [dict(e) for e in theirs]
            state.created = str(theirs[-1].get("created") or state.created)
            return True
    return False


def layer_step(sources: Sequence[CacheSource], state: StageState,
               created_by: str) -> tuple[BuiltLayer, dict] | None:
    """The layer and history entry a source has for a layer step made by `created_by` on
    the stage so far, or None."""
    for source in continuing(sources, state.history, [layer.diff_id for layer in state.layers]):
        entry = source.history[len(state.history)]
        if _made_by(entry) == (created_by, False) and len(source.layers) > len(state.layers):
            return source.layers[len(state.layers)], dict(entry)
    return None
