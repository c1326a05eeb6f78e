"""pyrunc spec [--bundle DIR] [--rootless]: write a default config.json."""

from __future__ import annotations

import os

from pyrunc.cli import args as a

FLAGS = [a.Flag("bundle,b", a.VALUE, "", help="path to the root of the bundle directory"),
         a.Flag("rootless", a.BOOL, help="generate a configuration for a rootless container")]


def run(ctx, argv: list[str]) -> int:
    opts, rest = a.parse(argv, FLAGS)
    a.exact_args("spec", rest, 0)
    from pyrunc import jsonio
    from pyrunc.errors import ConfigError
    from pyrunc.spec.default import default_config

    bundle = opts["bundle"] or "."
    if not os.path.isdir(bundle):
        raise ConfigError(f"chdir {bundle}: no such file or directory")
    path = os.path.join(bundle, "config.json")
    if os.path.exists(path):
        raise ConfigError("File config.json exists. Remove it first.")
    with open(path, "w") as f:
        f.write(jsonio.dumps(default_config(opts["rootless"]), indent=2))
    return 0
