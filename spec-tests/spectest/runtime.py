"""Drive an OCI runtime binary through runc's command line (see runc-cli-contract.md)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]
RUNC = "/usr/sbin/runc"
CRUN = "/usr/bin/crun"
# Safety net against a hung runtime; no test asserts on time.
COMMAND_TIMEOUT = 60

CRUN_WRAPPER = """#!/bin/sh
# crun refuses hybrid cgroups (v1 + cgroup2 at /sys/fs/cgroup/unified): run it in a private mount
# namespace with the cgroup2 mount hidden. unshare execs (no fork), so the container init still
# ends up a child of whoever ran this script.
exec unshare -m --propagation slave sh -c 'umount -l /sys/fs/cgroup/unified 2>/dev/null; \
exec {crun} "$@"' crun "$@"
"""


PRIVATE_MOUNT_NS_WRAPPER = """#!/bin/sh
# {binary} in a private mount namespace of its own: for a container that shares the runtime's
# mount namespace (no "mount" in linux.namespaces), whose mounts the runtime makes in its own
# namespace. Each call appends "<mnt ns link> <arguments>" to {log}. unshare execs (no fork),
# so the container init still ends up a child of whoever ran this script.
exec unshare -m --propagation private sh -c \
'echo "$(readlink /proc/self/ns/mnt) $*" >> {log}; exec {binary} "$@"' {name} "$@"
"""


@dataclass
class Runtime:
    """One runtime binary plus its private --root."""

    name: str
    binary: str
    root: str
    # True when the binary runs in a mount namespace of its own (the crun wrapper)
    private_mount_ns: bool = False

    def in_private_mount_ns(self) -> Runtime:
        """This runtime (same --root) run through a wrapper that gives every call a private
        mount namespace of its own, so nothing it mounts there reaches the caller's; the
        namespace lives as long as a process in it (the container) does."""
        wrapper = Path(self.root).parent / f"{self.name}-private-mntns"
        log = f"{wrapper}.log"
        wrapper.write_text(PRIVATE_MOUNT_NS_WRAPPER.format(binary=self.binary, log=log,
                                                           name=self.name))
        wrapper.chmod(0o755)
        return Runtime(name=self.name, binary=str(wrapper), root=self.root,
                       private_mount_ns=True)

    def mount_ns_of_call(self, *args: str) -> str:
        """The mount namespace link a wrapped call whose arguments end with ``args`` ran in
        (see in_private_mount_ns)."""
        log = Path(f"{self.binary}.log")
        tail = " ".join(args)
        found = [line.split(" ", 1)[0] for line in log.read_text().splitlines()
                 if line.endswith(" " + tail)]
        assert len(found) == 1, f"want one call ending with {tail!r} in {log}, got {found}"
        return found[0]

    def argv(self, *args: str, global_flags: tuple[str, ...] = ()) -> list[str]:
        return [self.binary, "--root", self.root, *global_flags, *args]

    def cmd(
        self,
        *args: str,
        input: bytes | None = None,
        stdin: int | None = None,
        global_flags: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        pass_fds: tuple[int, ...] = (),
        cwd: str | None = None,
        timeout: float = COMMAND_TIMEOUT,
        stdout: IO[bytes] | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run one runtime command; stdout/stderr captured, never raises on failure.

        Output goes to temporary files, not pipes: a created container inherits the runtime's
        stdio and would keep a pipe open long after the runtime exited. With `stdout` given, the
        runtime (and so a created container) writes there instead and stdout comes back empty.
        """
        if input is None and stdin is None:
            stdin = subprocess.DEVNULL
        argv = self.argv(*args, global_flags=global_flags)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.run(
                argv,
                input=input,
                stdin=stdin,
                stdout=stdout if stdout is not None else out,
                stderr=err,
                env=env if env is not None else base_env(),
                pass_fds=pass_fds,
                cwd=cwd,
                timeout=timeout,
                check=False,
            )
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(argv, proc.returncode, out.read(), err.read())


def base_env() -> dict[str, str]:
    """A small, PATH-carrying environment (podman gives runtimes even less)."""
    keep = ("PATH", "LANG", "HOME")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    return env


def install_pyrunc(dest_dir: Path, rev: str | None = None) -> str:
    """Write pyrunc's lean launcher into dest_dir and return its path: for this checkout's work
    tree, or (rev given) for that git revision's runtime/ exported under dest_dir."""
    dest = dest_dir / "pyrunc"
    runtime_root = REPO / "runtime"
    if rev:
        export = dest_dir / f"pyrunc-{rev}"
        export.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "runtime"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(export)], input=archive, check=True)
        runtime_root = export / "runtime"
    env = dict(os.environ)
    env["PYTHONPATH"] = str(runtime_root)
    subprocess.run(
        [sys.executable, "-m", "pyrunc.launcher", str(dest)],
        env=env,
        check=True,
        capture_output=True,
    )
    return str(dest)


def install_crun_wrapper(dest_dir: Path) -> str:
    dest = dest_dir / "crun"
    dest.write_text(CRUN_WRAPPER.format(crun=CRUN))
    dest.chmod(dest.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(dest)


def resolve_runtime(spec: str, workdir: Path, pyrunc_rev: str | None = None) -> Runtime:
    """Turn the --runtime option (pyrunc|runc|crun|/abs/path) into a Runtime with its own root."""
    if spec == "pyrunc":
        binary = install_pyrunc(workdir, pyrunc_rev)
    elif spec == "runc":
        binary = RUNC
    elif spec == "crun":
        binary = install_crun_wrapper(workdir)
    elif os.path.isabs(spec):
        binary = spec
    else:
        found = shutil.which(spec)
        if not found:
            raise ValueError(f"--runtime {spec}: not pyrunc, runc, crun or an executable path")
        binary = found
    name = spec if spec in ("pyrunc", "runc", "crun") else os.path.basename(spec)
    root = workdir / f"root-{name}"
    root.mkdir(parents=True, exist_ok=True)
    return Runtime(name=name, binary=binary, root=str(root), private_mount_ns=spec == "crun")
