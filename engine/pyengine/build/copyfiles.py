"""COPY: sources of a tree written into a mounted rootfs, as docker's classic builder does.

- A file source lands at `dest`, or at `dest/<name>` when dest ends with `/` or is an existing
  directory (resolved inside the rootfs); a directory source's contents are copied into dest
  (created with its parents); several sources need a dest ending with `/` (docker's error).
- Permission bits and times come from the source (or --chmod for every entry copied), owners
  are 0:0 or --chown's (names looked up in the rootfs's /etc/passwd and /etc/group; a lone
  user also names the group, docker's parseChownFlag). Directories COPY creates are 0755 with
  that owner; an existing destination directory keeps its metadata.
- Hard links between files of one copied directory stay hard links (docker's tar does that);
  a file's security.capability xattr is kept (the only xattr docker's tar carries).
- Heredoc sources are files of mode 0644 (or --chmod).
Returns docker's created_by detail: "file:<hex>", "dir:<hex>" or "multi:<hex>".
"""

from __future__ import annotations

import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pyengine.archive.errors import ArchiveError
from pyengine.build import sources as src
from pyengine.build.destination import DestWriter, Meta, Owner
from pyengine.bundles.errors import UserNotFound
from pyengine.bundles.user import resolve_user
from pyengine.errors import InvalidArgument

HEREDOC_MODE = 0o644


@dataclass(frozen=True)
class CopySpec:
    sources: tuple[str, ...]     # expanded source words
    dest: str                    # expanded dest, absolute (the solver joins it with WORKDIR)
    chown: str | None = None     # expanded --chown user[:group] (names resolved in rootfs)
    chmod: str | None = None     # expanded --chmod (octal)
    heredocs: tuple[tuple[str, str], ...] = ()   # (file name, content) already expanded


def parse_owner(chown: str | None, rootfs: Path) -> Owner:
    """--chown as uid/gid: "user", "user:group", numbers or names from the rootfs."""
    if not chown:
        return Owner()
    parts = chown.split(":")
    if len(parts) > 2 or not parts[0]:
        raise InvalidArgument(f"invalid chown string format: {chown}")
    user = parts[0]
    group = parts[1] if len(parts) == 2 and parts[1] else user
    try:
        resolved = resolve_user(rootfs, f"{user}:{group}")
    except UserNotFound as exc:
        missing = (f"uid for user {user}: no such user: {user}"
                   if str(exc).startswith("unable to find user")
                   else f"gid for group {group}: no such group: {group}")
        raise InvalidArgument(f"unable to convert uid/gid chown string to host mapping: "
                              f"can't find {missing}") from None
    return Owner(resolved.uid, resolved.gid)


def parse_chmod(chmod: str | None) -> int | None:
    if not chmod:
        return None
    try:
        mode = int(chmod, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        raise InvalidArgument(f"invalid chmod flag {chmod}")
    return mode


class Copier:
    """One COPY/ADD's writes into one rootfs."""

    def __init__(self, writer: DestWriter, dest: str, chmod: int | None) -> None:
        self.writer = writer
        self.dest = dest
        self.chmod = chmod
        self.resolved = writer.resolve(dest)

    def _meta(self, st_mode: int, atime_ns: int, mtime_ns: int) -> Meta:
        mode = self.chmod if self.chmod is not None else stat.S_IMODE(st_mode)
        return Meta(mode, atime_ns, mtime_ns)

    def into_dir(self) -> bool:
        st = self.resolved.st
        return self.dest.endswith("/") or (st is not None and stat.S_ISDIR(st.st_mode))

    def file_target(self, name: str) -> str:
        """Where a file source called `name` goes."""
        return src.join(self.resolved.path, name) if self.into_dir() else self.resolved.path

    def copy(self, reader: src.TreeReader, sel: src.Selected) -> str:
        """Copy one selected source; returns its created_by detail."""
        if sel.is_dir:
            base = self.resolved.path
            self.writer.ensure_dir(base)
        else:
            base = self.file_target(sel.name)
        h = src.TreeHash()
        links = self.writer.links
        links.clear()  # hard links are kept within one source, as one tar would
        for entry in reader.entries(sel):
            st = entry.st
            target = src.join(base, entry.rel)
            h.entry(entry.rel, st.st_mode, entry.link)
            meta = self._meta(st.st_mode, st.st_atime_ns, st.st_mtime_ns)
            if stat.S_ISDIR(st.st_mode):
                self.writer.directory(target, meta)
            elif stat.S_ISLNK(st.st_mode):
                self.writer.symlink(target, entry.link, meta)
            elif stat.S_ISFIFO(st.st_mode):
                self.writer.fifo(target, meta)
            else:
                key = (st.st_dev, st.st_ino)
                cap = src.capability(entry)
                h.capability(cap)
                if st.st_nlink > 1 and key in links:
                    self.writer.hardlink(target, links[key])
                    size = sum(len(c) for c in _hashed(src.read_chunks(entry), h))
                else:
                    xattrs = ((src.CAPABILITY_XATTR, cap),) if cap is not None else ()
                    size = self.writer.file(target, meta, _hashed(src.read_chunks(entry), h),
                                            xattrs)
                    if st.st_nlink > 1:
                        links[key] = target
                h.end_file(size)
        return ("dir:" if sel.is_dir else "file:") + h.hexdigest()

    def heredoc(self, name: str, content: str) -> str:
        data = content.encode()
        mode = self.chmod if self.chmod is not None else HEREDOC_MODE
        h = src.TreeHash()
        h.entry("", stat.S_IFREG | mode)
        h.data(data)
        h.end_file(len(data))
        self.writer.file(self.file_target(name), Meta.now(mode), [data])
        return "file:" + h.hexdigest()


def _hashed(chunks: Iterable[bytes], h: src.TreeHash) -> Iterator[bytes]:
    """Chunks passed through while feeding a TreeHash."""
    for chunk in chunks:
        h.data(chunk)
        yield chunk


def check_count(count: int, dest: str, what: str) -> None:
    if count == 0:
        raise src.no_sources(what)
    if count > 1 and not dest.endswith("/"):
        raise InvalidArgument(f"When using {what} with more than one source file, the "
                              f"destination must be a directory and end with a /")


def copy_into(tree: src.SourceTree, spec: CopySpec, rootfs: Path, what: str = "COPY") -> str:
    """Copy what `spec` selects from `tree` into `rootfs`; returns the created_by detail."""
    owner = parse_owner(spec.chown, rootfs)
    chmod = parse_chmod(spec.chmod)
    with src.TreeReader(tree) as reader, DestWriter(rootfs, owner, what) as writer:
        selected = reader.select(spec.sources, what)
        check_count(len(selected) + len(spec.heredocs), spec.dest, what)
        copier = Copier(writer, spec.dest, chmod)
        try:
            details = [copier.copy(reader, sel) for sel in selected]
            details += [copier.heredoc(name, text) for name, text in spec.heredocs]
            writer.finish()
        except ArchiveError as exc:
            raise InvalidArgument(f"{what} failed: {exc}") from exc
    return src.multi_detail(details)
