"""The seeds' docker cheat sheet (cheatsheet.SESSION) played with the docker CLI 28 against a
private dockerd 20.10 and against pyengined's Docker Engine API, compared step by step after
normalising ids, times, sizes, ports and addresses (diff_harness). The session is checked
against the reference first (each step's exit code as dockerd answers it); a step where
pyengined differs for a reason is listed in KNOWN_DIFFERENCES, and the difference is asserted
to be still there, so a fix is noticed (as spec-tests' xfail list does for pyrunc vs runc)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cheatsheet import SESSION
from diff_harness import Result, Step, busybox_archive, dockerd_side, play, pyengined_side

pytestmark = [pytest.mark.root]


@dataclass(frozen=True)
class Known:
    """pyengined answers `fields` differently from dockerd, for `reason`."""

    fields: tuple[str, ...]
    reason: str


NO_METADATA_CONTAINERS = (
    "pyengined's builder (issue 11) applies LABEL, ENV, WORKDIR and CMD to the image config "
    "without running and committing a container for each, as the classic builder of dockerd "
    "does: no 'Running in'/'Removing intermediate container' lines, and no 'Using cache' "
    "for those steps")
KNOWN_DIFFERENCES: dict[str, Known] = {
    "build": Known(("stdout",), NO_METADATA_CONTAINERS),
    "build-cached": Known(("stdout",), NO_METADATA_CONTAINERS),
    "rmi": Known(("stdout",), "no intermediate image per metadata step to delete: "
                 + NO_METADATA_CONTAINERS),
}


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
    want, got = reference[step.key].fields(), ours[step.key].fields()
    known = KNOWN_DIFFERENCES.get(step.key)
    if known is None:
        assert got == want, f"dockerd:\n{shown(reference[step.key])}\n" \
                            f"pyengined:\n{shown(ours[step.key])}"
        return
    for name in want:
        if name in known.fields:
            assert got[name] != want[name], (
                f"{step.key}: pyengined now answers {name} as dockerd does: remove it from "
                f"KNOWN_DIFFERENCES ({known.reason})")
        else:
            assert got[name] == want[name], (name, want[name], got[name])
