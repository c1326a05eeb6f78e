"""The default seccomp profile: what docker's default profile allows, as our own data.

Facts (which calls are allowed unconditionally, which only with a capability, on an
architecture or with given arguments) follow docker's documented default profile; the data is
grouped by topic here and turned into the OCI `linux.seccomp` section by `default_profile`.
Everything not allowed fails with EPERM.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

ERRNO_EPERM = 1
ERRNO_ENOSYS = 38
AF_VSOCK = 40

# Allowed for every container, grouped by what they are about.
_FILES = """
access chdir chmod chown chown32 close close_range copy_file_range creat dup dup2 dup3 faccessat
faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32
fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fremovexattr fsetxattr fstat fstat64
fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futimesat getcwd getdents getdents64
getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch lchown lchown32 lgetxattr
link linkat listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 mkdir mkdirat
mknod mknodat name_to_handle_at newfstatat open openat openat2 pread64 preadv preadv2 pwrite64
pwritev pwritev2 read readahead readlink readlinkat readv removexattr rename renameat renameat2
rmdir sendfile sendfile64 setxattr splice stat stat64 statfs statfs64 statx symlink symlinkat
sync sync_file_range syncfs tee truncate truncate64 umask unlink unlinkat utime utimensat
utimensat_time64 utimes vmsplice write writev
"""
_ASYNC_IO = """
epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait
epoll_wait_old eventfd eventfd2 io_cancel io_destroy io_getevents io_pgetevents
io_pgetevents_time64 io_setup io_submit io_uring_enter io_uring_register io_uring_setup ioctl
_newselect pipe pipe2 poll ppoll ppoll_time64 pselect6 pselect6_time64 select signalfd signalfd4
timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64
"""
_PROCESSES = """
capget capset execve execveat exit exit_group fork getcpu getegid getegid32 geteuid geteuid32
getgid getgid32 getgroups getgroups32 getpgid getpgrp getpid getppid getpriority getresgid
getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid get_thread_area gettid
getuid getuid32 ioprio_get ioprio_set kill landlock_add_rule landlock_create_ruleset
landlock_restrict_self pidfd_open pidfd_send_signal prctl prlimit64 restart_syscall rseq
sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
sched_setattr sched_setparam sched_setscheduler sched_yield seccomp setfsgid setfsgid32 setfsuid
setfsuid32 setgid setgid32 setgroups setgroups32 setpgid setpriority setregid setregid32 setresgid
setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid
set_thread_area set_tid_address setuid setuid32 tgkill tkill ugetrlimit uname vfork wait4 waitid
waitpid
"""
_SIGNALS = """
pause rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sigaltstack sigprocmask sigreturn
"""
_MEMORY = """
brk futex futex_time64 futex_waitv madvise membarrier memfd_create memfd_secret mincore mlock
mlock2 mlockall mmap mmap2 mprotect mremap msync munlock munlockall munmap pkey_alloc pkey_free
pkey_mprotect process_mrelease remap_file_pages
"""
_TIME = """
adjtimex alarm clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime
clock_gettime64 clock_nanosleep clock_nanosleep_time64 getitimer gettimeofday nanosleep setitimer
time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
timer_settime64 times
"""
_IPC = """
ipc mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
mq_timedsend_time64 mq_unlink msgctl msgget msgrcv msgsnd semctl semget semop semtimedop
semtimedop_time64 shmat shmctl shmdt shmget
"""
_NETWORK = """
accept accept4 bind connect getpeername getsockname getsockopt listen recv recvfrom recvmmsg
recvmmsg_time64 recvmsg send sendmmsg sendmsg sendto setsockopt shutdown socketcall socketpair
"""
_SYSTEM_INFO = "getrandom sysinfo"

ALWAYS_ALLOWED: frozenset[str] = frozenset(
    " ".join([_FILES, _ASYNC_IO, _PROCESSES, _SIGNALS, _MEMORY, _TIME, _IPC, _NETWORK,
              _SYSTEM_INFO]).split())

# Debugging other processes: allowed without CAP_SYS_PTRACE on kernels >= 4.8, where seccomp
# can no longer be bypassed through ptrace.
PTRACE_CALLS = ("process_vm_readv", "process_vm_writev", "ptrace")
PTRACE_MIN_KERNEL = (4, 8)

# personality(2) personas a container may switch to: PER_LINUX, PER_LINUX32, UNAME26,
# UNAME26|PER_LINUX32 and the 0xffffffff query.
ALLOWED_PERSONAS = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)

# Calls that a capability unlocks.
BY_CAPABILITY: dict[str, tuple[str, ...]] = {
    "CAP_DAC_READ_SEARCH": ("open_by_handle_at",),
    "CAP_SYS_ADMIN": (
        "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
        "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree",
        "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns",
        "syslog", "umount", "umount2", "unshare"),
    "CAP_SYS_BOOT": ("reboot",),
    "CAP_SYS_CHROOT": ("chroot",),
    "CAP_SYS_MODULE": ("delete_module", "init_module", "finit_module"),
    "CAP_SYS_PACCT": ("acct",),
    "CAP_SYS_PTRACE": ("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                       "process_vm_writev", "ptrace"),
    "CAP_SYS_RAWIO": ("iopl", "ioperm"),
    "CAP_SYS_TIME": ("settimeofday", "stime", "clock_settime", "clock_settime64"),
    "CAP_SYS_TTY_CONFIG": ("vhangup",),
    "CAP_SYS_NICE": ("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
    "CAP_SYSLOG": ("syslog",),
    "CAP_BPF": ("bpf",),
    "CAP_PERFMON": ("perf_event_open",),
}

# Architecture-specific calls, by Go/OCI architecture name.
BY_ARCH: dict[str, tuple[str, ...]] = {
    "amd64": ("arch_prctl", "modify_ldt"),
    "x32": ("arch_prctl", "modify_ldt"),
    "386": ("modify_ldt",),
    "arm": ("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
            "cacheflush", "set_tls"),
    "arm64": ("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
              "cacheflush", "set_tls"),
    "ppc64le": ("sync_file_range2", "swapcontext"),
    "s390x": ("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
    "riscv64": ("riscv_flush_icache",),
}

# seccomp architectures a filter must cover (native plus compat ABIs).
SECCOMP_ARCHES: dict[str, tuple[str, ...]] = {
    "amd64": ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
    "arm64": ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"),
    "s390x": ("SCMP_ARCH_S390X", "SCMP_ARCH_S390"),
    "riscv64": ("SCMP_ARCH_RISCV64",),
    "ppc64le": ("SCMP_ARCH_PPC64LE",),
}

_MACHINE_TO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "s390x": "s390x",
                    "riscv64": "riscv64", "ppc64le": "ppc64le"}

# clone(2) flags that create namespaces: refused without CAP_SYS_ADMIN.
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACE_CLONE_FLAGS = (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC
                         | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)


def host_arch() -> str:
    """The OCI/Go name of this machine's architecture."""
    return _MACHINE_TO_ARCH.get(os.uname().machine, os.uname().machine)


