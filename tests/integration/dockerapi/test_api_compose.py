"""docker-compose 1.29 (Debian's: its own docker-py 5, the API version its compose file format
asks for) brings up the walk-through's nginx -> flask -> redis app (fixtures/compose), counts up
through nginx's published port, scales the flask service to 3 replicas that nginx reaches by
the service name (compose's network aliases, the daemon's embedded DNS), and `down -v` removes
every container, network and volume; against a private dockerd 20.10 (the reference) and
pyengined's Docker Engine API, each in a network namespace of its own (clients_harness.py).
The images are the demo's (tools/demo's archive of tools/mkimage-app's images), loaded through
each daemon's own client."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from clients_harness import DAEMONS, Daemon, started

from tests.fixtures.demo_archive import demo_archive

pytestmark = [pytest.mark.root, pytest.mark.slow]

COMPOSE_FILE = Path(__file__).resolve().parent / "fixtures" / "compose" / "docker-compose.yml"
PROJECT = "pedemo"
APP_URL = "http://127.0.0.1:8080/"  # nginx's published port, in the daemon's namespace
HELLO = re.compile(r"^Hello World! I have been seen (\d+) times\.$")
DEFAULT_NETWORKS = {"bridge", "host", "none"}


@pytest.fixture(scope="module", params=DAEMONS)
def daemon(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Daemon]:
    archive = demo_archive()
    for daemon in started(request.param, tmp_path_factory):
        daemon.load(archive)
        yield daemon


def compose(daemon: Daemon, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in daemon.env().items() if k != "PYTHONPATH"}
    result = subprocess.run(["docker-compose", "-f", str(COMPOSE_FILE), "-p", PROJECT, *args],
                            env=environ, capture_output=True, text=True, timeout=600,
                            stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise AssertionError(f"{daemon.kind}: docker-compose {' '.join(args)} exited "
                             f"{result.returncode}: {result.stderr.strip()[-3000:]}")
    return result


def hit() -> int:
    """One visit through nginx (the thread is in the daemon's network namespace)."""
    with urllib.request.urlopen(APP_URL, timeout=10) as answer:
        body = answer.read().decode()
    match = HELLO.match(body.strip())
    assert match, body
    return int(match.group(1))


def first_hit(tries: int = 300) -> int:
    """The first answer, retried while the three start (bounded, never timed)."""
    for _ in range(tries):
        try:
            return hit()
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    return hit()


def service_ids(daemon: Daemon, service: str) -> list[str]:
    return compose(daemon, "ps", "-q", service).stdout.split()


def leftovers(daemon: Daemon) -> dict[str, list[str]]:
    """What the daemon still holds besides its own default networks (its docker CLI)."""
    networks = daemon.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    return {"containers": daemon.docker("ps", "-aq").stdout.split(),
            "networks": sorted(set(networks) - DEFAULT_NETWORKS),
            "volumes": daemon.docker("volume", "ls", "-q").stdout.split()}


def test_compose_brings_the_app_up_scales_web_and_tears_it_down(daemon: Daemon) -> None:
    try:
        compose(daemon, "up", "-d")
        assert len(service_ids(daemon, "redis")) == 1
        first = first_hit()
        assert hit() == first + 1

        compose(daemon, "up", "-d", "--scale", "web=3")
        webs = service_ids(daemon, "web")
        assert len(webs) == 3
        addresses = set()
        for cid in webs:
            doc = json.loads(daemon.docker("inspect", cid).stdout)[0]
            network = doc["NetworkSettings"]["Networks"][f"{PROJECT}_default"]
            assert "web" in network["Aliases"], network
            addresses.add(network["IPAddress"])
        # the service name resolves to every replica (the embedded DNS)
        looked_up = compose(daemon, "exec", "-T", "nginx", "getent", "ahostsv4", "web").stdout
        assert {line.split()[0] for line in looked_up.splitlines()} == addresses, looked_up

        # nginx resolves `web` when it starts: restarted, it spreads visits over the three
        compose(daemon, "restart", "nginx")
        counts = [first_hit()] + [hit() for _ in range(5)]
        assert counts == list(range(counts[0], counts[0] + 6)), counts
        assert counts[0] > first + 1  # the same redis: the counter went on
        for cid in webs:
            logs = daemon.docker("logs", cid)
            assert '"GET / HTTP/1.0" 200' in logs.stdout + logs.stderr, (cid, logs.stderr)

        compose(daemon, "down", "-v")
        assert leftovers(daemon) == {"containers": [], "networks": [], "volumes": []}
    finally:
        if compose(daemon, "ps", "-q", check=False).stdout.strip():
            compose(daemon, "down", "-v", "-t", "1", check=False)
        daemon.reset()


def test_compose_ps_of_an_empty_project(daemon: Daemon) -> None:
    """compose's first calls to the daemon (version negotiation, the project's containers by
    label) on a project with nothing up: the header only."""
    listed = compose(daemon, "ps").stdout.splitlines()
    assert listed[0].split() == ["Name", "Command", "State", "Ports"]
    assert set(listed[1]) == {"-"} and listed[2:] == []
