"""linux.namespaces: each type new or shared, joining by path, user ns mappings, hostname."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid

import pytest
from spectest.bundle import PROBE, drop_namespace, set_namespace, share_runtime_namespaces
from spectest.host import NS_TYPES, mount_namespace_holder, mounts_under
from spectest.probe import mount_at, mount_options, observe

PROC_NAME = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
             "cgroup": "cgroup", "time": "time", "user": "user"}
USER_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def add_user_ns(config: dict) -> None:
    set_namespace(config, "user")
    config["linux"]["uidMappings"] = [dict(m) for m in USER_MAP]
    config["linux"]["gidMappings"] = [dict(m) for m in USER_MAP]


def new_namespaces(report: dict, host_ns: dict) -> set[str]:
    ns = report["namespaces"]
    return {oci for oci, proc in PROC_NAME.items() if ns.get(proc) and ns[proc] != host_ns[proc]}


def test_default_namespaces(make, host_ns):
    report = observe(make(), "namespaces")
    assert new_namespaces(report, host_ns) == {"pid", "network", "ipc", "uts", "mount"}


@pytest.mark.parametrize("ns_type", ["pid", "network", "ipc", "uts", "cgroup", "time", "user"])
def test_each_namespace_type(make, host_ns, ns_type):
    """Only the mount namespace is kept; then the one type under test is added. A user namespace
    comes with the default set: proc, sysfs and mqueue need owned pid, net and ipc namespaces."""
    ctr = make()
    if ns_type == "user":
        add_user_ns(ctr.config)
        report = observe(ctr, "namespaces")
        assert new_namespaces(report, host_ns) == {"pid", "network", "ipc", "uts", "mount",
                                                   "user"}
        return
    for other in ("pid", "network", "ipc", "uts"):
        drop_namespace(ctr.config, other)
    if ns_type != "uts":
        del ctr.config["hostname"]
    set_namespace(ctr.config, ns_type)
    if ns_type != "network":
        # sysfs may only be mounted by an owner of the network namespace
        ctr.config["mounts"] = [m for m in ctr.config["mounts"] if m["type"] != "sysfs"]
        ctr.config["linux"]["maskedPaths"].remove("/sys/firmware")
    report = observe(ctr, "namespaces")
    assert new_namespaces(report, host_ns) == {"mount", ns_type}


def test_pid_namespace_makes_pid_1(make):
    assert observe(make(), "pid")["pid"]["pid"] == 1


def test_host_pid_namespace(make, host_ns):
    ctr = make()
    drop_namespace(ctr.config, "pid")
    report = observe(ctr, "all")
    assert report["pid"]["pid"] != 1
    assert report["namespaces"]["pid"] == host_ns["pid"]


def test_cgroup_namespace_hides_path(make):
    ctr = make()
    set_namespace(ctr.config, "cgroup")
    cgroups = observe(ctr, "cgroup")["cgroup"]
    assert cgroups.get("memory") == "/", cgroups


def test_no_cgroup_namespace_shows_cgroups_path(make):
    ctr = make()
    cgroups = observe(ctr, "cgroup")["cgroup"]
    assert cgroups.get("memory", "").endswith(ctr.config["linux"]["cgroupsPath"]), cgroups


def test_user_namespace_mappings(make, host_ns):
    ctr = make()
    add_user_ns(ctr.config)
    report = observe(ctr, "all")
    assert "user" in new_namespaces(report, host_ns)
    assert report["ids"]["uid"] == 0
    uid_map = report["namespaces"]["uid_map"].split()
    gid_map = report["namespaces"]["gid_map"].split()
    assert uid_map == ["0", "100000", "65536"]
    assert gid_map == ["0", "100000", "65536"]


@pytest.fixture
def netns():
    name = f"spectest-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_join_network_namespace_by_path(make, netns):
    path = f"/var/run/netns/{netns}"
    want = f"net:[{os.stat(path).st_ino}]"
    ctr = make()
    set_namespace(ctr.config, "network", path)
    assert observe(ctr, "namespaces")["namespaces"]["net"] == want


def _lo_flags(ctr) -> int:
    ctr.config["process"]["args"] = ["/bin/cat", "/sys/class/net/lo/flags"]
    res = ctr.run()
    assert res.returncode == 0, res.stderr
    return int(res.stdout.decode().strip(), 16)


def test_new_network_namespace_has_loopback_up(make):
    """runc brings lo up in a network namespace it creates (its "loopback" network): a
    container's own 127.0.0.1 works without any network set up."""
    assert _lo_flags(make()) & 0x1  # IFF_UP


def test_joined_network_namespace_is_left_as_it_is(make, netns):
    """A namespace joined by path belongs to someone else: its lo stays down."""
    ctr = make()
    set_namespace(ctr.config, "network", f"/var/run/netns/{netns}")
    assert not _lo_flags(ctr) & 0x1


