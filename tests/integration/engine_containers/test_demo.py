"""README's main job (`tools/demo`) works on this checkout and leaves nothing behind."""

from __future__ import annotations

import glob
import subprocess

import pytest
from engine_harness import REPO

pytestmark = [pytest.mark.root]


def test_demo_runs_containers_through_the_engine_offline() -> None:
    before = set(glob.glob("/tmp/pyengine-demo.*"))
    # the app part (images from Debian packages, networks) is test_demo_app's
    done = subprocess.run([str(REPO / "tools" / "demo"), "--only", "pyrunc", "--only", "engine"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "hello from a pyrunc container" in done.stdout
    assert "hello from a pyengined container: hostname=" in done.stdout
    assert "pid=1" in done.stdout.split("hello from a pyengined container", 1)[1]
    assert "demo-web" in done.stdout  # listed by ps
    assert "tick" in done.stdout  # its log, after it stopped
    # the same daemon through its Docker Engine API, with the docker CLI (on these machines)
    assert "hello from the docker CLI through pyengined" in done.stdout
    assert "demo: done" in done.stderr
    assert set(glob.glob("/tmp/pyengine-demo.*")) == before
