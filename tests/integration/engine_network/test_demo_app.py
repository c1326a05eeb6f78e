"""The walk-through app: its images made from Debian packages by tools/mkimage-debian and
tools/mkimage-app through the engine, and README's main job's app part (`tools/demo --only
app`) bringing it up both ways and counting up. Both reuse /var/cache/pyengine-demo (the
debootstrap tarball, the .debs, the images' archive): only a first run reaches Debian's mirror.
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_containers"))

from ctr_harness import ContainerEngine, cleanup
from engine_harness import REPO, env, new_base

pytestmark = [pytest.mark.root, pytest.mark.slow]

HELLO = re.compile(r"^Hello World! I have been seen (\d+) times\.$", re.MULTILINE)


@pytest.fixture(scope="module", autouse=True)
def module_network_namespace(host_network_unchanged_by_module: None) -> Iterator[None]:
    """Not conftest's namespace of the module's own: a first run's image builds reach Debian's
    mirror (debootstrap and apt, on the host), which only the machine's namespace can. The
    daemons here run under `unshare --net` (this module's and the demo's), and the guard still
    fails the module if anything of the machine's network changed."""
    yield


@pytest.fixture(scope="module")
def bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pyrunc's and pyctl's launchers for this checkout (the installed ones point at /work/main),
    first on the PATH the image scripts run with."""
    directory = tmp_path_factory.mktemp("bin")
    for module in ("pyrunc.launcher", "pyengine.cli.launcher"):
        name = "pyrunc" if module.startswith("pyrunc") else "pyctl"
        subprocess.run([sys.executable, "-m", module, str(directory / name)], env=env(),
                       check=True, capture_output=True)
    return directory


@pytest.fixture(scope="module")
def engine(bin_dir: Path) -> Iterator[ContainerEngine]:
    started = ContainerEngine(new_base(), {"default-runtime": str(bin_dir / "pyrunc")})
    started.launcher = bin_dir / "pyrunc"  # type: ignore[attr-defined]  # for cleanup
    try:
        started.start()
        yield started
    finally:
        cleanup(started)


def run_tool(engine: ContainerEngine, bin_dir: Path, *argv: str) -> subprocess.CompletedProcess:
    tool_env = {**os.environ, "PYENGINE_HOST": engine.host,
                "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run([str(REPO / "tools" / argv[0]), *argv[1:]], env=tool_env,
                          capture_output=True, text=True, timeout=1800)


def config_of(engine: ContainerEngine, image: str) -> dict:
    return json.loads(engine.out("image", "inspect", "-f", "{{json .Config}}", image))


def test_images_from_debian_packages_have_the_walkthroughs_commands_and_run_offline(
        engine: ContainerEngine, bin_dir: Path) -> None:
    built = run_tool(engine, bin_dir, "mkimage-app")  # makes the base too
    assert built.returncode == 0, built.stderr
    for image in ("redis", "web", "nginx"):
        assert f"pyengine-demo/{image}: built in " in built.stderr
    assert config_of(engine, "pyengine-demo/redis")["Cmd"] == [
        "redis-server", "--protected-mode", "no"]
    assert config_of(engine, "pyengine-demo/redis")["ExposedPorts"] == {"6379/tcp": {}}
    assert config_of(engine, "pyengine-demo/web")["Cmd"] == ["python3", "/app/app.py"]
    assert config_of(engine, "pyengine-demo/web")["ExposedPorts"] == {"5000/tcp": {}}
    assert config_of(engine, "pyengine-demo/nginx")["Cmd"] == ["nginx", "-g", "daemon off;"]
    assert config_of(engine, "pyengine-demo/nginx")["ExposedPorts"] == {"80/tcp": {}}
    # no build container is left behind
    assert engine.out("ps", "-aq") == ""

    # A second run keeps what exists.
    again = run_tool(engine, bin_dir, "mkimage-app")
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("exists: kept") == 3

    # Each image's program works without any network: redis answers, the app's modules
    # import, nginx accepts our configuration once `web` resolves.
    engine.pyctl("run", "-d", "--network", "none", "--name", "demo-redis",
                 "pyengine-demo/redis", check=True)
    try:
        ping = engine.pyctl("exec", "demo-redis", "redis-cli", "ping")
        for _ in range(50):
            if ping.stdout == b"PONG\n":
                break
            ping = engine.pyctl("exec", "demo-redis", "redis-cli", "ping")
        assert ping.stdout == b"PONG\n", ping.stderr
    finally:
        engine.pyctl("rm", "-f", "demo-redis")
    app = engine.out("run", "--rm", "--network", "none", "pyengine-demo/web", "python3", "-c",
                     "import app; print(app.hello.__name__, app.REDIS_HOST)")
    assert app == "hello redis\n"
    checked = engine.pyctl("run", "--rm", "--network", "none", "pyengine-demo/nginx", "sh",
                           "-c", "echo '127.0.0.1 web' >> /etc/hosts && nginx -t")
    assert checked.returncode == 0, checked.stderr
    assert b"syntax is ok" in checked.stderr


def _demo_processes() -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if b"/tmp/pyengine-demo." in handle.read():
                        found.add(int(entry))
            except OSError:
                continue
    return found


def test_demo_brings_the_app_up_both_ways_and_the_counter_goes_up() -> None:
    before = set(glob.glob("/tmp/pyengine-demo.*"))
    processes = _demo_processes()
    done = subprocess.run([str(REPO / "tools" / "demo"), "--only", "app"], capture_output=True,
                          text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-6000:]
    counts = [int(n) for n in HELLO.findall(done.stdout)]
    assert len(counts) == 4, done.stdout  # two curls on the user network, two the classic way
    assert counts[1] == counts[0] + 1 and counts[3] == counts[2] + 1, done.stdout
    err = done.stderr
    assert "+ pyctl network create demo-net" in err
    # the walk-through's `docker build -t flaskapp .`, then again from the cache
    assert "+ pyctl build -t flaskapp" in err and "naming to docker.io/library/flaskapp" in err
    written = re.search(r"writing image (sha256:[0-9a-f]{64})", err)
    assert written is not None, err[-3000:]
    assert re.search(rf"^{written[1]}$", done.stdout, re.MULTILINE), done.stdout  # the same id
    assert "+ pyctl run -d --network demo-net --name web flaskapp" in err
    assert "+ pyctl run -d --network demo-net --name nginx -p 8080:80 pyengine-demo/nginx" in err
    assert "+ pyctl run -d --name web --link redis:redis pyengine-demo/web" in err
    assert "+ pyctl run -d --name nginx --link web:web -P pyengine-demo/nginx" in err
    assert re.search(r"^\d+\.\d+\.\d+\.\d+:\d+$", done.stdout, re.MULTILINE), done.stdout
    assert err.count("demo: the counter went up") == 2
    assert err.rstrip().endswith("demo: done")
    # nothing left: its directory (data root, sockets, mounts) and its processes
    assert set(glob.glob("/tmp/pyengine-demo.*")) == before
    assert _demo_processes() <= processes
