"""The build domain's errors (each an engine error kind, so every edge maps it)."""

from __future__ import annotations

from pyengine.errors import Aborted, InvalidArgument, NotFound


class DockerfileError(InvalidArgument):
    """A Dockerfile that cannot be parsed: the message names the file, line and instruction,
    e.g. "Dockerfile:3: unknown instruction: RUNN"."""


class SourceNotFound(NotFound):
    """A COPY/ADD source that is not in the context (or is excluded by .dockerignore)."""


class StepFailed(Aborted):
    """A RUN step exited non-zero: docker's "The command '/bin/sh -c x' returned a non-zero
    code: N"."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
