"""``linux.personality``: the process's execution domain, set with personality(2) by the init
just before execve (it survives the exec)."""

from __future__ import annotations

from pyrunc.errors import ConfigError, KernelError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .syscalls import Syscalls

DOMAINS = {"LINUX": 0x0000, "LINUX32": 0x0008}  # PER_LINUX, PER_LINUX32 (linux/personality.h)


def persona(domain: str, flags: list[str]) -> int:
    """The personality(2) value; ConfigError for what the runtime-spec does not define (it
    defines no flag values yet)."""
    value = DOMAINS.get(domain)
    if value is None:
        raise ConfigError(f"invalid config: linux.personality.domain: unknown domain {domain!r}"
                          f" (known: {', '.join(DOMAINS)})")
    if flags:
        raise ConfigError(f"invalid config: linux.personality.flags: {flags!r}: the"
                          " runtime-spec defines no personality flags")
    return value


def apply_personality(sc: Syscalls, domain: str, flags: list[str]) -> None:
    value = persona(domain, flags)
    try:
        sc.personality(value)
    except OSError as err:
        raise KernelError(f"linux.personality: set domain {domain}: {err.strerror}") from None
