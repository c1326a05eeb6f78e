"""What the container's processes see under each manager, pyrunc against runc.

A probe (busybox sh) prints what a runtime sets up for a process: credentials, capability sets,
seccomp mode, no_new_privs, rlimits, umask, environment, mounts with their options and types,
/dev, oom_score_adj, cgroup membership relative to the init, namespaces shared with the init.
Each probe runs as the container's init (``run``) and as an exec'd process (``exec``). For both
runtimes some facts the managers configure are asserted outright; with pyrunc the whole
normalised report must equal runc's (computed once per session with Debian's runc).
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import dropin_env as env
import pytest
from dropin_clients import Ctr, Pod

pytestmark = pytest.mark.root

PROBE = r"""
grep -E '^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Seccomp_filters):' \
    /proc/self/status
echo "ulimit nofile=$(ulimit -n) nproc=$(ulimit -u) core=$(ulimit -c) umask=$(umask)"
echo "id: $(id) cwd=$(pwd) oom=$(cat /proc/self/oom_score_adj)"
echo "fds: $(ls /proc/self/fd | tr '\n' ' ')"
echo "--- env"
env | grep -v -e '^HOSTNAME=' -e '^PWD=' -e '^SHLVL=' -e '^_=' | sort
echo "--- mounts"
awk '{ for (i = 7; $i != "-"; i++) ; print $5, $6, $(i + 1) }' /proc/self/mountinfo
echo "--- dev"
for f in /dev/* /dev/pts/* /dev/mqueue /dev/shm; do
    [ -e "$f" ] || [ -L "$f" ] && stat -c '%n %F %a %t:%T' "$f"
done | sort
echo "--- shared with pid 1"
for ns in cgroup ipc mnt net pid uts user; do
    [ "$(readlink /proc/self/ns/$ns)" = "$(readlink /proc/1/ns/$ns)" ] && echo "ns $ns"
done
[ "$(cat /proc/self/cgroup)" = "$(cat /proc/1/cgroup)" ] && echo "cgroups"
"""

# privileged containers get every capability this machine has (all but CAP_SYS_RESOURCE)
HOST_CAPABILITIES = next(line.split()[1] for line in
                         Path("/proc/self/status").read_text().splitlines()
                         if line.startswith("CapBnd:"))


def normalise(report: str, names: list[str]) -> str:
    """Drop what differs between any two containers: ids, names, the order of podman binds."""
    for name in names:
        report = report.replace(name, "<ID>")
        report = report.replace(name[:12], "<ID>")
    report = re.sub(r"\b[0-9a-f]{64}\b", "<ID>", report)
    # podman lists its own bind mounts (hosts, hostname, .containerenv) in map order: compare
    # the set of mounts, not their order
    head, _, rest = report.replace("\r\n", "\n").partition("--- mounts\n")
    mounts, _, tail = rest.partition("--- dev\n")
    return f"{head}--- mounts\n{''.join(sorted(mounts.splitlines(True)))}--- dev\n{tail}"


def parse(report: str) -> dict[str, str]:
    lines = report.splitlines()
    return {line.split(":", 1)[0]: line.split(":", 1)[1].strip()
            for line in lines if re.match(r"^[A-Za-z_]+:\s", line)}


def assert_same(what: str, pyrunc: str, runc: str) -> None:
    diff = "\n".join(difflib.unified_diff(runc.splitlines(), pyrunc.splitlines(), "runc",
                                           "pyrunc", lineterm="", n=1))
    assert pyrunc == runc, f"{what} differs from runc's:\n{diff}"


# -- containerd ------------------------------------------------------------------------------
def ctr_reports(ctr: Ctr, flags: tuple[str, ...] = ()) -> tuple[str, str]:
    """(init report, exec report) under containerd with ctr's runtime."""
    ran = ctr.run("sh", "-c", PROBE, flags=flags)
    assert ran.returncode == 0, ran.stderr
    container_id = ctr.start("sleep", "1000", flags=flags)
    execd = ctr.ctr("task", "exec", "--exec-id", "probe", container_id, "sh", "-c", PROBE)
    assert execd.returncode == 0, execd.stderr
    names = list(ctr.created)
    return normalise(ran.stdout, names), normalise(execd.stdout, names)


@pytest.fixture(scope="session")
def runc_reference():
    return {}


def reference(cache: dict, key: str, runtimes, make_client, compute):
    if key not in cache:
        client = make_client(runtimes["runc"])
        try:
            cache[key] = compute(client)
        finally:
            client.cleanup()
    return cache[key]


@pytest.mark.parametrize("mode", ["default", "privileged"])
def test_ctr_process_setup_matches_runc(ctr, runtimes, containerd, runc_reference, mode):
    flags = ("--privileged",) if mode == "privileged" else ()
    init, execd = ctr_reports(ctr, flags)
    for report in (init, execd):
        fields = parse(report)
        assert fields["Uid"].split() == ["0"] * 4
        assert fields["NoNewPrivs"] == "1"  # ctr's default spec sets noNewPrivileges
        assert "nofile=1024" in report
        assert fields["fds"] == "0 1 2 3", report  # 3 is ls's own; the shim's fd 3 is closed
        if mode == "privileged":
            assert fields["CapEff"] == fields["CapBnd"] == HOST_CAPABILITIES
    assert "ns pid" in execd and "ns mnt" in execd and "cgroups" in execd
    if ctr.runtime.name == "runc":
        return
    expected_init, expected_exec = reference(
        runc_reference, f"ctr-{mode}", runtimes,
        lambda runc: Ctr(containerd, runc, ctr.new_id), lambda c: ctr_reports(c, flags))
    assert_same("container init", init, expected_init)
    assert_same("exec'd process", execd, expected_exec)


# -- podman ------------------------------------------------------------------------------------
def podman_reports(pod: Pod, flags: tuple[str, ...] = ()) -> tuple[str, str]:
    ran = pod.run_rm(*flags, env.IMAGE, "sh", "-c", PROBE)
    assert ran.returncode == 0, ran.stderr
    container_id = pod.start("sleep", "1000", flags=flags)
    execd = pod("exec", container_id, "sh", "-c", PROBE)
    assert execd.returncode == 0, execd.stderr
    return (normalise(ran.stdout, [*pod.names, container_id]),
            normalise(execd.stdout, [*pod.names, container_id]))


@pytest.mark.parametrize("mode", ["default", "privileged"])
def test_podman_process_setup_matches_runc(pod, runtimes, podman, runc_reference, mode):
    flags = ("--privileged",) if mode == "privileged" else ()
    init, execd = podman_reports(pod, flags)
    for report in (init, execd):
        fields = parse(report)
        assert fields["Uid"].split() == ["0"] * 4
        assert "nofile=20000" in report and "nproc=32768" in report
        assert fields["fds"] == "0 1 2 3", report  # 3 is ls's own directory fd
        if mode == "privileged":
            assert fields["CapEff"] == fields["CapBnd"] == HOST_CAPABILITIES
            assert fields["Seccomp"] == "0"
        else:
            assert fields["Seccomp"] == "2", "podman's seccomp profile is not applied"
    assert "ns pid" in execd and "ns mnt" in execd and "cgroups" in execd
    if pod.runtime.name == "runc":
        return
    expected_init, expected_exec = reference(
        runc_reference, f"podman-{mode}", runtimes,
        lambda runc: Pod(podman, runc, pod.new_id), lambda p: podman_reports(p, flags))
    assert_same("container init", init, expected_init)
    assert_same("exec'd process", execd, expected_exec)


# -- what the seccomp profile and capabilities let through ----------------------------------------
SYSCALL_PROBE = r"""
for c in "unshare -U true" "unshare -m true" "unshare -n true" "unshare -i true" \
         "mount -t tmpfs none /mnt" "swapoff -a" "hwclock -r" "renice -n -5 $$" \
         "ionice -c 1 true" "chroot / true" "taskset -p 1 1" "ln -s x /tmp/link" "mkdir /tmp/d" \
         "setpriv --nnp true" "insmod /nonexistent.ko"; do
    $c > /dev/null 2> /tmp/stderr
    rc=$?
    out=$(head -n 1 /tmp/stderr)
    echo "$c => $rc ${out#*: }"
done
"""

CUSTOM_PROFILE = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": [
        {"names": ["symlink", "symlinkat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95,
         "args": [{"index": 0, "value": 0x20000, "valueTwo": 0x20000, "op": "SCMP_CMP_MASKED_EQ"}]},
    ],
}


def seccomp_report(client, flags: tuple[str, ...]) -> str:
    if isinstance(client, Pod):
        result = client.run_rm(*flags, env.IMAGE, "sh", "-c", SYSCALL_PROBE)
    else:
        result = client.run("sh", "-c", SYSCALL_PROBE, flags=flags)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _profile_flags(manager: str, tmp_path_factory) -> dict[str, tuple[str, ...]]:
    profile = tmp_path_factory.mktemp("seccomp") / "profile.json"
    profile.write_text(json.dumps(CUSTOM_PROFILE))
    if manager == "podman":
        return {"default": (), "custom": ("--security-opt", f"seccomp={profile}")}
    return {"default": ("--seccomp",), "custom": ("--seccomp", "--seccomp-profile", str(profile))}


@pytest.mark.parametrize("manager", ["ctr", "podman"])
@pytest.mark.parametrize("profile", ["default", "custom"])
def test_seccomp_and_capabilities_match_runc(request, runtime, runtimes, runc_reference,
                                             tmp_path_factory, manager, profile):
    flags = _profile_flags(manager, tmp_path_factory)[profile]
    fixture = "pod" if manager == "podman" else "ctr"
    client = request.getfixturevalue(fixture)
    report = seccomp_report(client, flags)
    # no CAP_SYS_NICE in the default capability set, whichever profile
    assert "ionice -c 1 true => 1 ioprio_set: Operation not permitted" in report, report
    if profile == "custom":
        assert "ln -s x /tmp/link => 1 /tmp/link: Permission denied" in report, report
        assert ("mkdir /tmp/d => 1 can't create directory '/tmp/d': Operation not permitted"
                in report), report
        assert "unshare -m true => 1 unshare(0x20000): Operation not supported" in report, report
    else:
        assert "ln -s x /tmp/link => 0" in report and "mkdir /tmp/d => 0" in report, report
        assert "unshare -m true => 1 unshare(0x20000): Operation not permitted" in report, report
        # containerd's default profile refuses unshare without CAP_SYS_ADMIN; podman's lets a
        # process make a user namespace
        user_ns = ("unshare -U true => 0" if manager == "podman" else
                   "unshare -U true => 1 unshare(0x10000000): Operation not permitted")
        assert user_ns in report, report
    if runtime.name == "runc":  # runc is the reference: its report is the one compared against
        return
    if manager == "podman":
        make = lambda runc: Pod(client.manager, runc, client.new_id)  # noqa: E731
    else:
        make = lambda runc: Ctr(client.daemon, runc, client.new_id)  # noqa: E731
    expected = reference(runc_reference, f"seccomp-{manager}-{profile}", runtimes, make,
                         lambda c: seccomp_report(c, flags))
    assert_same("syscall results", report, expected)
