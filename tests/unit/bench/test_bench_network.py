"""tools/bench/network.py's own parts, without root: its server and clients talking over
127.0.0.1, the python image's content, reading addresses from an inspect, ratio targets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tools" / "bench"))

import network  # noqa: E402 - tools/bench/network.py


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server() -> Iterator[tuple[int, int]]:
    """network_server.py under Debian's python3.11 on two free loopback ports."""
    if not os.access(network.DEBIAN_PYTHON, os.X_OK):
        pytest.fail(f"{network.DEBIAN_PYTHON} is missing: the bench's image is built from it")
    sink, echo = free_port(), free_port()
    proc = subprocess.Popen([network.DEBIAN_PYTHON, "-I", "-S", "-B", str(network.SERVER),
                             "127.0.0.1", str(sink), str(echo)], start_new_session=True,
                            stdin=subprocess.DEVNULL)
    try:
        network.wait_for_echo(("127.0.0.1", echo), timeout=30)
        yield sink, echo
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # it and the half it forked
        proc.wait()


def test_sink_counts_every_byte_sent(server: tuple[int, int]) -> None:
    sink, _ = server
    rate = network.send_for(("127.0.0.1", sink), 0, 8 << 20)  # 8 MiB: send_for checks the count
    assert rate > 0


def test_echo_answers_each_connection(server: tuple[int, int]) -> None:
    _, echo = server
    times = network.echo_times(("127.0.0.1", echo), 25)
    assert len(times) == 25 and all(t > 0 for t in times)


def test_sink_reports_a_short_count_as_an_error(server: tuple[int, int]) -> None:
    sink, _ = server
    with socket.create_connection(("127.0.0.1", sink)) as sock:
        sock.sendall(b"abc")
        sock.shutdown(socket.SHUT_WR)
        assert int.from_bytes(network._recv_exact(sock, 8), "big") == 3


def test_python_image_has_the_interpreter_its_libraries_and_the_server(tmp_path: Path) -> None:
    busybox = tmp_path / "busybox.tar"
    with tarfile.open(busybox, "w") as tar:
        for name in ("./bin", "./usr", "./usr/bin"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
    out = tmp_path / "python.tar"
    network.build_python_rootfs(busybox, out)
    with tarfile.open(out) as tar:
        members = tar.getmembers()
    names = [m.name.removeprefix("./") for m in members]
    assert len(names) == len(set(names)), "a path added twice"
    for wanted in ("usr/bin/python3.11", "srv/network_server.py", "usr/lib/python3.11/socket.py",
                   "usr/lib/python3.11/selectors.py", "usr/lib/python3.11/lib-dynload"):
        assert wanted in names
    ldd = subprocess.run(["ldd", network.DEBIAN_PYTHON], capture_output=True, text=True,
                         check=True).stdout
    for library in (w for line in ldd.splitlines() for w in line.split() if w.startswith("/")):
        member = members[names.index(library.lstrip("/"))]
        assert member.isfile(), f"{library} must be a file in the image, not a link"
    seen: set[str] = set()
    for name in names:  # every parent directory comes before what it holds
        parent = name.rsplit("/", 1)[0] if "/" in name else ""
        assert not parent or parent in seen, f"{name} before its directory"
        seen.add(name)
    assert all(m.uid == 0 and m.gid == 0 for m in members)


def test_container_ip_reads_docker_shaped_inspect() -> None:
    def inspect(settings: dict[str, object]) -> str:
        return json.dumps([{"Id": "x", "NetworkSettings": settings}])

    assert network.container_ip(inspect({"Networks": {"bridge": {"IPAddress": "172.17.0.2"}},
                                         "IPAddress": ""})) == "172.17.0.2"
    assert network.container_ip(inspect({"Networks": {"a": {"IPAddress": ""}},
                                         "IPAddress": "10.88.0.5"})) == "10.88.0.5"
    with pytest.raises(network.env.DropinError, match="no container address"):
        network.container_ip(inspect({"Networks": {}}))


@pytest.mark.parametrize(("label", "value", "met"), [
    ("pyctl published / pyctl direct (>= 0.8)", 0.81, True),
    ("pyctl published / pyctl direct (>= 0.8)", 0.79, False),
    ("pyctl bridge / faster peer bridge (<= 1.0)", 1.0, True),
    ("pyctl bridge / faster peer bridge (<= 1.0)", 1.2, False),
    ("pyctl connect / docker connect", 2.0, None),
    ("pyctl published / pyctl direct (>= 0.8)", None, None),
])
def test_target_met(label: str, value: float | None, met: bool | None) -> None:
    assert network.target_met(label, value) is met


def test_table_puts_the_managers_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    network.print_table({
        "throughput": {"gbit_s": {"pyctl published": 20.0, "pyctl direct": 21.0,
                                  "podman published": 22.0},
                       "ratios": {"pyctl published / podman published (>= 1.0)": 0.95,
                                  "pyctl published / pyctl direct (>= 0.8)": 0.5},
                       "ratio_ranges": {"pyctl published / podman published (>= 1.0)":
                                        [0.9, 1.04],
                                        "pyctl published / pyctl direct (>= 0.8)": [0.4, 0.6]}},
        "run": {"ms": {"pyctl bridge": 130.0, "podman bridge": 300.0, "docker none": 230.0},
                "bridge_minus_none_ms": {}, "ratios": {
                    "pyctl bridge / faster peer bridge (<= 1.0)": 0.43},
                "errors": {"pyctl none": "DropinError: boom"}},
    })
    out = capsys.readouterr().out
    pyctl_row = next(line for line in out.splitlines() if line.strip().startswith("pyctl "))
    assert pyctl_row.split()[1:3] == ["20.0", "21.0"]
    bridge_row = next(line for line in out.splitlines() if "--network bridge" in line)
    assert bridge_row.split()[2:] == ["130.0", "300.0", "-"]
    assert "(rounds 0.9-1.04)  MISSED (some rounds met it: within the noise)" in out
    assert "(rounds 0.4-0.6)  MISSED\n" in out
    assert "faster peer bridge (<= 1.0): 0.43  ok" in out
    assert "run: pyctl none left out: DropinError: boom" in out
