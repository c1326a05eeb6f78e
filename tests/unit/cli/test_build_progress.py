"""pyctl build's progress rendering (BuildKit's plain style) from synthetic BuildEvents, with a
clock the test moves: step lines, cached steps, RUN output stamped with the time since the
step started (partial lines joined), durations, pull progress, the failure block, the export."""

from __future__ import annotations

import io

from pyengine.api import build_lean as api
from pyengine.api import common_lean
from pyengine.cli.build_progress import PlainProgress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def step(index: int, stage_index: int, steps: int, text: str, stage: str = "0"
         ) -> api.BuildEvent:
    return api.BuildEvent(step=api.BuildStep(index=index, total=4, stage=stage,
                                             stage_index=stage_index, stage_steps=steps,
                                             instruction=text))


def done(index: int, seconds: float = 0.0, cached: bool = False) -> api.BuildEvent:
    return api.BuildEvent(done=api.BuildStepDone(index=index, cached=cached,
                                                 duration_ns=int(seconds * 1e9)))


def output(index: int, data: bytes) -> api.BuildEvent:
    return api.BuildEvent(output=api.BuildOutput(index=index, stream=1, data=data))


def test_a_build_renders_as_buildkit_plain() -> None:
    out, clock = io.StringIO(), Clock()
    view = PlainProgress(out, clock)
    definition = view.begin("[internal] load build definition from Dockerfile")
    view.transferred(definition, "dockerfile", 93)
    view.event(step(1, 1, 3, "FROM busybox"))
    view.event(api.BuildEvent(pull=common_lean.Progress(id="abc123", status="Pulling fs layer")))
    view.event(api.BuildEvent(pull=common_lean.Progress(id="abc123", status="Downloading",
                                                        current=5, total=10)))
    view.event(api.BuildEvent(pull=common_lean.Progress(id="abc123", status="Pulling fs layer")))
    view.event(api.BuildEvent(pull=common_lean.Progress(id="abc123", status="Pull complete")))
    view.event(done(1, 1.25))
    view.event(step(2, 2, 3, "COPY app.py /app/"))
    view.event(done(2, cached=True))
    view.event(step(3, 3, 3, "RUN echo hi"))
    clock.now += 0.123
    view.event(output(3, b"hi\nwor"))
    clock.now += 0.1
    view.event(output(3, b"ld\nno newline"))
    view.event(done(3, 0.25))
    result = api.BuildResult(image_id="sha256:" + "ab" * 32,
                             tags=["docker.io/library/x:latest", "docker.io/library/x:1"])
    view.event(api.BuildEvent(result=result))
    assert view.result == result
    view.exported(result)
    assert out.getvalue() == (
        "#1 [internal] load build definition from Dockerfile\n"
        "#1 transferring dockerfile: 93B done\n"
        "#1 DONE 0.0s\n"
        "\n"
        "#2 [1/3] FROM busybox\n"
        "#2 abc123: Pulling fs layer\n"
        "#2 abc123: Pull complete\n"
        "#2 DONE 1.2s\n"
        "\n"
        "#3 [2/3] COPY app.py /app/\n"
        "#3 CACHED\n"
        "\n"
        "#4 [3/3] RUN echo hi\n"
        "#4 0.123 hi\n"
        "#4 0.223 world\n"
        "#4 0.223 no newline\n"
        "#4 DONE 0.2s\n"
        "\n"
        f"#5 exporting to image\n"
        f"#5 writing image sha256:{'ab' * 32} done\n"
        "#5 naming to docker.io/library/x:latest done\n"
        "#5 naming to docker.io/library/x:1 done\n"
        "#5 DONE 0.0s\n"
    )


def test_stages_are_named_and_interleave_by_their_own_numbers() -> None:
    out = io.StringIO()
    view = PlainProgress(out, Clock())
    view.event(step(1, 1, 2, "FROM busybox AS builder", stage="builder"))
    view.event(step(3, 1, 2, "FROM busybox", stage="1"))
    view.event(output(1, b"from builder\n"))
    view.event(done(3, 0.1))
    view.event(done(1, 0.1))
    assert out.getvalue() == (
        "#1 [builder 1/2] FROM busybox AS builder\n\n"
        "#2 [stage-1 1/2] FROM busybox\n\n"
        "#1 0.000 from builder\n\n"
        "#2 DONE 0.1s\n\n"
        "#1 DONE 0.1s\n"
    )


def test_a_failed_run_shows_the_error_and_the_last_output_lines() -> None:
    out = io.StringIO()
    view = PlainProgress(out, Clock())
    view.event(step(1, 1, 2, "FROM busybox"))
    view.event(done(1))
    view.event(step(2, 2, 2, "RUN seq 1 8; exit 3"))
    view.event(output(2, b"".join(b"%d\n" % i for i in range(1, 9))))
    message = "The command '/bin/sh -c seq 1 8; exit 3' returned a non-zero code: 3"
    view.event(api.BuildEvent(failure=api.BuildFailure(index=2, message=message, exit_code=3)))
    assert view.failure is not None and view.failure.exit_code == 3
    text = out.getvalue()
    assert text.endswith(
        f"#2 0.000 8\n#2 ERROR: {message}\n------\n > [2/2] RUN seq 1 8; exit 3:\n"
        + "".join(f"0.000 {i}\n" for i in range(3, 9)) + "------\n")


def test_a_failure_before_any_step_prints_nothing_but_is_kept() -> None:
    out = io.StringIO()
    view = PlainProgress(out, Clock())
    view.event(api.BuildEvent(failure=api.BuildFailure(index=0, message="no such stage")))
    assert out.getvalue() == ""
    assert view.failure is not None and view.failure.message == "no such stage"
