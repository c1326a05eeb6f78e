"""A small evaluator for the Go text/template idioms docker users pass to --format.

Supported: {{.Field.Sub}}, {{.}}, {{$}}, variables ({{$v := ...}}, {{range $i, $e := ...}}),
pipelines ({{.Name | upper}}), parentheses, if/else if/else, range (with else), with, end,
trim markers ({{- -}}), string/number/bool literals, and the functions json, index, join,
split, upper, lower, title, len, print, println, printf, truncate, pad, slice, eq, ne, not,
and, or, lt, le, gt, ge, table (docker's "table" prefix is handled by the caller).
Values print like Go's fmt: lists as [a b], maps as map[k:v], missing values as <no value>.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Docker's typed structs print nil slices as [] and nil maps as map[].
SLICE_FIELDS = {
    "Cmd",
    "Entrypoint",
    "Env",
    "OnBuild",
    "RepoTags",
    "RepoDigests",
    "Layers",
    "Shell",
    "Mounts",
    "Args",
}
MAP_FIELDS = {"Labels", "Volumes", "ExposedPorts", "Data", "Options"}


class TemplateError(Exception):
    """The template does not parse or cannot be executed on the value."""


# -- lexer ------------------------------------------------------------------------------------

TOKEN_RE = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<decl>:=|=)
    | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
    | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<punct>[|(),])
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise TemplateError(f"template: unexpected {text[pos:]!r} in action")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


# -- AST --------------------------------------------------------------------------------------


class Pipeline:
    # plain classes, not dataclasses: pyctl's start-up avoids importing dataclasses (~8 ms)
    def __init__(self, decl: list[str], commands: list[list[Any]]) -> None:
        self.decl = decl
        self.commands = commands  # each command: list of args (tokens or nested Pipelines)


class Node:
    def __init__(self, kind: str, text: str = "", pipe: Pipeline | None = None,
                 body: list[Node] | None = None, else_body: list[Node] | None = None) -> None:
        self.kind = kind  # text, action, if, range, with
        self.text = text
        self.pipe = pipe
        self.body = body if body is not None else []
        self.else_body = else_body if else_body is not None else []


ACTION_RE = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)


def parse(source: str) -> list[Node]:
    pieces: list[tuple[str, str]] = []
    pos = 0
    for match in ACTION_RE.finditer(source):
        text = source[pos : match.start()]
        if match.group(1):
            text = text.rstrip()
        if pieces and pieces[-1][0] == "trim":
            text = text.lstrip()
            pieces.pop()
        pieces.append(("text", text))
        body = match.group(2).strip()
        if not body.startswith("/*"):
            pieces.append(("action", body))
        if match.group(3):
            pieces.append(("trim", ""))
        pos = match.end()
    tail = source[pos:]
    if pieces and pieces[-1][0] == "trim":
        pieces.pop()
        tail = tail.lstrip()
    pieces.append(("text", tail))
    return _parse_list(pieces, 0, top=True)[0]


def _parse_list(pieces: list[tuple[str, str]], i: int, top: bool = False) -> tuple[list[Node], int]:
    nodes: list[Node] = []
    while i < len(pieces):
        kind, text = pieces[i]
        if kind == "text":
            if text:
                nodes.append(Node("text", text=text))
            i += 1
            continue
        word = text.split(None, 1)[0] if text else ""
        rest = text[len(word) :].strip()
        if word in ("end", "else"):
            if top:
                raise TemplateError(f"template: unexpected {{{{{word}}}}}")
            return nodes, i
        if word in ("if", "range", "with"):
            node = Node(word, pipe=_parse_pipeline(_tokens(rest)))
            node.body, i = _parse_list(pieces, i + 1)
            if i >= len(pieces):
                raise TemplateError(f"template: unexpected EOF: missing {{{{end}}}} for {word}")
            closing = pieces[i][1]
            if closing.startswith("else"):
                else_rest = closing[4:].strip()
                if else_rest.startswith("if"):
                    # {{else if X}} ... : an if nested in the else branch sharing the {{end}}
                    pieces[i] = ("action", else_rest)
                    node.else_body, i = _parse_nested_if(pieces, i)
                    nodes.append(node)
                    continue
                node.else_body, i = _parse_list(pieces, i + 1)
                if i >= len(pieces) or pieces[i][1] != "end":
                    raise TemplateError("template: missing {{end}}")
            nodes.append(node)
            i += 1
            continue
        nodes.append(Node("action", pipe=_parse_pipeline(_tokens(text))))
        i += 1
    if not top:
        raise TemplateError("template: unexpected EOF: missing {{end}}")
    return nodes, i


def _parse_nested_if(pieces: list[tuple[str, str]], i: int) -> tuple[list[Node], int]:
    """Parse `if X}} ... {{end` starting at pieces[i] (an 'if' action); the end is shared."""
    text = pieces[i][1]
    node = Node("if", pipe=_parse_pipeline(_tokens(text[2:].strip())))
    node.body, i = _parse_list(pieces, i + 1)
    if i >= len(pieces):
        raise TemplateError("template: missing {{end}}")
    closing = pieces[i][1]
    if closing.startswith("else"):
        else_rest = closing[4:].strip()
        if else_rest.startswith("if"):
            pieces[i] = ("action", else_rest)
            node.else_body, i = _parse_nested_if(pieces, i)
            return [node], i
        node.else_body, i = _parse_list(pieces, i + 1)
    if i >= len(pieces) or pieces[i][1] != "end":
        raise TemplateError("template: missing {{end}}")
    return [node], i + 1


def _parse_pipeline(tokens: list[tuple[str, str]]) -> Pipeline:
    decl: list[str] = []
    for j, (kind, _) in enumerate(tokens):
        if kind == "decl":
            decl = [v for k, v in tokens[:j] if k == "var"]
            tokens = tokens[j + 1 :]
            break
    commands: list[list[Any]] = [[]]
    j = 0
    while j < len(tokens):
        kind, value = tokens[j]
        if kind == "punct" and value == "|":
            commands.append([])
        elif kind == "punct" and value == "(":
            depth, k = 1, j + 1
            while k < len(tokens) and depth:
                if tokens[k] == ("punct", "("):
                    depth += 1
                elif tokens[k] == ("punct", ")"):
                    depth -= 1
                k += 1
            if depth:
                raise TemplateError("template: unclosed left paren")
            commands[-1].append(_parse_pipeline(tokens[j + 1 : k - 1]))
            j = k
            continue
        elif kind == "punct":
            raise TemplateError(f"template: unexpected {value!r}")
        else:
            commands[-1].append((kind, value))
        j += 1
    if any(not c for c in commands):
        raise TemplateError("template: missing value for command")
    return Pipeline(decl, commands)


# -- evaluation -------------------------------------------------------------------------------


def go_str(value: Any, key: str = "") -> str:
    """Format like Go's fmt.Sprint on decoded JSON (with docker's typed-nil conventions)."""
    if value is None:
        if key in SLICE_FIELDS:
            return "[]"
        if key in MAP_FIELDS:
            return "map[]"
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_str(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def _truthy(value: Any) -> bool:
    return bool(value) if value is not None else False


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        try:
            value = value[int(key) if isinstance(value, list) else key]
        except (IndexError, KeyError, TypeError, ValueError) as err:
            raise TemplateError(f"template: error calling index: {err}") from err
    return value


def _printf(fmt: str, *args: Any) -> str:
    converted = re.sub(r"%v|%s", "%s", fmt)
    converted = converted.replace("%q", "%s")
    try:
        return converted % tuple(
            go_str(a) if isinstance(a, list | dict | bool | type(None)) else a for a in args
        )
    except (TypeError, ValueError) as err:
        raise TemplateError(f"template: printf: {err}") from err


FUNCS: dict[str, Any] = {
    "json": lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False),
    "index": _index,
    "join": lambda items, sep: sep.join(go_str(i) for i in (items or [])),
    "split": lambda s, sep: s.split(sep),
    "upper": lambda s: go_str(s).upper(),
    "lower": lambda s: go_str(s).lower(),
    "title": lambda s: go_str(s).title(),
    "len": lambda v: len(v or []),
    "print": lambda *a: "".join(go_str(x) for x in a),
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n",
    "printf": _printf,
    "truncate": lambda s, n: go_str(s)[: int(n)],
    "pad": lambda s, left, right: " " * int(left) + go_str(s) + " " * int(right),
    "slice": lambda v, *ix: v[int(ix[0]) : (int(ix[1]) if len(ix) > 1 else None)],
    "eq": lambda a, *b: any(a == x for x in b),
    "ne": lambda a, b: a != b,
    "not": lambda a: not _truthy(a),
    "and": lambda *a: next((x for x in a if not _truthy(x)), a[-1]),
    "or": lambda *a: next((x for x in a if _truthy(x)), a[-1]),
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


class _Scope:
    def __init__(self, dot: Any, root: Any, vars: dict[str, Any]) -> None:
        self.dot = dot
        self.root = root
        self.vars = vars


def _field(value: Any, path: str) -> tuple[Any, str]:
    key = ""
    for part in [p for p in path.split(".") if p]:
        key = part
        if isinstance(value, dict):
            if part not in value:
                raise TemplateError(
                    f'template: executing "" at <{path}>: map has no entry for key "{part}"'
                )
            value = value[part]
        elif value is None:
            raise TemplateError(
                f'template: executing "" at <{path}>: nil pointer evaluating {part}'
            )
        else:
            attr = getattr(value, part, None)
            if attr is None:
                raise TemplateError(
                    f'template: executing "" at <{path}>: can\'t evaluate field {part}'
                )
            value = attr
    return value, key


def _arg(token: Any, scope: _Scope) -> tuple[Any, str]:
    if isinstance(token, Pipeline):
        return _run_pipeline(token, scope), ""
    kind, value = token
    if kind == "str":
        return json.loads(value), ""
    if kind == "raw":
        return value[1:-1], ""
    if kind == "num":
        return (float(value) if "." in value else int(value)), ""
    if kind == "field":
        return _field(scope.dot, value) if value != "." else (scope.dot, "")
    if kind == "var":
        name, _, path = value.partition(".")
        if name == "$":
            base = scope.root
        elif name in scope.vars:
            base = scope.vars[name]
        else:
            raise TemplateError(f"template: undefined variable {name}")
        return _field(base, path) if path else (base, "")
    if kind == "ident":
        if value in ("true", "false"):
            return value == "true", ""
        if value == "nil":
            return None, ""
        if value in FUNCS:
            return FUNCS[value](), ""
        raise TemplateError(f'template: function "{value}" not defined')
    raise TemplateError(f"template: unexpected {value!r}")


def _run_command(cmd: list[Any], scope: _Scope, piped: tuple[Any, str] | None) -> tuple[Any, str]:
    head = cmd[0]
    if not isinstance(head, Pipeline) and head[0] == "ident" and head[1] in FUNCS:
        args = [_arg(a, scope)[0] for a in cmd[1:]]
        if piped is not None:
            args.append(piped[0])
        try:
            return FUNCS[head[1]](*args), ""
        except TemplateError:
            raise
        except Exception as err:
            raise TemplateError(f"template: error calling {head[1]}: {err}") from err
    if len(cmd) > 1 or piped is not None:
        if not isinstance(head, Pipeline) and head[0] == "field":
            method, key = _arg(head, scope)
            if callable(method):  # a method with arguments, as docker's {{.Label "k"}}
                args = [_arg(a, scope)[0] for a in cmd[1:]]
                if piped is not None:
                    args.append(piped[0])
                return method(*args), key
        raise TemplateError(f"template: can't give argument to non-function {head}")
    return _arg(head, scope)


def _run_pipeline(pipe: Pipeline, scope: _Scope, with_key: bool = False) -> Any:
    result: tuple[Any, str] | None = None
    for cmd in pipe.commands:
        result = _run_command(cmd, scope, result)
    assert result is not None
    if pipe.decl:
        scope.vars[pipe.decl[-1]] = result[0]
    return result if with_key else result[0]


def _execute(nodes: list[Node], scope: _Scope, out: list[str]) -> None:
    for node in nodes:
        if node.kind == "text":
            out.append(node.text)
        elif node.kind == "action":
            assert node.pipe is not None
            value, key = _run_pipeline(node.pipe, scope, with_key=True)
            if not node.pipe.decl:
                out.append(go_str(value, key))
        elif node.kind == "if":
            assert node.pipe is not None
            branch = node.body if _truthy(_run_pipeline(node.pipe, scope)) else node.else_body
            _execute(branch, scope, out)
        elif node.kind == "with":
            assert node.pipe is not None
            value = _run_pipeline(node.pipe, scope)
            if _truthy(value):
                _execute(node.body, _Scope(value, scope.root, dict(scope.vars)), out)
            else:
                _execute(node.else_body, scope, out)
        elif node.kind == "range":
            assert node.pipe is not None
            decl = node.pipe.decl
            node.pipe.decl = []
            value = _run_pipeline(node.pipe, scope)
            node.pipe.decl = decl
            items = (
                sorted(value.items()) if isinstance(value, dict) else list(enumerate(value or []))
            )
            if not items:
                _execute(node.else_body, scope, out)
            for key, item in items:
                inner = _Scope(item, scope.root, dict(scope.vars))
                if len(decl) == 1:
                    inner.vars[decl[0]] = item
                elif len(decl) == 2:
                    inner.vars[decl[0]], inner.vars[decl[1]] = key, item
                _execute(node.body, inner, out)


class Template:
    """A parsed template; `render(value)` executes it on one value."""

    def __init__(self, source: str, nodes: list[Node]) -> None:
        self.source = source
        self.nodes = nodes

    def render(self, value: Any) -> str:
        out: list[str] = []
        _execute(self.nodes, _Scope(value, value, {"$": value}), out)
        return "".join(out)


def compile_template(source: str) -> Template:
    return Template(source, parse(source))
