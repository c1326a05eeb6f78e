"""Helpers of the network tests: sockets opened inside a container's network namespace, clean-up
of containers and user networks, the kernel's network state of the daemon's namespace."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

from ctr_harness import ContainerEngine, cleanup


def remove_everything(engine: ContainerEngine) -> None:
    """Every container, then every user-defined network, of a running daemon."""
    if engine.process is None or engine.process.poll() is not None:
        return
    ids = engine.ids()
    if ids:
        engine.pyctl("rm", "-f", *ids)
    result = engine.pyctl("network", "ls", "-q", "--filter", "type=custom")
    names = result.stdout.decode().split() if result.returncode == 0 else []
    if names:
        engine.pyctl("network", "rm", *names)


def pid_of(engine: ContainerEngine, name: str) -> int:
    return int(engine.out("inspect", "-f", "{{.State.Pid}}", name).strip())


def inspect(engine: ContainerEngine, name: str) -> dict:
    return json.loads(engine.out("inspect", name))[0]


def ip_of(engine: ContainerEngine, name: str, network: str = "") -> str:
    doc = inspect(engine, name)["NetworkSettings"]
    return doc["Networks"][network]["IPAddress"] if network else doc["IPAddress"]


def _in_netns(pid: int, family: int, kind: int) -> socket.socket:
    """A socket made inside the network namespace of `pid` (it stays there), through the
    engine's own nsenter (a short thread that setns()'d there)."""
    from pyengine.network.nsenter import open_netns, run_in_netns

    fd = open_netns(pid)
    try:
        return run_in_netns(fd, lambda: socket.socket(family, kind))
    finally:
        os.close(fd)


@contextlib.contextmanager
def udp_echo(pid: int, port: int) -> Iterator[None]:
    """A UDP server on 0.0.0.0:`port` of the container `pid`'s namespace answering each
    datagram with b"echo:" + it (busybox has no UDP server)."""
    sock = _in_netns(pid, socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", port))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            sock.sendto(b"echo:" + data, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        sock.close()


def udp_ask(host: str, port: int, data: bytes, tries: int = 20) -> bytes:
    """One UDP exchange with retries (a datagram may be sent before the DNAT rule's conntrack
    entry settles); the answer, or TimeoutError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(1)
        for _ in range(tries):
            sock.sendto(data, (host, port))
            try:
                return sock.recvfrom(2048)[0]
            except TimeoutError:
                continue
    raise TimeoutError(f"no UDP answer from {host}:{port}")


HTTPD = ["sh", "-c", "mkdir -p /www && echo hello from $HOSTNAME > /www/index.html && "
         "exec httpd -f -p 80 -h /www"]


def http_get(host: str, port: int, tries: int = 50) -> str:
    """The page at http://host:port/, retried while the server comes up (connection refused:
    httpd not listening yet)."""
    import time
    import urllib.error
    import urllib.request

    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    for attempt in range(tries):
        try:
            with urllib.request.urlopen(f"http://{where}/", timeout=10) as answer:
                return str(answer.read().decode())
        except (urllib.error.URLError, ConnectionError):
            if attempt == tries - 1:
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")


def link_names() -> set[str]:
    """Links of the calling thread's network namespace (the module's, the daemon's)."""
    out = subprocess.run(["ip", "-j", "link"], capture_output=True, check=True).stdout
    return {link["ifname"] for link in json.loads(out)}


def nat_rules() -> list[str]:
    out = subprocess.run(["iptables-save", "-t", "nat"], capture_output=True, check=True)
    return [line for line in out.stdout.decode().splitlines() if line.startswith("-A")]


@contextlib.contextmanager
def network_engine(launcher: Path, busybox_tar: Path, **config: object
                   ) -> Iterator[ContainerEngine]:
    """A daemon in the module's network namespace (127.0.0.1 and published ports are the
    test's) with the busybox image; its embedded DNS forwards to 127.0.0.1:9 there (nothing
    answers: no query leaves the namespace). Containers, user networks and the daemon are
    removed afterwards, also when the test failed."""
    from engine_harness import new_base

    engine = ContainerEngine(new_base(), {"default-runtime": str(launcher),
                                          "dns-upstream": ["127.0.0.1:9"], **config})
    engine.module_network = True
    engine.launcher = launcher  # type: ignore[attr-defined]  # for cleanup
    try:
        engine.start()
        engine.pyctl("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest",
                     check=True)
        yield engine
    finally:
        remove_everything(engine)
        cleanup(engine)
