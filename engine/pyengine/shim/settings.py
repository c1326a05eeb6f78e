"""Which runtime a container's shim calls, recorded in its bundle at Create so that `delete`
(a fresh process, after the shim is gone) calls the same one. Standard library only: `delete`
must stay quick, containerd waits for it."""

from __future__ import annotations

import os

DEFAULT_BINARY = "pyrunc"
DEFAULT_ROOT = "/run/containerd/runc"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RUNTIME_FILE = "pyshim-runtime"  # in the bundle: "<binary>\n<state root>\n"


def write(bundle: str, binary: str, root: str) -> None:
    with open(os.path.join(bundle, RUNTIME_FILE), "w") as f:
        f.write(f"{binary}\n{root}\n")


def read(bundle: str) -> tuple[str, str]:
    """(binary, state root) recorded at create; the default binary and "" when none was."""
    try:
        with open(os.path.join(bundle, RUNTIME_FILE)) as f:
            binary, root = [*f.read().splitlines(), "", ""][:2]
    except OSError:
        binary, root = "", ""
    return binary or DEFAULT_BINARY, root
