"""/dev (default devices, symlinks, linux.devices), maskedPaths, readonlyPaths, sysctl."""

from __future__ import annotations

import errno

from spectest.probe import observe

# runtime-spec config-linux.md "Default Devices" (char devices, mode 0666, owned by root)
DEFAULT_DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8),
                   "urandom": (1, 9), "tty": (5, 0)}
# runtime-linux.md "Dev symbolic links"
DEV_SYMLINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
                "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}


def test_default_devices(make):
    dev = observe(make(), "devices")["devices"]["/dev"]
    for name, (major, minor) in DEFAULT_DEVICES.items():
        assert name in dev, f"/dev/{name} missing; /dev has {sorted(dev)}"
        entry = dev[name]
        assert (entry["type"], entry["major"], entry["minor"]) == ("c", major, minor), name
        assert entry["mode"] == "0666", (name, entry)
        assert (entry["uid"], entry["gid"]) == (0, 0), (name, entry)


def test_dev_symlinks(make):
    dev = observe(make(), "devices")["devices"]["/dev"]
    for name, target in DEV_SYMLINKS.items():
        assert dev.get(name, {}).get("type") == "l", f"/dev/{name}: {dev.get(name)}"
        assert dev[name]["target"] == target, (name, dev[name])


def test_ptmx_points_into_devpts(make):
    report = observe(make(), "all", "/dev/ptmx")
    ptmx = report["devices"]["/dev"]["ptmx"]
    if ptmx["type"] == "l":
        assert ptmx["target"] in ("pts/ptmx", "/dev/pts/ptmx"), ptmx
    else:  # a bind mount of /dev/pts/ptmx is the other allowed form
        assert (ptmx["type"], ptmx["major"], ptmx["minor"]) == ("c", 5, 2), ptmx
    assert "ptmx" in report["devices"]["/dev/pts"]
    assert report["paths"]["/dev/ptmx"]["read_ok"]


def test_no_console_without_terminal(make):
    dev = observe(make(), "devices")["devices"]["/dev"]
    console = dev.get("console")
    assert console is None or console["type"] != "c" or console.get("major") != 5, console


def test_dev_shm_and_pts_dirs(make):
    dev = observe(make(), "devices")["devices"]["/dev"]
    for name in ("shm", "pts", "mqueue"):
        assert dev.get(name, {}).get("type") == "d", (name, dev.get(name))


def test_linux_devices(make):
    ctr = make()
    ctr.config["linux"]["devices"] = [
        {"path": "/dev/spec-char", "type": "c", "major": 1, "minor": 3, "fileMode": 0o640,
         "uid": 1000, "gid": 1001},
        {"path": "/dev/spec-block", "type": "b", "major": 7, "minor": 0, "fileMode": 0o600,
         "uid": 0, "gid": 0},
        {"path": "/dev/spec-fifo", "type": "p"},
    ]
    dev = observe(ctr, "devices")["devices"]["/dev"]
    assert dev["spec-char"] == {"type": "c", "mode": "0640", "uid": 1000, "gid": 1001,
                                "major": 1, "minor": 3}
    assert dev["spec-block"] == {"type": "b", "mode": "0600", "uid": 0, "gid": 0,
                                 "major": 7, "minor": 0}
    assert dev["spec-fifo"]["type"] == "p"


def test_masked_paths(make):
    ctr = make()
    report = observe(ctr, "paths", "/proc/kcore", "/proc/keys", "/proc/timer_list",
                     "/proc/acpi", "/sys/firmware", "/proc/scsi")
    paths = report["paths"]
    for path in ("/proc/kcore", "/proc/keys", "/proc/timer_list"):
        p = paths[path]
        if not p["exists"]:
            continue  # masking something the kernel doesn't have is a no-op
        assert p["read_ok"] and p["read_len"] == 0, (path, p)
    for path in ("/proc/acpi", "/sys/firmware", "/proc/scsi"):
        p = paths[path]
        if not p["exists"]:
            continue
        assert p["entries"] == 0, (path, p)
        assert p["ro_mount"], (path, p)


def test_masked_path_of_own_choice(make):
    ctr = make()
    ctr.config["linux"]["maskedPaths"] += ["/work/file", "/work/sub", "/does/not/exist"]
    paths = observe(ctr, "paths", "/work/file", "/work/sub")["paths"]
    assert paths["/work/file"]["read_ok"] and paths["/work/file"]["read_len"] == 0
    assert paths["/work/sub"]["entries"] == 0


def test_readonly_paths(make):
    ctr = make()
    ctr.config["root"]["readonly"] = False
    ctr.config["linux"]["readonlyPaths"].append("/work")
    paths = observe(ctr, "paths", "/proc/sys", "/proc/sysrq-trigger",
                    "/proc/sys/kernel/hostname", "/work/file")["paths"]
    assert paths["/proc/sys"]["ro_mount"]
    for path in ("/proc/sysrq-trigger", "/proc/sys/kernel/hostname", "/work/file"):
        p = paths[path]
        if not p["exists"]:
            continue  # e.g. no /proc/sysrq-trigger on this kernel
        assert not p["write_ok"] and p["write_errno"] == errno.EROFS, (path, p)
    assert paths["/work/file"]["read_ok"]


def test_sysctl(make):
    ctr = make()
    ctr.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1",
                                     "net.ipv4.conf.all.forwarding": "1",
                                     "kernel.msgmax": "12345"}
    got = observe(ctr, "sysctl", *ctr.config["linux"]["sysctl"])["sysctl"]
    assert got == ctr.config["linux"]["sysctl"]
