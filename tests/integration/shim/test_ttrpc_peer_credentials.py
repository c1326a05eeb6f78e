"""A server made with same_user_only (as containerd's shims and containerd's ttrpc endpoint
require) answers a process of its own user and disconnects one of another user, told apart by
the kernel's SO_PEERCRED."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from pyengine.shim.ttrpc import codec, framing
from pyengine.shim.ttrpc.server import Context, Server, UnaryMethod

pytestmark = [pytest.mark.root]

NOBODY = 65534
# A raw ttrpc client in the standard library only, run by the distribution's python (readable
# by any user): sends one frame, prints the first frame back as hex, or EOF when the server
# closes the connection (seen as end of file, a reset or a broken pipe, depending on timing).
RAW_CLIENT = """
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
data = b""
try:
    s.sendall(bytes.fromhex(sys.argv[2]))
    while len(data) < 10 or len(data) < 10 + struct.unpack(">I", data[:4])[0]:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionResetError
        data += chunk
except (BrokenPipeError, ConnectionResetError):
    print("EOF")
    sys.exit(0)
print(data.hex())
"""


async def _echo(ctx: Context, payload: bytes) -> bytes:
    return payload


async def _raw_call(path: Path, request: bytes, user: int | None) -> str:
    kwargs = {} if user is None else {"user": user, "group": user, "extra_groups": []}
    proc = await asyncio.create_subprocess_exec(
        "/usr/bin/python3", "-c", RAW_CLIENT, str(path), request.hex(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, **kwargs)  # type: ignore[arg-type]  # mixed kwargs
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode().strip()


def test_same_user_only_refuses_another_user(scratch: Path) -> None:
    scratch.chmod(0o755)  # so that nobody can reach the socket and be refused by us
    path = scratch / "s.sock"
    request = framing.encode(1, framing.REQUEST, 0, codec.encode_request(
        codec.Request("test.v1.Creds", "Echo", b"hi")))

    async def main() -> None:
        logged: list[str] = []
        server = Server(log=logged.append, same_user_only=True)
        server.register("test.v1.Creds", {"Echo": UnaryMethod(_echo)})
        await server.listen(str(path))
        os.chmod(path, 0o777)
        try:
            answer = bytes.fromhex(await _raw_call(path, request, user=None))
            assert answer == framing.encode(1, framing.RESPONSE, 0, codec.encode_response(
                codec.Response(payload=b"hi")))
            assert await _raw_call(path, request, user=NOBODY) == "EOF"
            assert len(logged) == 1 and f"(uid {NOBODY}, gid {NOBODY})" in logged[0], logged
            assert "not this server's user" in logged[0]
        finally:
            await server.close()

    asyncio.run(main())
