"""Write pyrunc's lean launcher: ``python -m pyrunc.launcher DEST``.

containerd and podman run the runtime several times per container and podman gives it no PATH, so
the launcher has an absolute shebang to the real interpreter (not pyenv's bash shim) with ``-I -S``:
no ``site`` (saves ~12 ms a call), no user site, no PYTHON* environment. The package directory is
put on ``sys.path`` explicitly; ``site`` is imported later only by code that needs site-packages
(jsonschema validation).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

TEMPLATE = """#!{python} -IS
# pyrunc launcher written by `python -m pyrunc.launcher` (package at {pkgroot}).
# A short-lived process: no cyclic GC, and no interpreter teardown (flush, then _exit).
import gc
gc.disable()
import os
import sys
sys.path.insert(0, {pkgroot!r})
from pyrunc.cli.main import main
code = main()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
"""


def render(python: str | None = None, pkgroot: str | None = None) -> str:
    python = python or os.path.realpath(sys.executable)
    pkgroot = pkgroot or str(Path(__file__).resolve().parent.parent)
    return TEMPLATE.format(python=python, pkgroot=pkgroot)


def install(dest: str, python: str | None = None) -> str:
    """Atomically write the launcher to ``dest`` (mode 0755) and return its path."""
    dest_path = Path(dest).absolute()
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest_path.with_name(f".{dest_path.name}.{os.getpid()}.tmp")
    tmp.write_text(render(python))
    tmp.chmod(0o755)
    os.replace(tmp, dest_path)
    return str(dest_path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m pyrunc.launcher DEST")
    print(install(sys.argv[1]))
