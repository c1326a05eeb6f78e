"""Hooks: prestart, createRuntime, createContainer, startContainer, poststart, poststop —
state on stdin, args, env, the namespace each runs in, order, and failure semantics."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from spectest.bundle import PROBE, Container, share_runtime_namespaces
from spectest.factory import ContainerFactory
from spectest.host import leftovers

# Writes the state from stdin, the namespaces, args and env under $0's directory.
RECORD = (
    'd=$0; n=$1; shift; cat > "$d/$n.state"; readlink /proc/self/ns/mnt > "$d/$n.mnt"; '
    'echo "$@" > "$d/$n.args"; env > "$d/$n.env"; echo "$n" >> "$d/order"'
)
RUNTIME_NS_HOOKS = ("prestart", "createRuntime", "poststart", "poststop")
CONTAINER_NS_HOOKS = ("createContainer", "startContainer")


def hook(outdir: str, name: str, **extra) -> dict:
    entry = {"path": "/bin/sh", "args": ["sh", "-c", RECORD, outdir, name, "a1", "a2"],
             "env": ["HOOKVAR=from-config", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}
    entry.update(extra)
    return entry


def with_all_hooks(ctr: Container, outdir: Path) -> None:
    ctr.config["mounts"].append({"destination": "/hookout", "type": "bind",
                                 "source": str(outdir), "options": ["rbind", "rw"]})
    hooks = {name: [hook(str(outdir), name)] for name in
             ("prestart", "createRuntime", "createContainer", "poststart", "poststop")}
    hooks["startContainer"] = [hook("/hookout", "startContainer")]  # resolved in the container
    ctr.config["hooks"] = hooks


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    d = tmp_path / "hookout"
    d.mkdir()
    d.chmod(0o777)
    return d


@dataclass
class HookRun:
    ctr: Container
    outdir: Path
    pid: int
    container_mnt: str

    def state(self, name: str) -> dict:
        return json.loads((self.outdir / f"{name}.state").read_text())

    def text(self, name: str, what: str) -> str:
        return (self.outdir / f"{name}.{what}").read_text()


@pytest.fixture(scope="module")
def hook_run(rootfs, workdir, runtime, tmp_path_factory) -> Iterator[HookRun]:
    """One container with every hook kind, run through create/start/stop/delete."""
    outdir = tmp_path_factory.mktemp("hooks") / "out"
    outdir.mkdir()
    outdir.chmod(0o777)
    bundles = workdir / "bundles"
    bundles.mkdir(exist_ok=True)
    factory = ContainerFactory(rootfs, bundles)
    try:
        ctr = factory.make(runtime)
        ctr.config["process"]["args"] = [PROBE, "exit", "0"]
        with_all_hooks(ctr, outdir)
        res = ctr.create()
        assert res.returncode == 0, res.stderr
        pid = ctr.state()["pid"]
        container_mnt = os.readlink(f"/proc/{pid}/ns/mnt")
        assert ctr.start().returncode == 0
        ctr.wait_status("stopped")
        ctr.reap(pid, block=True)
        res = ctr.delete()
        assert res.returncode == 0, res.stderr
        yield HookRun(ctr, outdir, pid, container_mnt)
    finally:
        factory.cleanup()


def test_every_hook_ran_in_order(hook_run):
    order = (hook_run.outdir / "order").read_text().split()
    assert sorted(order) == sorted(RUNTIME_NS_HOOKS + CONTAINER_NS_HOOKS), order
    position = {name: order.index(name) for name in order}
    assert max(position["prestart"], position["createRuntime"]) < position["createContainer"]
    # startContainer runs in the init after `start` released it while poststart runs in `start`
    # itself: runc and crun do not order those two, so neither does this test.
    assert position["createContainer"] < position["startContainer"] < position["poststop"]
    assert position["createContainer"] < position["poststart"] < position["poststop"], order


@pytest.mark.parametrize("name", RUNTIME_NS_HOOKS + CONTAINER_NS_HOOKS)
def test_hook_gets_state_on_stdin(hook_run, name):
    state = hook_run.state(name)
    assert "pid" in state or name == "poststop", f"no pid in the state given to {name}: {state}"
    assert state["id"] == hook_run.ctr.id
    assert state["bundle"] == str(hook_run.ctr.bundle)
    assert state["ociVersion"].startswith("1.")
    assert state["status"] in ("creating", "created", "running", "stopped"), state
    if name != "poststop":
        # "pid: the ID of the container process, as seen by the host"
        assert state["pid"] == hook_run.pid, state


@pytest.mark.parametrize("name", RUNTIME_NS_HOOKS + CONTAINER_NS_HOOKS)
def test_hook_args_and_env(hook_run, name):
    assert hook_run.text(name, "args").split() == ["a1", "a2"]
    assert "HOOKVAR=from-config" in hook_run.text(name, "env").splitlines()


@pytest.mark.parametrize("name", RUNTIME_NS_HOOKS + CONTAINER_NS_HOOKS)
def test_hook_namespace(hook_run, name, host_ns, runtime):
    mnt = hook_run.text(name, "mnt").strip()
    if name in CONTAINER_NS_HOOKS:
        assert mnt == hook_run.container_mnt, f"{name} must run in the container namespace"
    elif runtime.private_mount_ns:
        assert mnt != hook_run.container_mnt, f"{name} must run in the runtime namespace"
    else:
        assert mnt == host_ns["mnt"], f"{name} must run in the runtime namespace"


def test_poststop_status_is_stopped(make, outdir):
    ctr = make()
    ctr.config["process"]["args"] = [PROBE, "exit", "0"]
    ctr.config["hooks"] = {"poststop": [hook(str(outdir), "poststop")]}
    assert ctr.run().returncode == 0
    state = json.loads((outdir / "poststop.state").read_text())
    assert state["status"] == "stopped"


def failing(name: str) -> dict:
    """A hook that reads its state, complains and fails."""
    return {"path": "/bin/sh",
            "args": ["sh", "-c", f"cat >/dev/null; echo {name} failed >&2; exit 3"]}


@pytest.mark.parametrize("name", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook_fails_create_and_cleans_up(make, name, rootfs):
    ctr = make()
    ctr.config["hooks"] = {name: [failing(name)]}
    res = ctr.create()
    assert res.returncode != 0
    assert res.stderr.strip(), "no error message"
    problems = leftovers(ctr.rt.root, ctr.id, ctr.config["linux"]["cgroupsPath"],
                         str(ctr.bundle), rootfs)
    assert not problems, problems


def test_failing_start_container_hook_stops_the_container(make, outdir):
    """runtime-spec: a failing startContainer hook stops the container before the user process
    runs (runc and crun report it from the init, so `start` itself may still exit 0)."""
    ctr = make()
    ctr.config["mounts"].append({"destination": "/hookout", "type": "bind",
                                 "source": str(outdir), "options": ["rbind", "rw"]})
    ctr.config["process"]["args"] = ["sh", "-c", "touch /hookout/user-process-ran"]
    ctr.config["hooks"] = {"startContainer": [failing("startContainer")]}
    assert ctr.create().returncode == 0
    pid = ctr.state()["pid"]
    ctr.start()
    ctr.wait_status("stopped")
    ctr.reap(pid, block=True)
    assert not (outdir / "user-process-ran").exists(), "the user process must not run"


def test_failing_poststart_hook_is_a_warning(make, outdir):
    """runtime-spec: a failing poststart hook is logged, the lifecycle continues."""
    ctr = make()
    ctr.config["process"]["args"] = [PROBE, "sleep"]
    ctr.config["hooks"] = {"poststart": [failing("poststart"), hook(str(outdir), "poststart")]}
    res = ctr.create()
    assert res.returncode == 0, res.stderr
    res = ctr.start()
    assert (outdir / "poststart.state").exists(), (
        f"later poststart hooks must still run (start: rc={res.returncode} {res.stderr!r})")
    assert ctr.state()["status"] == "running"


def test_failing_poststop_hook_is_a_warning(make, outdir):
    ctr = make()
    ctr.config["process"]["args"] = [PROBE, "exit", "0"]
    ctr.config["hooks"] = {"poststop": [failing("poststop"), hook(str(outdir), "poststop")]}
    ctr.run_to_stopped()
    res = ctr.delete()
    assert (outdir / "poststop.state").exists(), (
        f"later poststop hooks must still run (delete: rc={res.returncode} {res.stderr!r})")
    assert ctr.state_raw().returncode != 0, "the container must be deleted anyway"


def test_hook_timeout(make, rootfs):
    ctr = make()
    ctr.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", "exec sleep 5"], "timeout": 1}]}
    res = ctr.create()
    assert res.returncode != 0
    problems = leftovers(ctr.rt.root, ctr.id, ctr.config["linux"]["cgroupsPath"],
                         str(ctr.bundle), rootfs)
    assert not problems, problems


@pytest.mark.parametrize("name", ["createRuntime", "poststart"])
def test_hook_that_ignores_its_stdin(make, name):
    """A hook need not read the state: with 200 KB of annotations it cannot all fit in a pipe,
    so the runtime sees EPIPE and must not die of it; the hook succeeded."""
    ctr = make()
    ctr.config["annotations"] = {f"org.spectest.pad{i}": "x" * 1000 for i in range(200)}
    ctr.config["process"]["args"] = [PROBE, "sleep"]
    ctr.config["hooks"] = {name: [{"path": "/bin/sh", "args": ["sh", "-c", "exit 0"]}]}
    res = ctr.create()
    assert res.returncode == 0, res.stderr
    res = ctr.start()
    assert res.returncode == 0, res.stderr
    assert ctr.state()["status"] == "running"


def test_hooks_run_once_without_mount_namespace(factory, runtime, outdir):
    """Each hook runs once per lifecycle step, also for a container sharing the runtime's
    mount namespace (the runtime runs in a private one: the container's mounts land there)."""
    ctr = factory.make(runtime.in_private_mount_ns(), share_runtime_namespaces)
    ctr.config["process"]["args"] = [PROBE, "exit", "0"]
    ctr.config["hooks"] = {name: [hook(str(outdir), name)] for name in
                           ("prestart", "createRuntime", "createContainer", "poststart",
                            "poststop")}
    assert ctr.run().returncode == 0
    assert (outdir / "order").read_text().split() == [
        "prestart", "createRuntime", "createContainer", "poststart", "poststop"]
