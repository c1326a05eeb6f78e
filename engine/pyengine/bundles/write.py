"""write_bundle: lay out an OCI bundle directory (config.json, rootfs, generated /etc files)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from pyengine.bundles.config import ETC_FILES
from pyengine.network import etcfiles
from pyengine.snapshots.mount import Mount, mount_all, unmount_all


def etc_files(config: Mapping, extra_hosts: Sequence[str] = (), dns: Sequence[str] = (),
              dns_search: Sequence[str] = (), dns_options: Sequence[str] = (),
              own_addresses: Sequence[str] = ()) -> dict[str, bytes]:
    """Contents of the generated hostname, hosts and resolv.conf for `config` as the container
    starts out (docker's content for a namespace of its own: pyengine.network.etcfiles); the
    network domain rewrites them in place when the container's networks are attached."""
    hostname = str(config.get("hostname", ""))
    domainname = str(config.get("domainname", ""))
    return {"hostname": etcfiles.hostname_content(hostname),
            "hosts": etcfiles.hosts_content(hostname, domainname, own_addresses, extra_hosts),
            "resolv.conf": etcfiles.resolv_content(False, dns, dns_search, dns_options,
                                                   etcfiles.read_host_resolv())}


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
