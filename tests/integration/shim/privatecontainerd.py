"""A private containerd 1.6 (own root, state, sockets under a scratch directory; CRI and the opt
directory plugin off) for tests that need containerd's own ttrpc endpoints."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path


class PrivateContainerd:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.address = str(base / "c.sock")
        self.ttrpc_address = self.address + ".ttrpc"
        self.log_path = base / "containerd.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        config = self.base / "config.toml"
        config.write_text(
            "version = 2\n"
            f'root = "{self.base}/root"\n'
            f'state = "{self.base}/state"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt"]\n'
            f'[grpc]\n  address = "{self.address}"\n'
            f'[ttrpc]\n  address = "{self.ttrpc_address}"\n'
            f'[debug]\n  address = "{self.base}/debug.sock"\n'
        )
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                ["containerd", "--config", str(config)], stdout=log, stderr=log,
                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        deadline = time.monotonic() + 60  # a bound on start-up, not a measurement
        while not os.path.exists(self.ttrpc_address) or not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"containerd did not start: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        return subprocess.run(self.ctr_argv("version"), capture_output=True,
                              check=False).returncode == 0

    def ctr_argv(self, *args: str) -> list[str]:
        return ["ctr", "--address", self.address, *args]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.ttrpc_address)
