"""The server of tools/bench/network.py, run inside the containers (and once on the daemon's side
as the loopback reference) by Debian's python3.11: standard library only, nothing else imported.

  python3 network_server.py [HOST] [SINK_PORT] [ECHO_PORT]   (default 0.0.0.0 5001 5002)

SINK_PORT: per connection, reads until EOF into a 4 MiB buffer, then answers the byte count (8
bytes, big-endian) and closes: the client's clock stops when everything it sent has arrived.
ECHO_PORT: per connection, reads one byte, sends it back and closes (connect latency).
One process each (fork), one connection at a time: the clients are sequential.
"""

import os
import socket
import sys


def listener(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def sink(sock: socket.socket) -> None:
    buf = bytearray(4 << 20)
    while True:
        conn, _ = sock.accept()
        try:
            total = 0
            while True:
                got = conn.recv_into(buf)
                if not got:
                    break
                total += got
            conn.sendall(total.to_bytes(8, "big"))
        except OSError:
            pass
        finally:
            conn.close()


def echo(sock: socket.socket) -> None:
    while True:
        conn, _ = sock.accept()
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            data = conn.recv(1)
            if data:
                conn.sendall(data)
        except OSError:
            pass
        finally:
            conn.close()


def main() -> None:
    host = sys.argv[1] if len(sys.argv) > 1 else "0.0.0.0"
    sink_port = int(sys.argv[2]) if len(sys.argv) > 2 else 5001
    echo_port = int(sys.argv[3]) if len(sys.argv) > 3 else 5002
    sinks, echoes = listener(host, sink_port), listener(host, echo_port)
    if os.fork() == 0:
        echoes.close()
        sink(sinks)
    else:
        sinks.close()
        echo(echoes)


if __name__ == "__main__":
    main()
