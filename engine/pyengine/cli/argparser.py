"""pyctl's argparse parser: help, usage errors, and every command line pyengine.cli.args does
not take (see pyengine.cli.main.fast_parse)."""

from __future__ import annotations

import argparse
from typing import NoReturn

from pyengine import __version__
from pyengine.cli.main import (
    ALIASES,
    GROUPS,
    TITLES,
    TOP_VERBS,
    UsageError,
    add_globals,
    builder,
    known,
    verb_path,
)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)


def build_parser(argv: list[str] | None = None) -> Parser:
    """pyctl's parser; only the verb `argv` names gets its arguments (and its module
    imported). With no argv, every verb is built (for tests and completion). When argv names
    a known verb, the other verbs get no sub-parser at all: argparse parsers cost ~0.3 ms
    each, all of them ~10 ms of `pyctl images`. An unknown verb builds them all, so that the
    usage error lists them."""
    wanted = verb_path(argv) if argv is not None else None
    only = wanted if wanted is not None and known(wanted) else None
    parser = Parser(prog="pyctl", description="A docker-like client for pyengined.")
    add_globals(parser)
    parser.add_argument("-v", "--version", action="version", version=f"pyctl version {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", parser_class=Parser)

    def built(path: list[str]) -> bool:
        return wanted is None or wanted[: len(path)] == path

    for name, (module, help_text) in TOP_VERBS.items():
        if only is None or only == [name]:
            _add(verbs, name, help_text, module if built([name]) else None)
    for group, table in GROUPS.items():
        if only is not None and only[0] != group:
            continue
        title = TITLES[group]
        sub = verbs.add_parser(group, help=title, description=title)
        group_verbs = sub.add_subparsers(dest=f"{group}_verb", metavar="COMMAND",
                                         parser_class=Parser)
        for name, (module, help_text) in table.items():
            aliases = ALIASES.get(group, {}).get(name, [])
            wanted_here = any(built([group, n]) for n in [name, *aliases])
            if only is not None and not wanted_here:
                continue
            _add(group_verbs, name, help_text, module if wanted_here else None, aliases)
    return parser


def _add(
    verbs: argparse._SubParsersAction[Parser], name: str, help_text: str, module: str | None,
    aliases: list[str] | None = None,
) -> None:
    sub = verbs.add_parser(name, help=help_text, description=help_text, aliases=aliases or [])
    if module is not None:
        builder(module)(sub)
    sub.set_defaults(prog=sub.prog)


