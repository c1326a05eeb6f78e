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
# Recursive ("r"-prefixed) variants applied with mount_setattr are treated like the plain ones.
IGNORED = ("tmpcopyup", "idmap", "ridmap")


def parse(options: list[str] | None) -> tuple[int, list[int], str]:
    flags = 0
    propagation: list[int] = []
    data: list[str] = []
    for opt in options or ():
        known = FLAGS.get(opt)
        if known is not None:
            setting, flag = known
            flags = flags | flag if setting else flags & ~flag
        elif opt in PROPAGATION:
            propagation.append(PROPAGATION[opt])
        elif opt in IGNORED:
            continue
        else:
            data.append(opt)
    return flags, propagation, ",".join(data)


ALL_OPTIONS = sorted([*FLAGS, *PROPAGATION])
