"""Signal names ↔ numbers (Linux x86_64/aarch64), without the ``signal`` module (it imports
enum, ~2 ms on every call)."""

from __future__ import annotations

from pyrunc.errors import UsageError

NUMBERS = {
    "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7, "FPE": 8,
    "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
    "STKFLT": 16, "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22,
    "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29,
    "POLL": 29, "PWR": 30, "SYS": 31,
}
SIGRTMIN, SIGRTMAX = 34, 64


def parse(text: str) -> int:
    """'9', 'KILL', 'SIGKILL', 'sigkill', 'RTMIN+3' → number."""
    if text.isdigit():
        num = int(text)
        if 0 < num <= SIGRTMAX:
            return num
        raise UsageError(f"invalid signal number: {text}")
    name = text.upper()
    if name.startswith("SIG"):
        name = name[3:]
    if name in NUMBERS:
        return NUMBERS[name]
    for base, _sign, limit in (("RTMIN", 1, SIGRTMIN), ("RTMAX", -1, SIGRTMAX)):
        if name == base:
            return limit
        if name.startswith(base) and name[len(base)] in "+-" and name[len(base) + 1:].isdigit():
            num = limit + int(name[len(base):])
            if SIGRTMIN <= num <= SIGRTMAX:
                return num
    raise UsageError(f"unknown signal {text!r}")
