"""pyrunc validate [--bundle DIR]: check config.json against the OCI runtime-spec JSON schema
(jsonschema) and pyrunc's own checks; one line per problem, exit 1 if any."""

from __future__ import annotations

import os
import sys

from pyrunc.cli import args as a

FLAGS = [a.Flag("bundle,b", a.VALUE, "", help="path to the root of the bundle directory")]


def run(ctx, argv: list[str]) -> int:
    opts, rest = a.parse(argv, FLAGS)
    a.exact_args("validate", rest, 0)
    from pyrunc import jsonio
    from pyrunc.errors import ConfigError
    from pyrunc.spec import config as fast
    from pyrunc.spec.schema_check import validate

    path = os.path.join(os.path.abspath(opts["bundle"] or "."), "config.json")
    try:
        config = jsonio.load_file(path)
    except OSError as err:
        raise ConfigError(f"load {path}: {err.strerror}") from None
    except ValueError as err:
        raise ConfigError(f"load {path}: malformed JSON: {err}") from None
    problems = [f"{p.path}: {p.message}" for p in validate(config)]
    if not problems:
        try:
            fast.check(config)
        except ConfigError as err:
            problems.append(str(err).removeprefix("invalid config: "))
    for line in problems:
        sys.stdout.write(f"{path}: {line}\n")
    return 1 if problems else 0