def _kernel_at_least(version: tuple[int, int]) -> bool:
    release = os.uname().release.split("-", 1)[0].split(".")
    try:
        return (int(release[0]), int(release[1])) >= version
    except (IndexError, ValueError):
        return False


def _rule(names: Iterable[str], action: str = "SCMP_ACT_ALLOW", **extra: object) -> dict:
    return {"names": sorted(set(names)), "action": action, **extra}


def _arg(index: int, value: int, op: str, value_two: int = 0) -> dict:
    return {"index": index, "value": value, "valueTwo": value_two, "op": op}


def default_profile(capabilities: Iterable[str], arch: str | None = None) -> dict:
    """The OCI linux.seccomp section for a container holding `capabilities`."""
    caps = set(capabilities)
    arch = arch or host_arch()
    allowed = set(ALWAYS_ALLOWED) | set(BY_ARCH.get(arch, ()))
    if _kernel_at_least(PTRACE_MIN_KERNEL):
        allowed.update(PTRACE_CALLS)
    for cap, names in BY_CAPABILITY.items():
        if cap in caps:
            allowed.update(names)
    rules = [_rule(allowed)]
    rules.append(_rule(["socket"], args=[_arg(0, AF_VSOCK, "SCMP_CMP_NE")]))
    for persona in ALLOWED_PERSONAS:
        rules.append(_rule(["personality"], args=[_arg(0, persona, "SCMP_CMP_EQ")]))
    if "CAP_SYS_ADMIN" not in caps:
        # clone without namespace flags (s390 passes the flags as the second argument)
        flags_index = 1 if arch.startswith("s390") else 0
        rules.append(_rule(["clone"], args=[
            _arg(flags_index, NAMESPACE_CLONE_FLAGS, "SCMP_CMP_MASKED_EQ", 0)]))
        # clone3 passes its flags in memory seccomp cannot inspect: make libc fall back to clone
        rules.append(_rule(["clone3"], "SCMP_ACT_ERRNO", errnoRet=ERRNO_ENOSYS))
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": ERRNO_EPERM,
        "architectures": list(SECCOMP_ARCHES.get(arch, ())),
        "syscalls": rules,
    }
