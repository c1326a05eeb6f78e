"""pyctl cp: copy files between a container and the local filesystem, with docker's rules.

CONTAINER:SRC_PATH DEST_PATH|- copies out (a tar on stdout with -); SRC_PATH|- CONTAINER:DEST_PATH
copies in (a tar from stdin with -). A directory source ending in "/." copies its contents. A
destination that is an existing directory receives the source under its own name; otherwise
the source takes the destination's name (its parent must exist). Paths in the container are
resolved inside its rootfs by the daemon.
"""

from __future__ import annotations

import argparse
import io
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass

from pyengine.cli.context import CliError, Context
from pyengine.cli.inputs import CHUNK, read_chunks, write_chunks

TYPE_CHECKING = False  # typing is not imported on pyctl's start-up path
if TYPE_CHECKING:
    from pyengine.api import containers_pb2


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SRC_PATH")
    p.add_argument("destination", metavar="DEST_PATH")
    p.add_argument("-a", "--archive", action="store_true",
                   help="archive mode (copy all uid/gid information)")
    p.add_argument("-L", "--follow-link", action="store_true",
                   help="always follow symbol link in SRC_PATH")
    p.set_defaults(func=run)


def split_arg(arg: str) -> tuple[str, str]:
    """(container, path); no container for a local path (absolute, or starting with ".")."""
    if arg == "-" or arg.startswith("/") or arg.startswith("."):
        return "", arg
    container, sep, path = arg.partition(":")
    if not sep:
        return "", arg
    return container, path


def run(ctx: Context, args: argparse.Namespace) -> int:
    src_container, src = split_arg(args.source)
    dst_container, dst = split_arg(args.destination)
    if src_container and dst_container:
        raise CliError("copying between containers is not supported", prefix="")
    if not src_container and not dst_container:
        raise CliError("must specify at least one container source", prefix="")
    if src_container:
        if not src:
            raise CliError("source path cannot be empty", prefix="")
        copy_from(ctx, src_container, src, dst, args)
    else:
        if not dst:
            raise CliError("destination path cannot be empty", prefix="")
        copy_to(ctx, src, dst_container, dst, args)
    return 0


def _absolute(path: str) -> str:
    return path if path.startswith("/") else "/" + path


def _stat(ctx: Context, container: str, path: str, follow: bool, stat_only: bool
          ) -> tuple[containers_pb2.ContainerPathStat,
                     Iterator[containers_pb2.CopyFromContainerResponse]]:
    """(the stat message, the rest of the stream); a missing path is docker's error."""
    from pyengine.api import containers_pb2
    from pyengine.cli.wire import status as rpc

    stream = iter(ctx.client.containers.CopyFrom(containers_pb2.CopyFromContainerRequest(
        id=container, path=path, follow_link=follow, stat_only=stat_only)))
    try:
        first = next(stream)
    except rpc.RpcError as err:
        if err.code() == rpc.NOT_FOUND and "Could not find the file" in err.details():
            raise CliError(f"No such container:path: {container}:{path}") from None
        raise
    return first.stat, stream


