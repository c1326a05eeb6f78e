"""The OCI runtime behind the shim, called through runc's command line: pyrunc by default,
runc or crun when the Create request's containerd.runc.v1.Options names one (`ctr run
--runc-binary`). The runtime's own failures come back as RuntimeFailed with its last error
line (from its --log JSON for create and exec, whose stdio belong to the container).

Children are spawned with posix_spawn and their exits collected by the shim's reaper (a
subreaper reaping with waitpid(-1), so nothing else may wait for them).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from .reaper import Reaper
from .settings import DEFAULT_BINARY, PATH
from .ttrpc import errors


class RuntimeFailed(errors.Unknown):
    """`<binary> <verb> <id>` exited non-zero; the message carries the runtime's error (what
    containerd's runc shim answers: status Unknown)."""


@dataclass(frozen=True)
class Stdio:
    """File descriptors the runtime's child gets as 0, 1, 2."""

    stdin: int
    stdout: int
    stderr: int


class Runtime:
    def __init__(self, reaper: Reaper, binary: str, root: str, log_path: str) -> None:
        self.reaper = reaper
        self.binary = binary or DEFAULT_BINARY
        self.root = root
        self.log_path = log_path  # the runtime's --log (JSON lines)

    def _argv(self, *args: str) -> list[str]:
        return [self.binary, "--root", self.root, "--log", self.log_path,
                "--log-format", "json", *args]

    async def _run(self, args: list[str], stdio: Stdio | None = None) -> str:
        """Run the runtime; its output when it succeeds, RuntimeFailed when it does not."""
        read_end, write_end = os.pipe()
        env = {"PATH": os.environ.get("PATH") or PATH}  # containerd's, with its opt/bin
        if stdio is None:
            devnull = os.open(os.devnull, os.O_RDONLY)
            actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, write_end, 1),
                       (os.POSIX_SPAWN_DUP2, write_end, 2)]
        else:
            devnull = -1
            actions = [(os.POSIX_SPAWN_DUP2, stdio.stdin, 0),
                       (os.POSIX_SPAWN_DUP2, stdio.stdout, 1),
                       (os.POSIX_SPAWN_DUP2, stdio.stderr, 2)]
        argv = self._argv(*args)
        log_offset = _size(self.log_path)
        try:
            pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions)
        except OSError as e:
            os.close(read_end)
            raise RuntimeFailed(f"{argv[0]} {args[0]}: cannot run: {e.strerror}") from None
        finally:
            os.close(write_end)
            if devnull >= 0:
                os.close(devnull)
        status = self.reaper.watch(pid)
        output = await _read_all(read_end)
        code = await status
        if code != 0:
            raise RuntimeFailed(f"{os.path.basename(self.binary)} {args[0]} "
                                f"{args[-1]}: {self.last_error(output, log_offset)}")
        return output

    def last_error(self, output: str, offset: int = 0) -> str:
        """The runtime's last error: the last "msg" its --log got (JSON lines) after `offset`,
        else its last line of output."""
        msg = ""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                for raw in log:
                    line = raw.decode(errors="replace")
                    start = line.find('"msg":"')
                    if start >= 0 and '"level":"error"' in line:
                        rest = line[start + 7:]
                        msg = rest[:rest.find('","') if '","' in rest else rest.rfind('"')]
        except OSError:
            pass
        if msg:
            return msg.replace('\\"', '"')
        lines = output.strip().splitlines()
        return lines[-1] if lines else "exited non-zero with no message"

    async def create(self, container_id: str, bundle: str, pid_file: str, stdio: Stdio,
                     console_socket: str | None) -> None:
        args = ["create", "--bundle", bundle, "--pid-file", pid_file]
        if console_socket:
            args += ["--console-socket", console_socket]
        await self._run([*args, container_id], stdio)

    async def exec(self, container_id: str, process_file: str, pid_file: str, stdio: Stdio,
                   console_socket: str | None) -> None:
        args = ["exec", "--process", process_file, "--detach", "--pid-file", pid_file]
        if console_socket:
            args += ["--console-socket", console_socket]
        await self._run([*args, container_id], stdio)

    async def start(self, container_id: str) -> None:
        await self._run(["start", container_id])

    async def kill(self, container_id: str, signal: int, all_processes: bool) -> None:
        await self._run(["kill", *(["--all"] if all_processes else []), container_id,
                         str(signal)])

    async def delete(self, container_id: str, force: bool = False) -> None:
        await self._run(["delete", *(["--force"] if force else []), container_id])

    async def pause(self, container_id: str) -> None:
        await self._run(["pause", container_id])

    async def resume(self, container_id: str) -> None:
        await self._run(["resume", container_id])

    async def update(self, container_id: str, resources_file: str) -> None:
        await self._run(["update", "--resources", resources_file, container_id])

    async def ps(self, container_id: str) -> list[int]:
        out = await self._run(["ps", "--format", "json", container_id])
        inner = out.strip().strip("[]").strip()
        return [int(p) for p in inner.split(",")] if inner and inner != "null" else []


async def _read_all(fd: int) -> str:
    """Everything from a pipe until its end, without blocking the loop."""
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)
    chunks: list[bytes] = []
    done: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        if data:
            chunks.append(data)
        elif not done.done():
            done.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await done
    finally:
        loop.remove_reader(fd)
        os.close(fd)
    return b"".join(chunks).decode(errors="replace")


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
