"""Volumes end to end with a real pyengined: named volumes outlive their containers and are
seeded from the image, anonymous ones come from the image's VOLUME and go with rm -v, binds
are read-only when asked, --tmpfs, --volumes-from, the local driver's tmpfs and bind options,
refusals (in use, bad names, bad --mount) that make nothing, and a daemon killed with -9 while
a volume is mounted."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ctr_harness import ContainerEngine
from volume_mounts import volume_mounts

IMAGE = "vimg:1"


def inspect(engine: ContainerEngine, *args: str) -> list[dict]:
    return json.loads(engine.out(*args))


def volume_names(engine: ContainerEngine) -> list[str]:
    return engine.out("volume", "ls", "-q").split()


@pytest.fixture(scope="module")
def image(engine: ContainerEngine) -> str:
    """busybox with /data holding a file owned by 1000:1000, mode 640, and VOLUME /data."""
    engine.out("run", "--name", "vimg-src", "busybox", "sh", "-c",
               "mkdir -p /data/sub && echo seeded > /data/sub/f && "
               "chown 1000:1000 /data/sub/f && chmod 640 /data/sub/f && chmod 750 /data")
    engine.out("commit", "-c", "VOLUME /data", "vimg-src", IMAGE)
    engine.out("rm", "vimg-src")
    return IMAGE


def test_named_volume_is_seeded_once_and_outlives_its_containers(
        engine: ContainerEngine, image: str) -> None:
    try:
        out = engine.out("run", "--name", "w1", "-v", "vol1:/data", image, "sh", "-c",
                         "stat -c '%u:%g %a' /data/sub/f /data; cat /data/sub/f; "
                         "echo mine > /data/new")
        assert out.split("\n")[:3] == ["1000:1000 640", "0:0 750", "seeded"]
        engine.out("rm", "w1")
        assert "vol1" in volume_names(engine)
        # not empty any more: no second seeding, the content stays
        out = engine.out("run", "--rm", "-v", "vol1:/data", image, "cat", "/data/new")
        assert out == "mine\n"
        (doc,) = inspect(engine, "volume", "inspect", "vol1")
        assert (Path(doc["Mountpoint"]) / "new").read_text() == "mine\n"
        assert (doc["Name"], doc["Driver"], doc["Scope"]) == ("vol1", "local", "local")
        # nocopy: a new volume stays empty
        out = engine.out("run", "--rm", "-v", "vol2:/data:nocopy", image, "ls", "-A", "/data")
        assert out == ""
    finally:
        engine.pyctl("rm", "-f", "w1")
        engine.pyctl("volume", "rm", "vol1", "vol2")


def test_anonymous_volumes_from_the_image_go_with_rm_v_only(
        engine: ContainerEngine, image: str) -> None:
    before = set(volume_names(engine))
    try:
        engine.out("create", "--name", "a1", image)
        engine.out("create", "--name", "a2", image)
        mounts = {name: inspect(engine, "inspect", name)[0]["Mounts"] for name in ("a1", "a2")}
        for found in mounts.values():
            (mount,) = found
            assert (mount["Type"], mount["Destination"], mount["Driver"], mount["RW"]) == \
                ("volume", "/data", "local", True)
            assert len(mount["Name"]) == 64
            assert (Path(mount["Source"]) / "sub" / "f").read_text() == "seeded\n"
        made = {m[0]["Name"] for m in mounts.values()}
        assert set(volume_names(engine)) == before | made
        engine.out("rm", "a1")
        engine.out("rm", "-v", "a2")
        assert set(volume_names(engine)) == before | {mounts["a1"][0]["Name"]}
        engine.out("run", "--rm", image, "true")  # --rm: its anonymous volume goes too
        assert set(volume_names(engine)) == before | {mounts["a1"][0]["Name"]}
        engine.out("volume", "rm", mounts["a1"][0]["Name"])
    finally:
        engine.pyctl("rm", "-f", "a1", "a2")


def test_bind_mounts_read_only_and_created_and_checked(engine: ContainerEngine,
                                                       host_dir: Path) -> None:
    ro = engine.pyctl("run", "--rm", "-v", f"{host_dir}:/h:ro", "busybox", "touch", "/h/x")
    assert ro.returncode != 0 and b"Read-only file system" in ro.stderr
    engine.out("run", "--rm", "--mount", f"type=bind,src={host_dir},dst=/h", "busybox",
               "sh", "-c", "echo rw > /h/x")
    assert (host_dir / "x").read_text() == "rw\n"
    made = host_dir / "made" / "here"
    engine.out("run", "--rm", "-v", f"{made}:/m", "busybox", "true")  # -v creates it
    assert made.is_dir()
    ids = engine.ids()
    missing = host_dir / "missing"
    bad = engine.pyctl("create", "--mount", f"type=bind,source={missing},target=/m", "busybox")
    assert bad.returncode != 0
    assert bad.stderr.decode().strip().endswith(
        f'invalid mount config for type "bind": bind source path does not exist: {missing}')
    assert not missing.exists() and engine.ids() == ids


def test_inspect_shows_mounts_as_docker(engine: ContainerEngine, host_dir: Path) -> None:
    try:
        engine.out("create", "--name", "shape", "-v", f"{host_dir}:/h:ro", "-v", "sv:/v",
                   "--mount", f"type=bind,src={host_dir},dst=/m", "--tmpfs", "/t:size=1m",
                   "--mount", "type=tmpfs,dst=/u,tmpfs-size=2m", "busybox")
        (doc,) = inspect(engine, "inspect", "shape")
        source = inspect(engine, "volume", "inspect", "sv")[0]["Mountpoint"]
        assert sorted(doc["Mounts"], key=lambda m: m["Destination"]) == [
            {"Type": "bind", "Source": str(host_dir), "Destination": "/h", "Mode": "ro",
             "RW": False, "Propagation": "rprivate"},
            {"Type": "bind", "Source": str(host_dir), "Destination": "/m", "Mode": "",
             "RW": True, "Propagation": "rprivate"},
            {"Type": "tmpfs", "Source": "", "Destination": "/u", "Mode": "", "RW": True,
             "Propagation": ""},
            {"Type": "volume", "Name": "sv", "Source": source, "Destination": "/v",
             "Driver": "local", "Mode": "z", "RW": True, "Propagation": ""},
        ]
        host = doc["HostConfig"]
        assert host["Binds"] == [f"{host_dir}:/h:ro", "sv:/v"]
        assert host["Mounts"] == [{"Type": "bind", "Source": str(host_dir), "Target": "/m"},
                                  {"Type": "tmpfs", "Target": "/u",
                                   "TmpfsOptions": {"SizeBytes": 2 << 20}}]
        assert host["Tmpfs"] == {"/t": "size=1m"}
        assert host["VolumesFrom"] is None
    finally:
        engine.pyctl("rm", "-f", "shape")
        engine.pyctl("volume", "rm", "sv")


def test_tmpfs_flag_and_mount(engine: ContainerEngine) -> None:
    out = engine.out("run", "--rm", "--tmpfs", "/t:size=1m,exec", "--mount",
                     "type=tmpfs,dst=/u,tmpfs-size=2m", "busybox", "sh", "-c",
                     "grep -E ' /(t|u) ' /proc/mounts")
    lines = sorted(out.splitlines())
    assert lines[0].startswith("tmpfs /t tmpfs rw,nosuid,nodev,") and "size=1024k" in lines[0]
    assert "noexec" not in lines[0]
    assert lines[1].startswith("tmpfs /u tmpfs rw,nosuid,nodev,noexec,") and \
        "size=2048k" in lines[1]


def test_volumes_from_shares_and_ro(engine: ContainerEngine, host_dir: Path) -> None:
    try:
        engine.out("create", "--name", "src", "-v", "shared:/s", "-v", f"{host_dir}:/h",
                   "busybox")
        engine.out("run", "--rm", "--volumes-from", "src", "busybox", "sh", "-c",
                   "echo a > /s/a; echo b > /h/b")
        assert (host_dir / "b").read_text() == "b\n"
        out = engine.out("run", "--rm", "-v", "shared:/x", "busybox", "cat", "/x/a")
        assert out == "a\n"
        ro = engine.pyctl("run", "--rm", "--volumes-from", "src:ro", "busybox", "touch",
                          "/s/c")
        assert ro.returncode != 0 and b"Read-only file system" in ro.stderr
        # a volume a container uses (running or not) cannot be removed, even with -f
        cid = engine.out("inspect", "-f", "{{.Id}}", "src").strip()
        for flags in ((), ("-f",)):
            busy = engine.pyctl("volume", "rm", *flags, "shared")
            assert busy.returncode == 1
            assert busy.stderr.decode() == \
                f"Error response from daemon: remove shared: volume is in use - [{cid}]\n"
    finally:
        engine.pyctl("rm", "-f", "src")
        engine.pyctl("volume", "rm", "shared")


def test_driver_options_tmpfs_and_bind(engine: ContainerEngine, host_dir: Path) -> None:
    try:
        engine.out("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs",
                   "-o", "o=size=3m", "tv")
        engine.out("volume", "create", "--driver", "local", "-o", "type=none", "-o", "o=bind",
                   "-o", f"device={host_dir}", "bv")
        (doc,) = inspect(engine, "volume", "inspect", "tv")
        assert doc["Options"] == {"device": "tmpfs", "o": "size=3m", "type": "tmpfs"}
        assert volume_mounts(engine) == []  # mounted at first use only
        engine.out("run", "-d", "--name", "tu", "-v", "tv:/t", "-v", "bv:/b", "busybox",
                   "sleep", "600")
        mounted = volume_mounts(engine)
        assert sorted(Path(p).parent.name for p in mounted) == ["bv", "tv"]
        out = engine.out("exec", "tu", "sh", "-c", "grep ' /t ' /proc/mounts; echo x > /b/x")
        assert out.startswith("tmpfs /t tmpfs ") and "size=3072k" in out
        assert (host_dir / "x").read_text() == "x\n"
        engine.out("stop", "-t", "0", "tu")
        assert volume_mounts(engine) == []  # the last user stopped
        # cp into and out of the stopped container goes through the volume's mount, as with
        # dockerd (not into the bare _data under it), and leaves nothing mounted
        source = host_dir.parent / f"{host_dir.name}-copied"
        source.write_text("copied\n")
        try:
            engine.out("cp", str(source), "tu:/b/copied")
        finally:
            source.unlink()
        assert (host_dir / "copied").read_text() == "copied\n"
        (host_dir / "x").write_text("changed\n")
        engine.out("cp", "tu:/b/x", str(source))
        try:
            assert source.read_text() == "changed\n"
        finally:
            source.unlink()
        assert volume_mounts(engine) == []
        engine.out("rm", "tu")
        engine.out("volume", "rm", "tv", "bv")
        assert (host_dir / "x").exists()  # a bind volume's removal leaves its device be
    finally:
        engine.pyctl("rm", "-f", "tu")
        engine.pyctl("volume", "rm", "tv", "bv")


def test_bad_names_and_mounts_make_nothing(engine: ContainerEngine) -> None:
    volumes, ids = volume_names(engine), engine.ids()
    chars = ('only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
             "directory, use absolute path")
    bad = engine.pyctl("volume", "create", "a b")
    assert bad.returncode == 1 and bad.stderr.decode() == (
        'Error response from daemon: create a b: "a b" includes invalid characters for a '
        f"local volume name, {chars}\n")
    for args, message in (
            (("-o", "novalue", "x2"), 'Error response from daemon: create x2: invalid option: '
                                      '"novalue"\n'),
            (("-o", "type=tmpfs", "x2"), "Error response from daemon: create x2: missing "
                                         'required option: "device"\n'),
            (("-d", "foo", "x2"), "Error response from daemon: create x2: error looking up "
                                  'volume plugin foo: plugin "foo" not found\n'),
            (("--name", "n1", "n2"), "conflicting options: cannot specify a volume-name "
                                     "through both --name and as a positional arg\n")):
        bad = engine.pyctl("volume", "create", *args)
        assert (bad.returncode, bad.stderr.decode()) == (1, message)
    bad = engine.pyctl("run", "-v", "ok:/a", "-v", "no$:/data", "busybox", "true")
    assert bad.returncode != 0
    assert f'create no$: "no$" includes invalid characters for a local volume name, {chars}' \
        in bad.stderr.decode()
    bad = engine.pyctl("create", "-v", "ok:/a", "--mount", "type=volume,dst=/b,colour=red",
                       "busybox")
    assert bad.returncode == 125 and (
        'invalid argument "type=volume,dst=/b,colour=red" for "--mount" flag: unexpected key '
        "'colour' in 'colour=red'") in bad.stderr.decode()
    bad = engine.pyctl("create", "-v", "ok:/a", "--tmpfs", "/a", "busybox")
    assert bad.returncode != 0 and "Duplicate mount point: /a" in bad.stderr.decode()
    assert volume_names(engine) == volumes and engine.ids() == ids
    for verb in ("inspect", "rm"):
        missing = engine.pyctl("volume", verb, "nosuch")
        assert (missing.returncode, missing.stderr.decode()) == \
            (1, "Error response from daemon: get nosuch: no such volume\n")
        assert missing.stdout.decode() == ("[]\n" if verb == "inspect" else "")


def test_prune_takes_unused_volumes(engine: ContainerEngine) -> None:
    try:
        engine.out("volume", "create", "--label", "keep=1", "p1")
        engine.out("volume", "create", "p2")
        engine.out("create", "--name", "pu", "-v", "p3:/x", "busybox")
        out = engine.out("volume", "prune", "-f", "--filter", "label!=keep")
        assert out.startswith("Deleted Volumes:\np2\n")
        assert {"p1", "p3"} <= set(volume_names(engine)) and "p2" not in volume_names(engine)
        table = engine.out("volume", "ls", "-f", "name=p1")
        assert table == "DRIVER    VOLUME NAME\nlocal     p1\n"
        assert engine.out("volume", "ls", "-q", "-f", "dangling=false") .split() == ["p3"]
    finally:
        engine.pyctl("rm", "-f", "pu")
        engine.pyctl("volume", "rm", "p1", "p2", "p3")


def test_system_df_counts_local_volumes(engine: ContainerEngine) -> None:
    """docker 20.10's Local Volumes row (active: used by a container; sizes are the files'
    lengths; reclaimable: the unused ones) and `system df -v`'s volume section."""
    others = set(volume_names(engine))
    try:
        engine.out("volume", "create", "dfa")
        engine.out("volume", "create", "dfb")
        engine.out("run", "--rm", "-v", "dfa:/d", "busybox", "sh", "-c",
                   "head -c 5000 /dev/zero > /d/f && ln /d/f /d/g")
        engine.out("run", "-d", "--name", "dfu", "-v", "dfb:/d", "busybox", "sleep", "1000")
        rows = [json.loads(line) for line in
                engine.out("system", "df", "--format", "{{json .}}").splitlines()]
        [row] = [r for r in rows if r["Type"] == "Local Volumes"]
        if not others:  # alone on the daemon (else others' volumes add to the counts)
            assert row == {"Type": "Local Volumes", "TotalCount": "2", "Active": "1",
                           "Size": "5kB", "Reclaimable": "5kB (100%)"}
        assert int(row["TotalCount"]) == len(others) + 2
        verbose = engine.out("system", "df", "-v")
        section = verbose.split("Local Volumes space usage:\n\n", 1)[1].splitlines()
        assert section[0].split() == ["VOLUME", "NAME", "LINKS", "SIZE"]
        assert {tuple(line.split()) for line in section[1:] if line.startswith("df")} == {
            ("dfa", "0", "5kB"), ("dfb", "1", "0B")}
    finally:
        engine.pyctl("rm", "-f", "dfu")
        engine.pyctl("volume", "rm", "dfa", "dfb")


def test_kill9_with_a_mounted_volume_leaves_nothing(engine: ContainerEngine) -> None:
    """Last in the module: the daemon is killed and started again."""
    try:
        engine.out("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "kv")
        engine.out("run", "-d", "--name", "k9", "-v", "kv:/k", "busybox", "sleep", "600")
        assert len(volume_mounts(engine)) == 1
        engine.kill9()
        engine.start()
        assert len(volume_mounts(engine)) == 1  # still running: still mounted
        engine.out("rm", "-f", "k9")
        assert volume_mounts(engine) == []
        engine.out("volume", "rm", "kv")
        assert not (engine.data_root / "volumes" / "kv").exists()
        ours = [line for line in Path("/proc/self/mountinfo").read_text().splitlines()
                if str(engine.base) in line and "/snapshots" not in line]
        assert ours == []
    finally:
        engine.pyctl("rm", "-f", "k9")
        engine.pyctl("volume", "rm", "kv")
        subprocess.run(["true"], check=True)
