"""Differential: the same seccomp profile under real runc, under our filter, and under pyrunc.

A static probe (seccomp_probe.c) makes raw syscalls, each in a forked child, and prints what
happened ("ok", "errno N", "trap", "signal N"). Every probe is chosen so that its natural outcome
does not depend on where it runs (invalid pointers and fds, harmless queries), so only the filter
can make the outputs differ.

* runc: `runc --root <tmp> run` of a busybox bundle (tools/mkrootfs-busybox + `runc spec`) whose
  process is the probe and whose linux.seccomp is the profile.
* ours: a forked Python child sets no_new_privs (or keeps CAP_SYS_ADMIN), compiles and loads the
  profile with pyrunc.linux.seccomp, then execs the same probe.
* pyrunc: the same bundle run by pyrunc's own `run` (through its lean launcher).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from pyrunc.linux import seccomp as S
from pyrunc.linux import syscall_tables
from pyrunc.linux.syscalls import PR_SET_NO_NEW_PRIVS, SYS

ROOT = Path(__file__).resolve().parents[3]
PROBE_SOURCE = Path(__file__).with_name("seccomp_probe.c")
sys.path.insert(0, str(ROOT / "tests" / "unit" / "seccomp"))
from seccomp_profiles import have_podman_profile, podman_default  # noqa: E402

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.uname().machine != "x86_64", reason="probes use x86_64 numbers"),
    pytest.mark.skipif(not shutil.which("runc") or not shutil.which("gcc"),
                       reason="needs runc and gcc"),
]
NR = syscall_tables.syscalls("x86_64")
NR32 = syscall_tables.syscalls("i386")
NRX32 = syscall_tables.syscalls("x32")
EPROTO = errno.EPROTO


def probe(label: str, name: str, *args: object, abi: str = "x86_64") -> str:
    if abi == "i386":
        number = f"i{NR32[name]}"
    elif abi == "x32":
        number = hex(NRX32[name])
    else:
        number = str(NR[name]) if isinstance(name, str) else hex(name)
    return ":".join([label, number, *(str(a) for a in args)])


def arg(index: int, op: str, value: int, value_two: int = 0) -> dict:
    return {"index": index, "op": f"SCMP_CMP_{op}", "value": value, "valueTwo": value_two}


def rule(names, action: str, args=None, errno_ret=None) -> dict:
    out = {"names": [names] if isinstance(names, str) else names, "action": action}
    if args:
        out["args"] = args
    if errno_ret is not None:
        out["errnoRet"] = errno_ret
    return out


# -- profile A: allow by default, one rule per action and operator ---------------------------

DENY_LIST = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [
        rule("mkdir", "SCMP_ACT_ERRNO", errno_ret=errno.EACCES),
        rule("personality", "SCMP_ACT_ERRNO", [arg(0, "MASKED_EQ", 0xFFFF0000, 0x00400000)],
             errno.EOPNOTSUPP),
        rule("socket", "SCMP_ACT_ERRNO", [arg(0, "EQ", 2)], errno.EAFNOSUPPORT),
        rule("socket", "SCMP_ACT_ERRNO", [arg(0, "EQ", 16), arg(2, "EQ", 9)], errno.EINVAL),
        rule("kill", "SCMP_ACT_ALLOW"),
        rule("getpid", "SCMP_ACT_LOG"),
        rule("sysinfo", "SCMP_ACT_TRAP"),
        rule("times", "SCMP_ACT_TRACE", errno_ret=7),
        rule("getitimer", "SCMP_ACT_KILL_PROCESS", [arg(0, "EQ", 10)]),
        rule("setns", "SCMP_ACT_KILL_THREAD"),
        rule("lseek", "SCMP_ACT_ERRNO", [arg(1, "GE", 0x100000000)], EPROTO),
        rule("getpgid", "SCMP_ACT_ERRNO", [arg(0, "LE", 1)], EPROTO),
        rule("getpriority", "SCMP_ACT_ERRNO", [arg(1, "GT", 1000)], EPROTO),
        rule("umask", "SCMP_ACT_ERRNO", [arg(0, "LT", 0o10)], EPROTO),
        rule("dup", "SCMP_ACT_ERRNO", [arg(0, "NE", 1)], EPROTO),
        rule("getsid", "SCMP_ACT_ERRNO", [arg(0, "EQ", 5), arg(0, "EQ", 6)], EPROTO),
        rule("fchmod", "SCMP_ACT_ERRNO", [arg(1, "MASKED_EQ", 0xFFFFFFFF00000000, 1 << 32)],
             EPROTO),
        rule("no_such_syscall", "SCMP_ACT_KILL"),
    ],
}
DENY_LIST_PROBES = [
    probe("mkdir", "mkdir", 0, 0),
    probe("rmdir", "rmdir", 0),
    probe("personality-query", "personality", 0xFFFFFFFF),
    probe("personality-rie", "personality", 0x00400000),
    probe("socket-inet", "socket", 2, 1, 0),
    probe("socket-unix", "socket", 1, 1, 0),
    probe("socket-netlink-audit", "socket", 16, 3, 9),
    probe("socket-netlink-route", "socket", 16, 3, 0),
    probe("kill", "kill", "self", 0),
    probe("getpid", "getpid"),
    probe("sysinfo", "sysinfo", 0),
    probe("times", "times", 0),
    probe("getitimer-10", "getitimer", 10, 0),
    probe("getitimer-99", "getitimer", 99, 0),
    probe("setns", "setns", -1, 0),
    probe("lseek-high", "lseek", -1, 0x100000005, 0),
    probe("lseek-low", "lseek", -1, 0xFFFFFFFF, 0),
    probe("getpgid-0", "getpgid", 0),
    probe("getpgid-1", "getpgid", 1),
    probe("getpgid-none", "getpgid", 999999),
    probe("getpriority-high", "getpriority", 0, 5000),
    probe("getpriority-self", "getpriority", 0, 0),
    probe("umask-0", "umask", 0),
    probe("umask-22", "umask", 0o22),
    probe("dup-bad", "dup", -1),
    probe("dup-stdout", "dup", 1),
    probe("getsid-5", "getsid", 5),
    probe("getsid-6", "getsid", 6),
    probe("getsid-none", "getsid", 999999),
    probe("fchmod-high", "fchmod", -1, 0x100000644),
    probe("fchmod-low", "fchmod", -1, 0o644),
    probe("i386-getpid", "getpid", abi="i386"),
    probe("i386-mkdir", "mkdir", 0, 0, abi="i386"),
    probe("i386-socket-inet", "socket", 2, 1, 0, abi="i386"),
    # socketcall(SYS_SOCKET, NULL): libseccomp also filters the multiplexed form (arg0 becomes
    # the sub-call number, so every SYS_SOCKET is refused); allowed calls fail with EFAULT.
    probe("i386-socketcall-socket", "socketcall", 1, 0, abi="i386"),
    probe("i386-socketcall-bind", "socketcall", 2, 0, abi="i386"),
    probe("x32-getpid", "getpid", abi="x32"),
]
# What the filter must produce (checked on our side; runc must then agree line by line).
DENY_LIST_EXPECTED = {
    "mkdir": "errno 13", "rmdir": "errno 14", "personality-query": "ok",
    "personality-rie": "errno 95", "socket-inet": "errno 97", "socket-unix": "ok",
    "socket-netlink-audit": "errno 22", "socket-netlink-route": "ok", "kill": "ok",
    "getpid": "ok", "sysinfo": "trap", "times": "errno 38", "getitimer-10": "signal 31",
    "getitimer-99": "errno 22", "setns": "signal 31", "lseek-high": "errno 71",
    "lseek-low": "errno 9", "getpgid-0": "errno 71", "getpgid-1": "errno 71",
    "getpgid-none": "errno 3", "getpriority-high": "errno 71", "getpriority-self": "ok",
    "umask-0": "errno 71", "umask-22": "ok", "dup-bad": "errno 71", "dup-stdout": "ok",
    "getsid-5": "errno 71", "getsid-6": "errno 71", "getsid-none": "errno 3",
    "fchmod-high": "errno 71", "fchmod-low": "errno 9", "i386-getpid": "ok",
    "i386-mkdir": "errno 13", "i386-socket-inet": "errno 97",
    "i386-socketcall-socket": "errno 97", "i386-socketcall-bind": "errno 14",
    "x32-getpid": "signal 31",
}


def podman_probes(profile: dict) -> list[str]:
    listed = {n for entry in profile["syscalls"] for n in entry["names"]}
    last = max(NR[n] for n in listed if n in NR)
    unlisted = next(n for n, nr in sorted(NR.items(), key=lambda i: i[1])
                    if n not in listed and nr < last)
    return [
        probe("mkdir", "mkdir", 0, 0),
        probe("personality-query", "personality", 0xFFFFFFFF),
        probe("personality-other", "personality", 1),
        probe("socket-netlink-audit", "socket", 16, 3, 9),
        probe("socket-netlink-route", "socket", 16, 3, 0),
        probe("kexec_load", "kexec_load", 0, 0, 0, 0),
        probe("bpf", "bpf", 0, 0, 0),
        probe("clone3", "clone3", 0, 0),
        probe("unlisted", unlisted),
        probe("newer-than-profile", last + 1),
        probe("far-beyond", 0x3FF),
        probe("i386-getpid", "getpid", abi="i386"),
        probe("i386-kexec_load", "kexec_load", 0, 0, 0, 0, abi="i386"),
        probe("x32-getpid", "getpid", abi="x32"),
    ]


# -- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def probe_binary(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seccomp-probe") / "seccomp_probe"
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", str(out), str(PROBE_SOURCE)],
                   check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory, probe_binary) -> Path:
    root = tmp_path_factory.mktemp("seccomp-bundle") / "rootfs"
    subprocess.run([str(ROOT / "tools" / "mkrootfs-busybox"), str(root)], check=True,
                   capture_output=True)
    shutil.copy2(probe_binary, root / "seccomp_probe")
    return root


@pytest.fixture(scope="module")
def pyrunc_launcher(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("pyrunc-bin") / "pyrunc"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "runtime")}
    subprocess.run([sys.executable, "-m", "pyrunc.launcher", str(dest)], check=True, env=env,
                   capture_output=True)
    return dest


def base_config(bundle: Path) -> dict:
    subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True, capture_output=True)
    return json.loads((bundle / "config.json").read_text())


def run_in_bundle(runtime: str, rootfs: Path, tmp_path: Path, profile: dict, probes: list[str],
                  nnp: bool) -> str:
    """Run the probe as a container's process under ``runtime``; return its stdout."""
    bundle = tmp_path / f"bundle-{uuid.uuid4().hex[:8]}"
    bundle.mkdir()
    config = base_config(bundle)
    config["root"] = {"path": str(rootfs), "readonly": True}
    config["process"]["terminal"] = False
    config["process"]["args"] = ["/seccomp_probe", *probes]
    config["process"]["noNewPrivileges"] = nnp
    cid = f"seccomp-{uuid.uuid4().hex[:12]}"
    config["linux"]["cgroupsPath"] = f"/pyrunc-test-{cid}"
    config["linux"]["seccomp"] = profile
    (bundle / "config.json").write_text(json.dumps(config))
    state = tmp_path / f"state-{cid}"
    try:
        result = subprocess.run([runtime, "--root", str(state), "run", "--bundle", str(bundle),
                                 cid], capture_output=True, text=True, timeout=120,
                                stdin=subprocess.DEVNULL)
    finally:
        subprocess.run([runtime, "--root", str(state), "delete", "--force", cid],
                       capture_output=True, timeout=60)
        for controller in Path("/sys/fs/cgroup").iterdir():
            leftover = controller / f"pyrunc-test-{cid}"
            if leftover.is_dir():
                leftover.rmdir()
    assert result.returncode == 0, f"{runtime} run failed: {result.stderr}"
    return result.stdout


