"""Fixtures of the OCI runtime conformance suite.

    python3 -m pytest spec-tests [--runtime=pyrunc|runc|crun|/abs/path] [--differential]

One busybox rootfs with the static probe at /probe is built per session and shared read-only by
every bundle. Each runtime gets its own --root under the session's temp dir; every container has a
unique id and cgroupsPath and is force-deleted (cgroups removed, processes killed) after its test,
pass or fail. The test process is a child subreaper, like containerd's shim and conmon. The
machine's own network must be unchanged after each module and after the session
(tests/fixtures/hostnet.py, shared with tests/).
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from spectest.bundle import Container
from spectest.factory import ContainerFactory
from spectest.host import (
    become_subreaper,
    host_namespaces,
    mounts_under,
)
from spectest.runtime import REPO, Runtime, resolve_runtime

if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # for tests/fixtures/hostnet.py, shared with tests/
hostnet = importlib.import_module("tests.fixtures.hostnet")
# autouse: each fails its module or the session when the machine's network changed
host_network_unchanged_by_session = hostnet.host_network_unchanged_by_session
host_network_unchanged_by_module = hostnet.host_network_unchanged_by_module

HERE = Path(__file__).resolve().parent
# Directories the tests mount onto; made once so the shared rootfs stays unchanged afterwards.
MOUNT_TARGETS = ("mnt/a", "mnt/b", "mnt/c", "mnt/d", "mnt/e", "hookout", "work/sub")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("spec-tests")
    group.addoption("--runtime", default="pyrunc",
                    help="runtime under test: pyrunc (this checkout), runc, crun or /abs/path")
    group.addoption("--differential", action="store_true",
                    help="run each scenario under pyrunc and runc and compare observations")
    group.addoption("--pyrunc-rev", default=None,
                    help="test pyrunc as committed at this git revision (e.g. HEAD) instead of "
                         "the work tree")
    group.addoption("--reference-runtime", default="runc",
                    help="the runtime --differential compares against (default runc)")


def runtime_limits(runtime: str) -> dict[str, tuple[str, bool]]:
    """Tests a given runtime is known to fail on this host: pattern -> (reason, strict)."""
    data = json.loads((HERE / "runtime-limits.json").read_text())
    name = runtime if runtime in data else os.path.basename(runtime)
    return {entry["test"]: (entry["reason"], entry.get("strict", True))
            for entry in data.get(name, [])}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    limits = runtime_limits(config.getoption("--runtime"))
    for item in items:
        name = item.nodeid.split("spec-tests/", 1)[-1]
        for pattern, (reason, strict) in limits.items():
            if fnmatch.fnmatchcase(name, pattern):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=strict))
    differential = config.getoption("--differential")
    here = str(HERE)
    selected, deselected = [], []
    for item in items:
        if not str(item.fspath).startswith(here):
            selected.append(item)
            continue
        item.add_marker(pytest.mark.root)
        is_diff = item.get_closest_marker("differential") is not None
        (selected if is_diff == differential else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "differential: runs only with --differential")
    # SIGTERM (a CI timeout) becomes KeyboardInterrupt, so fixture finalizers still delete
    # containers, unmount and remove cgroups.
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    """Session dir outside pytest's 0700 tmp tree: a user-namespaced root must traverse it."""
    path = Path(tempfile.mkdtemp(prefix="spectest-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        # never let rmtree walk into something a runtime left mounted in our namespace
        for target in reversed(mounts_under(str(path))):
            subprocess.run(["umount", "-l", target], check=False)
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def rootfs(workdir: Path) -> str:
    """Busybox rootfs + static probe, shared by every bundle of the session."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    root = workdir / "rootfs"
    subprocess.run([str(REPO / "tools" / "mkrootfs-busybox"), str(root)], check=True,
                   capture_output=True)
    subprocess.run(["gcc", "-static", "-O2", "-o", str(root / "probe"),
                    str(HERE / "probe" / "probe.c")], check=True, capture_output=True)
    for target in MOUNT_TARGETS:
        (root / target).mkdir(parents=True, exist_ok=True)
    (root / "work" / "file").write_text("spectest\n")
    return str(root)


@pytest.fixture(scope="session")
def subreaper() -> None:
    become_subreaper()


def _make_runtime(spec: str, workdir: Path, config: pytest.Config) -> Runtime:
    d = workdir / f"rt-{spec.strip('/').replace('/', '_')}"
    if d.exists():
        return resolve_runtime(spec, d) if spec != "pyrunc" else _existing_pyrunc(d)
    d.mkdir()
    return resolve_runtime(spec, d, config.getoption("--pyrunc-rev"))


def _existing_pyrunc(d: Path) -> Runtime:
    return Runtime(name="pyrunc", binary=str(d / "pyrunc"), root=str(d / "root-pyrunc"))


@pytest.fixture(scope="session")
def runtime(request: pytest.FixtureRequest, workdir: Path, subreaper: None) -> Runtime:
    return _make_runtime(request.config.getoption("--runtime"), workdir, request.config)


@pytest.fixture(scope="session")
def reference_runtime(request: pytest.FixtureRequest, workdir: Path, subreaper: None) -> Runtime:
    return _make_runtime(request.config.getoption("--reference-runtime"), workdir,
                         request.config)


@pytest.fixture(scope="session")
def host_ns() -> dict[str, str]:
    return host_namespaces()


@pytest.fixture
def factory(rootfs: str, workdir: Path) -> Iterator[ContainerFactory]:
    bundles = workdir / "bundles"
    bundles.mkdir(exist_ok=True)
    f = ContainerFactory(rootfs, bundles)
    try:
        yield f
    finally:
        f.cleanup()


@pytest.fixture
def make(factory: ContainerFactory, runtime: Runtime) -> Callable[..., Container]:
    """make(mutate) -> Container on the runtime under test."""
    return lambda mutate=None: factory.make(runtime, mutate)
