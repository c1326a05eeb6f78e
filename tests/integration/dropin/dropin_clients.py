"""Clients bound to the private managers, selecting the runtime under test: ``ctr`` (containerd)
and ``podman``. Each remembers what it created and removes it in ``cleanup``."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import dropin_env as env

LOOP = "while :; do sleep 0.1; done"


class Ctr:
    """ctr bound to the private containerd, selecting the runtime under test."""

    def __init__(self, daemon: env.Containerd, runtime, new_id) -> None:
        self.daemon = daemon
        self.runtime = runtime
        self.new_id = new_id
        self.created: list[str] = []

    def run_argv(self, container_id: str, *cmd: str, rm: bool = True, detach: bool = False,
                 flags: tuple[str, ...] = (), runc_binary: bool = True) -> list[str]:
        argv = ["run"]
        argv += ["--rm"] if rm else []
        argv += ["-d"] if detach else []
        argv += ["--runc-binary", self.runtime.path] if runc_binary else []
        argv += [*flags, env.IMAGE, container_id, *cmd]
        return self.daemon.ctr_argv(*argv)

    def run(self, *cmd: str, input: str | None = None, flags: tuple[str, ...] = (),
            runc_binary: bool = True) -> subprocess.CompletedProcess:
        container_id = self.new_id()
        self.created.append(container_id)
        argv = self.run_argv(container_id, *cmd, flags=flags, runc_binary=runc_binary)
        return env.run(argv, check=False, input=input)

    def start(self, *cmd: str, runc_binary: bool = True, flags: tuple[str, ...] = ()) -> str:
        """``ctr run -d``; returns the id once the task is RUNNING."""
        container_id = self.new_id()
        self.created.append(container_id)
        env.run(self.run_argv(container_id, *cmd, rm=False, detach=True, flags=flags,
                              runc_binary=runc_binary))
        self.wait_status(container_id, "RUNNING")
        options = self.daemon.bundle(container_id) / "options.json"
        if runc_binary:  # the shim really runs the runtime under test
            assert json.loads(options.read_text())["binary_name"] == self.runtime.path
        return container_id

    def ctr(self, *args: str, check: bool = False, **kw) -> subprocess.CompletedProcess:
        return self.daemon.ctr(*args, check=check, **kw)

    def status(self, container_id: str) -> str:
        return self.daemon.tasks().get(container_id, (0, "NONE"))[1]

    def pid(self, container_id: str) -> int:
        return self.daemon.tasks()[container_id][0]

    def wait_status(self, container_id: str, status: str) -> None:
        env.wait_for(lambda: self.status(container_id) == status, timeout=30,
                     what=f"task {container_id} to be {status}")

    def delete_task(self, container_id: str) -> int:
        """``ctr task delete``; returns the task's exit status (ctr logs non-zero ones)."""
        result = self.ctr("task", "delete", container_id)
        assert result.returncode == 0, result.stderr
        found = re.search(r"exit with non-zero exit code (\d+)", result.stderr)
        return int(found.group(1)) if found else 0

    def rootfs(self, container_id: str) -> Path:
        return self.daemon.bundle(container_id) / "rootfs"

    def cleanup(self) -> None:
        for container_id in self.created:
            self.daemon.remove(container_id)


class Pod:
    """podman on the private set-up, every call with ``--runtime`` = the runtime under test."""

    def __init__(self, manager: env.Podman, runtime, new_id) -> None:
        self.manager = manager
        self.runtime = runtime
        self.new_id = new_id
        self.names: list[str] = []

    def argv(self, *args: str) -> list[str]:
        return self.manager.argv(*args, runtime=self.runtime.path)

    def __call__(self, *args: str, check: bool = False, **kw) -> subprocess.CompletedProcess:
        return self.manager.podman(*args, runtime=self.runtime.path, check=check, **kw)

    def name(self) -> str:
        name = self.new_id()
        self.names.append(name)
        return name

    def run_rm(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self("run", "--rm", "--name", self.name(), *args, **kw)

    def start(self, *cmd: str, flags: tuple[str, ...] = ()) -> str:
        """``podman run -d``; returns the full container id."""
        result = self("run", "-d", "--name", self.name(), *flags, env.IMAGE, *cmd, check=True)
        return result.stdout.strip()

    def inspect(self, container: str) -> dict:
        return json.loads(self("container", "inspect", container, check=True).stdout)[0]

    def status(self, container: str) -> str:
        return self.inspect(container)["State"]["Status"]

    def cleanup(self) -> None:
        if self.names:
            self("rm", "-f", "-t", "0", "--ignore", *self.names, timeout=120)


def cgroup_dir(pid: int, controller: str) -> Path:
    """The v1 cgroup directory of ``pid`` for ``controller`` (from /proc/PID/cgroup)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return Path("/sys/fs/cgroup") / controllers / path.lstrip("/")
    raise AssertionError(f"pid {pid} has no {controller} cgroup")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
