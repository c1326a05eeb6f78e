"""containerd's Go shim (containerd-shim-runc-v2) started the way containerd 1.6 starts it, for
tests of our ttrpc against a real peer.

`start` runs in the bundle directory with -namespace, -address (containerd's gRPC address: the
shim only derives its socket name from it and never dials it), -publish-binary and -id, and
TTRPC_ADDRESS in its environment: the ttrpc server the shim forwards its events to (ours, here).
It prints the address of the ttrpc socket it serves. Everything is cleaned up by id and path:
runc's state under /run/containerd/runc/<namespace>, the shim process (by pid), its socket.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

SHIM = "/usr/bin/containerd-shim-runc-v2"
MKROOTFS = Path(__file__).resolve().parents[3] / "tools" / "mkrootfs-busybox"
RUNC_STATE = Path("/run/containerd/runc")


def write_bundle(bundle: Path, args: list[str]) -> None:
    """An OCI bundle: busybox rootfs and runc's default spec (new namespaces, a private
    network namespace with nothing in it) running `args` without a terminal."""
    subprocess.run([str(MKROOTFS), str(bundle / "rootfs")], check=True)
    subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True)
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = args
    config["root"] = {"path": "rootfs", "readonly": False}
    (bundle / "config.json").write_text(json.dumps(config))


@dataclass
class GoShim:
    bundle: Path
    events_address: str  # our ttrpc events server (TTRPC_ADDRESS)
    namespace: str = field(default_factory=lambda: f"pyttrpc-{uuid.uuid4().hex[:12]}")
    id: str = field(default_factory=lambda: f"ttrpc-{uuid.uuid4().hex[:12]}")
    address: str = ""  # the shim's ttrpc socket path, once started
    pid: int = 0  # the shim daemon's pid, once known
    log: str = ""
    log_fd: int | None = None  # our read end of the shim's log fifo

    def _argv(self, *tail: str) -> list[str]:
        # The gRPC address is never dialled by the runc shim (it names the socket after it);
        # it points into the bundle so nothing of a real containerd is touched.
        return [SHIM, "-namespace", self.namespace, "-address", str(self.bundle / "grpc.sock"),
                "-publish-binary", "/usr/bin/containerd", "-id", self.id, *tail]

    def start(self) -> str:
        # containerd opens the shim's "log" fifo for reading before starting it; so do we.
        os.mkfifo(self.bundle / "log")
        self.log_fd = os.open(self.bundle / "log", os.O_RDONLY | os.O_NONBLOCK)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TTRPC_ADDRESS": self.events_address,
               "GOMAXPROCS": "2"}
        result = subprocess.run(self._argv("start"), cwd=self.bundle, env=env,
                                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, f"shim start failed: {result.stdout}{result.stderr}"
        address = result.stdout.strip()
        assert address.startswith("unix://"), address
        self.address = address.removeprefix("unix://")
        with contextlib.suppress(FileNotFoundError, ValueError):
            self.pid = int((self.bundle / "shim.pid").read_text())
        return self.address

    def read_log(self) -> str:
        if self.log_fd is not None:
            with contextlib.suppress(BlockingIOError):
                while chunk := os.read(self.log_fd, 65536):
                    self.log += chunk.decode(errors="replace")
        return self.log

    def alive(self) -> bool:
        if not self.pid:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def cleanup(self) -> None:
        root = RUNC_STATE / self.namespace
        if root.exists():
            subprocess.run(["runc", "--root", str(root), "delete", "--force", self.id],
                           capture_output=True, check=False)
            shutil.rmtree(root, ignore_errors=True)
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        if self.address:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.address)
        self.read_log()
        if self.log_fd is not None:
            os.close(self.log_fd)
            self.log_fd = None
