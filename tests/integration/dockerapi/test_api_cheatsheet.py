"""The seeds' docker cheat sheet (cheatsheet.SESSION) played with the docker CLI 28 against a
private dockerd 20.10 and against pyengined's Docker Engine API, compared step by step after
normalising ids, times, sizes, ports and addresses (diff_harness). The session is checked
against the reference first (each step's exit code as dockerd answers it); a step where
pyengined differs for a reason is listed in KNOWN_DIFFERENCES, and the difference is asserted
to be still there, so a fix is noticed (as spec-tests' xfail list does for pyrunc vs runc)."""

from __future__ import annotations

import difflib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cheatsheet import SESSION
from diff_harness import Result, Step, busybox_archive, dockerd_side, play, pyengined_side

pytestmark = [pytest.mark.root]


@dataclass(frozen=True)
class Known:
    """pyengined answers differently from dockerd, for `reason`: `adjust` turns dockerd's
    answer into what pyengined must answer instead (so any other difference in the same step
    still fails, and so does a fix: pyengined answering as dockerd does)."""

    reason: str
    adjust: Callable[[Result], Result]


METADATA = r"(LABEL|ENV|WORKDIR|CMD|ENTRYPOINT|EXPOSE|USER|VOLUME)"


def without_metadata_containers(result: Result) -> Result:
    """The classic builder's output without the container it runs for a metadata step."""
    out = re.sub(rf"(?m)(^Step \d+/\d+ : {METADATA} .*\n) ---> Running in \S+\n"
                 r"Removing intermediate container \S+\n", r"\1", result.stdout)
    out = re.sub(rf"(?m)(^Step \d+/\d+ : {METADATA} .*\n) ---> Using cache\n", r"\1", out)
    return Result(result.exit, out, result.stderr)


def image_only_deleted(result: Result) -> Result:
    """`docker rmi` deleting the image but no chain of parent images."""
    lines = result.stdout.splitlines(keepends=True)
    deleted = [i for i, line in enumerate(lines) if line.startswith("Deleted: ")]
    kept = [line for i, line in enumerate(lines) if i not in deleted[1:]]
    return Result(result.exit, "".join(kept), result.stderr)


def layers_kept(result: Result) -> Result:
    """A pull finding every layer still there (sorted, as the step compares it)."""
    out = result.stdout.replace(": Pull complete", ": Already exists")
    return Result(result.exit, "\n".join(sorted(out.splitlines())), result.stderr)


def runtime_wording(result: Result) -> Result:
    """runc's words for a command it cannot find, in pyrunc's (which names the field)."""
    out, err = (re.sub(r"(runc create|exec) failed: unable to start container process: exec:",
                       "process.args[0]: exec:", text) for text in (result.stdout, result.stderr))
    return Result(result.exit, out, err)


RUNTIME_WORDING = (
    "the runtime's own message (the engine passes it on as dockerd/containerd do): runc says "
    "'runc create failed: unable to start container process: exec: ...' ('exec failed: ...' "
    "for an exec), pyrunc names the config field: 'process.args[0]: exec: ...'")
NO_METADATA_CONTAINERS = (
    "pyengined's builder (issue 11) applies LABEL, ENV, WORKDIR and CMD to the image config "
    "without running and committing a container for each as dockerd's classic builder does: "
    "no 'Running in'/'Removing intermediate container' or 'Using cache' lines for them, and "
    "the built image has no chain of parent images (`rmi` deletes the image alone)")
KNOWN_DIFFERENCES: dict[str, Known] = {
    "build": Known(NO_METADATA_CONTAINERS, without_metadata_containers),
    "build-cached": Known(NO_METADATA_CONTAINERS, without_metadata_containers),
    "rmi": Known(NO_METADATA_CONTAINERS, image_only_deleted),
    "pull": Known("pyengined's build cache (issue 11) is a GC root: the layers a build made "
                  "stay after `rmi` of the built images (until `docker builder prune`), so "
                  "pulling the image again finds them ('Already exists'); dockerd's classic "
                  "builder caches in the parent images rmi deletes, and downloads them again "
                  "('Pull complete')", layers_kept),
    "run-no-such-cmd": Known(RUNTIME_WORDING, runtime_wording),
    "exec-missing": Known(RUNTIME_WORDING, runtime_wording),
}


# Steps where pyengined is wrong and someone has to fix it (not a difference to keep): expected
# to fail until fixed, and failing when they pass (so the entry goes).
OPEN_BUGS: dict[str, str] = {}


def renumbered(result: Result) -> Result:
    """Unknown ids (<id:N>) numbered again in the order they appear."""
    order: dict[str, str] = {}

    def label(match: re.Match[str]) -> str:
        return order.setdefault(match.group(0), f"<id:{len(order) + 1}>")

    return Result(result.exit, re.sub(r"<id:\d+>", label, result.stdout),
                  re.sub(r"<id:\d+>", label, result.stderr))


@pytest.fixture(scope="module")
def base() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="adiff-", dir="/tmp"))  # short: socket paths
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def images(base: Path) -> tuple[Path, Path]:
    return busybox_archive(base)


@pytest.fixture(scope="module")
def reference(base: Path, images: tuple[Path, Path]) -> dict[str, Result]:
    rootfs, archive = images
    with dockerd_side(base / "dockerd", rootfs, archive) as side:
        return play(side, SESSION)


@pytest.fixture(scope="module")
def ours(base: Path, images: tuple[Path, Path], reference: dict[str, Result]
         ) -> dict[str, Result]:
    with pyengined_side(base / "pyengined", images[1]) as side:
        return play(side, SESSION)


def difference(want: Result, got: Result) -> str:
    """A unified diff of what dockerd (-) and pyengined (+) answered, normalised."""
    lines = difflib.unified_diff(shown(want).splitlines(), shown(got).splitlines(),
                                 "dockerd", "pyengined", lineterm="", n=2)
    return "\n".join(lines)


def shown(result: Result) -> str:
    return (f"exit {result.exit}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")


@pytest.mark.parametrize("step", SESSION, ids=[s.key for s in SESSION])
def test_session_against_dockerd(step: Step, reference: dict[str, Result]) -> None:
    """The session is right for the reference: each step exits as written down."""
    result = reference[step.key]
    assert result.exit == step.exit, shown(result)


@pytest.mark.parametrize("step", SESSION, ids=[s.key for s in SESSION])
def test_pyengined_answers_as_dockerd(step: Step, reference: dict[str, Result],
                                      ours: dict[str, Result]) -> None:
    want, got = reference[step.key], ours[step.key]
    known = KNOWN_DIFFERENCES.get(step.key)
    if known is not None:
        assert got.fields() != want.fields(), (
            f"{step.key}: pyengined now answers as dockerd does: remove it from "
            f"KNOWN_DIFFERENCES ({known.reason})")
        want = renumbered(known.adjust(want))
        got = renumbered(got)
    bug = OPEN_BUGS.get(step.key)
    if bug is not None:
        if got.fields() == want.fields():
            pytest.fail(f"{step.key} answers as dockerd now: remove it from OPEN_BUGS ({bug})")
        pytest.xfail(f"{bug}\n{difference(want, got)}")
    assert got.fields() == want.fields(), difference(want, got)
