"""Content digests ("sha256:<hex>"): parsing, validation and streaming verification.

Follows the OCI image spec's digest grammar; sha256 and sha512 are the registered
algorithms and the only ones accepted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyengine.errors import InvalidArgument

if TYPE_CHECKING:
    from _hashlib import HASH  # what hashlib.new returns (a stub-only name)

_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_ENCODED = re.compile(r"[a-f0-9]+")
SHA256 = "sha256"


class InvalidDigest(InvalidArgument):
    """A string is not a valid digest."""


@dataclass(frozen=True, order=True)
class Digest:
    """A validated digest; ``str()`` gives the canonical "alg:hex" form."""

    algorithm: str
    hex: str

    @classmethod
    def parse(cls, value: str | Digest) -> Digest:
        """Parse and validate "alg:hex"; raises InvalidDigest."""
        if isinstance(value, Digest):
            return value
        if not isinstance(value, str):
            raise InvalidDigest(f"invalid digest {value!r}: not a string")
        algorithm, sep, encoded = value.partition(":")
        if not sep:
            raise InvalidDigest(f"invalid digest {value!r}: missing algorithm prefix")
        expected_len = _HEX_LENGTH.get(algorithm)
        if expected_len is None:
            raise InvalidDigest(f"invalid digest {value!r}: unsupported algorithm {algorithm!r}")
        if len(encoded) != expected_len or not _ENCODED.fullmatch(encoded):
            raise InvalidDigest(
                f"invalid digest {value!r}: want {expected_len} lowercase hex characters"
            )
        return cls(algorithm, encoded)

    @classmethod
    def from_bytes(cls, data: bytes, algorithm: str = SHA256) -> Digest:
        """Digest of ``data``."""
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    @property
    def short(self) -> str:
        """The 12-hex-character id docker prints in progress lines."""
        return self.hex[:12]

    def new_hash(self) -> HASH:
        """A fresh hash object of this digest's algorithm."""
        return hashlib.new(self.algorithm)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def parse(value: str | Digest) -> Digest:
    """Shorthand for ``Digest.parse``."""
    return Digest.parse(value)


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data`` (no prefix)."""
    return hashlib.sha256(data).hexdigest()


def sha256_digest(data: bytes) -> str:
    """Canonical "sha256:<hex>" of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_valid(value: str) -> bool:
    """True when ``value`` parses as a digest."""
    try:
        Digest.parse(value)
    except InvalidDigest:
        return False
    return True


class Verifier:
    """Hashes a stream incrementally and tells whether it matches an expected digest."""

    def __init__(self, expected: str | Digest) -> None:
        self.expected = Digest.parse(expected)
        self._hash = self.expected.new_hash()
        self.size = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._hash.update(data)
        self.size += len(data)

    def digest(self) -> Digest:
        """The digest of everything seen so far."""
        return Digest(self.expected.algorithm, self._hash.hexdigest())

    def verified(self) -> bool:
        return self.digest() == self.expected
