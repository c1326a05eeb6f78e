"""Our shim (containerd-shim-pyrunc-v2) under Debian's containerd 1.6: `ctr run --runtime` with
the shim given as a path and as runtime io.containerd.pyrunc.v2 found on containerd's PATH;
run --rm with exit codes and stdio, -d then exec, kill, pause/resume, delete, -t on a pty,
task metrics (our Stats decoded by containerd);
pyrunc (the shim's default) and runc (--runc-binary); a shim per container, shared only by the
containers of one group annotation (group.py). Nothing stays behind: no shim process, socket,
mount or runtime state.
For runc the shim is reached as io.containerd.runc.v2 (see pyshim_env.install_launchers)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyengine.shim import main as shim_main
from pyshim_env import (
    RUNTIME,
    SHIM_NAME,
    Events,
    ShimCtr,
    env,
    install_launchers,
    shim_pids,
    stop_shims,
)

pytestmark = pytest.mark.root

RUNTIMES = ("pyrunc", "runc")
GROUP = "pyshim-test-group"


@pytest.fixture(scope="module")
def daemon() -> Iterator[env.Containerd]:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    base = env.make_base("pyshim-")
    daemon = env.Containerd(base / "containerd", namespace=f"pyshim{os.getpid()}")
    try:
        daemon.base.mkdir(parents=True)
        install_launchers(daemon.opt_bin)
        archive = env.build_busybox_archive(base / "image")
        daemon.start()
        daemon.import_image(archive)
        yield daemon
    finally:
        try:
            daemon.stop()
        finally:
            stop_shims(daemon, daemon.opt_bin / SHIM_NAME)
            env.remove_tree(base)


@pytest.fixture(params=RUNTIMES)
def ctr(request: pytest.FixtureRequest, daemon: env.Containerd) -> Iterator[ShimCtr]:
    if request.param == "pyrunc":  # our shim by path, running its default runtime
        helper = ShimCtr(daemon, str(daemon.opt_bin / "containerd-shim-pyrunc-v2"), None)
    else:  # see install_launchers: --runc-binary goes to runtime io.containerd.runc.v2 only
        helper = ShimCtr(daemon, "io.containerd.runc.v2", env.RUNC)
    try:
        yield helper
    finally:
        helper.cleanup()


def _nothing_left(ctr: ShimCtr) -> None:
    env.wait_for(lambda: not shim_pids(ctr.daemon), what="our shims to exit")
    # each container's shim socket, and the test group's, is gone
    flags = shim_main.parse(["-namespace", ctr.daemon.namespace, "-address",
                             ctr.daemon.address])
    assert not os.path.exists(shim_main.socket_path(flags, GROUP))
    with open("/proc/self/mountinfo") as info:
        mounts = info.read()
    for container_id in ctr.created:
        flags.id = container_id
        assert not os.path.exists(shim_main.socket_path(flags))
        assert f"/{container_id}/rootfs" not in mounts
        assert not (ctr.daemon.runtime_root / container_id).exists()


def test_run_rm_exit_codes_and_stdio(ctr: ShimCtr) -> None:
    ok = ctr.run("sh", "-c", 'read a; echo "out $a"; echo to-stderr >&2', input="in\n")
    assert (ok.returncode, ok.stdout) == (0, "out in\n"), ok.stderr
    assert "to-stderr" in ok.stderr
    failed = ctr.run("sh", "-c", "exit 3")
    assert failed.returncode == 3, failed.stderr
    # killed from outside (PID 1 cannot SIGKILL itself): 128 + 9
    container_id = ctr.new_id("killed")
    running = subprocess.Popen(ctr.run_argv(container_id, "sleep", "1000", flags=("--rm",)),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        env.wait_for(lambda: ctr.status(container_id) == "RUNNING", what="the task to run")
        assert ctr.ctr("task", "kill", "-s", "SIGKILL", container_id).returncode == 0
        assert running.wait(timeout=60) == 137
    finally:
        if running.poll() is None:
            os.killpg(running.pid, signal.SIGKILL)
            running.wait()
    assert not set(ctr.created) & set(ctr.ctr("container", "ls", "-q").stdout.split())
    _nothing_left(ctr)


def test_missing_executable_is_a_create_error(ctr: ShimCtr) -> None:
    result = ctr.run("no-such-command")
    assert result.returncode != 0
    assert "no-such-command" in result.stderr, result.stderr
    _nothing_left(ctr)


def test_detached_exec_pause_resume_kill_delete(ctr: ShimCtr) -> None:
    container_id = ctr.start("detached", "sleep", "1000")
    assert ctr.status(container_id) == "RUNNING"
    shims = shim_pids(ctr.daemon)
    assert len(shims) == 1, "the task does not run under our shim"
    # forked from the warm zygote (its command line is the zygote's)
    assert b"zygote" in Path(f"/proc/{shims[0]}/cmdline").read_bytes().split(b"\0")
    exec_ok = ctr.ctr("task", "exec", "--exec-id", "e0", container_id, "sh", "-c",
                      'echo "exec in $(pwd)"; echo exec-err >&2; exit 5')
    assert (exec_ok.returncode, exec_ok.stdout) == (5, "exec in /\n"), exec_ok.stderr
    assert "exec-err" in exec_ok.stderr
    pids = ctr.ctr("task", "ps", container_id, check=True).stdout.split()
    assert str(ctr.daemon.tasks()[container_id][0]) in pids
    assert ctr.ctr("task", "pause", container_id).returncode == 0
    assert ctr.status(container_id) == "PAUSED"
    assert ctr.ctr("task", "resume", container_id).returncode == 0
    assert ctr.status(container_id) == "RUNNING"
    # PID 1 ignores SIGTERM without a handler: the task stays up, as under the Go shim
    assert ctr.ctr("task", "kill", container_id).returncode == 0
    assert ctr.status(container_id) == "RUNNING"
    refused = ctr.ctr("task", "delete", container_id)
    assert refused.returncode != 0 and "stopped" in refused.stderr
    assert ctr.ctr("task", "kill", "-a", "-s", "SIGKILL", container_id).returncode == 0
    env.wait_for(lambda: ctr.status(container_id) == "STOPPED", what="the task to stop")
    deleted = ctr.ctr("task", "delete", container_id)
    assert deleted.returncode == 0, deleted.stderr
    assert ctr.ctr("container", "delete", container_id).returncode == 0
    _nothing_left(ctr)


def test_tty_on_a_pty(ctr: ShimCtr) -> None:
    from dropin_pty import WAIT_FOR_SIZE, run_on_pty

    container_id = ctr.new_id("tty")
    argv = ctr.run_argv(container_id, "sh", "-c",
                        f'tty; {WAIT_FOR_SIZE}; echo ready; read x; echo "got:$x"; exit 4',
                        flags=("--rm", "-t"))
    result = run_on_pty(argv, reply_to=("ready", "hello\r"), rows=33, cols=101)
    assert result.returncode == 4, result
    assert "/dev/pts/0" in result.output
    assert "size 33 101" in result.output
    assert "got:hello" in result.output
    _nothing_left(ctr)


def test_runtime_name_found_on_containerds_path(daemon: env.Containerd) -> None:
    helper = ShimCtr(daemon, RUNTIME, None)
    try:
        result = helper.run("sh", "-c", "echo by-name")
        assert (result.returncode, result.stdout) == (0, "by-name\n"), result.stderr
        info = helper.ctr("container", "info", helper.created[-1])
        assert info.returncode != 0  # --rm removed it
    finally:
        helper.cleanup()


def test_events_reach_containerd(daemon: env.Containerd) -> None:
    helper = ShimCtr(daemon, RUNTIME, None)
    try:
        with Events(daemon) as events:
            container_id = helper.new_id("events")
            result = env.run(helper.run_argv(container_id, "true", flags=("--rm",)),
                             check=False)
            assert result.returncode == 0, result.stderr
            topics = events.wait_for(container_id, "/tasks/delete")
        for topic in ("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"):
            assert topic in topics, topics
    finally:
        helper.cleanup()


def test_oom_kill_is_an_event(daemon: env.Containerd) -> None:
    helper = ShimCtr(daemon, RUNTIME, None)
    try:
        with Events(daemon) as events:
            container_id = helper.new_id("oom")
            # a string doubling until the 16 MiB limit kills the shell
            result = env.run(helper.run_argv(container_id, "sh", "-c",
                                             "a=x; while :; do a=$a$a; done",
                                             flags=("--rm", "--memory-limit", str(16 << 20))),
                             check=False)
            assert result.returncode == 137, result.stderr
            events.wait_for(container_id, "/tasks/oom")
    finally:
        helper.cleanup()


def test_each_container_has_a_shim_of_its_own(ctr: ShimCtr) -> None:
    """docker's model: a shim that dies takes only its own container with it."""
    first, second = (ctr.start("own", "sleep", "1000") for _ in range(2))
    shims = shim_pids(ctr.daemon)
    assert len(shims) == 2, shims
    for container_id in (first, second):
        assert ctr.ctr("task", "kill", "-s", "SIGKILL", container_id).returncode == 0
        env.wait_for(lambda c=container_id: ctr.status(c) == "STOPPED", what="the task to stop")
        assert ctr.ctr("task", "delete", container_id).returncode == 0
        assert ctr.ctr("container", "delete", container_id).returncode == 0
    _nothing_left(ctr)


