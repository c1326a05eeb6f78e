"""Differential test: images built by umoci, unpacked by umoci and by our apply_layer chain.

The image: a busybox-static rootfs with passwd/group, a setuid file, hardlinks, a fifo, a device
node, xattrs and odd owners (layer 1, umoci repack, gzip); deletions and changes (layer 2, umoci
repack); an opaque directory, a directory whiteout and new files (layer 3, our own tar added
with `umoci raw add-layer`); an uncompressed layer (4) and a zstd layer (5) written into the
layout by hand.
Both unpacks must agree on paths, types, modes, owners, contents, symlink targets, device
numbers, hardlink groups, xattrs and mtimes. The same chain applied with overlay whiteouts into
OverlaySnapshotter snapshots and mounted must show the same tree.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_treecompare import describe, differences
from pyengine.archive import apply_layer
from pyengine.snapshots import OverlaySnapshotter, mount_all, unmount_all

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(not shutil.which("umoci") or not os.path.exists("/bin/busybox"),
                                 reason="needs umoci and busybox-static")]


def run(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"{args}: {result.stderr}"
    return result.stdout


def populate_base(rootfs: Path) -> None:
    for d in ("bin", "etc", "dev", "proc", "sys", "tmp", "home/app", "var/cache/app",
              "var/lib/data", "usr/share/doc/keep", "opt/tool"):
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2("/bin/busybox", rootfs / "bin/busybox")
    run("chroot", str(rootfs), "/bin/busybox", "--install", "-s", "/bin")
    (rootfs / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                       "app:x:1000:1000::/home/app:/bin/sh\n")
    (rootfs / "etc/group").write_text("root:x:0:\napp:x:1000:\n")
    os.chmod(rootfs / "tmp", 0o1777)
    os.chown(rootfs / "home/app", 1000, 1000)
    (rootfs / "opt/tool/suid").write_bytes(b"#!/bin/sh\necho suid\n")
    os.chmod(rootfs / "opt/tool/suid", 0o4755)
    (rootfs / "opt/tool/sgid").write_bytes(b"sgid\n")
    os.chown(rootfs / "opt/tool/sgid", 123, 456)
    os.chmod(rootfs / "opt/tool/sgid", 0o2750)
    (rootfs / "etc/hl1").write_text("linked\n")
    os.link(rootfs / "etc/hl1", rootfs / "etc/hl2")
    os.link(rootfs / "etc/hl1", rootfs / "opt/tool/hl3")
    os.mkfifo(rootfs / "var/lib/data/fifo", 0o640)
    os.mknod(rootfs / "dev/mynull", 0o666 | 0o020000, os.makedev(1, 3))
    (rootfs / "var/lib/data/attrs").write_text("xattrs\n")
    os.setxattr(rootfs / "var/lib/data/attrs", "user.note", b"hello")
    os.setxattr(rootfs / "var/lib/data/attrs", "trusted.secret", b"\x00\x01binary")
    for i in range(5):
        (rootfs / f"var/cache/app/item{i}").write_text(str(i))
    (rootfs / "usr/share/doc/keep/README").write_text("doc\n")
    os.symlink("../../etc/passwd", rootfs / "opt/tool/passwd-link")
    os.symlink("/nonexistent/absolute", rootfs / "opt/tool/dangling")
    for path in [rootfs / "opt/tool/suid", rootfs / "etc/hl1"]:
        os.utime(path, (1_600_000_000, 1_600_000_000))


def change_for_layer2(rootfs: Path) -> None:
    os.unlink(rootfs / "bin/ls")
    os.unlink(rootfs / "etc/hl2")
    shutil.rmtree(rootfs / "usr/share/doc")
    (rootfs / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                       "app:x:1000:1000::/home/app:/bin/sh\n"
                                       "web:x:33:33::/var/www:/bin/false\n")
    (rootfs / "var/www").mkdir(parents=True)
    (rootfs / "var/www/index.html").write_text("<h1>hi</h1>\n")
    os.chown(rootfs / "var/www", 33, 33)
    os.chmod(rootfs / "opt/tool/suid", 0o4711)


def layer3_tar() -> bytes:
    """Opaque var/cache/app, whited-out opt/tool/hl3 and var/lib/data, plus new entries."""
    buf = io.BytesIO()

    def add(name: str, kind: bytes, data: bytes = b"", mode: int = 0o644, **attrs) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.size, info.mtime = kind, mode, len(data), 1_650_000_000
        for key, value in attrs.items():
            setattr(info, key, value)
        tf.addfile(info, io.BytesIO(data) if data else None)

    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        add("var/", tarfile.DIRTYPE, mode=0o755)
        add("var/cache/", tarfile.DIRTYPE, mode=0o755)
        add("var/cache/app/", tarfile.DIRTYPE, mode=0o750)
        add("var/cache/app/.wh..wh..opq", tarfile.REGTYPE)
        add("var/cache/app/fresh", tarfile.REGTYPE, b"fresh\n")
        add("var/lib/", tarfile.DIRTYPE, mode=0o755)
        add("var/lib/.wh.data", tarfile.REGTYPE)
        add("opt/", tarfile.DIRTYPE, mode=0o755)
        add("opt/tool/", tarfile.DIRTYPE, mode=0o755)
        add("opt/tool/.wh.hl3", tarfile.REGTYPE)
        add("opt/tool/new-link", tarfile.LNKTYPE, linkname="opt/tool/suid", mode=0o4711)
        add("srv/", tarfile.DIRTYPE, mode=0o700, uid=1000, gid=1000)
        add("srv/x", tarfile.REGTYPE, b"x" * 10000, mode=0o600, uid=1000, gid=1000,
            pax_headers={"SCHILY.xattr.user.layer3": "3"})
    return buf.getvalue()


def small_layer(name: str, data: bytes) -> bytes:
    """A file and the whiteout of etc/hl1."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
        tf.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("etc/.wh.hl1")
        info.mtime = 1_700_000_000
        tf.addfile(info)
    return buf.getvalue()


