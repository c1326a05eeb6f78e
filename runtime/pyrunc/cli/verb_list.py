"""pyrunc list [-q] [--format table|json]"""

from __future__ import annotations

import os
import sys

from pyrunc.cli import args as a

FLAGS = [a.Flag("format,f", a.VALUE, "table", help="select one of: table or json"),
         a.Flag("quiet,q", a.BOOL, help="display only container IDs")]


def _owner(path: str) -> str:
    import pwd

    try:
        uid = os.stat(path).st_uid
        return pwd.getpwuid(uid).pw_name
    except (OSError, KeyError):
        return "#?"


def run(ctx, argv: list[str]) -> int:
    opts, rest = a.parse(argv, FLAGS)
    a.exact_args("list", rest, 0)
    from pyrunc import jsonio, log, state
    from pyrunc.container import Container
    from pyrunc.errors import ContainerNotFound, StateDamaged

    items = []
    for cid in state.list_ids(ctx.root):
        try:
            c = Container.load(ctx.root, cid)
            st = c.oci_state()
        except ContainerNotFound:
            continue
        except StateDamaged as err:  # runc's rule: named on stderr, the others still listed
            log.warning(f"list: {err}")
            continue
        st["owner"] = _owner(c.dir.path)
        items.append(st)
    if opts["quiet"]:
        sys.stdout.write("".join(i["id"] + "\n" for i in items))
    elif opts["format"] == "json":
        sys.stdout.write((jsonio.dumps(items) if items else "null") + "\n")
    elif opts["format"] == "table":
        rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
        rows += [[i["id"], str(i["pid"]), i["status"], i["bundle"], i["created"], i["owner"]]
                 for i in items]
        widths = [max(12, max(len(r[col]) for r in rows) + 3) for col in range(5)]
        for r in rows:
            sys.stdout.write("".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False))
                             + r[5] + "\n")
    else:
        raise a.UsageError(f"invalid format option: {opts['format']}")
    return 0
