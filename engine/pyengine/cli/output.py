"""--format handling shared by the listing verbs: table, json, or a Go template per row."""

from __future__ import annotations

import json
import re
from typing import Any, TextIO

from pyengine.cli import table
from pyengine.cli.template import TemplateError, compile_template

HEADERS = {
    "ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
    "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
    "Containers": "CONTAINERS", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
    "VirtualSize": "VIRTUAL SIZE", "CreatedBy": "CREATED BY", "Comment": "COMMENT",
    "Name": "NAME", "Description": "DESCRIPTION", "StarCount": "STARS",
    "IsOfficial": "OFFICIAL", "Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE",
    "Reclaimable": "RECLAIMABLE",
}
FIELD_RE = re.compile(r"\{\{\s*\.(\w+)(?:\s+\"[^\"}]*\")*\s*\}\}")  # {{.Label "k"}} too


class FormatError(Exception):
    """The --format value is invalid."""


def _header(source: str, overrides: dict[str, str]) -> str:
    names = {**HEADERS, **overrides}
    return FIELD_RE.sub(lambda m: names.get(m.group(1), m.group(1).upper()), source)


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
        for row in rows:
            out.write(json.dumps(row, separators=(",", ":")) + "\n")
        return
    try:
        if fmt.startswith("table"):
            source = fmt[len("table"):].strip().replace("\\t", "\t")
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
