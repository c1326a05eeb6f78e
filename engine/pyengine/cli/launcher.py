"""Write pyctl's lean launcher: ``python -m pyengine.cli.launcher [--python PATH] DEST``.

As pyrunc's (runtime/pyrunc/launcher.py): an absolute shebang to a real interpreter with
``-I -S`` (no ``site``: no editable-install finder, no .pth files, no user site, no PYTHON*
environment), the package directory and the one directory that holds protobuf put on
``sys.path`` explicitly, no cyclic GC and no interpreter teardown (posix._exit: the
``os`` module is not imported on the hot verbs' path). pyctl talks gRPC through
pyengine.cli.wire, so protobuf is the only package outside the standard library it imports.

The interpreter: ``--python``, else ``$PYCTL_PYTHON``, else the interpreter running this
module; it must import protobuf (tools/setup passes the runtime environment's, a venv of the
distribution's python3: see pyengine.runtime_env). A venv's interpreter is named by its own
path, not resolved (resolved, it is the bare base interpreter without the venv's packages).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

TEMPLATE = """#!{python} -IS
# pyctl launcher written by `python -m pyengine.cli.launcher` (package at {pkgroot}).
import gc
gc.disable()
import sys
sys.path[0:0] = [{pkgroot!r}, {protobuf_root!r}]
from pyengine.cli.main import main
code = main()
try:
    sys.stdout.flush()
except BrokenPipeError:
    code = code or 1
sys.stderr.flush()
import posix
posix._exit(code)
"""


def _pkgroot() -> str:
    return str(Path(__file__).resolve().parents[2])


def protobuf_root(python: str) -> str:
    """The sys.path entry from which `python` imports google.protobuf."""
    import subprocess

    out = subprocess.run(
        [python, "-c", "import os, google.protobuf as p; "
         "print(os.path.dirname(os.path.dirname(os.path.dirname(p.__file__))))"],
        capture_output=True, text=True, check=True, timeout=60,
    )
    return out.stdout.strip()


def render(python: str | None = None, pkgroot: str | None = None) -> str:
    python = python or os.path.abspath(os.environ.get("PYCTL_PYTHON") or sys.executable)
    return TEMPLATE.format(python=python, pkgroot=pkgroot or _pkgroot(),
                           protobuf_root=protobuf_root(python))


def install(dest: str, python: str | None = None) -> str:
    """Atomically write the launcher to ``dest`` (mode 0755) and return its path."""
    from pyrunc.launcher import write_script

    return write_script(dest, render(python))


def main(argv: list[str]) -> int:
    from pyrunc.launcher import launcher_cli

    return launcher_cli(argv, "pyengine.cli.launcher", render)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
