"""inspect's output, for every kind of object: a Go template per document (checked before
anything is asked of the daemon), JSON lines ("json"), or docker's indented JSON array."""

from __future__ import annotations

import json

from pyengine.cli.context import CliError

TYPE_CHECKING = False  # typing is not imported on pyctl's start-up path
if TYPE_CHECKING:
    from typing import TextIO

    from pyengine.cli.template import Template


def template_of(fmt: str) -> Template | None:
    """The compiled --format template (None: "" or "json")."""
    from pyengine.cli.template import TemplateError, compile_template

    if not fmt or fmt == "json":
        return None
    try:
        return compile_template(fmt)
    except TemplateError as err:
        raise CliError(f"template parsing error: {err}") from err


def write(out: TextIO, docs: list[dict], fmt: str, template: Template | None) -> None:
    from pyengine.cli.template import TemplateError

    if template is not None:
        for doc in docs:
            try:
                out.write(template.render(doc) + "\n")
            except TemplateError as err:
                raise CliError(str(err)) from err
    elif fmt == "json":
        for doc in docs:
            out.write(json.dumps(doc) + "\n")
    else:
        out.write(json.dumps(docs, indent=4) + "\n")
