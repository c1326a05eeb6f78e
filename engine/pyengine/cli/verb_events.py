"""pyctl events: the daemon's events as they happen (docker events), in docker's line format
or a Go template per event (--format '{{json .}}' prints docker's message document)."""

from __future__ import annotations

import argparse

from pyengine.cli.context import CliError, Context
from pyengine.event_message import docker_message

TYPE_CHECKING = False  # typing is not imported on pyctl's start-up path
if TYPE_CHECKING:
    from typing import Any

    from pyengine.api import system_pb2


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="filter output: type, event, container, image, label (KEY=VALUE)")
    p.add_argument("--format", default="", help="Go template for each event")
    p.add_argument("--since", default="", help="show all events created since timestamp")
    p.add_argument("--until", default="", help="stream events until this timestamp")
    p.set_defaults(func=run)


def line(event: system_pb2.Event) -> str:
    """`2026-12-05T23:50:01.123456789Z container start ID (image=busybox, name=x)`."""
    from pyengine.cli.timestamps import rfc3339_nano_fixed

    text = f"{rfc3339_nano_fixed(event.time_nano)} {event.type} {event.action} {event.id}"
    if event.attributes:
        text += " (" + ", ".join(f"{k}={v}" for k, v in sorted(event.attributes.items())) + ")"
    return text


def _render(template: Any, event: Any) -> str:
    """An event through --format; a field it lacks is an error, not a traceback."""
    from pyengine.cli.template import TemplateError

    try:
        return str(template.render(docker_message(event)))
    except TemplateError as err:
        raise CliError(str(err)) from err


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.api import system_pb2
    from pyengine.cli.timestamps import parse

    since, until = parse(args.since, ""), parse(args.until, "")  # docker names no flag
    for item in args.filter:
        if "=" not in item:
            raise CliError(f"bad format of filter (expected name=value): {item}", usage=True)
    template = None
    if args.format:
        from pyengine.cli.template import TemplateError, compile_template

        try:
            template = compile_template(args.format)
        except TemplateError as err:
            raise CliError(f"template parsing error: {err}", usage=True) from err
    stream = ctx.client.system.Events(system_pb2.EventsRequest(
        filters=args.filter, since=since, until=until))
    try:
        for event in stream:
            text = _render(template, event) if template is not None else line(event)
            ctx.out.write(text + "\n")
            ctx.out.flush()
    finally:
        stream.cancel()
    return 0
