"""pyrunc ps [--format table|json] <container-id> [ps options]

json: a JSON array of the container's host pids on stdout and nothing else (go-runc reads
stdout and stderr together). table: the host's ``ps`` output (default ``-ef``) restricted to the
container's processes."""

from __future__ import annotations

import sys

from pyrunc.cli import args as a

FLAGS = [a.Flag("format,f", a.VALUE, "table", help="select one of: table or json")]


def run(ctx, argv: list[str]) -> int:
    opts, rest = a.parse(argv, FLAGS, interspersed=False)
    a.min_args("ps", rest, 1)
    from pyrunc import jsonio
    from pyrunc.container import Container
    from pyrunc.errors import CgroupError, UsageError

    container = Container.load(ctx.root, rest[0])
    cg = container.cgroup()
    if cg is None:
        raise CgroupError(f"ps: container {rest[0]} has no cgroup")
    pids = sorted(cg.pids())
    if opts["format"] == "json":
        sys.stdout.write(jsonio.dumps(pids) + "\n")
        return 0
    if opts["format"] != "table":
        raise UsageError(f"invalid format option: {opts['format']}")
    import subprocess

    ps_args = rest[1:] or ["-ef"]
    out = subprocess.run(["ps", *ps_args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise UsageError(f"ps {' '.join(ps_args)}: {out.stderr.strip()}")
    lines = out.stdout.splitlines()
    if not lines:
        return 0
    header = lines[0].split()
    if "PID" not in header:
        raise UsageError("couldn't find PID field in ps output")
    col = header.index("PID")
    wanted = set(pids)
    sys.stdout.write(lines[0] + "\n")
    for line in lines[1:]:
        fields = line.split()
        if len(fields) > col and fields[col].isdigit() and int(fields[col]) in wanted:
            sys.stdout.write(line + "\n")
    return 0
