"""Fixtures and hypothesis profiles of the property suite (see test_config_properties.py).

Profiles (``--hypothesis-profile NAME`` or ``PROP_HYPOTHESIS_PROFILE=NAME``):
- ``ci`` (default): derandomized (the same examples every run), no example database, about
  1-2 minutes on a loaded 2-core VM.
- ``fuzz``: random, 40 times the examples, failures saved in .hypothesis/ and replayed first;
  ``PROP_FUZZ_SCALE=N`` sizes it to N times the ci examples instead (a time-boxed fuzz).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from prop_harness import SPEC_TESTS, Env, reap_children, unmount_under
from spectest.host import become_subreaper
from spectest.runtime import REPO, RUNC, Runtime, install_pyrunc

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture]
# max_examples is the scale: each test asks for budget(n) = n * max_examples / 100
# no "explain" phase: it re-runs a failing container example hundreds of times
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink]
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True,
                          database=None, suppress_health_check=_SLOW_OK, print_blob=True,
                          phases=_PHASES)
settings.register_profile("fuzz", max_examples=100 * int(os.environ.get("PROP_FUZZ_SCALE", "40")),
                          deadline=None,
                          suppress_health_check=_SLOW_OK, print_blob=True, phases=_PHASES)


def pytest_configure(config: pytest.Config) -> None:
    """``ci`` unless a profile was asked for (on the command line or in the environment)."""
    chosen = config.getoption("hypothesis_profile", None)
    if not chosen:
        settings.load_profile(os.environ.get("PROP_HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.root)


@pytest.fixture(scope="session")
def prop_env() -> Iterator[Env]:
    """A session dir (0755: a user-namespaced root must traverse it) with the busybox rootfs and
    the static probe, two rootfs variants (/proc and /sys symlinks), pyrunc from this checkout
    and runc, each with a private --root."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    workdir = Path(tempfile.mkdtemp(prefix="proptest-", dir="/tmp"))
    workdir.chmod(0o755)
    try:
        rootfs = workdir / "rootfs"
        subprocess.run([str(REPO / "tools" / "mkrootfs-busybox"), str(rootfs)], check=True,
                       capture_output=True)
        subprocess.run(["gcc", "-static", "-O2", "-o", str(rootfs / "probe"),
                        str(SPEC_TESTS / "probe" / "probe.c")], check=True, capture_output=True)
        for sub in ("mnt/a", "mnt/b", "mnt/c"):
            (rootfs / sub).mkdir(parents=True)
        variants = {}
        for name, target in (("proc-symlink", "/tmp"), ("sys-symlink", "/tmp")):
            variant = workdir / f"rootfs-{name}"
            subprocess.run(["cp", "-a", str(rootfs), str(variant)], check=True)
            top = variant / name.split("-")[0]
            top.rmdir()
            top.symlink_to(target)
            variants[name] = str(variant)
        bindir = workdir / "bin"
        bindir.mkdir()
        pyrunc = Runtime("pyrunc", install_pyrunc(bindir), str(workdir / "root-pyrunc"))
        runc = Runtime("runc", RUNC, str(workdir / "root-runc"))
        for rt in (pyrunc, runc):
            Path(rt.root).mkdir()
        (workdir / "bundles").mkdir()
        (workdir / "host").mkdir()
        yield Env(workdir, str(rootfs), pyrunc, runc, variants)
    finally:
        unmount_under(str(workdir))
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def subreaper() -> Iterator[None]:
    """Like containerd's shim: inits whose creator exited become our children."""
    if os.geteuid() != 0:
        yield
        return
    become_subreaper()
    try:
        yield
    finally:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 0, 0, 0, 0)
        reap_children()
