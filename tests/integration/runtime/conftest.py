"""Fixtures for pyrunc's integration tests; see pyrunc_itest.py for the helpers."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyrunc_itest import CGROUP_PARENT, REPO, Runtime, reap_children, set_subreaper


@pytest.fixture(scope="session")
def session_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pyrunc-itest-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        for d in glob.glob(f"/sys/fs/cgroup/*/{CGROUP_PARENT}"):
            with contextlib.suppress(OSError):
                os.rmdir(d)


@pytest.fixture(scope="session")
def launcher(session_dir: Path) -> str:
    """pyrunc's lean launcher for this checkout. PYRUNC_ITEST_RUNTIME=/usr/sbin/runc runs the
    same tests against another runtime (to check an expectation against runc's behaviour)."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    other = os.environ.get("PYRUNC_ITEST_RUNTIME")
    if other:
        return other
    from pyrunc.launcher import install

    return install(str(session_dir / "bin" / "pyrunc"))


@pytest.fixture(scope="session")
def rootfs(session_dir: Path) -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    path = session_dir / "rootfs"
    subprocess.run([str(REPO / "tools" / "mkrootfs-busybox"), str(path)], check=True,
                   capture_output=True)
    (path / "hookout").mkdir()
    return path


@pytest.fixture(scope="session")
def base_config(launcher: str, session_dir: Path) -> dict[str, Any]:
    """`pyrunc spec` output, as a user would start from."""
    d = session_dir / "spec"
    d.mkdir()
    subprocess.run([launcher, "spec"], cwd=d, check=True, capture_output=True)
    return json.loads((d / "config.json").read_text())


@pytest.fixture(scope="module", autouse=True)
def subreaper() -> Iterator[None]:
    if os.geteuid() != 0:
        yield
        return
    set_subreaper(True)
    try:
        yield
    finally:
        set_subreaper(False)
        reap_children()


@pytest.fixture
def rt(launcher: str, rootfs: Path, base_config: dict[str, Any],
       session_dir: Path) -> Iterator[Runtime]:
    workdir = Path(tempfile.mkdtemp(prefix="t-", dir=session_dir))
    workdir.chmod(0o755)
    runtime = Runtime(launcher, workdir, base_config, rootfs)
    try:
        yield runtime
    finally:
        runtime.cleanup()