class _ChunkReader(io.BufferedIOBase):
    """A file object over an iterator of byte chunks (for tarfile's stream mode)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1, /) -> bytes:
        n = -1 if n is None else n
        while n < 0 or len(self._buffer) < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if n < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out


def copy_from(ctx: Context, container: str, src: str, dst: str,
              args: argparse.Namespace) -> None:
    src = _absolute(src)
    if dst != "-":
        # checked first, as docker: invalid output path: directory "/x/nodir" does not exist
        parent = os.path.dirname(os.path.normpath(dst))
        if parent and not os.path.exists(parent):
            raise CliError(f'invalid output path: directory "{parent}" does not exist',
                           prefix="")
    info, rest = _stat(ctx, container, src, args.follow_link, False)
    chunks = (message.data for message in rest)
    if dst == "-":
        write_chunks(chunks, "-")
        return
    kind = "dir" if os.path.isdir(dst) else "other" if os.path.lexists(dst) else None
    where = place(dst, kind, src, stat.S_ISDIR(info.mode), dst)
    if not os.path.isdir(where.directory):
        raise CliError(f"lstat {where.directory}: no such file or directory", prefix="")
    _extract(chunks, where.directory, where.name, where.contents, args.archive)


@dataclass(frozen=True)
class Placement:
    """Where a copy lands: in `directory`, under `name` ("" keeps the source's own name), or,
    for a directory source ending in "/.", its contents straight into `directory`."""

    directory: str
    name: str
    contents: bool


def place(dst: str, dst_kind: str | None, src: str, src_is_dir: bool, shown: str) -> Placement:
    """docker cp's rules; `dst_kind` is "dir", "other" or None (no such path)."""
    if dst_kind == "dir":
        return Placement(dst, "", src.endswith("/."))
    if dst_kind is not None:
        if src_is_dir:
            raise CliError(f'cannot overwrite non-directory "{shown}" with directory "{src}"',
                           prefix="")
        return Placement(os.path.dirname(dst) or ".", os.path.basename(dst), False)
    if dst.endswith("/") and not src_is_dir:
        raise CliError(f'destination directory "{shown}" must exist', prefix="")
    clean = dst.rstrip("/") or "/"
    return Placement(os.path.dirname(clean) or ".", os.path.basename(clean), False)


def _rename(name: str, rename: str, strip: bool) -> str | None:
    """A member's name under the destination: its top component renamed or stripped."""
    _, _, rest = name.strip("/").partition("/")
    if strip:
        return rest or None
    if rename:
        return f"{rename}/{rest}" if rest else rename
    return name


def _extract(chunks: Iterator[bytes], target: str, rename: str, strip: bool,
             keep_owner: bool) -> None:
    def owner(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
        checked = tarfile.tar_filter(member, path)
        if keep_owner:
            return checked
        return checked.replace(uid=None, gid=None, uname=None, gname=None,  # type: ignore[arg-type]  # None: leave as is
                               deep=False)

    with tarfile.open(fileobj=_ChunkReader(chunks), mode="r|") as tar:
        for member in tar:
            name = _rename(member.name, rename, strip)
            if name is None:
                continue
            renamed = member.replace(name=name, deep=False)
            if member.islnk():
                link = _rename(member.linkname, rename, strip)
                if link is None:
                    continue
                renamed = renamed.replace(linkname=link, deep=False)
            try:
                tar.extract(renamed, target, numeric_owner=True, filter=owner)
            except (tarfile.FilterError, OSError) as err:
                raise CliError(f"extract {name} into {target}: {err}", prefix="") from None


def copy_to(ctx: Context, src: str, container: str, dst: str,
            args: argparse.Namespace) -> None:
    dst = _absolute(dst)
    try:
        info, _ = _stat(ctx, container, dst, True, True)
    except CliError:
        info = None  # no such path: the copy takes its name
    if src == "-":
        if info is None or not stat.S_ISDIR(info.mode):
            raise CliError(f'destination "{container}:{dst}" must be a directory', prefix="")
        _send(ctx, container, dst, read_chunks("-"))
        return
    follow = args.follow_link or src.endswith("/") or src.endswith("/.")
    try:
        local = os.stat(src) if follow else os.lstat(src)
    except OSError as err:
        raise CliError(f"lstat {src}: {err.strerror.lower() if err.strerror else err}",
                       prefix="") from None
    kind = None if info is None else \
        "dir" if stat.S_ISDIR(info.mode) else "other"
    if kind is None and dst.endswith("/") and not stat.S_ISDIR(local.st_mode):
        raise CliError("no such directory", prefix="")  # docker's words for a missing DIR/
    where = place(dst, kind, src, stat.S_ISDIR(local.st_mode), f"{container}:{dst}")
    top = where.name or ("" if where.contents else os.path.basename(src.rstrip("/")) or ".")
    _send(ctx, container, where.directory, _tar_chunks(src, top, follow, args.archive))


def _tar_chunks(src: str, top: str, follow: bool, keep_owner: bool) -> Iterator[bytes]:
    """A tar of local `src` whose top entry is `top` ("" puts a directory's contents at
    the top), spooled to a temporary file, in chunks."""
    import tempfile

    def owner(info: tarfile.TarInfo) -> tarfile.TarInfo:
        if not keep_owner:
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
        return info

    with tempfile.TemporaryFile() as spool:
        with tarfile.open(fileobj=spool, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            base = src[:-2] if src.endswith("/.") else src
            if top:
                tar.add(os.path.realpath(base) if follow else base, arcname=top, filter=owner)
            else:
                for name in sorted(os.listdir(base)):
                    tar.add(os.path.join(base, name), arcname=name, filter=owner)
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk


def _send(ctx: Context, container: str, directory: str, chunks: Iterator[bytes]) -> None:
    from pyengine.api import containers_pb2

    def requests() -> Iterator[containers_pb2.CopyToContainerRequest]:
        yield containers_pb2.CopyToContainerRequest(
            header=containers_pb2.CopyToHeader(id=container, path=directory))
        for chunk in chunks:
            yield containers_pb2.CopyToContainerRequest(data=chunk)

    ctx.client.containers.CopyTo(requests())
