"""Errors and bad input: one clear line, non-zero exit, and nothing left behind (no state dir,
cgroup, process or mount)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pyrunc_itest import Bundle, Runtime, wait_until

pytestmark = pytest.mark.root

SLEEP = ["sleep", "1000"]


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("verb", [["state"], ["start"], ["kill"], ["kill", "9"], ["delete"],
                                  ["pause"], ["resume"]])
def test_missing_container(rt: Runtime, verb: list[str]) -> None:
    args = [verb[0], "no-such-id", *verb[1:]]
    r = rt(*args)
    assert r.rc != 0 and r.out == ""
    assert "container does not exist" in one_line(r.err)


def test_delete_force_of_a_missing_container_succeeds(rt: Runtime) -> None:
    r = rt("delete", "--force", "no-such-id")
    assert (r.rc, r.out, r.err) == (0, "", "")
    r = rt("delete", "-f", "no-such-id")
    assert (r.rc, r.out, r.err) == (0, "", "")


def test_double_create_keeps_the_first(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    before = rt.state(b.id)
    r = rt("create", "--bundle", str(b.path), b.id)
    assert r.rc != 0 and r.out == ""
    assert "container with id exists" in one_line(r.err)
    after = rt.state(b.id)
    assert after == before  # the failed create did not touch the existing container
    assert rt("start", b.id).rc == 0
    assert rt.state(b.id)["status"] == "running"


def test_run_with_a_taken_id(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    r = rt("run", "--bundle", str(b.path), b.id)
    assert r.rc != 0 and "container with id exists" in one_line(r.err)
    assert rt.state(b.id)["status"] == "created"


def test_start_twice(rt: Runtime, tmp_path: Path) -> None:
    b = rt.bundle(["sh", "-c", "echo once; exec sleep 1000"])
    out = tmp_path / "out"
    with open(out, "wb") as f:
        assert rt("create", "--bundle", str(b.path), b.id, stdout=f).rc == 0
    assert rt("start", b.id).rc == 0
    r = rt("start", b.id)
    assert r.rc != 0 and r.out == ""
    assert "running" in one_line(r.err)
    wait_until(lambda: out.read_bytes() == b"once\n")
    assert rt.state(b.id)["status"] == "running"


def test_start_a_stopped_container(rt: Runtime) -> None:
    b = rt.bundle(["true"])
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    os.waitpid(pid, 0)
    r = rt("start", b.id)
    assert r.rc != 0 and "stopped" in one_line(r.err)


def test_kill_a_stopped_container(rt: Runtime) -> None:
    b = rt.bundle(["true"])
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    os.waitpid(pid, 0)
    assert rt.state(b.id)["status"] == "stopped"
    r = rt("kill", b.id, "9")
    assert r.rc != 0 and r.out == ""
    assert "container not running" in one_line(r.err)
    r = rt("delete", b.id)
    assert (r.rc, r.out, r.err) == (0, "", "")
    rt.assert_nothing_left(b)


def test_kill_with_an_unknown_signal(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    r = rt("kill", b.id, "SIGNOPE")
    assert r.rc != 0 and "SIGNOPE" in one_line(r.err)
    assert rt.state(b.id)["status"] == "created"


def test_delete_a_running_container_needs_force(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    assert rt("start", b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    r = rt("delete", b.id)
    assert r.rc != 0 and r.out == ""
    assert "running" in one_line(r.err)
    assert rt.state(b.id)["status"] == "running"
    assert os.path.exists(f"/proc/{pid}")
    r = rt("delete", "--force", b.id)
    assert (r.rc, r.out, r.err) == (0, "", "")
    os.waitpid(pid, 0)
    rt.assert_nothing_left(b)


def test_delete_a_created_container(rt: Runtime) -> None:
    """runc deletes (kills) a created container without --force."""
    b = rt.bundle(SLEEP)
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    r = rt("delete", b.id)
    assert (r.rc, r.out, r.err) == (0, "", "")
    os.waitpid(pid, 0)
    rt.assert_nothing_left(b)


def test_kill_all(rt: Runtime) -> None:
    b = rt.bundle(["sh", "-c", "sleep 1000 & sleep 1000 & wait"])
    assert rt("create", "--bundle", str(b.path), b.id).rc == 0
    pid = rt.state(b.id)["pid"]
    assert rt("start", b.id).rc == 0
    r = rt("kill", "--all", b.id, "9")
    assert (r.rc, r.out, r.err) == (0, "", "")
    os.waitpid(pid, 0)
    assert rt.state(b.id)["status"] == "stopped"
    assert rt("delete", b.id).rc == 0
    rt.assert_nothing_left(b)


# -- bad input ----------------------------------------------------------------------------
def _hook(kind: str, path: str, args: list[str] | None = None,
          timeout: int | None = None) -> Callable[[dict], None]:
    def mutate(c: dict) -> None:
        hook: dict[str, Any] = {"path": path}
        if args:
            hook["args"] = args
        if timeout:
            hook["timeout"] = timeout
        c.setdefault("hooks", {}).setdefault(kind, []).append(hook)
    return mutate


def _set(fn: Callable[[dict], None]) -> Callable[[dict], None]:
    return fn


BAD_INPUT: list[tuple[str, list[str], Callable[[dict], None] | None, str]] = [
    ("unknown namespace", SLEEP,
     lambda c: c["linux"]["namespaces"].append({"type": "foo"}), "foo"),
    ("missing rootfs", SLEEP, lambda c: c["root"].update(path="no-such-rootfs"), "rootfs"),
    ("missing executable", ["no-such-program"], None, "executable file not found in $PATH"),
    ("missing absolute executable", ["/bin/no-such-program"], None, "no-such-program"),
    ("failing createRuntime hook", SLEEP, _hook("createRuntime", "/bin/false"),
     "createRuntime"),
    ("failing prestart hook", SLEEP, _hook("prestart", "/bin/false"), "prestart"),
    ("failing createContainer hook", SLEEP, _hook("createContainer", "/bin/false"),
     "createContainer"),
    ("hook timeout", SLEEP, _hook("createRuntime", "/bin/sleep", ["sleep", "30"], timeout=1),
     "createRuntime"),
    ("missing hook binary", SLEEP, _hook("createRuntime", "/no/such/hook"), "/no/such/hook"),
    ("bad mount type", SLEEP,
     lambda c: c["mounts"].append({"destination": "/mnt", "type": "nosuchfs",
                                   "source": "none"}), "/mnt"),
    ("bind of a missing source", SLEEP,
     lambda c: c["mounts"].append({"destination": "/mnt", "type": "bind",
                                   "source": "/no/such/source", "options": ["rbind"]}),
     "/no/such/source"),
    ("bad rlimit", SLEEP,
     lambda c: c["process"]["rlimits"].append({"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}),
     "RLIMIT_BOGUS"),
    ("bad capability", SLEEP,
     lambda c: c["process"]["capabilities"]["bounding"].append("CAP_BOGUS"), "CAP_BOGUS"),
    ("bad cwd type", SLEEP, lambda c: c["process"].update(cwd="relative/dir"), "cwd"),
    ("userns without mappings", SLEEP,
     lambda c: c["linux"]["namespaces"].append({"type": "user"}), "mappings"),
    ("join a missing namespace", SLEEP,
     lambda c: c["linux"]["namespaces"].__setitem__(1, {"type": "network",
                                                        "path": "/no/such/netns"}),
     "/no/such/netns"),
    ("cgroup limit refused", SLEEP,
     lambda c: c["linux"].setdefault("resources", {}).update(
         {"cpu": {"cpus": "9999"}}), "cpuset"),
]


def _user(**fields: Any) -> Callable[[dict], None]:
    return lambda c: c["process"].setdefault("user", {"uid": 0, "gid": 0}).update(fields)


def _resources(**fields: Any) -> Callable[[dict], None]:
    return lambda c: c["linux"].setdefault("resources", {}).update(fields)


def _userns_map(host_id: int) -> Callable[[dict], None]:
    def mutate(c: dict) -> None:
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": host_id, "size": 1}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 1}]
    return mutate


def _env(entry: str) -> Callable[[dict], None]:
    return lambda c: c["process"]["env"].append(entry)


# Issue 13: values an independent fuzz got through the old field-by-field checks. Each is now
# refused by the decoder, naming the field (setresuid(-1) kept root; a hostID of 2^32 was
# truncated to 0; "allow": "false" allowed every device; NUL or a lone surrogate crashed with a
# traceback; a 2^63 s hook timeout overflowed; a bad env entry killed the init silently).
FUZZ_INPUT: list[tuple[str, list[str], Callable[[dict], None] | None, str]] = [
    ("uid -1", SLEEP, _user(uid=-1), "process.user.uid"),
    ("uid 2^32-1", SLEEP, _user(uid=4294967295), "process.user.uid"),
    ("gid -1", SLEEP, _user(gid=-1), "process.user.gid"),
    ("uid bool", SLEEP, _user(uid=True), "process.user.uid"),
    ("additional gid 2^32-1", SLEEP, _user(additionalGids=[4294967295]),
     "process.user.additionalGids[0]"),
    ("uid map beyond 32 bits", SLEEP, _userns_map(4294967296), "linux.uidMappings[0].hostID"),
    ("device rule allow string", SLEEP,
     _resources(devices=[{"allow": "false", "access": "rwm"}]),
     "linux.resources.devices[0].allow: expected boolean, got string"),
    ("device rule allow 1", SLEEP, _resources(devices=[{"allow": 1, "access": "rwm"}]),
     "linux.resources.devices[0].allow"),
    ("device rule empty access", SLEEP,
     _resources(devices=[{"allow": True, "access": ""}]), "linux.resources.devices[0].access"),
    ("device node mode", SLEEP, lambda c: c["linux"].setdefault("devices", []).append(
        {"path": "/dev/x", "type": "c", "major": 1, "minor": 3, "fileMode": 0o170000}),
     "linux.devices[0].fileMode"),
    ("NUL in root.path", SLEEP, lambda c: c["root"].update(path="root\x00fs"), "root.path"),
    ("surrogate in cgroupsPath", SLEEP,
     lambda c: c["linux"].update(cgroupsPath=c["linux"]["cgroupsPath"] + "\ud800"),
     "linux.cgroupsPath"),
    ("memory as a string", SLEEP, _resources(memory="256M"), "linux.resources.memory"),
    ("pids as a number", SLEEP, _resources(pids=5), "linux.resources.pids"),
    ("devices as a string", SLEEP, _resources(devices="x"), "linux.resources.devices"),
    ("hugepageLimits as an object", SLEEP, _resources(hugepageLimits={}),
     "linux.resources.hugepageLimits"),
    ("hook timeout 2^63", SLEEP, _hook("createRuntime", "/bin/true", timeout=2**63),
     "hooks.createRuntime[0].timeout"),
    ("empty env entry", SLEEP, _env(""), "missing '='"),
    ("env entry without =", SLEEP, _env("FOO"), "missing '='"),
    ("env entry without name", SLEEP, _env("=x"), "name cannot be empty"),
    ("env entry with NUL", SLEEP, _env("A=b\x00c"), "NUL"),
]
BAD_INPUT += FUZZ_INPUT


# `run` shares create's code path: a subset is enough (keeps the suite fast)
RUN_SUBSET = ("unknown namespace", "missing executable", "failing createRuntime hook",
              "failing createContainer hook", "bad mount type", "cgroup limit refused",
              "uid -1", "device rule allow string", "env entry without =")
CASES = [("create", *case) for case in BAD_INPUT] + \
    [("run", *case) for case in BAD_INPUT if case[0] in RUN_SUBSET] + \
    [("create", "terminal without console socket", SLEEP,
      lambda c: c["process"].update(terminal=True), "console")]


@pytest.mark.parametrize(("verb", "what", "args", "mutate", "needle"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_bad_input_leaves_nothing(rt: Runtime, verb: str, what: str, args: list[str],
                                  mutate: Callable[[dict], None] | None, needle: str) -> None:
    b = rt.bundle(args, mutate, own_rootfs=True)
    r = rt(verb, "--bundle", str(b.path), b.id)
    assert r.rc != 0, r
    assert r.out == ""
    assert needle in one_line(r.err), r.err
    rt.assert_nothing_left(b)
    assert rt("list", "-q").out == ""


def _bad_bundle(rt: Runtime, name: str, content: str | None) -> Bundle:
    b = rt.bundle(SLEEP, own_rootfs=True)
    if content is None:
        (b.path / "config.json").unlink()
    else:
        (b.path / "config.json").write_text(content)
    return b


@pytest.mark.parametrize("verb", ["create"])
@pytest.mark.parametrize(("content", "needle"), [
    (None, "config.json"),
    ('{"ociVersion": "1.0.2",\n "root": {"path": "rootfs"},,\n}', "line 2"),
    ("", "config.json"),
    ("[]", "config.json"),
    ('{"ociVersion": "1.0.2", "root": {"path": "rootfs"}}', "process"),
])
def test_bad_config_json(rt: Runtime, verb: str, content: str | None, needle: str) -> None:
    b = _bad_bundle(rt, "bad", content)
    r = rt(verb, "--bundle", str(b.path), b.id)
    assert r.rc != 0 and r.out == ""
    line = one_line(r.err)
    assert needle in line or (needle == "config.json" and "invalid config" in line), line
    rt.assert_nothing_left(b)


@pytest.mark.parametrize("verb", ["create", "run"])
def test_config_nested_too_deep_is_one_line(rt: Runtime, verb: str) -> None:
    """JSON nested deeper than Go's 10,000 levels (here in an unknown member) is a malformed
    config, not a RecursionError traceback."""
    b = rt.bundle(SLEEP, own_rootfs=True)
    text = (b.path / "config.json").read_text().rstrip()
    deep = "[" * 100_000 + "]" * 100_000
    (b.path / "config.json").write_text(text[:-1] + f', "x-vendor": {deep}}}')
    r = rt(verb, "--bundle", str(b.path), b.id)
    assert r.rc != 0 and r.out == ""
    assert "nested more than 10000 levels" in one_line(r.err), r.err
    assert "Traceback" not in r.err
    rt.assert_nothing_left(b)


def test_what_go_accepts_runs(rt: Runtime) -> None:
    """Unknown properties must not cause an error (runtime-spec), an unknown hook kind and a
    member nested 9,000 levels deep (Go's decoder takes 10,000) included."""
    def mutate(c: dict) -> None:
        c["hooks"] = {"preStart": [{"path": "/no/such/hook"}]}
    b = rt.bundle(["true"], mutate, own_rootfs=True)
    text = (b.path / "config.json").read_text().rstrip()
    deep = "[" * 9_000 + "]" * 9_000
    (b.path / "config.json").write_text(text[:-1] + f', "x-vendor": {deep}}}')
    r = rt("run", "--bundle", str(b.path), b.id)
    assert r.rc == 0, r
    rt.assert_nothing_left(b)


def test_no_bundle(rt: Runtime, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-bundle"
    r = rt("create", "--bundle", str(missing), "nobundle")
    assert r.rc != 0 and r.out == ""
    assert str(missing) in one_line(r.err)
    assert not os.path.exists(os.path.join(rt.root, "nobundle"))


def test_bundle_defaults_to_cwd(rt: Runtime) -> None:
    b = rt.bundle(SLEEP)
    r = rt("--help")  # sanity: the launcher works from the runtime's workdir
    assert r.rc == 0
    os.rename(b.path / "config.json", rt.workdir / "config.json")
    try:
        r = rt("create", b.id)
        assert r.rc == 0, r
        assert rt.state(b.id)["bundle"] == str(rt.workdir)
    finally:
        os.rename(rt.workdir / "config.json", b.path / "config.json")


def test_pid_file_in_a_missing_directory_leaves_nothing(rt: Runtime, tmp_path: Path) -> None:
    """The pid file is written last, after the init is set up: its failure must undo it all."""
    b = rt.bundle(SLEEP, own_rootfs=True)
    pid_file = tmp_path / "no-such-dir" / "init.pid"
    r = rt("create", "--bundle", str(b.path), "--pid-file", str(pid_file), b.id)
    assert r.rc != 0 and r.out == ""
    assert "no-such-dir" in one_line(r.err)
    rt.assert_nothing_left(b)


def test_console_socket_nobody_listens(rt: Runtime, tmp_path: Path) -> None:
    b = rt.bundle(SLEEP, lambda c: c["process"].update(terminal=True), own_rootfs=True)
    r = rt("create", "--bundle", str(b.path), "--console-socket", str(tmp_path / "none.sock"),
           b.id)
    assert r.rc != 0 and r.out == ""
    assert "none.sock" in one_line(r.err)
    rt.assert_nothing_left(b)


def test_console_socket_without_terminal(rt: Runtime, tmp_path: Path) -> None:
    b = rt.bundle(SLEEP, own_rootfs=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(tmp_path / "pty.sock"))
    sock.listen(1)
    try:
        r = rt("create", "--bundle", str(b.path), "--console-socket", str(tmp_path / "pty.sock"),
               b.id)
    finally:
        sock.close()
    assert r.rc != 0 and "console" in one_line(r.err)
    rt.assert_nothing_left(b)


def test_systemd_cgroup_is_refused_before_anything(rt: Runtime) -> None:
    b = rt.bundle(SLEEP, own_rootfs=True)
    r = rt("create", "--bundle", str(b.path), b.id, global_args=("--systemd-cgroup",))
    assert r.rc != 0 and "not supported" in one_line(r.err)
    rt.assert_nothing_left(b)


def test_failed_create_logs_one_json_error(rt: Runtime, tmp_path: Path) -> None:
    """containerd decodes the --log file as a stream and takes the last error object."""
    b = rt.bundle(["no-such-program"], own_rootfs=True)
    log = tmp_path / "log.json"
    r = rt("create", "--bundle", str(b.path), b.id,
           global_args=("--log", str(log), "--log-format", "json"))
    assert r.rc != 0
    objs = [json.loads(line) for line in log.read_text().splitlines()]
    assert [o["level"] for o in objs] == ["error"]
    assert "executable file not found in $PATH" in objs[0]["msg"]
    assert r.err.strip() == objs[0]["msg"]
    rt.assert_nothing_left(b)


# -- a seccomp profile that kills the runtime's own last steps ---------------------------------
KILL_ALL = {"defaultAction": "SCMP_ACT_KILL"}
SECCOMP_DEATH = "linux.seccomp: the container init (pid "


@pytest.mark.parametrize("nnp", [True, False], ids=["no-new-privs", "privileged-load"])
def test_seccomp_profile_killing_the_init_is_named(rt: Runtime, nnp: bool) -> None:
    """The filter is loaded in the init before exec; a profile that kills its next system call
    (runc 1.1.5 hangs for ever here, its init a zombie) is reported naming linux.seccomp, not as
    a bare "init exited", and nothing is left."""
    def mutate(c: dict[str, Any]) -> None:
        c["process"]["noNewPrivileges"] = nnp
        c["linux"]["seccomp"] = KILL_ALL

    b = rt.bundle(["true"], mutate)
    r = rt("create", "--bundle", str(b.path), b.id)
    assert r.rc != 0
    line = one_line(r.err)
    assert SECCOMP_DEATH in line and "after loading the seccomp filter" in line, line
    rt.assert_nothing_left(b)


def test_seccomp_profile_killing_an_exec_is_named(rt: Runtime, tmp_path: Path) -> None:
    """exec loads the container's filter in its process too. Killing chdir spares the init
    (with no_new_privs it loads the filter after its chdir) but not an exec without
    no_new_privs, which loads it before dropping capabilities and changing directory."""
    def mutate(c: dict[str, Any]) -> None:
        c["process"]["noNewPrivileges"] = True
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["chdir"], "action": "SCMP_ACT_KILL"}]}

    b = rt.bundle(SLEEP, mutate)
    assert rt("run", "--detach", "--bundle", str(b.path), b.id).rc == 0
    process = dict(b.config["process"], args=["true"], noNewPrivileges=False)
    (tmp_path / "process.json").write_text(json.dumps(process))
    r = rt("exec", "--process", str(tmp_path / "process.json"), b.id)
    assert r.rc != 0
    line = one_line(r.err)
    assert "linux.seccomp: the exec process (pid " in line, line
    assert rt.state(b.id)["status"] == "running"
