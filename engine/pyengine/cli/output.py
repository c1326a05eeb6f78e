"""--format handling shared by the listing verbs: table, json, or a Go template per row."""

from __future__ import annotations

from pyengine.cli import table
from pyengine.cli.context import FormatError

TYPE_CHECKING = False  # json, re, typing and the template engine: only when a format needs them
if TYPE_CHECKING:
    from typing import Any, TextIO

__all__ = ["HEADERS", "FormatError", "write_rows"]

HEADERS = {
    "ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
    "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
    "Containers": "CONTAINERS", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
    "VirtualSize": "VIRTUAL SIZE", "CreatedBy": "CREATED BY", "Comment": "COMMENT",
    "Name": "NAME", "Description": "DESCRIPTION", "StarCount": "STARS",
    "IsOfficial": "OFFICIAL", "Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE",
    "Reclaimable": "RECLAIMABLE",
}


def _header(source: str, overrides: dict[str, str]) -> str:
    import re

    names = {**HEADERS, **overrides}
    return re.sub(r"\{\{\s*\.(\w+)(?:\s+\"[^\"}]*\")*\s*\}\}",  # {{.Label "k"}} too
                  lambda m: names.get(m.group(1), m.group(1).upper()), source)


def _plain_columns(source: str, rows: list[dict[str, Any]]) -> list[str] | None:
    """The field names of a table made only of "{{.Field}}" cells whose values are strings in
    every row (the default tables): printed without the template engine. None otherwise."""
    columns = []
    for cell in source.split("\t"):
        name = cell[3:-2]
        if not (cell.startswith("{{.") and cell.endswith("}}") and name.isidentifier()):
            return None
        columns.append(name)
    for row in rows:
        for name in columns:
            if type(row.get(name)) is not str:
                return None
    return columns


def write_rows(
    out: TextIO,
    rows: list[dict[str, Any]],
    fmt: str,
    default_table: str,
    headers: dict[str, str] | None = None,
) -> None:
    """Print rows as a table (default or "table ..."), JSON lines ("json"), or a template."""
    fmt = fmt or default_table
    if fmt == "json":
        import json

        for row in rows:
            out.write(json.dumps(row, separators=(",", ":")) + "\n")
        return
    if fmt.startswith("table"):
        source = fmt[len("table"):].strip().replace("\\t", "\t")
        columns = _plain_columns(source, rows)
        if columns is not None:
            names = {**HEADERS, **(headers or {})}
            cells = [[names.get(name, name.upper()) for name in columns]]
            cells += ["\t".join([row[name] for name in columns]).split("\t") for row in rows]
            out.write(table.render(cells))
            return
    from pyengine.cli.template import TemplateError, compile_template

    try:
        if fmt.startswith("table"):
            template = compile_template(source)
            cells = [_header(source, headers or {}).split("\t")]
            cells += [template.render(row).split("\t") for row in rows]
            out.write(table.render(cells))
            return
        template = compile_template(fmt.replace("\\t", "\t").replace("\\n", "\n"))
        for row in rows:
            out.write(template.render(row) + "\n")
    except TemplateError as err:
        raise FormatError(str(err)) from err
