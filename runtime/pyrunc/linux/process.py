"""The container process's own attributes, applied by the init just before exec:
executable lookup, cwd, rlimits, oom_score_adj, user and groups, capabilities,
no_new_privs and umask."""

from __future__ import annotations

import os
import resource
import stat

from pyrunc.errors import ConfigError, KernelError

from .syscalls import PR_SET_KEEPCAPS, PR_SET_NO_NEW_PRIVS, SYS, Syscalls

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Rlimit, User

RLIMITS = {
    "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
    "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
    "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
    "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}
_UNLIMITED_SIGNED = 2**63


def env_path(env: list[str]) -> str | None:
    for item in env:
        if item.startswith("PATH="):
            return item[5:]
    return None


def lookup_executable(arg0: str, env: list[str]) -> str:
    """Resolve args[0] like Go's exec.LookPath inside the container (after pivot_root), with
    runc's messages (podman maps "executable file not found in" and "no such file or
    directory" to exit status 127)."""
    if "/" in arg0:
        try:
            st = os.stat(arg0)
        except OSError as err:
            raise ConfigError(f'process.args[0]: exec: "{arg0}": stat {arg0}: '
                              f'{str(err.strerror).lower()}') from None
        if stat.S_ISDIR(st.st_mode) or not st.st_mode & 0o111:
            raise ConfigError(f'process.args[0]: exec: "{arg0}": permission denied')
        return arg0
    for directory in (env_path(env) or "").split(":"):
        candidate = os.path.join(directory or ".", arg0)
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) and st.st_mode & 0o111:
            return candidate
    raise ConfigError(f'process.args[0]: exec: "{arg0}": executable file not found in '
                      "$PATH")


def parse_rlimits(rlimits: list[Rlimit] | None, field: str = "process.rlimits"
                  ) -> list[tuple[int, int, int]]:
    out = []
    for i, r in enumerate(rlimits or ()):
        resource = RLIMITS.get(r.type)
        if resource is None:
            raise ConfigError(f"invalid config: {field}[{i}].type: unknown rlimit {r.type!r}")
        out.append((resource, r.soft, r.hard))
    return out


def apply_rlimits(limits: list[tuple[int, int, int]]) -> None:
    """``limits`` in the order of process.rlimits (parse_rlimits): an error names the entry."""
    names = {v: k for k, v in RLIMITS.items()}
    for i, (res, soft, hard) in enumerate(limits):
        # setrlimit(2) takes 64-bit unsigned limits, Python's resource module signed ones:
        # what is above 2^63-1 is infinite for every practical purpose (RLIM_INFINITY is 2^64-1).
        soft = -1 if soft >= _UNLIMITED_SIGNED else soft
        hard = -1 if hard >= _UNLIMITED_SIGNED else hard
        try:
            resource.setrlimit(res, (soft, hard))
        except (OSError, ValueError) as err:
            reason = getattr(err, "strerror", None) or str(err)
            field = f"process.rlimits[{i}]"
            if _above(hard, resource.getrlimit(res)[1]):
                field += ".hard"
            elif _above(soft, hard):
                field += ".soft"
            raise KernelError(f"{field}: setrlimit {names[res]} soft={soft} "
                              f"hard={hard}: {reason} (raising a hard limit needs "
                              "CAP_SYS_RESOURCE)") from None


def _above(a: int, b: int) -> bool:
    """a > b as rlimits (-1 is RLIM_INFINITY, above every number)."""
    return a != b and (a == -1 or (b != -1 and a > b))


def set_oom_score_adj(value: int | None) -> None:
    """Written by stage 1 before any namespace is joined or created (as runc does: in a user
    namespace the write is refused), inherited through fork; the later call in the init only
    checks it holds, so it writes nothing when it does."""
    if value is None:
        return
    path = "/proc/self/oom_score_adj"
    try:
        with open(path) as f:  # opening it for writing alone is refused in a user namespace
            if f.read().strip() == str(value):
                return
        with open(path, "w") as f:
            f.write(str(value))
    except OSError as err:
        hint = " (lowering it needs CAP_SYS_RESOURCE)" if err.errno in (1, 13) else ""
        raise KernelError(f"process.oomScoreAdj: write oom_score_adj {value}: "
                          f"{err.strerror}{hint}") from None


def switch_user(user: User | None, setgroups_allowed: bool, sc: Syscalls = SYS) -> None:
    """setgroups/setresgid/setresuid keeping capabilities (PR_SET_KEEPCAPS), so the capability
    plan can be applied afterwards. The ids were range-checked when the config was decoded
    (never -1, which means "unchanged" to setresuid)."""
    uid, gid = (user.uid, user.gid) if user is not None else (0, 0)
    sc.prctl(PR_SET_KEEPCAPS, 1)
    try:
        if setgroups_allowed:
            os.setgroups(list((user.additional_gids if user else None) or ()))
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    except OSError as err:
        raise KernelError(f"set user {uid}:{gid}: {err.strerror}") from None
    sc.prctl(PR_SET_KEEPCAPS, 0)


def set_no_new_privs(sc: Syscalls = SYS) -> None:
    sc.prctl(PR_SET_NO_NEW_PRIVS, 1)
