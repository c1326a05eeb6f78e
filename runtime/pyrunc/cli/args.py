"""A small flag parser with the spellings runc's callers use (no argparse: it imports re).

Accepted: ``--name value``, ``--name=value``, ``-name value`` (Go style), ``-n value`` (short
alias), boolean ``--flag`` / ``--flag=false``. Flags may follow positionals unless the verb passes
``interspersed=False`` (exec/run: everything after the id belongs to the process).
"""

from __future__ import annotations

from pyrunc.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


BOOL, VALUE, MULTI, INT = "bool", "value", "multi", "int"


class Flag:
    __slots__ = ("default", "dest", "help", "kind", "names")

    def __init__(self, names: str, kind: str = BOOL, default: Any = None, help: str = "",
                 dest: str | None = None) -> None:
        self.names = tuple(n.strip() for n in names.split(","))
        self.kind = kind
        self.dest = dest or self.names[0].replace("-", "_")
        if default is None:
            default = False if kind == BOOL else [] if kind == MULTI else None
        self.default = default
        self.help = help


def _truth(flag: str, value: str) -> bool:
    low = value.lower()
    if low in ("true", "1", "t", "yes"):
        return True
    if low in ("false", "0", "f", "no"):
        return False
    raise UsageError(f"invalid boolean value {value!r} for flag --{flag}")


def parse(argv: Sequence[str], flags: Sequence[Flag], interspersed: bool = True
          ) -> tuple[dict[str, Any], list[str]]:
    by_name = {name: f for f in flags for name in f.names}
    opts: dict[str, Any] = {f.dest: (list(f.default) if f.kind == MULTI else f.default)
                            for f in flags}
    positionals: list[str] = []
    i, n = 0, len(argv)
    while i < n:
        arg = argv[i]
        i += 1
        if arg == "--":
            positionals.extend(argv[i:])
            break
        if len(arg) < 2 or arg[0] != "-" or (positionals and not interspersed):
            positionals.append(arg)
            if not interspersed:
                positionals.extend(argv[i:])
                break
            continue
        body = arg[2:] if arg.startswith("--") else arg[1:]
        if not body or body.startswith("-") or body.startswith("="):
            raise UsageError(f"bad flag syntax: {arg}")
        name, eq, value = body.partition("=")
        flag = by_name.get(name)
        if flag is None:
            raise UsageError(f"flag provided but not defined: -{name}")
        if flag.kind == BOOL:
            opts[flag.dest] = _truth(name, value) if eq else True
            continue
        if not eq:
            if i >= n:
                raise UsageError(f"flag needs an argument: -{name}")
            value = argv[i]
            i += 1
        if flag.kind == INT:
            try:
                opts[flag.dest] = int(value)
            except ValueError:
                raise UsageError(f"invalid value {value!r} for flag -{name}: "
                                 "parse error") from None
        elif flag.kind == MULTI:
            opts[flag.dest].append(value)
        else:
            opts[flag.dest] = value
    return opts, positionals


def exact_args(verb: str, args: list[str], count: int) -> None:
    if len(args) != count:
        raise UsageError(f'pyrunc: "{verb}" requires exactly {count} argument(s)')


def min_args(verb: str, args: list[str], count: int) -> None:
    if len(args) < count:
        raise UsageError(f'pyrunc: "{verb}" requires a minimum of {count} argument(s)')


def help_text(usage: str, flags: Sequence[Flag]) -> str:
    lines = [usage, "", "OPTIONS:"]
    for f in flags:
        names = ", ".join(("--" if len(n) > 1 else "-") + n for n in f.names)
        arg = " value" if f.kind != BOOL else ""
        lines.append(f"   {names}{arg}\t{f.help}")
    return "\n".join(lines) + "\n"
