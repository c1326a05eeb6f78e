"""containers/secopts.py, cli/secopts_opts.py and their OCI pieces in bundles: docker's parsing
and texts for ulimits, devices, sysctls, capabilities and security options (texts recorded
from dockerd 20.10 and the docker CLI 28), and what build_config makes of them."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

import pytest
from pyengine.bundles import ContainerOptions, HostDevice, Rlimit, build_config
from pyengine.bundles.errors import InvalidContainerConfig
from pyengine.bundles.seccomp_profile import oci_seccomp
from pyengine.cli import secopts_opts
from pyengine.cli.context import CliError
from pyengine.containers import secopts
from pyengine.containers.model import Spec
from pyengine.errors import InvalidArgument


@pytest.mark.parametrize(("text", "expected"), [
    ("nofile=1024:2048", secopts.Ulimit("nofile", 1024, 2048)),
    ("nproc=512", secopts.Ulimit("nproc", 512, 512)),
    ("core=-1", secopts.Ulimit("core", -1, -1)),
    ("memlock=1:-1", secopts.Ulimit("memlock", 1, -1)),
])
def test_parse_ulimit(text: str, expected: secopts.Ulimit) -> None:
    assert secopts.parse_ulimit(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("nofile", "invalid ulimit argument: nofile"),
    ("foo=1", "invalid ulimit type: foo"),
    ("nofile=x", 'strconv.ParseInt: parsing "x": invalid syntax'),
    ("nofile=1:2:3", "too many limit value arguments - 1:2:3, can only have up to two, "
                     "`soft:hard`"),
    ("nofile=3:2", "ulimit soft limit must be less than or equal to hard limit: 3 > 2"),
])
def test_parse_ulimit_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        secopts.parse_ulimit(text)


def test_ulimit_rlimit() -> None:
    assert secopts.parse_ulimit("nofile=1024:2048").rlimit() == Rlimit("RLIMIT_NOFILE", 1024,
                                                                       2048)
    assert secopts.parse_ulimit("core=-1").rlimit().hard == (1 << 64) - 1


@pytest.mark.parametrize(("text", "expected"), [
    ("/dev/fuse", ("/dev/fuse", "/dev/fuse", "rwm")),
    ("/dev/fuse:r", ("/dev/fuse", "/dev/fuse", "r")),
    ("/dev/fuse:/dev/f", ("/dev/fuse", "/dev/f", "rwm")),
    ("/dev/fuse:/dev/f/:rw", ("/dev/fuse", "/dev/f", "rw")),
])
def test_parse_device(text: str, expected: tuple[str, str, str]) -> None:
    mapping = secopts.parse_device(text)
    assert (mapping.host, mapping.container, mapping.permissions) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("a:b:c:d", "bad format for path: a:b:c:d"),
    (":/dev/x", "bad format for path: :/dev/x"),
    ("/dev/fuse:/dev/f:x", "bad mode specified: x"),
    ("/dev/fuse:rel", "rel is not an absolute path"),
])
def test_parse_device_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        secopts.parse_device(text)


def test_devices_of_a_node_a_directory_and_nothing(tmp_path: Path) -> None:
    null = secopts.devices_of(secopts.parse_device("/dev/null:/dev/n:r"))
    st = os.stat("/dev/null")
    assert null == [HostDevice(path="/dev/n", type="c", major=os.major(st.st_rdev),
                               minor=os.minor(st.st_rdev), file_mode=st.st_mode & 0o7777,
                               uid=st.st_uid, gid=st.st_gid, permissions="r")]
    link = tmp_path / "link"
    link.symlink_to("/dev/null")  # followed, as docker does
    assert secopts.devices_of(secopts.parse_device(f"{link}:/dev/n:r")) == null
    if os.path.isdir("/dev/net") and os.path.exists("/dev/net/tun"):
        found = secopts.devices_of(secopts.parse_device("/dev/net:/dev/mine"))
        assert "/dev/mine/tun" in [d.path for d in found]
    with pytest.raises(InvalidArgument, match=r'^error gathering device information while '
                       r'adding custom device "/etc/hostname": not a device node$'):
        secopts.devices_of(secopts.parse_device("/etc/hostname"))
    with pytest.raises(InvalidArgument, match=r"no such file or directory$"):
        secopts.devices_of(secopts.parse_device("/dev/nosuch"))


def test_sysctls() -> None:
    assert secopts.cli_sysctl("net.ipv4.ip_forward=1") == ("net.ipv4.ip_forward", "1")
    assert secopts.cli_sysctl("kernel.shmmax=1") == ("kernel.shmmax", "1")
    assert secopts.cli_sysctl("fs.mqueue.msg_max=9") == ("fs.mqueue.msg_max", "9")
    for bad in ("kernel.foo=1", "net.ipv4.ip_forward", "vm.swappiness=1"):
        with pytest.raises(ValueError, match=f"^sysctl '{bad}' is not allowed$"):
            secopts.cli_sysctl(bad)
    assert secopts.sysctl_error("net.ipv4.ip_forward", Spec()) == ""
    assert secopts.sysctl_error("net.ipv4.ip_forward", Spec(network="host")) == \
        'sysctl "net.ipv4.ip_forward" not allowed in host network namespace'
    assert secopts.sysctl_error("kernel.shmmax", Spec(ipc_mode="host")) == \
        'sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace'
    assert secopts.sysctl_error("vm.swappiness", Spec()) == \
        'sysctl "vm.swappiness" is not in a separate kernel namespace'


def test_caps() -> None:
    assert secopts.normalize_caps(["net_admin", "CAP_CHOWN", "all"], "CapAdd") == [
        "CAP_NET_ADMIN", "CAP_CHOWN", "ALL"]
    with pytest.raises(InvalidArgument, match=r'^invalid CapDrop: unknown capability: '
                                              r'"CAP_FOO"$'):
        secopts.normalize_caps(["foo"], "CapDrop")
    assert secopts_opts.effective_caps(["net_admin", "chown"], ["CHOWN", "net_raw"]) == (
        ["CAP_NET_ADMIN"], ["CAP_NET_RAW"])
    assert secopts_opts.effective_caps(["ALL", "chown"], []) == (["ALL"], [])


def test_bounding_set_reads_the_engines_own() -> None:
    with open("/proc/self/status") as handle:
        mask = int(next(line for line in handle if line.startswith("CapBnd:")).split()[1], 16)
    caps = secopts.bounding_set()
    assert ("CAP_SYS_RESOURCE" in caps) == bool(mask >> 24 & 1)
    assert ("CAP_CHOWN" in caps) == bool(mask & 1)


def test_security_opts() -> None:
    parsed = secopts.parse_security_opts(["no-new-privileges", "seccomp=unconfined",
                                          "apparmor=unconfined", "label=disable"])
    assert (parsed.no_new_privileges, parsed.seccomp) == (True, "unconfined")
    assert secopts.parse_security_opts(["no-new-privileges:false"]).no_new_privileges is False
    assert secopts.parse_security_opts(["seccomp=builtin"]).seccomp == "default"
    for bad, message in (("bogus", 'invalid --security-opt 1: "bogus"'),
                         ("foo=bar", 'invalid --security-opt 2: "foo=bar"'),
                         ("no-new-privileges=maybe",
                          'invalid --security-opt 2: "no-new-privileges=maybe"'),
                         ("apparmor=docker-default", "AppArmor is not enabled"),
                         ("label=user:x", "SELinux is not enabled")):
        with pytest.raises(InvalidArgument, match=message):
            secopts.parse_security_opts([bad])


def test_cli_security_opts_send_the_profile(tmp_path: Path) -> None:
    profile = tmp_path / "p.json"
    profile.write_text('{\n  "defaultAction": "SCMP_ACT_ALLOW"\n}\n')
    assert secopts_opts.security_opts([f"seccomp={profile}", "seccomp=unconfined",
                                       "no-new-privileges"]) == [
        'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}', "seccomp=unconfined",
        "no-new-privileges"]
    with pytest.raises(CliError, match=r'^Invalid --security-opt: "bogus"$'):
        secopts_opts.security_opts(["bogus"])
    with pytest.raises(CliError, match=r"^opening seccomp profile \(/nonexist\) failed: open "
                                       r"/nonexist: no such file or directory$"):
        secopts_opts.security_opts(["seccomp=/nonexist"])


def _args(**kwargs: object) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    secopts_opts.add(parser)
    args = parser.parse_args([])
    vars(args).update(kwargs)
    return args


def test_cli_values_and_errors() -> None:
    values = secopts_opts.values(_args(ulimit=["nofile=1024"], device=["/dev/null:r"],
                                       sysctl=["net.core.somaxconn=1"], shm_size="1m",
                                       oom_score_adj="-5"))
    assert (values["ulimits"], values["devices"], values["sysctls"]) == (
        ["nofile=1024:1024"], ["/dev/null:/dev/null:r"], {"net.core.somaxconn": "1"})
    assert (values["shm_size"], values["oom_score_adj"]) == (1 << 20, -5)
    for kwargs, message in (
            ({"sysctl": ["kernel.foo=1"]}, 'invalid argument "kernel.foo=1" for "--sysctl" '
                                           "flag: sysctl 'kernel.foo=1' is not allowed"),
            ({"ulimit": ["foo=1"]}, 'invalid argument "foo=1" for "--ulimit" flag: invalid '
                                    "ulimit type: foo"),
            ({"shm_size": "x"}, 'invalid argument "x" for "--shm-size" flag: invalid size: '
                                "'x'"),
            ({"device": ["/dev/null:/d:x"]}, "bad mode specified: x")):
        with pytest.raises(CliError) as caught:
            secopts_opts.values(_args(**kwargs))
        assert str(caught.value) == message


def test_check_refuses_with_dockers_texts() -> None:
    for spec, message in (
            (Spec(oom_score_adj=-1001), "Invalid value -1001, range for oom score adj is "
                                        "[-1000, 1000]"),
            (Spec(shm_size=-1), "SHM size can not be less than 0"),
            (Spec(ulimits=["nofile=3:2"]), "ulimit soft limit must be less than or equal to "
                                           "hard limit: 3 > 2"),
            (Spec(sysctls={"kernel.foo": "1"}), 'sysctl "kernel.foo" is not in a separate '
                                                "kernel namespace"),
            (Spec(cap_add=["foo"]), 'invalid CapAdd: unknown capability: "CAP_FOO"')):
        with pytest.raises(InvalidArgument) as caught:
            secopts.check(spec)
        assert str(caught.value) == message
    secopts.check(Spec(devices=["/dev/null"]))


def test_host_config_shapes() -> None:
    assert secopts.host_config(Spec()) == {
        "CapAdd": None, "CapDrop": None, "Privileged": False, "SecurityOpt": None,
        "Devices": [], "Ulimits": [], "ShmSize": 64 << 20, "OomScoreAdj": 0}
    shown = secopts.host_config(Spec(privileged=True, security_opt=["no-new-privileges"],
                                     sysctls={"net.a": "1"}, ulimits=["nofile=1:2"]))
    assert shown["SecurityOpt"] == ["no-new-privileges", "label=disable"]
    assert (shown["Sysctls"], shown["Ulimits"]) == (
        {"net.a": "1"}, [{"Name": "nofile", "Hard": 2, "Soft": 1}])
    assert secopts.host_config(Spec(ipc_mode="host", security_opt=["label=disable"]))[
        "SecurityOpt"] == ["label=disable"]
    assert secopts.host_config(Spec(pid_mode="host"))["SecurityOpt"] == ["label=disable"]


def _rootfs(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    return tmp_path


IMAGE = {"config": {"Cmd": ["sh"]}}


def test_build_config_pieces(tmp_path: Path) -> None:
    rootfs = _rootfs(tmp_path)
    spec = Spec(ulimits=["nofile=10:20"], sysctls={"kernel.shmmni": "100"},
                devices=["/dev/null:/dev/n:r"], shm_size=1 << 20, oom_score_adj=7,
                security_opt=["no-new-privileges"])
    opts = ContainerOptions()
    secopts.apply(opts, spec)
    cfg = build_config(IMAGE, opts, rootfs)
    process, linux = cfg["process"], cfg["linux"]
    assert process["rlimits"] == [{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 20}]
    assert (process["oomScoreAdj"], process["noNewPrivileges"]) == (7, True)
    assert linux["sysctl"]["kernel.shmmni"] == "100"
    assert [d["path"] for d in linux["devices"]] == ["/dev/n"]
    null = os.stat("/dev/null").st_rdev
    assert linux["resources"]["devices"][-2:] == [  # docker's pair of rules
        {"allow": False, "type": "c", "major": os.major(null), "minor": os.minor(null),
         "access": "rwm"},
        {"allow": True, "type": "c", "major": os.major(null), "minor": os.minor(null),
         "access": "r"}]
    shm = next(m for m in cfg["mounts"] if m["destination"] == "/dev/shm")
    assert "size=1048576" in shm["options"] and "size=67108864" not in shm["options"]
    # defaults: oomScoreAdj 0 always, docker's 64 MiB /dev/shm
    opts = ContainerOptions()
    secopts.apply(opts, Spec())
    cfg = build_config(IMAGE, opts, rootfs)
    assert cfg["process"]["oomScoreAdj"] == 0 and "rlimits" not in cfg["process"]
    shm = next(m for m in cfg["mounts"] if m["destination"] == "/dev/shm")
    assert "size=67108864" in shm["options"]


def test_privileged_and_all_are_the_bounding_set(tmp_path: Path) -> None:
    rootfs = _rootfs(tmp_path)
    opts = ContainerOptions(privileged=True, bounding=["CAP_CHOWN", "CAP_SYS_ADMIN"])
    assert build_config(IMAGE, opts, rootfs)["process"]["capabilities"]["bounding"] == [
        "CAP_CHOWN", "CAP_SYS_ADMIN"]
    opts = ContainerOptions(cap_add=["ALL"], cap_drop=["CAP_CHOWN"],
                            bounding=["CAP_CHOWN", "CAP_KILL"])
    assert build_config(IMAGE, opts, rootfs)["process"]["capabilities"]["bounding"] == [
        "CAP_KILL"]
    opts = ContainerOptions()
    secopts.apply(opts, Spec(privileged=True))
    assert opts.bounding == secopts.bounding_set()
    assert any(d.path == "/dev/null" for d in opts.devices)
    assert not any(d.path.startswith(("/dev/pts/", "/dev/shm/")) for d in opts.devices)


def test_seccomp_profile_in_dockers_format() -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                     "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW",
             "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["chown"], "action": "SCMP_ACT_ALLOW",
             "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"name": "getpid", "action": "SCMP_ACT_ALLOW"},
        ]}
    section = oci_seccomp(json.dumps(profile), ["CAP_CHOWN"])
    assert [r["names"] for r in section["syscalls"]] == [["read", "write"], ["chown"],
                                                         ["getpid"]]
    assert section["defaultErrnoRet"] == 1
    if os.uname().machine == "x86_64":
        assert section["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
                                            "SCMP_ARCH_X32"]
    admin = oci_seccomp(json.dumps(profile), ["CAP_SYS_ADMIN"])
    assert [r["names"] for r in admin["syscalls"]] == [["read", "write"], ["mount"],
                                                       ["getpid"]]
    with pytest.raises(InvalidContainerConfig, match=r"^Decoding seccomp profile failed"):
        oci_seccomp("{not json", [])
