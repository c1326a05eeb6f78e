"""build_config, user resolution, the seccomp profile and the generated /etc files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pyengine.bundles import (
    ContainerOptions,
    InvalidContainerConfig,
    UserNotFound,
    build_config,
    default_profile,
    resolve_user,
    write_bundle,
)
from pyengine.bundles.seccomp import NAMESPACE_CLONE_FLAGS

PASSWD = """root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000:app user:/home/app:/bin/sh
"""
GROUP = """root:x:0:
daemon:x:1:
app:x:1000:
audio:x:29:app
video:x:44:other,app
staff:x:50:
"""


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text(PASSWD)
    (root / "etc/group").write_text(GROUP)
    return root


IMAGE = {"architecture": "amd64", "os": "linux", "config": {
    "Env": ["PATH=/opt/bin:/usr/bin", "LANG=C.UTF-8"], "Entrypoint": ["/entry"],
    "Cmd": ["serve", "--port", "80"], "WorkingDir": "/srv", "User": "app"}}


@pytest.mark.parametrize("spec,expected", [
    # the primary group comes first among the supplementary ones: docker 20.10's `id` printed
    # "uid=0(root) gid=0(root) groups=0(root)" and, for -u 2000:3000, "groups=3000"
    ("", (0, 0, (0,), "/root")),
    ("root", (0, 0, (0,), "/root")),
    ("app", (1000, 1000, (1000, 29, 44), "/home/app")),
    ("1000", (1000, 1000, (1000, 29, 44), "/home/app")),
    ("1000:50", (1000, 50, (50,), "/home/app")),  # explicit group: no others from /etc/group
    ("app:staff", (1000, 50, (50,), "/home/app")),
    ("4242", (4242, 0, (0,), "/")),  # unknown numeric uid: allowed, group root
    ("4242:4343", (4242, 4343, (4343,), "/")),
    ("daemon:video", (1, 44, (44,), "/usr/sbin")),
])
def test_resolve_user(rootfs: Path, spec: str, expected) -> None:
    user = resolve_user(rootfs, spec)
    assert (user.uid, user.gid, user.additional_gids, user.home) == expected


def test_unknown_user_and_group(rootfs: Path) -> None:
    with pytest.raises(UserNotFound, match="unable to find user nobody"):
        resolve_user(rootfs, "nobody")
    with pytest.raises(UserNotFound, match="unable to find group wheel"):
        resolve_user(rootfs, "app:wheel")
    for spec in ("70000000000", "app:2147483648"):  # docker's range, its text
        with pytest.raises(UserNotFound, match=r"^uids and gids must be in range 0-2147483647$"):
            resolve_user(rootfs, spec)
    assert resolve_user(rootfs, "2147483647:2147483647").uid == 2147483647
    with pytest.raises(UserNotFound, match="unable to find user \u00b2"):  # a name, as Go's
        resolve_user(rootfs, "\u00b2")  # Atoi refuses non-ASCII digits


def test_passwd_symlink_is_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    outside = tmp_path / "host-passwd"
    outside.write_text("secret:x:7:7::/:/bin/sh\n")
    os.symlink(outside, root / "etc/passwd")
    with pytest.raises(UserNotFound):
        resolve_user(root, "secret")


def test_image_without_passwd_runs_as_root(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    user = resolve_user(tmp_path / "empty", None)
    assert (user.uid, user.gid, user.home) == (0, 0, "/")


def test_config_from_image_defaults(rootfs: Path) -> None:
    cfg = build_config(IMAGE, ContainerOptions(container_id="0123456789abcdef"), rootfs)
    process = cfg["process"]
    assert process["args"] == ["/entry", "serve", "--port", "80"]
    assert process["cwd"] == "/srv"
    assert process["user"] == {"uid": 1000, "gid": 1000, "additionalGids": [1000, 29, 44]}
    env = dict(e.split("=", 1) for e in process["env"])
    assert env["PATH"] == "/opt/bin:/usr/bin" and env["LANG"] == "C.UTF-8"
    assert env["HOME"] == "/home/app" and env["HOSTNAME"] == "0123456789ab"
    assert cfg["hostname"] == "0123456789ab"
    assert cfg["root"] == {"path": str(rootfs), "readonly": False}
    assert cfg["linux"]["cgroupsPath"] == "/pyengine/0123456789abcdef"
    assert "CAP_SYS_ADMIN" not in process["capabilities"]["bounding"]
    assert "CAP_NET_BIND_SERVICE" in process["capabilities"]["effective"]
    destinations = [m["destination"] for m in cfg["mounts"]]
    assert destinations[:7] == ["/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup",
                                "/dev/mqueue", "/dev/shm"]
    assert "/proc/kcore" in cfg["linux"]["maskedPaths"]
    assert "/proc/sys" in cfg["linux"]["readonlyPaths"]
    assert {"type": "network"} in cfg["linux"]["namespaces"]
    assert cfg["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
    json.dumps(cfg)  # serialisable


def test_overrides(rootfs: Path) -> None:
    opts = ContainerOptions(cmd=["sh"], env=["LANG=fr_FR", "NEW=1"], user="0:0", workdir="rel",
                            tty=True, hostname="web", read_only=True)
    cfg = build_config(IMAGE, opts, rootfs)
    assert cfg["process"]["args"] == ["/entry", "sh"]  # cmd replaces Cmd, keeps Entrypoint
    env = dict(e.split("=", 1) for e in cfg["process"]["env"])
    assert env["LANG"] == "fr_FR" and env["NEW"] == "1" and env["TERM"] == "xterm"
    assert env["HOME"] == "/root"
    assert cfg["process"]["cwd"] == "/rel" and cfg["process"]["terminal"] is True
    assert cfg["root"]["readonly"] is True and cfg["hostname"] == "web"


def test_entrypoint_override_drops_image_cmd(rootfs: Path) -> None:
    cfg = build_config(IMAGE, ContainerOptions(entrypoint=["/bin/true"]), rootfs)
    assert cfg["process"]["args"] == ["/bin/true"]
    with pytest.raises(InvalidContainerConfig, match="no command"):
        build_config(IMAGE, ContainerOptions(entrypoint=[]), rootfs)


def test_image_command_fields_are_lists_of_strings(rootfs: Path) -> None:
    # a string is a list of one (docker's StrSlice); null is empty; anything else is refused
    cfg = build_config({"config": {"Entrypoint": None, "Cmd": "/bin/true", "Env": "A=1"}},
                       ContainerOptions(), rootfs)
    assert cfg["process"]["args"] == ["/bin/true"]
    assert "A=1" in cfg["process"]["env"]
    for bad in ({"Cmd": [1]}, {"Cmd": {"x": 1}}, {"Cmd": ["x"], "Env": 5}):
        with pytest.raises(InvalidContainerConfig, match="must be a list of strings"):
            build_config({"config": bad}, ContainerOptions(), rootfs)


def test_missing_path_gets_the_default(rootfs: Path) -> None:
    cfg = build_config({"config": {"Cmd": ["x"]}}, ContainerOptions(), rootfs)
    assert "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in \
        cfg["process"]["env"]


def test_capabilities_add_drop_privileged(rootfs: Path) -> None:
    cfg = build_config(IMAGE, ContainerOptions(cap_add=["sys_admin"], cap_drop=["NET_RAW"]),
                       rootfs)
    caps = cfg["process"]["capabilities"]["bounding"]
    assert "CAP_SYS_ADMIN" in caps and "CAP_NET_RAW" not in caps
    names = {n for rule in cfg["linux"]["seccomp"]["syscalls"] for n in rule["names"]}
    assert "mount" in names and "unshare" in names  # CAP_SYS_ADMIN unlocks them
    cfg = build_config(IMAGE, ContainerOptions(cap_drop=["ALL"], cap_add=["CHOWN"]), rootfs)
    assert cfg["process"]["capabilities"]["bounding"] == ["CAP_CHOWN"]
    cfg = build_config(IMAGE, ContainerOptions(privileged=True), rootfs)
    assert "CAP_SYS_ADMIN" in cfg["process"]["capabilities"]["bounding"]
    assert "seccomp" not in cfg["linux"] and "maskedPaths" not in cfg["linux"]


def test_seccomp_profile_shape() -> None:
    profile = default_profile(["CAP_CHOWN"], arch="amd64")
    assert profile["defaultErrnoRet"] == 1
    assert profile["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    allowed = profile["syscalls"][0]["names"]
    for name in ("read", "write", "execve", "clock_gettime", "arch_prctl", "socketpair"):
        assert name in allowed
    for name in ("mount", "unshare", "setns", "reboot", "kexec_load", "init_module", "bpf",
                 "clone", "clone3", "socket", "personality", "keyctl", "add_key"):
        assert name not in allowed
    rules = {tuple(r["names"]): r for r in profile["syscalls"][1:]}
    assert rules[("clone",)]["args"] == [{"index": 0, "value": NAMESPACE_CLONE_FLAGS,
                                         "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]
    assert NAMESPACE_CLONE_FLAGS == 2114060288
    assert rules[("clone3",)] == {"names": ["clone3"], "action": "SCMP_ACT_ERRNO",
                                 "errnoRet": 38}
    assert rules[("socket",)]["args"][0]["op"] == "SCMP_CMP_NE"
    admin = default_profile(["CAP_SYS_ADMIN"], arch="amd64")
    assert "clone" in admin["syscalls"][0]["names"]
    assert not any(r["names"] == ["clone3"] for r in admin["syscalls"])


def test_etc_files_and_write_bundle(rootfs: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    opts = ContainerOptions(container_id="abc", hostname="web", bundle_dir=bundle,
                            cmd=["true"])
    cfg = build_config(IMAGE, opts, rootfs)
    sources = {m["destination"]: m["source"] for m in cfg["mounts"]}
    assert sources["/etc/hosts"] == str(bundle / "hosts")
    path = write_bundle(bundle, cfg)
    assert json.loads(path.read_text())["hostname"] == "web"
    assert (bundle / "hostname").read_text() == "web\n"
    assert "127.0.0.1\tlocalhost" in (bundle / "hosts").read_text()
    assert "nameserver" in (bundle / "resolv.conf").read_text()
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_write_bundle_does_not_sync(rootfs: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The exec root does not outlive a reboot: its files are renamed into place, never
    fsync()ed (each sync waits for the disk on every container create)."""
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    bundle = tmp_path / "bundle"
    opts = ContainerOptions(container_id="abc", hostname="web", bundle_dir=bundle,
                            cmd=["true"])
    write_bundle(bundle, build_config(IMAGE, opts, rootfs))
    assert (bundle / "config.json").exists() and (bundle / "hosts").exists()
    assert synced == []