def blob_path(layout: Path, digest: str) -> Path:
    algorithm, hexdigest = digest.split(":")
    return layout / "blobs" / algorithm / hexdigest


def write_blob(layout: Path, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blob_path(layout, digest).write_bytes(data)
    return digest


def manifest_for(layout: Path, tag: str) -> tuple[dict, dict]:
    index = json.loads((layout / "index.json").read_text())
    for desc in index["manifests"]:
        if desc.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            manifest = json.loads(blob_path(layout, desc["digest"]).read_bytes())
            config = json.loads(blob_path(layout, manifest["config"]["digest"]).read_bytes())
            return manifest, config
    raise KeyError(tag)


def add_layer(layout: Path, from_tag: str, tag: str, layer: bytes, compression: str) -> None:
    """Append a plain or zstd layer by editing the OCI layout (umoci writes only gzip)."""
    manifest, config = manifest_for(layout, from_tag)
    media_type = "application/vnd.oci.image.layer.v1.tar"
    blob = layer
    if compression == "zstd":
        import zstandard
        blob = zstandard.ZstdCompressor().compress(layer)
        media_type += "+zstd"
    manifest["layers"].append({"mediaType": media_type, "digest": write_blob(layout, blob),
                               "size": len(blob)})
    config["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(layer).hexdigest())
    config_bytes = json.dumps(config).encode()
    manifest["config"] = {**manifest["config"], "digest": write_blob(layout, config_bytes),
                          "size": len(config_bytes)}
    manifest_bytes = json.dumps(manifest).encode()
    index = json.loads((layout / "index.json").read_text())
    index["manifests"].append({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": write_blob(layout, manifest_bytes), "size": len(manifest_bytes),
        "annotations": {"org.opencontainers.image.ref.name": tag}})
    (layout / "index.json").write_text(json.dumps(index))


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("umoci")
    layout = work / "layout"
    run("umoci", "init", "--layout", str(layout))
    run("umoci", "new", "--image", f"{layout}:base")
    bundle = work / "bundle"
    run("umoci", "unpack", "--image", f"{layout}:base", str(bundle))
    populate_base(bundle / "rootfs")
    run("umoci", "repack", "--refresh-bundle", "--image", f"{layout}:v1", str(bundle))
    change_for_layer2(bundle / "rootfs")
    run("umoci", "repack", "--image", f"{layout}:v2", str(bundle))
    layer3 = work / "layer3.tar"
    layer3.write_bytes(layer3_tar())
    run("umoci", "raw", "add-layer", "--image", f"{layout}:v2", "--tag", "v3", str(layer3))
    add_layer(layout, "v3", "v4", small_layer("etc/plain-was-here", b"plain\n"), "none")
    layer5 = small_layer("etc/zstd-was-here", b"zstd layer\n")
    add_layer(layout, "v4", "v5", layer5, "zstd")
    # umoci 0.4.7 cannot read zstd: the same layer gzip-compressed is its reference for v5.
    (work / "layer5.tar").write_bytes(layer5)
    run("umoci", "raw", "add-layer", "--image", f"{layout}:v4", "--tag", "v5-gzip",
        str(work / "layer5.tar"))
    shutil.rmtree(bundle)
    return layout


def umoci_unpack(layout: Path, tag: str, dest: Path) -> Path:
    run("umoci", "unpack", "--image", f"{layout}:{tag}", str(dest))
    return dest / "rootfs"


def apply_chain(layout: Path, tag: str, dest: Path) -> list[str]:
    """Apply every layer of `tag` into dest (whiteouts removed); checks the diff_ids."""
    manifest, config = manifest_for(layout, tag)
    dest.mkdir()
    diff_ids = []
    for desc in manifest["layers"]:
        with open(blob_path(layout, desc["digest"]), "rb") as blob:
            result = apply_layer(blob, desc["mediaType"], dest, whiteouts="remove")
        diff_ids.append(result.diff_id)
    assert diff_ids == config["rootfs"]["diff_ids"]
    return [d["mediaType"] for d in manifest["layers"]]


@pytest.mark.parametrize("tag", ["v1", "v2", "v3", "v4"])
def test_same_tree_as_umoci(image: Path, tmp_path: Path, tag: str) -> None:
    theirs = umoci_unpack(image, tag, tmp_path / "umoci")
    ours = tmp_path / "ours"
    media_types = apply_chain(image, tag, ours)
    assert media_types[0].endswith("+gzip")
    their_tree, their_links = describe(theirs)
    our_tree, our_links = describe(ours)
    assert differences(their_tree, our_tree) == []
    assert their_links == our_links
    if tag == "v1":
        assert our_tree["dev/mynull"][4] == (1, 3)
        assert our_tree["opt/tool/suid"][1] == 0o4755
        assert ("user.note", b"hello") in our_tree["var/lib/data/attrs"][5]
        assert frozenset({"etc/hl1", "etc/hl2", "opt/tool/hl3"}) in our_links
    if tag == "v4":
        assert media_types[3] == "application/vnd.oci.image.layer.v1.tar"
        assert not (ours / "etc/hl1").exists() and (ours / "etc/plain-was-here").exists()
    if tag == "v3":
        assert sorted(os.listdir(ours / "var/cache/app")) == ["fresh"]
        assert not (ours / "var/lib/data").exists()
        assert not (ours / "usr/share/doc").exists()


def test_zstd_layer(image: Path, tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    media_types = apply_chain(image, "v5", ours)
    assert media_types[-1].endswith("+zstd")
    assert (ours / "etc/zstd-was-here").read_text() == "zstd layer\n"
    theirs = umoci_unpack(image, "v5-gzip", tmp_path / "umoci")
    their_tree, their_links = describe(theirs)
    our_tree, our_links = describe(ours)
    assert differences(their_tree, our_tree) == []
    assert their_links == our_links


@pytest.fixture
def overlay_view(image: Path, tmp_path: Path) -> Iterator[Path]:
    """The v5 chain unpacked into overlay snapshots (upper dirs, overlay whiteouts), mounted."""
    sn = OverlaySnapshotter(tmp_path / "snapshots")
    target = tmp_path / "merged"
    target.mkdir()
    mounted = False
    try:
        manifest, config = manifest_for(image, "v5")
        parent = None
        for i, desc in enumerate(manifest["layers"]):
            key, diff_id = f"extract-{i}", config["rootfs"]["diff_ids"][i]
            sn.prepare(key, parent)
            with open(blob_path(image, desc["digest"]), "rb") as blob:
                result = apply_layer(blob, desc["mediaType"], sn.upper_dir(key),
                                     whiteouts="overlay", lowers=sn.parent_dirs(key))
            assert result.diff_id == diff_id
            sn.commit(diff_id, key)
            parent = diff_id
        mount_all(sn.view("view", parent), target)
        mounted = True
        yield target
    finally:
        if mounted:
            unmount_all(target)
        sn.close()


def test_overlay_snapshots_show_the_same_tree(image: Path, overlay_view: Path,
                                              tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    apply_chain(image, "v5", reference)
    merged_tree, merged_links = describe(overlay_view)
    reference_tree, reference_links = describe(reference)
    assert differences(reference_tree, merged_tree) == []
    # Hardlinks made across layers are copy-ups in overlayfs: compare same-layer groups only.
    assert {g for g in reference_links if "opt/tool/new-link" not in g} <= merged_links