def test_join_uts_and_ipc_of_another_container(make):
    first = make()
    first.config["process"]["args"] = [PROBE, "sleep"]
    first.config["hostname"] = "first"
    assert first.create().returncode == 0
    pid = first.state()["pid"]
    want = {ns: os.readlink(f"/proc/{pid}/ns/{ns}") for ns in ("uts", "ipc")}
    second = make()
    del second.config["hostname"]
    set_namespace(second.config, "uts", f"/proc/{pid}/ns/uts")
    set_namespace(second.config, "ipc", f"/proc/{pid}/ns/ipc")
    report = observe(second, "all")
    assert {ns: report["namespaces"][ns] for ns in ("uts", "ipc")} == want
    assert report["hostname"]["hostname"] == "first"


def test_hostname(make):
    ctr = make()
    ctr.config["hostname"] = "box.spec"
    assert observe(ctr, "hostname")["hostname"]["hostname"] == "box.spec"


def test_domainname(make):
    ctr = make()
    ctr.config["domainname"] = "example.org"
    assert observe(ctr, "hostname")["hostname"]["domainname"] == "example.org"


def test_time_namespace_offsets(make):
    """timeOffsets shift CLOCK_MONOTONIC and CLOCK_BOOTTIME inside a new time namespace."""
    offset = 10 * 365 * 86400
    ctr = make()
    set_namespace(ctr.config, "time")
    ctr.config["linux"]["timeOffsets"] = {"monotonic": {"secs": offset},
                                          "boottime": {"secs": offset, "nanosecs": 0}}
    before = time.clock_gettime(time.CLOCK_MONOTONIC)
    before_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
    clocks = observe(ctr, "clocks")["clocks"]
    assert clocks["monotonic"] >= int(before) + offset
    assert clocks["boottime"] >= int(before_boot) + offset


def _mount_view(report: dict) -> list[tuple[str, str, str, str]]:
    return [(m["target"], m["fstype"], m["root"], m["options"]) for m in report["mounts"]]


def _without_masks(config: dict) -> None:
    config["linux"]["maskedPaths"] = []
    config["linux"]["readonlyPaths"] = []


@pytest.fixture
def private_runtime(runtime):
    """The runtime in a private mount namespace of its own: without a mount namespace the
    container's mounts are made in the runtime's, which must not be this machine's."""
    return runtime.in_private_mount_ns()


def test_no_namespaces_shares_every_runtime_namespace(factory, private_runtime, make, host_ns,
                                                      rootfs):
    """No linux.namespaces entry: every namespace is the runtime's (the mount namespace is the
    one the wrapper gave the runtime call), yet the container sees the same rootfs, mounts and
    devices as with a mount namespace of its own, chrooted into the rootfs."""
    ctr = factory.make(private_runtime, share_runtime_namespaces)
    report = observe(ctr, "all")
    ns = report["namespaces"]
    runtime_mnt = private_runtime.mount_ns_of_call("run", "--bundle", str(ctr.bundle), ctr.id)
    assert ns["mnt"] == runtime_mnt != host_ns["mnt"]
    assert {k: ns[k] for k in NS_TYPES if k != "mnt"} == {
        k: host_ns[k] for k in NS_TYPES if k != "mnt"}
    assert report["hostname"]["hostname"] == socket.gethostname()
    assert (report["cwd"], report["ids"]["uid"], report["ids"]["gid"]) == ("/", 0, 0)
    assert mount_at(report, "/")["root"] == rootfs
    reference = make(_without_masks)
    ref = observe(reference, "all")
    assert _mount_view(report)[1:] == _mount_view(ref)[1:]  # "/": see the next test
    assert report["devices"] == ref["devices"]
    assert mounts_under(rootfs) == [], "nothing may reach the test's mount namespace"


def test_no_mount_namespace_root_readonly(factory, private_runtime):
    """root.readonly holds without a mount namespace too (the rootfs bind is remounted)."""
    ctr = factory.make(private_runtime, share_runtime_namespaces)
    report = observe(ctr, "mounts")
    assert "ro" in mount_options(mount_at(report, "/"))


def test_join_mount_namespace_by_path(make, host_ns, rootfs):
    """A mount namespace given by path is joined and the rootfs is built and pivoted into in
    it: the container sees what it would with a new mount namespace."""
    ref = observe(make(), "all")
    with mount_namespace_holder() as path:
        want = os.readlink(path)
        ctr = make()
        set_namespace(ctr.config, "mount", path)
        report = observe(ctr, "all")
    assert report["namespaces"]["mnt"] == want
    assert new_namespaces(report, host_ns) == {"pid", "network", "ipc", "uts", "mount"}
    assert _mount_view(report) == _mount_view(ref)
    assert report["devices"] == ref["devices"]
    assert report["hostname"]["hostname"] == "spectest"
    assert (report["cwd"], report["ids"]["uid"]) == ("/", 0)
    assert mounts_under(rootfs) == [], "nothing may reach the test's mount namespace"
