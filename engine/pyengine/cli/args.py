"""pyctl's fast argument path: the subset of argparse the verb modules use, without argparse.

argparse costs ~9 ms of every command (the module, gettext and locale, shutil for the help
formatter, and ~0.3 ms per parser built). The verb modules declare their arguments once, with
`add(p)` calling `p.add_argument(...)` / `p.set_defaults(...)`; this parser takes the same calls.
Anything it does not handle exactly as argparse would -- help, a usage error, a short flag
joined to its value, an optional-value flag, "--" before a REMAINDER -- raises Fallback, and
main() parses with argparse instead, so every message and exit code stays argparse's.
Combined short switches (``-it``) and a trailing REMAINDER positional (``run IMAGE CMD...``:
every word after IMAGE is the command's, flags included) are taken as argparse takes them.
"""

from __future__ import annotations

REMAINDER = "..."  # argparse.REMAINDER's value
TYPE_CHECKING = False  # typing is not imported on pyctl's start-up path
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any


class Fallback(Exception):
    """argv needs the full argparse parser."""


class Namespace:
    """The parsed arguments, as attributes (argparse.Namespace's role)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __contains__(self, key: str) -> bool:
        return key in self.__dict__


class Argument:
    def __init__(self, names: Sequence[str], action: str, default: Any, nargs: Any, const: Any,
                 choices: Any, type: Callable[[str], Any] | None, dest: str | None) -> None:
        self.names = names
        self.action = action
        self.default = default
        self.nargs = nargs
        self.const = const
        self.choices = choices
        self.type = type
        self.positional = not names[0].startswith("-")
        if dest is None:
            longs = [n for n in names if n.startswith("--")]
            dest = (longs[0] if longs else names[0]).lstrip("-").replace("-", "_")
        self.dest = dest

    def convert(self, text: str) -> Any:
        value = text
        if self.type is not None:
            try:
                value = self.type(text)
            except (TypeError, ValueError):
                raise Fallback(text) from None
        if self.choices is not None and value not in self.choices:
            raise Fallback(text)
        return value


class Parser:
    """One verb's arguments (add_argument and set_defaults as argparse's)."""

    def __init__(self, prog: str) -> None:
        self.prog = prog
        self.flags: dict[str, Argument] = {}
        self.positionals: list[Argument] = []
        self.arguments: list[Argument] = []
        self.defaults: dict[str, Any] = {}
        self.remainder: Argument | None = None  # a last positional with nargs=REMAINDER
        self.conflict_handler = "error"  # argparse's attribute; "resolve" lets -h be a flag

    def add_argument(self, *names: str, action: str = "store", default: Any = None,
                     nargs: Any = None, const: Any = None, choices: Any = None,
                     type: Callable[[str], Any] | None = None, dest: str | None = None,
                     metavar: str | None = None, help: str | None = None,
                     required: bool = False, version: str | None = None) -> None:
        if action not in ("store", "store_true", "append") or required:
            raise Fallback(f"action {action}")
        if action == "store_true" and default is None:
            default = False
        arg = Argument(names, action, default, nargs, const, choices, type, dest)
        if self.remainder is not None and arg.positional:
            raise Fallback("a positional after a REMAINDER")
        if arg.positional and nargs == REMAINDER:
            if any(a.nargs is not None for a in self.positionals) or action != "store":
                raise Fallback("REMAINDER after an optional positional")
            self.remainder = arg
            self.arguments.append(arg)
            return
        if "-h" in names and self.conflict_handler != "resolve":
            raise Fallback("-h is help unless the parser resolves conflicts")
        self.arguments.append(arg)
        if arg.positional:
            self.positionals.append(arg)
        else:
            for name in names:
                self.flags[name] = arg

    def set_defaults(self, **values: Any) -> None:
        self.defaults.update(values)

    def parse(self, argv: Sequence[str], values: dict[str, Any]) -> None:
        """Parse `argv` into `values` (defaults first); Fallback when argparse is needed."""
        for arg in self.arguments:
            default = arg.default
            values[arg.dest] = list(default) if isinstance(default, list) else default
        if self.remainder is not None:
            values[self.remainder.dest] = []
        values.update(self.defaults)
        words: list[str] = []
        i = 0
        while i < len(argv):
            text = argv[i]
            i += 1
            if text == "--":
                if self.remainder is not None:
                    raise Fallback(text)
                words += argv[i:]
                break
            if not text.startswith("-") or text == "-":
                words.append(text)
                if self.remainder is not None and len(words) == len(self.positionals):
                    rest = argv[i:]
                    if rest[:1] == ["--"]:
                        raise Fallback("--")
                    values[self.remainder.dest] = list(rest)
                    break
                continue
            name, eq, inline = text.partition("=") if text.startswith("--") else (text, "", "")
            if not text.startswith("--") and len(text) > 2:
                switches = [self.flags.get(f"-{c}") for c in text[1:]]
                if not all(s is not None and s.action == "store_true" and s.nargs is None
                           for s in switches):
                    raise Fallback(text)  # -fVALUE, or a value flag among switches
                for switch in switches:
                    assert switch is not None
                    values[switch.dest] = True
                continue
            flag = self.flags.get(name)
            if flag is None or flag.nargs is not None:
                raise Fallback(text)  # unknown (or -h), or an optional value
            if flag.action == "store_true":
                if eq:
                    raise Fallback(text)
                values[flag.dest] = True
                continue
            if eq:
                value = inline
            else:
                if i >= len(argv) or (argv[i].startswith("-") and argv[i] != "-"):
                    raise Fallback(text)
                value = argv[i]
                i += 1
            if flag.action == "append":
                values[flag.dest].append(flag.convert(value))
            else:
                values[flag.dest] = flag.convert(value)
        self._positionals(words, values)

    def _positionals(self, words: list[str], values: dict[str, Any]) -> None:
        required = sum(1 for a in self.positionals if a.nargs in (None, "+"))
        if len(words) < required:
            raise Fallback("missing arguments")
        spare = len(words) - required
        for arg in self.positionals:
            if arg.nargs is None:
                values[arg.dest] = arg.convert(words.pop(0))
            elif arg.nargs == "?":
                if spare and words:
                    values[arg.dest] = arg.convert(words.pop(0))
                    spare -= 1
            elif arg.nargs == "+":
                take = 1 + spare
                values[arg.dest] = [arg.convert(w) for w in words[:take]]
                del words[:take]
                spare = 0
            else:
                raise Fallback(f"nargs {arg.nargs}")
        if words:
            raise Fallback("unexpected arguments")
