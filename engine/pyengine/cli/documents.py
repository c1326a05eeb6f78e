"""inspect's output of JSON documents (containers, images, networks): docker's indented array,
one JSON line each (--format json), or a Go template each (-f)."""

from __future__ import annotations

import json
from typing import Any

from pyengine.cli.context import CliError, Context
from pyengine.cli.template import Template, TemplateError, compile_template


def compile_format(fmt: str) -> Template | None:
    """The template of -f, checked before anything is asked of the daemon; None: JSON."""
    if not fmt or fmt == "json":
        return None
    try:
        return compile_template(fmt)
    except TemplateError as err:
        raise CliError(f"template parsing error: {err}") from err


def write_documents(ctx: Context, docs: list[Any], fmt: str, template: Template | None) -> None:
    if template is not None:
        for doc in docs:
            try:
                ctx.out.write(template.render(doc) + "\n")
            except TemplateError as err:
                raise CliError(str(err)) from err
    elif fmt == "json":
        for doc in docs:
            ctx.out.write(json.dumps(doc) + "\n")
    else:
        ctx.out.write(json.dumps(docs, indent=4) + "\n")
