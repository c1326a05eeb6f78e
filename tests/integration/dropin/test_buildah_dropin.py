"""buildah 1.28 (Debian) as another real client: its RUN steps call the runtime's create, start,
state (polled until the process has stopped) and delete, with no --root. It shares the private
podman storage. Each test runs with runc and with pyrunc.

buildah ignores containers.conf's ``netns``: without ``--network none`` every ``run`` and RUN
step is attached to podman's default CNI network, which makes a bridge, iptables chains and
/var/lib/cni state on the machine itself."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dropin_env as env
import pytest

pytestmark = pytest.mark.root


class Buildah:
    def __init__(self, manager: env.Podman, runtime) -> None:
        self.manager = manager
        self.runtime = runtime
        self.containers: list[str] = []
        self.images: list[str] = []

    def __call__(self, *args: str, check: bool = False, **kw) -> subprocess.CompletedProcess:
        argv = ["buildah", "--root", str(self.manager.root), "--runroot",
                str(self.manager.runroot), *args]
        return env.run(argv, check=check, env=self.manager.env, timeout=120, **kw)

    def run(self, container: str, *cmd: str, **kw) -> subprocess.CompletedProcess:
        """``buildah run`` with the runtime under test, in a network namespace of its own."""
        return self("run", "--runtime", self.runtime.path, "--network", "none", container,
                    "--", *cmd, **kw)

    def bud(self, *args: str) -> subprocess.CompletedProcess:
        """``buildah bud`` whose RUN steps use the runtime under test and no network."""
        return self("bud", "--pull-never", "--runtime", self.runtime.path, "--network", "none",
                    *args)

    def cleanup(self) -> None:
        for container in self.containers:
            self("rm", container)
        for image in self.images:
            self("rmi", "-f", image)


@pytest.fixture
def buildah(podman, runtime):
    if shutil.which("buildah") is None:
        pytest.skip("buildah is not installed")
    helper = Buildah(podman, runtime)
    yield helper
    helper.cleanup()


def test_buildah_run(buildah):
    container = buildah("from", "--pull-never", env.IMAGE, check=True).stdout.strip()
    buildah.containers.append(container)
    ok = buildah.run(container, "sh", "-c", "echo out; echo err >&2; cat")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == "out\n" and "err" in ok.stderr
    piped = buildah.run(container, "sh", "-c", "read line; echo got:$line", input="hello\n")
    assert (piped.returncode, piped.stdout) == (0, "got:hello\n"), piped.stderr
    failed = buildah.run(container, "sh", "-c", "exit 3")
    assert failed.returncode != 0
    assert "exit status 3" in failed.stderr
    links = buildah.run(container, "cat", "/proc/net/dev")  # no interface but its own lo
    assert links.returncode == 0, links.stderr
    assert [line.split(":")[0].strip() for line in links.stdout.splitlines()[2:]] == ["lo"]


def test_buildah_bud_run_steps(buildah, tmp_path: Path):
    tag = f"localhost/dropin-bud-{buildah.runtime.name}:latest"
    (tmp_path / "Containerfile").write_text(
        f"FROM {env.IMAGE}\n"
        "RUN echo built > /built && mkdir -p /data && echo step2 >> /built\n"
        'RUN ["sh", "-c", "test -f /built && echo \\"$HOME\\" > /data/home"]\n')
    result = buildah.bud("-t", tag, str(tmp_path))
    buildah.images.append(tag)
    assert result.returncode == 0, result.stderr
    shown = buildah.manager.podman("run", "--rm", tag, "cat", "/built", "/data/home",
                                   runtime=buildah.runtime.path)
    assert shown.stdout == "built\nstep2\n/root\n", shown.stderr


def test_buildah_bud_failing_step(buildah, tmp_path: Path):
    (tmp_path / "Containerfile").write_text(f"FROM {env.IMAGE}\nRUN exit 7\n")
    before = set(buildah("containers", "-q", check=True).stdout.split())
    result = buildah.bud(str(tmp_path))
    left = set(buildah("containers", "-q", check=True).stdout.split()) - before
    buildah.containers.extend(left)  # the failed build's working container
    assert result.returncode != 0
    assert "exit status 7" in result.stderr
