"""Which interpreter runs the engine's own processes (pyengined, pyctl, our shim).

tools/setup installs the package twice: editable into the interpreter that runs the tests and
tools (``python3``: pyenv's here), and into the *runtime environment*, a venv made from the
distribution's python3 at ``/opt/pycontainers`` (``$PYCONTAINERS_ENV``), constrained to the
same package versions and filled by the test interpreter's pip (the venv has none of its own);
setup marks it complete (READY) only once filled. Distributions build python3 with PGO and LTO
and link libpython into it; pyenv builds ``--enable-shared`` without either. On this kind of VM
the distribution's runs pyctl's ``ps`` in 11.0-11.3 ms instead of 14.1-14.7, and answers the
docker CLI's /_ping and /containers/json pair in 213-239 us instead of 252-280
(tools/bench/dockerapi.py; docs/ENGINE.md "Which interpreter"). pyrunc's launcher already runs
on the distribution's python3 (runtime/pyrunc/launcher.py); this is the same choice for
everything else that runs per container or per command.

The launchers (/usr/local/sbin/pyengined, /usr/local/bin/pyctl, containerd-shim-pyrunc-v2)
name this environment's interpreter; the benchmarks and the demo start the checkout's daemon on
it. ``$PYENGINE_PYTHON`` names another interpreter; without the environment (a machine where
the distribution's python3 is older than 3.11 or has no venv module, or setup could not make
or fill it) it is the interpreter asking.
"""

from __future__ import annotations

import os
import sys

DEFAULT_ENV = "/opt/pycontainers"
READY = "pycontainers-ready"  # in the environment: tools/setup filled it (a stamp)


def runtime_env() -> str:
    return os.environ.get("PYCONTAINERS_ENV") or DEFAULT_ENV


def env_python() -> str | None:
    """The runtime environment's interpreter, if tools/setup made and filled the environment
    (one it left half-made, a failed fill, is not one)."""
    python = os.path.join(runtime_env(), "bin", "python")
    ready = os.path.exists(os.path.join(runtime_env(), READY))
    return python if ready and os.access(python, os.X_OK) else None


def engine_python() -> str:
    """The interpreter to start the engine's processes with (an absolute path, not resolved:
    a venv's interpreter is only the venv's through its own path)."""
    explicit = os.environ.get("PYENGINE_PYTHON")
    if explicit:
        return os.path.abspath(explicit)
    return env_python() or os.path.abspath(sys.executable)


if __name__ == "__main__":
    print(engine_python())
