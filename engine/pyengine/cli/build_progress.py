"""pyctl build's progress, in BuildKit's plain style (`--progress=plain`).

Each piece of work is a numbered vertex: the client's own ("[internal] load build
definition", "[internal] load build context"), one per Dockerfile step (numbered in the order
they start, so stages built side by side interleave readably), and "exporting to image".
A line belongs to its vertex (`#N ...`); a blank line separates vertices, as BuildKit prints:

    #3 [2/4] RUN echo hi
    #3 0.123 hi
    #3 DONE 0.2s

A failed step ends with `#N ERROR: <message>` and BuildKit's block with the step's last output
lines; the caller prints the final `ERROR: failed to solve: ...` and exits 1.
"""

from __future__ import annotations

import time

from pyengine.units import human_size

TYPE_CHECKING = False  # typing and dataclasses are not imported at run time
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO

    from pyengine.api import build_lean as api
    from pyengine.api import common_lean

TAIL_LINES = 6  # output lines BuildKit repeats under a failed step
BYTE_STATUSES = ("Downloading", "Extracting")


class Vertex:
    """One numbered piece of work: its name, start, unfinished output line, last lines."""

    __slots__ = ("name", "number", "partial", "started", "tail")

    def __init__(self, number: int, name: str, started: float) -> None:
        self.number = number
        self.name = name
        self.started = started
        self.partial = b""
        self.tail: list[str] = []


class PlainProgress:
    """Renders BuildEvents (and the client's own vertices) to `out`."""

    def __init__(self, out: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.out = out
        self.clock = clock
        self.count = 0
        self.last = 0  # the vertex of the last line written
        self.steps: dict[int, Vertex] = {}  # step index -> its vertex
        self.current: Vertex | None = None  # the last step started (pull progress goes there)
        self.stages: set[str] = set()
        self.pulls: dict[str, str] = {}
        self.result: api.BuildResult | None = None
        self.failure: api.BuildFailure | None = None
        self.warnings: list[str] = []

    # -- lines --

    def _line(self, vertex: Vertex, text: str) -> None:
        if self.last and self.last != vertex.number:
            self.out.write("\n")
        self.last = vertex.number
        self.out.write(f"#{vertex.number} {text}\n")
        self.out.flush()

    def begin(self, name: str) -> Vertex:
        self.count += 1
        vertex = Vertex(self.count, name, self.clock())
        self._line(vertex, name)
        return vertex

    def end(self, vertex: Vertex, cached: bool = False, seconds: float | None = None) -> None:
        self._flush_output(vertex)
        if cached:
            self._line(vertex, "CACHED")
            return
        took = self.clock() - vertex.started if seconds is None else seconds
        self._line(vertex, f"DONE {took:.1f}s")

    def note(self, vertex: Vertex, text: str) -> None:
        self._line(vertex, text)

    # -- the client's vertices --

    def transferred(self, vertex: Vertex, what: str, size: int) -> None:
        self.note(vertex, f"transferring {what}: {human_size(size)} done")
        self.end(vertex)

    # -- the daemon's events --

    def event(self, event: api.BuildEvent) -> None:
        kind = event.WhichOneof("event")
        if kind == "step":
            self._step(event.step)
        elif kind == "output":
            self._output(event.output)
        elif kind == "done":
            vertex = self.steps.get(event.done.index)
            if vertex is not None:
                self.end(vertex, event.done.cached, event.done.duration_ns / 1e9)
        elif kind == "pull":
            self._pull(event.pull)
        elif kind == "warning":
            self.warnings.append(event.warning)
            if self.current is not None:
                self.note(self.current, f"WARN: {event.warning}")
        elif kind == "failure":
            self._failure(event.failure)
        elif kind == "result":
            self.result = event.result

    def _label(self, step: api.BuildStep) -> str:
        """BuildKit's "[name i/n]": the stage's name, stage-N for an unnamed stage of a
        multi-stage build, none for a lone unnamed stage."""
        self.stages.add(step.stage)
        name = step.stage
        if name.isdigit():
            name = f"stage-{name}" if self.stages != {"0"} else ""
        count = f"{step.stage_index}/{step.stage_steps}"
        return f"[{name} {count}]" if name else f"[{count}]"

    def _step(self, step: api.BuildStep) -> None:
        vertex = self.begin(f"{self._label(step)} {step.instruction}")
        self.steps[step.index] = vertex
        self.current = vertex

    def _output(self, output: api.BuildOutput) -> None:
        vertex = self.steps.get(output.index)
        if vertex is None:
            return
        data = vertex.partial + output.data
        *lines, vertex.partial = data.split(b"\n")
        for line in lines:
            self._output_line(vertex, line)

    def _output_line(self, vertex: Vertex, line: bytes) -> None:
        text = line.decode(errors="replace").rstrip("\r")
        stamped = f"{self.clock() - vertex.started:.3f} {text}"
        vertex.tail = [*vertex.tail[-(TAIL_LINES - 1):], stamped]
        self._line(vertex, stamped)

    def _flush_output(self, vertex: Vertex) -> None:
        if vertex.partial:
            partial, vertex.partial = vertex.partial, b""
            self._output_line(vertex, partial)

    def _pull(self, progress: common_lean.Progress) -> None:
        if self.current is None or progress.result:
            return
        if progress.status in BYTE_STATUSES:
            return  # byte counters are for terminals
        if self.pulls.get(progress.id) == progress.status:
            return
        self.pulls[progress.id] = progress.status
        text = f"{progress.id}: {progress.status}" if progress.id else progress.status
        self.note(self.current, text)

    def _failure(self, failure: api.BuildFailure) -> None:
        self.failure = failure
        vertex = self.steps.get(failure.index)
        if vertex is None:
            return
        self._flush_output(vertex)
        self._line(vertex, f"ERROR: {failure.message}")
        block = "".join(f"{line}\n" for line in vertex.tail)
        self.out.write(f"------\n > {vertex.name}:\n{block}------\n")
        self.out.flush()
        self.last = 0

    def exported(self, result: api.BuildResult) -> None:
        """The final vertex: the image written and named."""
        vertex = self.begin("exporting to image")
        self.note(vertex, f"writing image {result.image_id} done")
        for tag in result.tags:
            self.note(vertex, f"naming to {tag} done")
        self.end(vertex)
