"""Image verbs end to end: pyctl -> gRPC -> pyengined -> registry/content/snapshots."""

from __future__ import annotations

import json
import subprocess

import pytest
from engine_harness import REPO, env

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def busybox(engine):
    """busybox:latest created offline by tools/mkimage-busybox; returns its image ID."""
    run_env = env()
    run_env["PYENGINE_HOST"] = engine.host
    result = subprocess.run([str(REPO / "tools" / "mkimage-busybox")], env=run_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    image_id = result.stdout.strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71
    return image_id


def test_mkimage_busybox_and_inspect_templates(engine, busybox) -> None:
    table = engine.out("images").splitlines()
    assert table[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert any(line.split()[:3] == ["busybox", "latest", busybox[7:19]] for line in table[1:])
    assert engine.out("inspect", "-f", "{{.Id}}", "busybox").strip() == busybox
    assert engine.out("inspect", "-f", "{{.Config.Cmd}}", "busybox").strip() == "[sh]"
    assert engine.out("inspect", "-f", "{{index .RepoTags 0}}", "busybox").strip() == \
        "busybox:latest"
    config = json.loads(engine.out("inspect", "-f", "{{json .Config}}", "busybox"))
    assert config["Cmd"] == ["sh"] and config["Entrypoint"] is None
    assert any(e.startswith("PATH=") for e in config["Env"])
    doc = json.loads(engine.out("image", "inspect", busybox[7:19]))
    assert isinstance(doc, list) and len(doc) == 1
    for key in ("Id", "RepoTags", "RepoDigests", "Created", "Architecture", "Os", "Config",
                "RootFS", "Size"):
        assert key in doc[0]
    assert doc[0]["RootFS"]["Type"] == "layers" and len(doc[0]["RootFS"]["Layers"]) == 1
    assert doc[0]["Size"] > 1_000_000
    history = engine.out("history", "busybox").splitlines()
    assert history[0].split()[:2] == ["IMAGE", "CREATED"]
    assert busybox[7:19] in history[1] and "busybox-static" in history[1]
    assert engine.out("images", "--format", "{{.Repository}}:{{.Tag}}").splitlines().count(
        "busybox:latest") == 1
    rows = [json.loads(line) for line in engine.out("images", "--format", "json").splitlines()]
    assert {"Repository", "Tag", "ID", "CreatedSince", "Size"} <= set(rows[0])
    assert busybox[7:19] in engine.out("images", "-q").split()


def test_push_pull_roundtrip(engine, busybox, registry) -> None:
    remote = f"{registry.host}/team/busybox:v1"
    engine.out("tag", "busybox", remote)
    pushed = engine.out("push", remote).splitlines()
    assert pushed[0] == f"The push refers to repository [{registry.host}/team/busybox]"
    assert pushed[-1].startswith("v1: digest: sha256:")
    digest = pushed[-1].split()[2]
    mirror = f"{registry.host}/other/busybox:v1"
    engine.out("tag", "busybox", mirror)
    mounted = engine.out("push", mirror)
    assert ": Mounted from team/busybox" in mounted, mounted
    engine.out("rmi", mirror)
    removed = engine.out("rmi", remote)
    assert f"Untagged: {remote}" in removed and "Deleted" not in removed  # busybox keeps it
    pulled = engine.out("pull", remote).splitlines()
    assert pulled[0] == "v1: Pulling from team/busybox"
    assert f"Digest: {digest}" in pulled
    assert pulled[-2] == f"Status: Image is up to date for {remote}" or \
        pulled[-2] == f"Status: Downloaded newer image for {remote}"
    assert pulled[-1] == remote
    again = engine.out("pull", remote).splitlines()
    assert again[-2] == f"Status: Image is up to date for {remote}"
    digests = engine.out("images", "--digests", f"{registry.host}/team/busybox")
    assert digest in digests
    assert engine.out("inspect", "-f", "{{.Id}}", remote).strip() == busybox
    found = engine.out("search", f"{registry.host}/busy").splitlines()
    assert found[0].split()[0] == "NAME"
    assert {line.split()[0] for line in found[1:]} == {
        f"{registry.host}/team/busybox", f"{registry.host}/other/busybox"}
    engine.out("rmi", remote)


@pytest.mark.parametrize(
    ("tag", "args", "arch"),
    [("amd64", [], "amd64"), ("multi", ["--platform", "linux/arm64"], "arm64"),
     ("zstd", [], None), ("whiteout", [], "amd64")],
)
def test_pull_independently_built_images(engine, registry, pushed_busybox, tag, args,
                                         arch) -> None:
    if tag == "multi":
        remote = pushed_busybox(registry, "fixtures/bb", tag, all_platforms=True)
    else:
        remote = pushed_busybox(registry, "fixtures/bb", tag)
    result = engine.pyctl("pull", *args, remote)
    assert result.returncode == 0, result.stderr.decode()
    doc = json.loads(engine.out("inspect", remote))[0]
    if arch:
        assert doc["Architecture"] == arch
    assert doc["RepoDigests"][0].startswith(f"{registry.host}/fixtures/bb@sha256:")
    assert engine.out("rmi", remote).splitlines()[-1].startswith("Deleted: sha256:")


def test_docker_schema2_image(engine, registry, pushed_busybox) -> None:
    remote = pushed_busybox(registry, "fixtures/v2s2", "amd64", docker_format=True)
    assert engine.pyctl("pull", "-q", remote).stdout.decode().strip() == remote
    engine.out("rmi", remote)


def test_save_load_docker_and_oci(engine, busybox, tmp_path) -> None:
    for fmt in ("docker", "oci"):
        archive = tmp_path / f"bb-{fmt}.tar"
        engine.out("save", "--format", fmt, "-o", str(archive), "busybox")
        transport = "docker-archive" if fmt == "docker" else "oci-archive"
        skopeo = subprocess.run(["skopeo", "inspect", "--config", f"{transport}:{archive}"],
                                capture_output=True, text=True)
        assert skopeo.returncode == 0, skopeo.stderr
        assert json.loads(skopeo.stdout)["rootfs"]["diff_ids"]
        engine.out("tag", "busybox", f"copy-{fmt}:1")
        engine.out("save", "--format", fmt, "-o", str(tmp_path / "copy.tar"), f"copy-{fmt}:1")
        engine.out("rmi", f"copy-{fmt}:1")
        loaded = engine.out("load", "-i", str(tmp_path / "copy.tar"))
        assert loaded == f"Loaded image: copy-{fmt}:1\n"
        assert engine.out("inspect", "-f", "{{.Id}}", f"copy-{fmt}:1").strip() == busybox
        engine.out("rmi", f"copy-{fmt}:1")


def test_save_to_stdout_and_load_from_stdin(engine, busybox) -> None:
    import io
    import tarfile

    saved = engine.pyctl("save", "busybox")
    assert saved.returncode == 0, saved.stderr
    with tarfile.open(fileobj=io.BytesIO(saved.stdout)) as tar:
        names = tar.getnames()
    assert {"manifest.json", "repositories", "index.json", "oci-layout"} <= set(names)
    loaded = engine.pyctl("load", input=saved.stdout)
    assert loaded.returncode == 0 and loaded.stdout.decode() == "Loaded image: busybox:latest\n"


def test_load_archives_written_by_skopeo(engine, registry, pushed_busybox, tmp_path) -> None:
    remote = pushed_busybox(registry, "fixtures/sk", "whiteout")
    for transport, name in (("docker-archive", "skopeo/docker:1"),
                            ("oci-archive", "docker.io/skopeo/oci:1")):
        archive = tmp_path / f"{transport}.tar"
        subprocess.run(["skopeo", "copy", "--quiet", "--src-tls-verify=false",
                        f"docker://{remote}", f"{transport}:{archive}:{name}"], check=True)
        out = engine.out("load", "-i", str(archive))
        familiar = name.removeprefix("docker.io/")
        assert out == f"Loaded image: {familiar}\n"
        engine.out("rmi", familiar)


def test_import_with_changes(engine, busybox_tar) -> None:
    out = engine.out("import", "-c", "ENTRYPOINT [\"/bin/echo\"]", "-c", "WORKDIR /tmp",
                     "-c", "ENV GREETING=hi", "-m", "made by a test", str(busybox_tar),
                     "imported:1")
    image_id = out.strip()
    doc = json.loads(engine.out("inspect", "imported:1"))[0]
    assert doc["Id"] == image_id
    assert doc["Config"]["Entrypoint"] == ["/bin/echo"]
    assert doc["Config"]["WorkingDir"] == "/tmp"
    assert "GREETING=hi" in doc["Config"]["Env"]
    assert doc["Comment"] == "made by a test"
    piped = engine.pyctl("import", "-", "imported:2", input=busybox_tar.read_bytes())
    assert piped.returncode == 0, piped.stderr
    engine.out("rmi", "imported:1", "imported:2")


def test_rmi_conflicts_dangling_prune_and_df(engine, busybox, busybox_tar) -> None:
    engine.out("tag", "busybox", "other/repo:x")
    conflict = engine.pyctl("rmi", busybox[7:19])
    assert conflict.returncode == 1
    assert b"must be forced" in conflict.stderr
    engine.out("rmi", "other/repo:x")
    first = engine.out("import", str(busybox_tar), "dangle:1").strip()
    second = engine.out("import", "-m", "second", str(busybox_tar), "dangle:1").strip()
    assert first != second
    dangling = engine.out("images", "-f", "dangling=true", "-q", "--no-trunc").split()
    assert first in dangling
    pruned = engine.out("image", "prune", "-f")
    assert f"deleted: {first}" in pruned and "Total reclaimed space:" in pruned
    df = engine.out("system", "df").splitlines()
    assert df[0].split()[:3] == ["TYPE", "TOTAL", "ACTIVE"]
    engine.out("rmi", "dangle:1")


def test_prune_all_leaves_an_empty_store(engine_factory, busybox_tar) -> None:
    daemon = engine_factory()
    daemon.out("import", str(busybox_tar), "a:1")
    daemon.out("tag", "a:1", "b:1")
    out = daemon.out("image", "prune", "-a", "-f")
    assert "untagged: a:1" in out and "untagged: b:1" in out
    assert daemon.out("images", "-q") == ""
    assert daemon.blobs() == set()
    assert daemon.ingests() == []
    snapshots = daemon.data_root / "snapshots" / "overlay" / "snapshots"
    assert list(snapshots.iterdir()) == []


def test_errors_are_reported_like_docker(engine, registry, tmp_path) -> None:
    missing = engine.pyctl("pull", f"{registry.host}/does/not:exist")
    assert missing.returncode == 1
    assert missing.stderr.decode().startswith("Error response from daemon: ")
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"this is not a tar archive" * 100)
    bad = engine.pyctl("load", "-i", str(garbage))
    assert bad.returncode == 1 and b"not a tar archive" in bad.stderr
    assert engine.pyctl("tag", "nosuch:1", "x:1").returncode == 1
    assert engine.pyctl("images", "--filter", "bogus=1").returncode == 125


def test_registry_mirror_serves_docker_hub_names(engine, engine_factory, registry, busybox):
    engine.out("tag", "busybox", f"{registry.host}/library/busybox:mirrored")
    engine.out("push", f"{registry.host}/library/busybox:mirrored")
    engine.out("rmi", f"{registry.host}/library/busybox:mirrored")
    daemon = engine_factory({"registry-mirrors": [f"http://{registry.host}"]})
    out = daemon.out("pull", "busybox:mirrored").splitlines()
    assert out[0] == "mirrored: Pulling from library/busybox"
    assert out[-1] == "docker.io/library/busybox:mirrored"
    assert daemon.out("images", "--format", "{{.Repository}}:{{.Tag}}") == "busybox:mirrored\n"
    info = daemon.out("info")
    assert f"http://{registry.host}" in info


def test_digest_references_and_filters(engine, busybox_tar, registry) -> None:
    remote = f"{registry.host}/digests/bb:1"
    image_id = engine.out("import", "-m", "digest test", str(busybox_tar), remote).strip()
    digest = engine.out("push", remote).splitlines()[-1].split()[2]
    by_digest = f"{registry.host}/digests/bb@{digest}"
    assert engine.out("inspect", "-f", "{{.Id}}", by_digest).strip() == image_id
    listed = engine.out("images", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}",
                        f"{registry.host}/digests/*")
    assert listed == f"{registry.host}/digests/bb 1 {digest}\n"
    assert engine.out("images", "-q", "--no-trunc", "--filter",
                      f"reference={registry.host}/digests/bb:*") == f"{image_id}\n"
    assert engine.out("rmi", by_digest) == f"Untagged: {by_digest}\n"
    assert engine.out("inspect", "-f", "{{.RepoDigests}}", remote).strip() == "[]"
    engine.out("tag", remote, "keep:digest-test")
    engine.out("rmi", remote)
    pulled = engine.out("pull", by_digest).splitlines()
    assert pulled[0] == f"{digest}: Pulling from digests/bb"
    assert engine.out("images", "--format", "{{.Repository}}:{{.Tag}}",
                      f"{registry.host}/digests/bb") == f"{registry.host}/digests/bb:<none>\n"
    assert engine.out("rmi", by_digest) == f"Untagged: {by_digest}\n"
    removed = engine.out("rmi", "keep:digest-test")
    assert removed == f"Untagged: keep:digest-test\nDeleted: {image_id}\n"
