"""mount(8)-style option lists → (flags, propagation flags, data string)."""

from __future__ import annotations

from . import syscalls as s

# option → (set?, flag)
FLAGS: dict[str, tuple[bool, int]] = {
    "ro": (True, s.MS_RDONLY), "rw": (False, s.MS_RDONLY),
    "nosuid": (True, s.MS_NOSUID), "suid": (False, s.MS_NOSUID),
    "nodev": (True, s.MS_NODEV), "dev": (False, s.MS_NODEV),
    "noexec": (True, s.MS_NOEXEC), "exec": (False, s.MS_NOEXEC),
    "sync": (True, s.MS_SYNCHRONOUS), "async": (False, s.MS_SYNCHRONOUS),
    "dirsync": (True, s.MS_DIRSYNC),
    "remount": (True, s.MS_REMOUNT),
    "mand": (True, s.MS_MANDLOCK), "nomand": (False, s.MS_MANDLOCK),
    "noatime": (True, s.MS_NOATIME), "atime": (False, s.MS_NOATIME),
    "nodiratime": (True, s.MS_NODIRATIME), "diratime": (False, s.MS_NODIRATIME),
    "relatime": (True, s.MS_RELATIME), "norelatime": (False, s.MS_RELATIME),
    "strictatime": (True, s.MS_STRICTATIME), "nostrictatime": (False, s.MS_STRICTATIME),
    "lazytime": (True, s.MS_LAZYTIME), "nolazytime": (False, s.MS_LAZYTIME),
    "nosymfollow": (True, s.MS_NOSYMFOLLOW), "symfollow": (False, s.MS_NOSYMFOLLOW),
    "silent": (True, s.MS_SILENT), "loud": (False, s.MS_SILENT),
    "bind": (True, s.MS_BIND), "rbind": (True, s.MS_BIND | s.MS_REC),
    "defaults": (False, 0),
}
PROPAGATION: dict[str, int] = {
    "private": s.MS_PRIVATE, "rprivate": s.MS_PRIVATE | s.MS_REC,
    "slave": s.MS_SLAVE, "rslave": s.MS_SLAVE | s.MS_REC,
    "shared": s.MS_SHARED, "rshared": s.MS_SHARED | s.MS_REC,
    "unbindable": s.MS_UNBINDABLE, "runbindable": s.MS_UNBINDABLE | s.MS_REC,
}
# Recursive variants (runc's "rro", "rnosuid", ...): applied to the whole mounted subtree with
# mount_setattr(2) + AT_RECURSIVE. option → (attributes to set, attributes to clear).
RECURSIVE: dict[str, tuple[int, int]] = {
    "rro": (s.MOUNT_ATTR_RDONLY, 0), "rrw": (0, s.MOUNT_ATTR_RDONLY),
    "rnosuid": (s.MOUNT_ATTR_NOSUID, 0), "rsuid": (0, s.MOUNT_ATTR_NOSUID),
    "rnodev": (s.MOUNT_ATTR_NODEV, 0), "rdev": (0, s.MOUNT_ATTR_NODEV),
    "rnoexec": (s.MOUNT_ATTR_NOEXEC, 0), "rexec": (0, s.MOUNT_ATTR_NOEXEC),
    "rnodiratime": (s.MOUNT_ATTR_NODIRATIME, 0), "rdiratime": (0, s.MOUNT_ATTR_NODIRATIME),
    "rrelatime": (s.MOUNT_ATTR_RELATIME, s.MOUNT_ATTR__ATIME),
    "rnorelatime": (0, s.MOUNT_ATTR__ATIME),
    "rnoatime": (s.MOUNT_ATTR_NOATIME, s.MOUNT_ATTR__ATIME),
    "ratime": (0, s.MOUNT_ATTR_NOATIME),
    "rstrictatime": (s.MOUNT_ATTR_STRICTATIME, s.MOUNT_ATTR__ATIME),
    "rnostrictatime": (0, s.MOUNT_ATTR__ATIME),
    "rnosymfollow": (s.MOUNT_ATTR_NOSYMFOLLOW, 0), "rsymfollow": (0, s.MOUNT_ATTR_NOSYMFOLLOW),
}
IGNORED = ("tmpcopyup", "idmap", "ridmap")


class MountOptions:
    """Parsed options: mount(2) flags, propagation changes, recursive attributes, fs data."""

    __slots__ = ("attr_clr", "attr_set", "data", "flags", "propagation")

    def __init__(self) -> None:
        self.flags = 0
        self.propagation: list[int] = []
        self.attr_set = 0
        self.attr_clr = 0
        self.data = ""

    @property
    def recursive(self) -> bool:
        return bool(self.attr_set or self.attr_clr)


def parse_all(options: list[str] | None) -> MountOptions:
    out = MountOptions()
    data: list[str] = []
    for opt in options or ():
        known = FLAGS.get(opt)
        if known is not None:
            setting, flag = known
            out.flags = out.flags | flag if setting else out.flags & ~flag
        elif opt in PROPAGATION:
            out.propagation.append(PROPAGATION[opt])
        elif opt in RECURSIVE:
            # The plain flag for the mount itself, the attributes for everything below it.
            setting, flag = FLAGS[opt[1:]]
            out.flags = out.flags | flag if setting else out.flags & ~flag
            attr_set, attr_clr = RECURSIVE[opt]
            out.attr_set = (out.attr_set & ~attr_clr) | attr_set
            out.attr_clr = (out.attr_clr & ~attr_set) | attr_clr
        elif opt in IGNORED:
            continue
        else:
            data.append(opt)
    out.data = ",".join(data)
    return out


def parse(options: list[str] | None) -> tuple[int, list[int], str]:
    parsed = parse_all(options)
    return parsed.flags, parsed.propagation, parsed.data


ALL_OPTIONS = sorted([*FLAGS, *PROPAGATION, *RECURSIVE])