def run_under_our_filter(probe_binary: Path, profile: dict, probes: list[str], nnp: bool) -> str:
    """Fork, set no_new_privs (or keep CAP_SYS_ADMIN), load our filter, exec the probe."""
    program = S.compile_filter(profile)
    flags = S.filter_flags(profile)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: nothing but raw calls until exec
        try:
            os.close(read_end)
            os.dup2(write_end, 1)
            if nnp:
                SYS.prctl(PR_SET_NO_NEW_PRIVS, 1)
            S.load_filter(program, flags)
            os.execv(str(probe_binary), [str(probe_binary), *probes])
        finally:
            os._exit(127)
    os.close(write_end)
    chunks = []
    with os.fdopen(read_end, "rb") as pipe:
        chunks.append(pipe.read())
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return b"".join(chunks).decode()


def as_dict(output: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in output.splitlines() if line)


# -- tests -----------------------------------------------------------------------------------

@pytest.mark.parametrize("nnp", [True, False], ids=["no_new_privs", "cap_sys_admin"])
def test_deny_list_profile_runc_vs_our_filter(nnp, rootfs, probe_binary, tmp_path):
    ours = run_under_our_filter(probe_binary, DENY_LIST, DENY_LIST_PROBES, nnp)
    assert as_dict(ours) == DENY_LIST_EXPECTED
    runc = run_in_bundle("runc", rootfs, tmp_path, DENY_LIST, DENY_LIST_PROBES, nnp)
    assert as_dict(runc) == as_dict(ours)