def test_containers_of_a_group_share_one_shim(ctr: ShimCtr) -> None:
    """The annotation containerd's runc shim groups by (CRI sets its own for a pod)."""
    annotation = ("--annotation", f"io.containerd.runc.v2.group={GROUP}")
    first, second = (ctr.start("group", "sleep", "1000", flags=annotation) for _ in range(2))
    shims = shim_pids(ctr.daemon)
    assert len(shims) == 1, shims
    # the first container goes; the shim stays for the second, which stays controllable
    assert ctr.ctr("task", "kill", "-s", "SIGKILL", first).returncode == 0
    env.wait_for(lambda: ctr.status(first) == "STOPPED", what="the first task to stop")
    assert ctr.ctr("task", "delete", first).returncode == 0
    assert shim_pids(ctr.daemon) == shims
    exec_ok = ctr.ctr("task", "exec", "--exec-id", "e0", second, "echo", "still-here")
    assert (exec_ok.returncode, exec_ok.stdout) == (0, "still-here\n"), exec_ok.stderr
    # a third container joins the same shim after the first left
    third = ctr.new_id("group")
    result = env.run(ctr.run_argv(third, "sh", "-c", "exit 6", flags=("--rm", *annotation)),
                     check=False)
    assert result.returncode == 6, result.stderr
    assert shim_pids(ctr.daemon) == shims
    assert ctr.ctr("task", "kill", "-s", "SIGKILL", second).returncode == 0
    env.wait_for(lambda: ctr.status(second) == "STOPPED", what="the second task to stop")
    assert ctr.ctr("task", "delete", second).returncode == 0
    for container_id in (first, second):
        assert ctr.ctr("container", "delete", container_id).returncode == 0
    _nothing_left(ctr)  # the last container gone, the shim leaves


