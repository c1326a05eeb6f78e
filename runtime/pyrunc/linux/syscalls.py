"""The syscall seam: every raw Linux call pyrunc makes goes through :class:`Syscalls`.

Code that changes kernel state takes a ``Syscalls`` (default :data:`SYS`), so unit tests can pass a
recording double instead. Calls raise :class:`OSError` with the errno and the call's arguments, so
callers can name the object in their own errors. ctypes is loaded on first use only: verbs such as
``state`` and ``kill`` never pay for it.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Namespace clone flags (linux/sched.h).
CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# mount(2) flags (linux/mount.h).
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOSYMFOLLOW = 0x100
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_SILENT = 0x8000
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MS_LAZYTIME = 1 << 25

MNT_DETACH = 0x2
AT_RECURSIVE = 0x8000

# mount_setattr(2) attributes (linux/mount.h).
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_NOEXEC = 0x8
MOUNT_ATTR__ATIME = 0x70
MOUNT_ATTR_RELATIME = 0x0
MOUNT_ATTR_NOATIME = 0x10
MOUNT_ATTR_STRICTATIME = 0x20
MOUNT_ATTR_NODIRATIME = 0x80
MOUNT_ATTR_NOSYMFOLLOW = 0x200000
UMOUNT_NOFOLLOW = 0x8

# clone3(2) (linux/sched.h).
CLONE_INTO_CGROUP = 0x200000000
SIGCHLD = 17

# prctl(2) options.
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_SET_NAME = 15
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4

# seccomp(2).
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_GET_ACTION_AVAIL = 2
SECCOMP_GET_NOTIF_SIZES = 3

_ARCH_SYSCALLS: dict[str, dict[str, int]] = {
    "x86_64": {
        "pivot_root": 155, "seccomp": 317, "bpf": 321, "pidfd_open": 434, "keyctl": 250,
        "pidfd_send_signal": 424, "openat2": 437, "close_range": 436, "mount_setattr": 442,
        "clone3": 435, "ioprio_set": 251, "sched_setattr": 314,
    },
    "aarch64": {
        "pivot_root": 41, "seccomp": 277, "bpf": 280, "pidfd_open": 434, "keyctl": 219,
        "pidfd_send_signal": 424, "openat2": 437, "close_range": 436, "mount_setattr": 442,
        "clone3": 435, "ioprio_set": 30, "sched_setattr": 274,
    },
}


class Syscalls:
    """Thin typed wrappers over libc and raw syscalls. One instance per process is enough."""

    def __init__(self) -> None:
        self._libc: Any = None
        self._ctypes: Any = None
        self._process: Any = None  # the interpreter's own symbols, called with the GIL held
        self._nr = _ARCH_SYSCALLS.get(os.uname().machine, _ARCH_SYSCALLS["x86_64"])

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def libc(self) -> Any:
        if self._libc is None:
            import ctypes

            self._ctypes = ctypes
            self._libc = ctypes.CDLL("libc.so.6", use_errno=True)
            self._libc.syscall.restype = ctypes.c_long
        return self._libc

    @property
    def ctypes(self) -> Any:
        if self._ctypes is None:
            _ = self.libc
        return self._ctypes

    def _check(self, ret: int, call: str, *detail: object) -> int:
        if ret < 0:
            err = self.ctypes.get_errno()
            what = f"{call}({', '.join(repr(d) for d in detail)})"
            raise OSError(err, f"{what}: {os.strerror(err)}")
        return ret

    def syscall(self, name: str, *args: Any) -> int:
        """Call a syscall without a libc wrapper by name (numbers for x86_64 and aarch64)."""
        return self._check(self.libc.syscall(self._nr[name], *args), name, *args)

    @staticmethod
    def _b(value: str | bytes | None) -> bytes | None:
        if value is None or isinstance(value, bytes):
            return value
        return os.fsencode(value)

    # -- namespaces -------------------------------------------------------------------------
    def unshare(self, flags: int) -> None:
        self._check(self.libc.unshare(flags), "unshare", hex(flags))

    def setns(self, fd: int, nstype: int = 0) -> None:
        self._check(self.libc.setns(fd, nstype), "setns", fd, hex(nstype))

    # -- processes --------------------------------------------------------------------------
    def fork_into_cgroup(self, cgroup_fd: int) -> int:
        """fork(2), the child born in the cgroup v2 directory open at ``cgroup_fd`` (clone3 with
        CLONE_INTO_CGROUP, Linux 5.7). Unlike a fork followed by a write to cgroup.procs, no
        migration happens, so nobody waits for the kernel's threadgroup lock and its RCU grace
        period (~11 ms here). Returns 0 in the child and the child's pid in the parent, as
        os.fork does, with the interpreter's fork protocol (PyOS_BeforeFork and AfterFork_*)
        around the raw call, all with the GIL held."""
        c = self.ctypes
        if self._process is None:
            self._process = c.PyDLL(None, use_errno=True)
            self._process.syscall.restype = c.c_long
        api = self._process
        args = (c.c_uint64 * 11)()  # struct clone_args, CLONE_ARGS_SIZE_VER2 = 88 bytes
        args[0] = CLONE_INTO_CGROUP
        args[4] = SIGCHLD            # exit_signal
        args[10] = cgroup_fd         # cgroup
        api.PyOS_BeforeFork()
        pid = api.syscall(c.c_long(self._nr["clone3"]), c.byref(args), c.c_size_t(c.sizeof(args)))
        err = c.get_errno()
        if pid == 0:
            api.PyOS_AfterFork_Child()
            return 0
        api.PyOS_AfterFork_Parent()
        if pid < 0:
            raise OSError(err, f"clone3(CLONE_INTO_CGROUP, cgroup fd {cgroup_fd}): "
                               f"{os.strerror(err)}")
        return pid

    # -- mounts -----------------------------------------------------------------------------
    def mount(self, source: str | None, target: str, fstype: str | None, flags: int = 0,
              data: str | None = None) -> None:
        ret = self.libc.mount(self._b(source), self._b(target), self._b(fstype),
                              self.ctypes.c_ulong(flags), self._b(data))
        self._check(ret, "mount", source, target, fstype, hex(flags), data)

    def umount2(self, target: str, flags: int = 0) -> None:
        self._check(self.libc.umount2(self._b(target), flags), "umount2", target, flags)

    def mount_setattr(self, path: str, flags: int, attr_set: int, attr_clr: int,
                      propagation: int = 0) -> None:
        """mount_setattr(2) on ``path`` (AT_RECURSIVE in ``flags`` for a whole subtree)."""
        import ctypes as c  # a module name, so the class bases below type-check

        class MountAttr(c.Structure):
            _fields_ = [("attr_set", c.c_uint64), ("attr_clr", c.c_uint64),
                        ("propagation", c.c_uint64), ("userns_fd", c.c_uint64)]

        attr = MountAttr(attr_set, attr_clr, propagation, 0)
        self.syscall("mount_setattr", -100, self._b(path), flags, c.byref(attr),
                     c.sizeof(attr))

    def pivot_root(self, new_root: str, put_old: str) -> None:
        self.syscall("pivot_root", self._b(new_root), self._b(put_old))

    # -- identity ---------------------------------------------------------------------------
    def sethostname(self, name: str) -> None:
        raw = name.encode()
        self._check(self.libc.sethostname(raw, len(raw)), "sethostname", name)

    def setdomainname(self, name: str) -> None:
        raw = name.encode()
        self._check(self.libc.setdomainname(raw, len(raw)), "setdomainname", name)

    # -- network --------------------------------------------------------------------------
    def link_up(self, name: str) -> None:
        """Set IFF_UP on an interface of the current network namespace (SIOCGIFFLAGS, then
        SIOCSIFFLAGS on a struct ifreq: 16 bytes of name, then the flags)."""
        import _socket
        import fcntl

        sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM, 0)
        try:
            ifreq = bytearray(40)
            ifreq[:len(name)] = name.encode()
            fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, ifreq, True)
            flags = int.from_bytes(ifreq[16:18], "little") | IFF_UP
            ifreq[16:18] = flags.to_bytes(2, "little")
            fcntl.ioctl(sock.fileno(), SIOCSIFFLAGS, ifreq, True)
        except OSError as err:
            raise OSError(err.errno, f"{err.strerror} (set link {name} up)") from None
        finally:
            sock.close()

    # -- process attributes -----------------------------------------------------------------
    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        c = self.ctypes
        ret = self.libc.prctl(option, c.c_ulong(arg2), c.c_ulong(arg3), c.c_ulong(arg4),
                              c.c_ulong(arg5))
        return self._check(ret, "prctl", option, arg2)

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        """capset(2) with the 64-bit (version 3) layout for the calling thread."""
        import ctypes as c  # a module name, so the class bases below type-check

        class Header(c.Structure):
            _fields_ = [("version", c.c_uint32), ("pid", c.c_int)]

        class Data(c.Structure):
            _fields_ = [("effective", c.c_uint32), ("permitted", c.c_uint32),
                        ("inheritable", c.c_uint32)]

        hdr = Header(0x20080522, 0)
        data = (Data * 2)()
        for i, shift in enumerate((0, 32)):
            data[i].effective = (effective >> shift) & 0xFFFFFFFF
            data[i].permitted = (permitted >> shift) & 0xFFFFFFFF
            data[i].inheritable = (inheritable >> shift) & 0xFFFFFFFF
        self._check(self.libc.capset(c.byref(hdr), data), "capset",
                    hex(effective), hex(permitted), hex(inheritable))

    def close_range(self, first: int, last: int = 0xFFFFFFFF, flags: int = 0) -> None:
        self.syscall("close_range", first, self.ctypes.c_uint(last), flags)

    def personality(self, persona: int) -> int:
        """personality(2); returns the previous persona (0xffffffff only queries)."""
        return self._check(self.libc.personality(self.ctypes.c_ulong(persona)), "personality",
                           hex(persona))

    def ioprio_set(self, which: int, who: int, ioprio: int) -> None:
        self.syscall("ioprio_set", which, who, ioprio)

    def sched_setattr(self, pid: int, policy: int, flags: int = 0, nice: int = 0,
                      priority: int = 0, runtime: int = 0, deadline: int = 0,
                      period: int = 0) -> None:
        """sched_setattr(2) with struct sched_attr's first version (SCHED_ATTR_SIZE_VER0: u32
        size, u32 policy, u64 flags, s32 nice, u32 priority, u64 runtime, deadline, period; no
        padding), packed in native byte order."""
        c = self.ctypes  # loads ctypes, which imports struct (no import after pivot_root)
        import struct

        try:
            raw = struct.pack("=IIQiIQQQ", 48, policy, flags, nice, priority, runtime, deadline,
                              period)
        except struct.error as err:  # a value outside its C type
            raise OSError(22, f"sched_setattr: {err}: Invalid argument") from None
        self.syscall("sched_setattr", pid, c.create_string_buffer(raw, len(raw)), 0)

    # -- seccomp / bpf ----------------------------------------------------------------------
    def seccomp(self, operation: int, flags: int, args: Any) -> int:
        """seccomp(2); ``args`` is a ctypes object passed by reference, or None."""
        c = self.ctypes
        arg = c.byref(args) if args is not None else None
        return self.syscall("seccomp", operation, flags, arg)

    def bpf(self, cmd: int, attr: Any, size: int) -> int:
        """bpf(2); ``attr`` is a ctypes union/structure passed by reference."""
        return self.syscall("bpf", cmd, self.ctypes.byref(attr), size)

    def join_session_keyring(self, name: str) -> int:
        """keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): a new session keyring for the process."""
        return self.syscall("keyctl", 1, self._b(name))

    def keyctl_setperm(self, key: int, perm: int) -> None:
        self.syscall("keyctl", 5, key, perm)  # KEYCTL_SETPERM

    def pidfd_open(self, pid: int, flags: int = 0) -> int:
        return self.syscall("pidfd_open", pid, flags)

    def pidfd_send_signal(self, pidfd: int, sig: int) -> None:
        self.syscall("pidfd_send_signal", pidfd, sig, None, 0)


SYS = Syscalls()
"""The process-wide real implementation."""
