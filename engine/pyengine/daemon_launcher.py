"""Write pyengined's launcher: ``python -m pyengine.daemon_launcher [--python PATH] DEST``.

An absolute shebang to the interpreter (``--python``, else the one running this module: tools/
setup runs it with the runtime environment's, see pyengine.runtime_env) with ``-I``: a root
daemon takes no PYTHON* variable, user site or current directory from whoever starts it. Unlike
pyctl's and the shim's, ``site`` stays: the daemon imports its third-party packages from the
environment's site-packages, and starts once.
"""

from __future__ import annotations

import os
import sys

TEMPLATE = """#!{python} -I
# pyengined launcher written by `python -m pyengine.daemon_launcher`.
from pyengine.daemon import entry
entry()
"""


def render(python: str | None = None) -> str:
    return TEMPLATE.format(python=python or os.path.abspath(sys.executable))


def install(dest: str, python: str | None = None) -> str:
    """Atomically write the launcher to ``dest`` (mode 0755) and return its path."""
    from pyrunc.launcher import write_script
    return write_script(dest, render(python))


def main(argv: list[str]) -> int:
    from pyrunc.launcher import launcher_cli
    return launcher_cli(argv, "pyengine.daemon_launcher", render)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
