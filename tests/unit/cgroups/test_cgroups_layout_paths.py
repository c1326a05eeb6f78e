"""Layout detection and cgroupsPath resolution, from recorded /proc text (no kernel state)."""

from __future__ import annotations

import pytest
from pyrunc.cgroups.layout import (
    HYBRID,
    UNIFIED,
    V1,
    V2,
    Layout,
    Mount,
    layout_from,
    parse_mountinfo,
    parse_proc_cgroup,
)
from pyrunc.cgroups.paths import clean_path, inner_path, resolve
from pyrunc.errors import CgroupError, ConfigError

HYBRID_MOUNTINFO = """\
23 1 0:21 / / rw,relatime - overlay overlay rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
HYBRID_SELF = """\
9:name=systemd:/
4:memory:/process_api/abc
2:cpuacct:/
1:cpu:/
0::/
"""
V2_MOUNTINFO = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
V1_COMOUNT = ("32 31 0:29 /docker/x /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup "
              "rw,cpu,cpuacct\n")


def test_hybrid_detected_with_unified_key() -> None:
    layout = layout_from(parse_mountinfo(HYBRID_MOUNTINFO), parse_proc_cgroup(HYBRID_SELF))
    assert layout is not None and layout.mode == HYBRID
    assert sorted(layout.v1) == ["cpu", "cpuacct", "memory", "name=systemd"]
    assert layout.unified is not None and layout.unified.mountpoint == "/sys/fs/cgroup/unified"


def test_pure_v2_and_v1_modes() -> None:
    v2 = layout_from(parse_mountinfo(V2_MOUNTINFO), {UNIFIED: "/"})
    assert v2 is not None and v2.mode == V2
    v1 = layout_from(parse_mountinfo(V1_COMOUNT), {"cpu": "/docker/x/sub"})
    assert v1 is not None and v1.mode == V1
    assert v1.v1["cpu"] is v1.v1["cpuacct"]
    # The mount shows /docker/x of the hierarchy: our own cgroup is relative to that.
    assert v1.own_dir("cpu") == "/sys/fs/cgroup/cpu,cpuacct/sub"


def test_root_filter_keeps_only_mounts_below_root() -> None:
    text = HYBRID_MOUNTINFO + "50 23 0:40 / /tmp/private\\040cg rw - cgroup2 cgroup2 rw\n"
    layout = layout_from(parse_mountinfo(text), {}, root="/tmp/private cg")
    assert layout is not None and layout.mode == V2
    assert layout.unified is not None and layout.unified.mountpoint == "/tmp/private cg"
    assert layout_from(parse_mountinfo(text), {}, root="/nowhere") is None


def test_proc_cgroup_parsing() -> None:
    own = parse_proc_cgroup("5:cpu,cpuacct:/a\n0::/b\n")
    assert own == {"cpu": "/a", "cpuacct": "/a", UNIFIED: "/b"}


def _layout() -> Layout:
    cpu = Mount("/cg/cpu", "/", ("cpu",))
    memory = Mount("/cg/memory", "/", ("memory",))
    return Layout({"cpu": cpu, "memory": memory}, Mount("/cg/unified", "/", ()),
                  {"cpu": "/", "memory": "/process_api/abc", UNIFIED: "/u"})


def test_absolute_path_is_below_each_mountpoint() -> None:
    paths = resolve(_layout(), "/libpod_parent/libpod-1", "1")
    assert paths == {"cpu": "/cg/cpu/libpod_parent/libpod-1",
                     "memory": "/cg/memory/libpod_parent/libpod-1",
                     UNIFIED: "/cg/unified/libpod_parent/libpod-1"}


def test_relative_and_empty_paths_are_below_own_cgroup() -> None:
    rel = resolve(_layout(), "a/b", "id")
    assert rel["memory"] == "/cg/memory/process_api/abc/a/b"
    assert rel[UNIFIED] == "/cg/unified/u/a/b"
    empty = resolve(_layout(), "", "ctr1")
    assert empty["cpu"] == "/cg/cpu/ctr1"
    assert empty["memory"] == "/cg/memory/process_api/abc/ctr1"


def test_relative_path_cannot_climb_out() -> None:
    assert clean_path("../../etc") == "etc"
    assert clean_path("/a/../../b") == "/b"
    with pytest.raises(CgroupError):
        inner_path("/", "x")


@pytest.mark.parametrize("cgroups_path", ["/" + "c" * 5000, "/a" + ("/" + "c" * 200) * 20],
                         ids=["component-5000", "path-20x200"])
def test_path_beyond_path_max_is_a_config_error_naming_the_field(cgroups_path: str) -> None:
    """Refused before any directory is made, naming the field like every config error."""
    with pytest.raises(ConfigError, match=r"^invalid config: linux\.cgroupsPath: .*PATH_MAX"):
        resolve(_layout(), cgroups_path, "id")


def test_default_path_beyond_path_max_names_the_container_id() -> None:
    with pytest.raises(CgroupError, match="default cgroup of the container id"):
        resolve(_layout(), "", "c" * 5000)