@pytest.mark.skipif(not have_podman_profile(), reason="podman's seccomp.json is not installed")
@pytest.mark.parametrize("variant", ["podman", "podman-eperm"])
def test_podman_profile_runc_vs_our_filter(variant, rootfs, probe_binary, tmp_path):
    profile = podman_default()
    if variant == "podman-eperm":  # default EPERM: runc's -ENOSYS stub is active
        del profile["defaultErrnoRet"]
    probes = podman_probes(profile)
    ours = as_dict(run_under_our_filter(probe_binary, profile, probes, True))
    runc = as_dict(run_in_bundle("runc", rootfs, tmp_path, profile, probes, True))
    assert runc == ours
    assert ours["mkdir"] == "errno 14"
    assert ours["kexec_load"] == "errno 1"
    assert ours["socket-netlink-audit"] == "errno 22"
    assert ours["far-beyond"] == "errno 38"
    assert ours["newer-than-profile"] == "errno 38"
    assert ours["unlisted"] == ("errno 38" if variant == "podman" else "errno 1")


def test_flags_load_and_change_no_decision(probe_binary):
    # runc 1.1 refuses any linux.seccomp.flags ("not yet supported"), so this is ours alone.
    plain = run_under_our_filter(probe_binary, DENY_LIST, DENY_LIST_PROBES, True)
    for flags in (["SECCOMP_FILTER_FLAG_LOG"], ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
                  ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG"]):
        flagged = run_under_our_filter(probe_binary, {**DENY_LIST, "flags": flags},
                                       DENY_LIST_PROBES, True)
        assert flagged == plain, flags


@pytest.mark.parametrize("nnp", [True, False], ids=["no_new_privs", "cap_sys_admin"])
def test_deny_list_profile_runc_vs_pyrunc(nnp, rootfs, pyrunc_launcher, tmp_path):
    runc = run_in_bundle("runc", rootfs, tmp_path, DENY_LIST, DENY_LIST_PROBES, nnp)
    ours = run_in_bundle(str(pyrunc_launcher), rootfs, tmp_path, DENY_LIST, DENY_LIST_PROBES,
                         nnp)
    assert as_dict(ours) == as_dict(runc) == DENY_LIST_EXPECTED


@pytest.mark.skipif(not have_podman_profile(), reason="podman's seccomp.json is not installed")
def test_podman_profile_runc_vs_pyrunc(rootfs, pyrunc_launcher, tmp_path):
    profile = podman_default()
    probes = podman_probes(profile)
    runc = as_dict(run_in_bundle("runc", rootfs, tmp_path, profile, probes, True))
    ours = as_dict(run_in_bundle(str(pyrunc_launcher), rootfs, tmp_path, profile, probes, True))
    assert ours == runc


@pytest.mark.skipif(not have_podman_profile(), reason="podman's seccomp.json is not installed")
def test_profile_without_close_range_runc_vs_pyrunc(rootfs, pyrunc_launcher, tmp_path):
    profile = podman_default()
    del profile["defaultErrnoRet"]  # default EPERM: close_range is refused, not ENOSYS
    for entry in profile["syscalls"]:
        entry["names"] = [n for n in entry["names"] if n != "close_range"]
    probes = [probe("getpid", "getpid"), probe("close_range", "close_range", 1000, 1000, 0)]
    runc = as_dict(run_in_bundle("runc", rootfs, tmp_path, profile, probes, True))
    assert runc == {"getpid": "ok", "close_range": "errno 1"}
    ours = as_dict(run_in_bundle(str(pyrunc_launcher), rootfs, tmp_path, profile, probes, True))
    assert ours == runc
