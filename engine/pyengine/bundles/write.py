"""write_bundle: lay out an OCI bundle directory (config.json, rootfs, generated /etc files)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from pyengine.bundles.config import ETC_FILES
from pyengine.snapshots.mount import Mount, mount_all, unmount_all

DEFAULT_NAMESERVERS = ("8.8.8.8", "8.8.4.4")


def hosts_file(hostname: str, extra_hosts: Sequence[tuple[str, str]] = (),
               own_address: str | None = None) -> bytes:
    """/etc/hosts: loopback names, docker's IPv6 lines, extra hosts, the container's name."""
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
             "fe00::0\tip6-localnet", "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes",
             "ff02::2\tip6-allrouters"]
    lines += [f"{address}\t{name}" for name, address in extra_hosts]
    if own_address:
        lines.append(f"{own_address}\t{hostname}")
    return ("\n".join(lines) + "\n").encode()


def resolv_conf(host_resolv: str | None = None, dns: Sequence[str] = (),
                dns_search: Sequence[str] = ()) -> bytes:
    """The host's resolv.conf without loopback nameservers (unreachable from a container
    namespace), or DNS servers given explicitly; public resolvers when nothing is left."""
    if host_resolv is None:
        try:
            host_resolv = Path("/etc/resolv.conf").read_text()
        except OSError:
            host_resolv = ""
    kept, servers = [], list(dns)
    for line in host_resolv.splitlines():
        fields = line.split()
        if fields and fields[0] == "nameserver":
            if not dns and len(fields) > 1 and not _is_loopback(fields[1]):
                servers.append(fields[1])
            continue
        if fields and fields[0] == "search" and dns_search:
            continue
        kept.append(line)
    if not servers:
        servers = list(DEFAULT_NAMESERVERS)
    if dns_search:
        kept.append("search " + " ".join(dns_search))
    kept += [f"nameserver {s}" for s in servers]
    return ("\n".join(kept) + "\n").encode()


def _is_loopback(address: str) -> bool:
    return address.startswith("127.") or address == "::1"


def etc_files(config: Mapping, extra_hosts: Sequence[tuple[str, str]] = (),
              dns: Sequence[str] = (), dns_search: Sequence[str] = (),
              own_address: str | None = None) -> dict[str, bytes]:
    """Contents of the generated hostname, hosts and resolv.conf for `config`."""
    hostname = str(config.get("hostname", ""))
    return {"hostname": (hostname + "\n").encode(),
            "hosts": hosts_file(hostname, extra_hosts, own_address),
            "resolv.conf": resolv_conf(None, dns, dns_search)}


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Whole or not at all for a daemon killed half-way (rename); not fsync()ed: a bundle lives
    in the exec root, which does not outlive a reboot (recover() finds it gone), and four
    fsyncs per create were ~10% of `run --rm` on this disk (tools/bench/engine.py)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.rename(tmp, path)


def write_bundle(bundle_dir: Path, config: Mapping, rootfs_mounts: Sequence[Mount] = (), *,
                 files: Mapping[str, bytes] | None = None) -> Path:
    """Create `bundle_dir` with config.json, mount `rootfs_mounts` on the config's root path
    and write the /etc files the config bind-mounts from the bundle (generated from the config
    unless `files` gives them). Returns the path of config.json."""
    bundle_dir = Path(bundle_dir)
    bundle_dir.mkdir(parents=True, exist_ok=True)
    rootfs = Path(config["root"]["path"])
    if not rootfs.is_absolute():
        rootfs = bundle_dir / rootfs
    rootfs.mkdir(parents=True, exist_ok=True)
    if rootfs_mounts:
        mount_all(rootfs_mounts, rootfs)
    try:
        contents = dict(files) if files is not None else etc_files(config)
        wanted = {str(bundle_dir / name) for name in ETC_FILES}
        for mount in config.get("mounts", []):
            source = str(mount.get("source", ""))
            if source in wanted and not os.path.exists(source):
                _write_atomic(Path(source), contents[Path(source).name])
        config_path = bundle_dir / "config.json"
        _write_atomic(config_path, json.dumps(config, indent=2).encode(), 0o600)
    except BaseException:
        if rootfs_mounts:
            unmount_all(rootfs)
        raise
    return config_path
