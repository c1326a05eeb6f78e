"""pyctl against what docker 20.10 (dockerd 20.10, CLI 28) printed for the same command lines:
stdout, stderr and exit codes a script would notice. Each test quotes docker's output; the
comparison was made by hand against a private dockerd (never started here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ctr_harness import ContainerEngine

pytestmark = [pytest.mark.root]


def _run(engine: ContainerEngine, *args: str) -> tuple[int, str, str]:
    result = engine.pyctl(*args)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def test_export_to_a_missing_directory(engine: ContainerEngine, tmp_path: Path) -> None:
    # docker export c1 -o /tmp/parity/nodir/x.tar -> exit 1, stderr:
    # failed to export container: invalid output path: stat /tmp/parity/nodir: no such file or
    # directory
    engine.pyctl("create", "--name", "exp1", "busybox", "true", check=True)
    target = tmp_path / "nodir" / "x.tar"
    assert _run(engine, "export", "exp1", "-o", str(target)) == (
        1, "", f"failed to export container: invalid output path: stat {tmp_path}/nodir: "
               "no such file or directory\n")
    # docker save busybox -o /tmp/parity/nodir/x.tar -> exit 1, stderr:
    # failed to save image: invalid output path: stat /tmp/parity/nodir: no such file or directory
    assert _run(engine, "save", "busybox", "-o", str(target)) == (
        1, "", f"failed to save image: invalid output path: stat {tmp_path}/nodir: "
               "no such file or directory\n")


def test_exec_that_cannot_start(engine: ContainerEngine) -> None:
    cid = engine.out("run", "-d", "busybox", "sleep", "1000").strip()
    # docker exec e1 /nonexist -> exit 126, on stdout: OCI runtime exec failed: exec failed:
    # unable to start container process: exec: "/nonexist": stat /nonexist: no such file or
    # directory: unknown (the same 126 for "nosuchcmd", "-u nosuchuser", "-w /nonexist")
    for args in (["/nonexist"], ["nosuchcmd"], ["-u", "nosuchuser", cid, "true"]):
        argv = args if args[0] == "-u" else [cid, *args]
        code, out, err = _run(engine, "exec", *argv)
        assert (code, err) == (126, ""), (args, out, err)
        assert args[-1] in out or "nosuchuser" in out
    # docker exec -d e1 nosuchcmd -> exit 1, stderr: Error response from daemon: OCI runtime
    # exec failed: ... executable file not found in $PATH: unknown
    code, out, err = _run(engine, "exec", "-d", cid, "nosuchcmd")
    assert (code, out) == (1, "") and err.startswith("Error response from daemon: ")


def test_primary_group_is_a_supplementary_group(engine: ContainerEngine) -> None:
    # docker run --rm busybox id -> uid=0(root) gid=0(root) groups=0(root)
    assert engine.out("run", "--rm", "busybox", "id") == "uid=0(root) gid=0(root) groups=0(root)\n"
    # docker run --rm -u 2000:3000 busybox id -> uid=2000 gid=3000 groups=3000
    assert engine.out("run", "--rm", "-u", "2000:3000", "busybox", "id") == (
        "uid=2000 gid=3000 groups=3000\n")
    # docker exec -u 1000 l1 id -> uid=1000 gid=0(root) groups=0(root)
    cid = engine.out("run", "-d", "busybox", "sleep", "1000").strip()
    assert engine.out("exec", "-u", "1000", cid, "id") == "uid=1000 gid=0(root) groups=0(root)\n"


def test_diff_of_a_fresh_container_is_empty(engine: ContainerEngine) -> None:
    # docker create --name c1 busybox echo hi; docker diff c1 -> exit 0, no output
    cid = engine.out("create", "busybox", "echo", "hi").strip()
    assert _run(engine, "diff", cid) == (0, "", "")
    engine.out("start", cid)
    assert engine.out("wait", cid) == "0\n"
    assert _run(engine, "diff", cid) == (0, "", "")


def test_start_names_the_containers_it_could_not_start(engine: ContainerEngine) -> None:
    cid = engine.out("create", "--name", "st1", "busybox", "true").strip()
    # docker start e1 nosuch x2 -> exit 1, stdout "e1", stderr:
    # Error response from daemon: No such container: nosuch
    # Error response from daemon: No such container: x2
    # Error: failed to start containers: nosuch, x2
    assert _run(engine, "start", "st1", "nosuch", "x2") == (1, "st1\n", (
        "Error response from daemon: No such container: nosuch\n"
        "Error response from daemon: No such container: x2\n"
        "Error: failed to start containers: nosuch, x2\n"))
    engine.out("wait", cid)


def test_rename_errors(engine: ContainerEngine) -> None:
    engine.out("create", "--name", "rn1", "busybox", "true")
    # docker rename e1 '' -> exit 1, stderr: Error: Neither old nor new names may be empty
    assert _run(engine, "rename", "rn1", "") == (
        1, "", "Error: Neither old nor new names may be empty\n")
    # docker rename e1 e1 -> exit 1, stderr:
    # Error response from daemon: Renaming a container with the same name as its current name
    # Error: failed to rename container named e1
    assert _run(engine, "rename", "rn1", "rn1") == (1, "", (
        "Error response from daemon: Renaming a container with the same name as its current "
        "name\nError: failed to rename container named rn1\n"))
    # docker rename nosuch x -> exit 1, stderr:
    # Error response from daemon: No such container: nosuch
    # Error: failed to rename container named nosuch
    assert _run(engine, "rename", "nosuch", "x") == (1, "", (
        "Error response from daemon: No such container: nosuch\n"
        "Error: failed to rename container named nosuch\n"))


def test_kill_names_the_container_in_its_errors(engine: ContainerEngine) -> None:
    cid = engine.out("create", "--name", "k1", "busybox", "true").strip()
    # docker kill c1 nosuch -> exit 1, stderr:
    # Error response from daemon: Cannot kill container: c1: Container <id> is not running
    # Error response from daemon: Cannot kill container: nosuch: No such container: nosuch
    assert _run(engine, "kill", "k1", "nosuch") == (1, "", (
        f"Error response from daemon: Cannot kill container: k1: Container {cid} is not "
        "running\n"
        "Error response from daemon: Cannot kill container: nosuch: No such container: "
        "nosuch\n"))


def test_logs_since_and_until_forms(engine: ContainerEngine) -> None:
    cid = engine.out("run", "-d", "busybox", "echo", "hi").strip()
    engine.out("wait", cid)
    # docker logs --since 2020-01-01 --until 2020-01-02 l1 -> exit 0, nothing
    assert _run(engine, "logs", "--since", "2020-01-01", "--until", "2020-01-02", cid) == (
        0, "", "")
    # docker logs --since 1h30m e1 -> exit 0 (a Go duration)
    assert _run(engine, "logs", "--since", "1h30m", cid) == (0, "hi\n", "")
    # docker logs --since bogus e1 -> exit 1, stderr:
    # invalid value for "since": failed to parse value as time or duration: "bogus"
    assert _run(engine, "logs", "--since", "bogus", cid) == (
        1, "", 'invalid value for "since": failed to parse value as time or duration: '
               '"bogus"\n')


def test_ps_quotes_arguments_with_spaces(engine: ContainerEngine) -> None:
    cid = engine.out("create", "busybox", "sh", "-c", "echo out1; echo err1 >&2").strip()
    # docker ps -a -> 8ce85d42f38a   busybox   "sh -c 'echo out1; e…"   54 seconds ago ...
    line = engine.out("ps", "-a").splitlines()[1]
    assert line.startswith(f"{cid[:12]}   busybox   \"sh -c 'echo out1; e…\"   ")


def test_container_prune_counts_the_writable_layers(engine: ContainerEngine) -> None:
    cid = engine.out("run", "-d", "busybox", "sh", "-c", "echo x > /tmp/f").strip()
    engine.out("wait", cid)
    # docker container prune -f (a container that wrote "x\n" to /tmp/f) -> exit 0, stdout:
    # Deleted Containers:
    # 8ce85d42f38a...
    #
    # Total reclaimed space: 2B
    assert _run(engine, "container", "prune", "-f") == (
        0, f"Deleted Containers:\n{cid}\n\nTotal reclaimed space: 2B\n", "")
    # docker container prune -f (nothing to remove) -> Total reclaimed space: 0B
    assert _run(engine, "container", "prune", "-f") == (0, "Total reclaimed space: 0B\n", "")


def test_rm_force_of_a_missing_container_succeeds(engine: ContainerEngine) -> None:
    # docker rm -f nosuch -> exit 0, stderr: Error response from daemon: No such container:
    # nosuch (and docker rm nosuch -> exit 1, the same line)
    line = "Error response from daemon: No such container: nosuch\n"
    assert _run(engine, "rm", "-f", "nosuch") == (0, "", line)
    assert _run(engine, "rm", "nosuch") == (1, "", line)


def test_logs_tail_that_is_not_a_number_means_all(engine: ContainerEngine) -> None:
    cid = engine.out("run", "-d", "busybox", "sh", "-c", "echo a; echo b").strip()
    engine.out("wait", cid)
    # docker logs --tail x e1 -> exit 0, every line (the daemon reads a bad count as "all")
    assert _run(engine, "logs", "--tail", "x", cid) == (0, "a\nb\n", "")
    assert _run(engine, "logs", "--tail", "-1", cid) == (0, "a\nb\n", "")


def test_exec_without_a_command(engine: ContainerEngine) -> None:
    cid = engine.out("run", "-d", "busybox", "sleep", "1000").strip()
    # docker exec e1 -> exit 1: docker: 'docker exec' requires at least 2 arguments
    code, out, err = _run(engine, "exec", cid)
    assert (code, out) == (1, "") and "'pyctl exec' requires at least 2 arguments" in err


def test_a_missing_image_is_named_with_its_tag(engine: ContainerEngine) -> None:
    # docker create nosuchimage -> stderr begins: Unable to find image 'nosuchimage:latest'
    # locally (no registry is reachable from the test's network namespace: the pull fails)
    code, _, err = _run(engine, "create", "nosuchimage")
    assert code == 1 and err.startswith("Unable to find image 'nosuchimage:latest' locally\n")


def test_exec_into_a_paused_container_and_a_bad_signal(engine: ContainerEngine) -> None:
    engine.out("run", "-d", "--name", "pz1", "busybox", "sleep", "1000")
    engine.out("pause", "pz1")
    # docker exec p2 true -> exit 1, stderr: Error response from daemon: Container p2 is
    # paused, unpause the container before exec
    assert _run(engine, "exec", "pz1", "true") == (1, "", (
        "Error response from daemon: Container pz1 is paused, unpause the container before "
        "exec\n"))
    # docker kill -s BOGUS p2 (and nosuch) -> exit 1, stderr: Error response from daemon:
    # Invalid signal: BOGUS
    for ref in ("pz1", "nosuch"):
        assert _run(engine, "kill", "-s", "BOGUS", ref) == (
            1, "", "Error response from daemon: Invalid signal: BOGUS\n")
    engine.out("unpause", "pz1")


def test_run_detached_prints_the_id_also_when_the_start_fails(engine: ContainerEngine) -> None:
    # docker run -d --name r2 busybox /nonexist -> exit 127, the new id on stdout, then on
    # stderr: docker: Error response from daemon: failed to create shim task: ...
    code, out, err = _run(engine, "run", "-d", "--name", "rd1", "busybox", "/nonexist")
    assert code == 127 and "/nonexist" in err and len(out.strip()) == 64
    assert out == engine.out("ps", "-aq", "--no-trunc", "--filter", "name=rd1")


def test_cp_messages(engine: ContainerEngine, tmp_path: Path) -> None:
    cid = engine.out("create", "busybox", "true").strip()
    (tmp_path / "f").write_text("x")
    # docker cp e1:/etc /tmp/parity/nodir/x/y -> exit 1, stderr:
    # invalid output path: directory "/tmp/parity/nodir/x" does not exist
    assert _run(engine, "cp", f"{cid}:/etc", str(tmp_path / "nodir/x/y")) == (
        1, "", f'invalid output path: directory "{tmp_path}/nodir/x" does not exist\n')
    # docker cp /tmp/parity/bb.tar e1:/nonexist/dir/ -> exit 1, stderr: no such directory
    assert _run(engine, "cp", str(tmp_path / "f"), f"{cid}:/nonexist/dir/") == (
        1, "", "no such directory\n")
    # docker cp /tmp/parity/nonexist e1:/tmp -> exit 1, stderr:
    # lstat /tmp/parity/nonexist: no such file or directory
    assert _run(engine, "cp", str(tmp_path / "nonexist"), f"{cid}:/tmp") == (
        1, "", f"lstat {tmp_path}/nonexist: no such file or directory\n")
    # docker cp a b -> exit 1, stderr: must specify at least one container source
    assert _run(engine, "cp", "a", "b") == (1, "", "must specify at least one container source\n")
    # docker cp e1:/etc/passwd e1:/tmp -> copying between containers is not supported
    assert _run(engine, "cp", f"{cid}:/etc/passwd", f"{cid}:/tmp") == (
        1, "", "copying between containers is not supported\n")


def test_run_name_conflict_ends_with_one_period(engine: ContainerEngine) -> None:
    cid = engine.out("create", "--name", "nc1", "busybox", "true").strip()
    # docker 20.10's CLI (reportError: the message's own final period is kept, never doubled):
    # docker: Error response from daemon: Conflict. The container name "/a1" is already in use
    # by container "<id>". You have to remove (or rename) that container to be able to reuse
    # that name.   (exit 125)
    code, out, err = _run(engine, "run", "--name", "nc1", "busybox", "true")
    assert (code, out) == (125, "")
    assert err == ('pyctl: Error response from daemon: Conflict. The container name "/nc1" is '
                   f'already in use by container "{cid}". You have to remove (or rename) that '
                   "container to be able to reuse that name.\n")


def test_exec_with_bad_detach_keys_is_a_daemon_error(engine: ContainerEngine) -> None:
    cid = engine.out("run", "-d", "busybox", "sleep", "1000").strip()
    # docker exec -i --detach-keys ctrl-1 e1 sh -> exit 1, stderr: Error response from
    # daemon: Invalid escape keys (ctrl-1) provided (refused before the exec is made, so not
    # the 126 of an exec that cannot start; our wording says "detach keys")
    code, out, err = _run(engine, "exec", "-i", "--detach-keys", "ctrl-1", cid, "sh")
    assert (code, out) == (1, "") and err.startswith("Error response from daemon: Invalid ")


def test_events_with_a_bad_since(engine: ContainerEngine) -> None:
    # docker events --since bogus -> exit 1, stderr:
    # failed to parse value as time or duration: "bogus"
    assert _run(engine, "events", "--since", "bogus") == (
        1, "", 'failed to parse value as time or duration: "bogus"\n')


def test_update_without_flags(engine: ContainerEngine) -> None:
    cid = engine.out("create", "busybox", "true").strip()
    # docker update e1 -> exit 1, stderr: you must provide one or more flags when using this
    # command
    assert _run(engine, "update", cid) == (
        1, "", "you must provide one or more flags when using this command\n")
