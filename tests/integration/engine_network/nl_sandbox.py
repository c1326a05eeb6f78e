"""A stand-in for a container's network namespace in the network domain's tests: a `sleep`
process alone in a new network namespace, ended by pid."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time


class Sandbox:
    """A process alone in a new network namespace; `fd` is its /proc/PID/ns/net."""

    def __init__(self) -> None:
        from pyengine.network.nsenter import open_netns

        self.proc = subprocess.Popen(["unshare", "--net", "sleep", "600"])
        deadline = time.monotonic() + 30
        mine = os.readlink("/proc/thread-self/ns/net")
        while os.readlink(f"/proc/{self.proc.pid}/ns/net") == mine:  # before its unshare
            assert time.monotonic() < deadline, "unshare --net did not happen"
            time.sleep(0.01)
        self.pid = self.proc.pid
        self.fd = open_netns(self.pid)

    def end(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def ip_json(*args: str, pid: int = 0) -> list[dict]:
    """`ip -j ARGS` here, or in process `pid`'s network namespace."""
    prefix = ["nsenter", "-t", str(pid), "-n"] if pid else []
    out = subprocess.run([*prefix, "ip", "-j", *args], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out or "[]")


def links(pid: int = 0) -> dict[str, dict]:
    return {link["ifname"]: link for link in ip_json("-d", "link", "show", pid=pid)}
