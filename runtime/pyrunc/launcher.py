"""Write pyrunc's lean launcher: ``python -m pyrunc.launcher [--python PATH] DEST``.

containerd and podman run the runtime several times per container and podman gives it no PATH, so
the launcher has an absolute shebang to a real interpreter (not pyenv's bash shim) with ``-I -S``:
no ``site`` (saves ~12 ms a call), no user site, no PYTHON* environment. The package directory is
put on ``sys.path`` explicitly; ``site`` is imported later only by code that needs site-packages
(jsonschema validation).

Which interpreter: ``--python``, else ``$PYRUNC_PYTHON``, else the distribution's
``/usr/bin/python3`` when it can run pyrunc (CPython >= 3.11), else the interpreter running this
module. pyrunc needs only the standard library on every verb but ``validate``, and distributions
build their python3 with LTO and PGO and link libpython into it: pyrunc starts and runs faster
there than on an ``--enable-shared`` build without PGO (pyenv's default). Measured on this kind
of VM (tools/bench/managers.py): ``ctr run --rm`` 87 ms vs 98 ms, runc 80 ms.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

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

DISTRO_PYTHON = "/usr/bin/python3"
# What a candidate interpreter must manage: the version, and the modules of the hot path.
_PROBE = ("import sys\n"
          "assert sys.version_info >= (3, 11), sys.version\n"
          "sys.path.insert(0, {pkgroot!r})\n"
          "import ctypes, pyrunc.cli.main, pyrunc.create, pyrunc.container, pyrunc.linux.init\n")


def _pkgroot() -> str:
    return str(Path(__file__).resolve().parent.parent)


def can_run_pyrunc(python: str, pkgroot: str | None = None) -> bool:
    """Does ``python`` (run as the launcher runs it, -I -S) import pyrunc's hot path?"""
    import subprocess

    probe = _PROBE.format(pkgroot=pkgroot or _pkgroot())
    try:
        result = subprocess.run([python, "-I", "-S", "-c", probe], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def preferred_python(pkgroot: str | None = None) -> str:
    """The interpreter the launcher should name (an absolute, resolved path); see the module
    docstring for the order."""
    explicit = os.environ.get("PYRUNC_PYTHON")
    if explicit:
        return os.path.realpath(explicit)
    distro = os.path.realpath(DISTRO_PYTHON)
    if os.path.isfile(distro) and can_run_pyrunc(distro, pkgroot):
        return distro
    return os.path.realpath(sys.executable)


def render(python: str | None = None, pkgroot: str | None = None) -> str:
    pkgroot = pkgroot or _pkgroot()
    python = python or preferred_python(pkgroot)
    return TEMPLATE.format(python=python, pkgroot=pkgroot)


def write_script(dest: str, text: str) -> str:
    """Atomically write an executable script (mode 0755) to ``dest``; return its path. Also
    used by pyctl's launcher (pyengine.cli.launcher)."""
    dest_path = Path(dest).absolute()
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest_path.with_name(f".{dest_path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.chmod(0o755)
    os.replace(tmp, dest_path)
    return str(dest_path)


def install(dest: str, python: str | None = None) -> str:
    """Atomically write the launcher to ``dest`` (mode 0755) and return its path."""
    return write_script(dest, render(python))


def parse_cli(argv: list[str], module: str) -> tuple[str | None, str] | None:
    """``[--python PATH] DEST`` -> (python or None, dest); None (usage printed) if malformed.
    Shared with pyctl's launcher (pyengine.cli.launcher)."""
    python = None
    if len(argv) == 3 and argv[0] == "--python":
        python = os.path.abspath(argv[1])  # not resolved: a venv's python is one by its path
        argv = argv[2:]
    if len(argv) != 1 or argv[0].startswith("-"):
        print(f"usage: python -m {module} [--python PATH] DEST", file=sys.stderr)
        return None
    return python, argv[0]


def launcher_cli(argv: list[str], module: str, render_for: Callable[[str | None], str]) -> int:
    """``python -m MODULE [--python PATH] DEST`` for a launcher whose text is
    ``render_for(python)``: written atomically, its path printed; 2 on a malformed command
    line. Shared by pyctl's and pyengined's launchers (pyengine.cli.launcher,
    pyengine.daemon_launcher)."""
    parsed = parse_cli(argv, module)
    if parsed is None:
        return 2
    print(write_script(parsed[1], render_for(parsed[0])))
    return 0


def main(argv: list[str]) -> int:
    parsed = parse_cli(argv, "pyrunc.launcher")
    if parsed is None:
        return 2
    python, dest = parsed
    if python is not None and not can_run_pyrunc(python):
        print(f"pyrunc.launcher: {python} cannot run pyrunc (needs CPython >= 3.11)",
              file=sys.stderr)
        return 1
    print(install(dest, python))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
