"""A build's events as docker 20.10's legacy builder writes them to POST /build's stream:

    {"stream":"Step 2/3 : RUN echo hi"}
    {"stream":"\\n"}
    {"stream":" ---> Running in 4b3c0ba7d9e4\\n"}
    {"stream":"hi\\n"}
    {"stream":"Removing intermediate container 4b3c0ba7d9e4\\n"}
    {"stream":" ---> a1b2c3d4e5f6\\n"}
    {"aux":{"ID":"sha256:..."}}
    {"stream":"Successfully built a1b2c3d4e5f6\\n"}
    {"stream":"Successfully tagged x:latest\\n"}

A step's " ---> ID" is the layer it made (or the base image of a FROM); a step that makes no
layer shows an ID derived from the one before and the instruction, stable across builds as
docker's intermediate image IDs are on a cache hit; the last step's is the built image's."""

from __future__ import annotations

import codecs
import hashlib
from typing import Any

from pyengine.build.options import (
    BuildResultValue,
    BuildWarning,
    PullProgress,
    StepDone,
    StepOutput,
    StepStarted,
)
from pyengine.build.stream import BuildFailed, BuildItem
from pyengine.dockerapi.progress_json import error_message, progress_message, stream_message
from pyengine.images import naming
from pyengine.progress import Report

STDERR_START, STDERR_END = "\033[91m", "\033[0m"


def short_id(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


class ClassicBuildView:
    """`force_rm`: the build's forcerm; a failed step's container is then reported removed
    (docker keeps it otherwise)."""

    def __init__(self, force_rm: bool = False) -> None:
        self.force_rm = force_rm
        self.containers: dict[int, str] = {}  # step -> its container's short id
        self.instructions: dict[int, str] = {}
        self.decoders: dict[tuple[int, int], codecs.IncrementalDecoder] = {}  # step, stream
        self.last_id = ""
        self.total = 0
        self.pending_id = False  # the last step's " ---> ID" waits for the image's ID

    def render(self, item: BuildItem) -> list[dict[str, Any]]:
        if isinstance(item, StepStarted):
            return self._started(item)
        if isinstance(item, StepOutput):
            decoder = self.decoders.setdefault(
                (item.index, item.stream), codecs.getincrementaldecoder("utf-8")("replace"))
            text = decoder.decode(item.data)
            if text and item.stream == 2:  # dockerd's stderr writer: each write in red
                text = f"{STDERR_START}{text}{STDERR_END}"
            return [stream_message(text)] if text else []
        if isinstance(item, StepDone):
            return self._done(item)
        if isinstance(item, BuildWarning):
            return [stream_message(f"{item.text}\n")]  # the text has docker's "[Warning] "
        if isinstance(item, PullProgress):
            return [progress_message(Report(item.id, item.status, item.current, item.total))]
        if isinstance(item, BuildResultValue):
            return self._result(item)
        if isinstance(item, BuildFailed):
            return self._failed(item)
        raise TypeError(f"not a build item: {item!r}")

    def _started(self, step: StepStarted) -> list[dict[str, Any]]:
        self.instructions[step.index] = step.instruction
        self.total = step.total
        # two writes, as the legacy builder makes them
        out = [stream_message(f"Step {step.index}/{step.total} : {step.instruction}"),
               stream_message("\n")]
        if step.container_id:
            self.containers[step.index] = short_id(step.container_id)
            out.append(stream_message(f" ---> Running in {self.containers[step.index]}\n"))
        return out

    def _done(self, done: StepDone) -> list[dict[str, Any]]:
        out = []
        for stream in (1, 2):
            decoder = self.decoders.pop((done.index, stream), None)
            tail = decoder.decode(b"", final=True) if decoder is not None else ""
            if tail and stream == 2:
                tail = f"{STDERR_START}{tail}{STDERR_END}"
            if tail:
                out.append(stream_message(tail))
        if done.cached:
            out.append(stream_message(" ---> Using cache\n"))
        container = self.containers.pop(done.index, "")
        if container:
            out.append(stream_message(f"Removing intermediate container {container}\n"))
        if done.result_id:
            self.last_id = short_id(done.result_id)
        else:
            seed = f"{self.last_id}\n{self.instructions.get(done.index, '')}"
            self.last_id = hashlib.sha256(seed.encode()).hexdigest()[:12]
        if done.index == self.total:  # the last step's result is the image
            self.pending_id = True
        else:
            out.append(stream_message(f" ---> {self.last_id}\n"))
        return out

    def _failed(self, failed: BuildFailed) -> list[dict[str, Any]]:
        out = self._pending(self.last_id)
        container = self.containers.pop(failed.index, "")
        if container and self.force_rm:
            out.append(stream_message(f"Removing intermediate container {container}\n"))
        out.append(error_message(failed.message, failed.exit_code))
        return out

    def _pending(self, image_id: str) -> list[dict[str, Any]]:
        if not self.pending_id:
            return []
        self.pending_id = False
        return [stream_message(f" ---> {short_id(image_id)}\n")]

    def _result(self, result: BuildResultValue) -> list[dict[str, Any]]:
        out = self._pending(result.image_id)
        out.append({"aux": {"ID": result.image_id}})
        out.append(stream_message(f"Successfully built {short_id(result.image_id)}\n"))
        for name in result.tags:
            out.append(stream_message(f"Successfully tagged {naming.familiar(name)}\n"))
        return out