def test_shim_killed_leaves_nothing_running(ctr: ShimCtr) -> None:
    container_id = ctr.start("shimkill", "sleep", "1000")
    task_pid = ctr.daemon.tasks()[container_id][0]
    (shim,) = shim_pids(ctr.daemon)
    os.kill(shim, signal.SIGKILL)
    # containerd runs our `delete` (runtime delete --force, rootfs unmounted) and drops the task
    env.wait_for(lambda: container_id not in ctr.daemon.tasks(), what="the task to go")
    env.wait_for(lambda: not os.path.exists(f"/proc/{task_pid}"), what="the container to die")
    assert ctr.ctr("container", "delete", container_id).returncode == 0
    _nothing_left(ctr)


def test_update_resources_through_tasks_api(ctr: ShimCtr) -> None:
    from dropin_tasks_api import update_task  # ctr 1.6 has no `task update`

    container_id = ctr.start("update", "sleep", "1000")
    update_task(ctr.daemon.address, ctr.daemon.namespace, container_id,
                {"memory": {"limit": 64 << 20}, "cpu": {"shares": 512}})
    cgroups = Path("/sys/fs/cgroup")
    limit = cgroups / "memory" / ctr.daemon.namespace / container_id / "memory.limit_in_bytes"
    assert int(limit.read_text()) == 64 << 20
    shares = cgroups / "cpu" / ctr.daemon.namespace / container_id / "cpu.shares"
    assert int(shares.read_text()) == 512
    assert ctr.status(container_id) == "RUNNING"


