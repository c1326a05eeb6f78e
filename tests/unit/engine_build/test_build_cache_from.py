"""--cache-from's matching (build/cache_from.py) on StageStates built here: a source image is
used while its history and layers continue the stage's, a metadata step takes the source's
entries (and times), a layer step its next layer, and a step made by another instruction, or
a stage that went its own way, takes nothing."""

from __future__ import annotations

from pyengine.build.cache_from import CacheSource, continuing, layer_step, restore_metadata
from pyengine.build.stage_state import BuiltLayer, StageState

BASE = BuiltLayer("sha256:c0", "sha256:d0", "sha256:b0", 10, "m")
RUN = BuiltLayer("sha256:c1", "sha256:d1", "sha256:b1", 20, "m")
IMPORTED = {"created": "2026-01-01T00:00:00Z", "created_by": "import"}
ENV = {"created": "2026-01-02T00:00:00Z", "created_by": "/bin/sh -c #(nop)  ENV A=b",
       "empty_layer": True}
TOUCH = {"created": "2026-01-03T00:00:00Z", "created_by": "/bin/sh -c touch /x"}
SOURCE = CacheSource("sha256:img", [IMPORTED, ENV, TOUCH], [BASE, RUN])


def _stage() -> StageState:
    return StageState(name="0", base_id="sha256:base", config={"config": {}},
                      layers=[BASE], history=[dict(IMPORTED)])


def test_a_metadata_step_takes_the_sources_entry() -> None:
    state = _stage()
    candidates = continuing([SOURCE], state.history, ["sha256:d0"])
    assert candidates == [SOURCE]
    state.history.append({"created": "now", "created_by": ENV["created_by"],
                          "empty_layer": True})
    assert restore_metadata(candidates, state, 1)
    assert state.history[1] == ENV and state.created == ENV["created"]
    other = _stage()
    other.history.append({"created": "now", "created_by": "/bin/sh -c #(nop)  ENV A=c",
                          "empty_layer": True})
    assert not restore_metadata(candidates, other, 1)
    assert not restore_metadata(candidates, _stage(), 1)  # the step made no entry


def test_a_layer_step_takes_the_sources_next_layer() -> None:
    state = _stage()
    state.history.append(dict(ENV))
    assert layer_step([SOURCE], state, TOUCH["created_by"]) == (RUN, TOUCH)
    assert layer_step([SOURCE], state, "/bin/sh -c touch /y") is None
    diverged = _stage()
    diverged.history.append({**ENV, "created_by": "/bin/sh -c #(nop)  ENV A=c"})
    assert continuing([SOURCE], diverged.history, ["sha256:d0"]) == []
    assert layer_step([SOURCE], diverged, TOUCH["created_by"]) is None
    other_base = _stage()
    other_base.layers = [BuiltLayer("sha256:c9", "sha256:d9", "sha256:b9", 1, "m")]
    other_base.history.append(dict(ENV))
    assert layer_step([SOURCE], other_base, TOUCH["created_by"]) is None
    done = _stage()
    done.history += [dict(ENV), dict(TOUCH)]
    done.layers.append(RUN)
    assert continuing([SOURCE], done.history, ["sha256:d0", "sha256:d1"]) == []
