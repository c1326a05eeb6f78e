"""Helpers for archive tests: build tar layers entry by entry with tarfile, compress them."""

from __future__ import annotations

import gzip
import io
import tarfile


class Layer:
    """An in-memory PAX tar built entry by entry."""

    def __init__(self, fmt: int = tarfile.PAX_FORMAT) -> None:
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=fmt)  # noqa: SIM115

    def _info(self, name: str, kind: bytes, mode: int, **fields: object) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = kind, mode, fields.pop("mtime", 1_700_000_000)
        info.uid = int(fields.pop("uid", 0))  # type: ignore[call-overload]
        info.gid = int(fields.pop("gid", 0))  # type: ignore[call-overload]
        for key, value in fields.items():
            setattr(info, key, value)
        return info

    def file(self, name: str, data: bytes = b"", mode: int = 0o644, **fields: object) -> Layer:
        info = self._info(name, tarfile.REGTYPE, mode, **fields)
        info.size = len(data)
        self.tar.addfile(info, io.BytesIO(data))
        return self

    def dir(self, name: str, mode: int = 0o755, **fields: object) -> Layer:
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode, **fields))
        return self

    def symlink(self, name: str, target: str, **fields: object) -> Layer:
        self.tar.addfile(self._info(name, tarfile.SYMTYPE, 0o777, linkname=target, **fields))
        return self

    def hardlink(self, name: str, target: str, **fields: object) -> Layer:
        self.tar.addfile(self._info(name, tarfile.LNKTYPE, 0o644, linkname=target, **fields))
        return self

    def fifo(self, name: str, mode: int = 0o644) -> Layer:
        self.tar.addfile(self._info(name, tarfile.FIFOTYPE, mode))
        return self

    def raw_header(self, info: tarfile.TarInfo) -> Layer:
        self.tar.addfile(info)
        return self

    def bytes(self) -> bytes:
        self.tar.close()
        return self.buf.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=1)