def test_containerd_restart_reconnects_to_the_shim(ctr: ShimCtr) -> None:
    container_id = ctr.start("restart", "sleep", "1000")
    task_pid = ctr.daemon.tasks()[container_id][0]
    shims = shim_pids(ctr.daemon)
    process = ctr.daemon.process
    assert process is not None
    env.terminate(process.pid)  # containerd only: the shim and the task stay
    process.wait(timeout=60)
    ctr.daemon.start()  # reads the bundle's `address` and reconnects
    assert shim_pids(ctr.daemon) == shims
    assert ctr.daemon.tasks()[container_id] == (task_pid, "RUNNING")
    exec_ok = ctr.ctr("task", "exec", "--exec-id", "e0", container_id, "echo", "reconnected")
    assert (exec_ok.returncode, exec_ok.stdout) == (0, "reconnected\n"), exec_ok.stderr
    assert ctr.ctr("task", "kill", "-s", "SIGKILL", container_id).returncode == 0
    env.wait_for(lambda: ctr.status(container_id) == "STOPPED", what="the task to stop")
    assert ctr.ctr("task", "delete", container_id).returncode == 0
    assert ctr.ctr("container", "delete", container_id).returncode == 0
    _nothing_left(ctr)


def test_exec_with_a_tty(ctr: ShimCtr) -> None:
    from dropin_pty import run_on_pty

    container_id = ctr.start("exectty", "sleep", "1000")
    argv = ctr.daemon.ctr_argv("task", "exec", "-t", "--exec-id", "t0", container_id, "sh",
                               "-c", 'tty; echo ready; read x; echo "got:$x"; exit 9')
    result = run_on_pty(argv, reply_to=("ready", "typed\r"))
    assert result.returncode == 9, result
    assert "/dev/pts/" in result.output
    assert "got:typed" in result.output
    assert ctr.status(container_id) == "RUNNING"


def test_task_metrics_are_decoded_by_containerd(ctr: ShimCtr) -> None:
    """Stats: containerd decodes our Any (io.containerd.cgroups.v1/v2 Metrics) with its own
    types and ctr prints the figures of the container's cgroups."""
    container_id = ctr.start("metrics", "sh", "-c", "sleep 1000 & wait",
                             flags=("--memory-limit", str(64 << 20)))
    metrics = ctr.ctr("task", "metrics", container_id)
    assert metrics.returncode == 0, metrics.stderr
    rows = dict(line.split(None, 1) for line in metrics.stdout.splitlines()
                if line.startswith(("memory.", "cpu", "pids.")))
    values = {k: v.strip() for k, v in rows.items()}
    v1 = "memory.usage_in_bytes" in values  # else a unified host: ctr names v2's fields
    usage, limit, cpu = (("memory.usage_in_bytes", "memory.limit_in_bytes", "cpuacct.usage")
                         if v1 else ("memory.usage", "memory.usage_limit", "cpu.usage_usec"))
    assert int(values[limit]) == 64 << 20, values
    assert int(values[usage]) > 0 and int(values[cpu]) > 0, values
    assert values["pids.current"] == "2", values  # sh and sleep
