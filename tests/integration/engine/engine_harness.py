"""Start a real pyengined on a private socket and data root; run pyctl against it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc

REPO = Path(__file__).resolve().parents[3]
PYTHONPATH = f"{REPO / 'engine'}:{REPO / 'runtime'}:{REPO}"
START_TIMEOUT = 30.0


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = PYTHONPATH + (":" + out["PYTHONPATH"] if out.get("PYTHONPATH") else "")
    return out


@dataclass
class Engine:
    """One pyengined process; `base` holds data/, run/ and the client config dir."""

    base: Path
    config: dict = field(default_factory=dict)
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None
    # how pyengined is started: the checkout's code on this interpreter, or an installed launcher
    program: list[str] = field(default_factory=lambda: [sys.executable, "-m", "pyengine.daemon"])

    @property
    def data_root(self) -> Path:
        return self.base / "data"

    @property
    def exec_root(self) -> Path:
        return self.base / "run"

    @property
    def socket(self) -> Path:
        return self.exec_root / "pyengine.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def log_path(self) -> Path:
        return self.base / "daemon.log"

    def command(self) -> list[str]:
        cmd = [*self.program, "-H", self.host,
               "--data-root", str(self.data_root), "--exec-root", str(self.exec_root),
               "--log-level", "debug", *self.extra_args]
        if self.config:
            path = self.base / "daemon.json"
            path.write_text(json.dumps(self.config))
            cmd += ["--config-file", str(path)]
        return cmd

    def start(self) -> Engine:
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            self.process = subprocess.Popen(self.command(), env=env(), stdout=log, stderr=log,
                                            start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pyengined exited {self.process.returncode}:\n{self.log()}")
            if self.socket.exists() and self.ping():
                return self
            time.sleep(0.05)
        raise RuntimeError(f"pyengined did not start:\n{self.log()}")

    def ping(self) -> bool:
        from pyengine.api import system_pb2, system_pb2_grpc

        with grpc.insecure_channel(f"unix:{self.socket}") as channel:
            try:
                system_pb2_grpc.SystemServiceStub(channel).Ping(system_pb2.PingRequest(),
                                                                timeout=2)
                return True
            except grpc.RpcError:
                return False

    def log(self) -> str:
        try:
            return self.log_path.read_text()[-4000:]
        except OSError:
            return ""

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit; returns the exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def pyctl(self, *args: str, input: bytes | None = None, check: bool = False,
              extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        run_env = env()
        run_env["PYENGINE_HOST"] = self.host
        run_env["PYCTL_CONFIG"] = str(self.base / "client")
        run_env.update(extra_env or {})
        result = subprocess.run(
            [sys.executable, "-m", "pyengine.cli", *args], env=run_env, input=input,
            capture_output=True, timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"pyctl {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout.decode()}\n{result.stderr.decode()}"
            )
        return result

    def out(self, *args: str) -> str:
        return self.pyctl(*args, check=True).stdout.decode()

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(f"unix:{self.socket}")

    def blobs(self) -> set[str]:
        root = self.data_root / "content" / "blobs" / "sha256"
        return {"sha256:" + p.name for p in root.iterdir()} if root.exists() else set()

    def ingests(self) -> list[Path]:
        root = self.data_root / "content" / "ingest"
        return list(root.iterdir()) if root.exists() else []


def new_base() -> Path:
    """A short directory path: unix socket paths are limited to 107 bytes."""
    return Path(tempfile.mkdtemp(prefix="pe-", dir="/tmp"))
