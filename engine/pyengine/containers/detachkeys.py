"""Detach keys: docker's `--detach-keys` format and a scanner that finds the sequence in a
terminal's input stream (the gRPC edge's Attach and exec use it; the Docker REST edge will too).

Format (docker's): comma-separated keys, each a single character or `ctrl-<c>` with <c> one of
`@ a-z [ \\ ] ^ _` (case-insensitive): "ctrl-p,ctrl-q" (the default), "a,b", "ctrl-@,x".

Scanning works on chunks, never byte by byte: the bytes before the sequence pass through, the
sequence itself is swallowed, and a chunk ending in a proper prefix of it holds that prefix back
until the next chunk tells whether it continues (then it is swallowed) or not (then it passes
through, in order, before the rest). As in docker, the daemon scans only a terminal's input
(with a tty): piped binary input is never cut short.
"""

from __future__ import annotations

from pyengine.errors import InvalidArgument

DEFAULT = b"\x10\x11"  # ctrl-p, ctrl-q
_CTRL = "@abcdefghijklmnopqrstuvwxyz[\\]^_"  # ctrl-<c> is the byte _CTRL.index(c)


def parse(text: str) -> bytes:
    """The bytes of a `--detach-keys` value; the default for an empty one."""
    if not text:
        return DEFAULT
    out = bytearray()
    for key in text.split(","):
        lowered = key.lower()
        if len(key) == 1 and key.isascii():
            out.append(ord(key))
        elif len(lowered) == 6 and lowered.startswith("ctrl-") and lowered[5] in _CTRL:
            out.append(_CTRL.index(lowered[5]))
        else:
            raise InvalidArgument(f"Invalid detach keys ({text}) provided")
    return bytes(out)


class Scanner:
    """Feed it input chunks; it answers what to pass on and whether the keys were typed."""

    def __init__(self, keys: bytes = DEFAULT) -> None:
        self.keys = keys
        self._held = 0  # how many of the keys' first bytes ended the previous chunk

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(bytes to pass on, detached). After a detach the rest of `data` is dropped."""
        keys = self.keys
        if not keys:
            return data, False
        buf = keys[:self._held] + data if self._held else data
        self._held = 0
        at = buf.find(keys)
        if at >= 0:
            return buf[:at], True
        for n in range(min(len(keys) - 1, len(buf)), 0, -1):
            if buf.endswith(keys[:n]):
                self._held = n
                return buf[:-n], False
        return buf, False

    def flush(self) -> bytes:
        """The held-back prefix, at the end of the input."""
        held, self._held = self.keys[:self._held], 0
        return held
