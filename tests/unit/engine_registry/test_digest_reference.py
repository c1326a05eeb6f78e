"""Digests and docker-normalised references."""

from __future__ import annotations

import hashlib

import pytest
from pyengine import reference
from pyengine.digest import Digest, InvalidDigest, Verifier, sha256_digest, sha256_hex
from pyengine.errors import InvalidArgument

HEX = "a" * 64


def test_digest_parse_and_str():
    digest = Digest.parse(f"sha256:{HEX}")
    assert (digest.algorithm, digest.hex, str(digest), digest.short) == (
        "sha256", HEX, f"sha256:{HEX}", HEX[:12]
    )
    assert Digest.parse("sha512:" + "b" * 128).algorithm == "sha512"


@pytest.mark.parametrize(
    "value",
    ["", HEX, "sha256:" + "A" * 64, "sha256:" + "a" * 63, "md5:" + "a" * 32, "sha256:" + "g" * 64,
     "sha512:" + "a" * 64],
)
def test_digest_rejects(value):
    with pytest.raises(InvalidDigest) as info:
        Digest.parse(value)
    assert isinstance(info.value, InvalidArgument)


def test_verifier_and_helpers():
    data = b"hello"
    expected = "sha256:" + hashlib.sha256(data).hexdigest()
    verifier = Verifier(expected)
    verifier.update(data[:2])
    verifier.update(memoryview(data)[2:])
    assert verifier.verified() and verifier.size == 5
    assert sha256_digest(data) == expected and sha256_hex(data) == expected[7:]
    bad = Verifier(expected)
    bad.update(b"other")
    assert not bad.verified()


@pytest.mark.parametrize(
    ("given", "full", "familiar"),
    [
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("user/app", "docker.io/user/app:latest", "user/app:latest"),
        ("docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"),
        ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
        ("localhost:5000/x", "localhost:5000/x:latest", "localhost:5000/x:latest"),
        ("127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t"),
        ("ghcr.io/o/r:v1.2-rc_3", "ghcr.io/o/r:v1.2-rc_3", "ghcr.io/o/r:v1.2-rc_3"),
        ("Foo/bar", "Foo/bar:latest", "Foo/bar:latest"),
        ("[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest"),
        (f"busybox@sha256:{HEX}", f"docker.io/library/busybox@sha256:{HEX}",
         f"busybox@sha256:{HEX}"),
        (f"r.io/x:t@sha256:{HEX}", f"r.io/x:t@sha256:{HEX}", f"r.io/x:t@sha256:{HEX}"),
        ("a__b/c--d.e", "docker.io/a__b/c--d.e:latest", "a__b/c--d.e:latest"),
    ],
)
def test_reference_normalisation(given, full, familiar):
    ref = reference.parse(given)
    assert str(ref) == full
    assert ref.familiar() == familiar
    assert reference.parse(str(ref)) == ref


def test_reference_parts():
    ref = reference.parse("busybox")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (
        "docker.io", "library/busybox", "latest", None
    )
    assert ref.api_host == "registry-1.docker.io" and ref.object == "latest"
    by_digest = reference.parse(f"localhost:5000/x@sha256:{HEX}")
    assert by_digest.tag is None and by_digest.object == f"sha256:{HEX}"
    assert reference.parse("x", default_tag=False).tag is None
    assert reference.parse_repository("x").name == "docker.io/library/x"


@pytest.mark.parametrize(
    "bad",
    ["", "UPPER", "docker.io/User/app", HEX, "a:b:c", "x@sha256:short", "x@", "-x", "x-",
     "a//b", "x:" + "t" * 129, "host:port/x", "x/" + "a" * 300, "x:-tag", "x@md5:" + "a" * 32],
)
def test_reference_rejects(bad):
    with pytest.raises(reference.InvalidReference):
        reference.parse(bad)


def test_reference_with_tag_and_digest():
    ref = reference.parse("busybox")
    assert str(ref.with_tag("1")) == "docker.io/library/busybox:1"
    assert ref.with_digest(f"sha256:{HEX}").digest == f"sha256:{HEX}"
    with pytest.raises(reference.InvalidReference):
        ref.with_tag("bad tag")
