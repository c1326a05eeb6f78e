"""A differential harness for the docker CLI: the same client session against a private dockerd
20.10 (the reference) and against pyengined's Docker Engine API, compared step by step.

Each side is a daemon in a network namespace of its own (made here: pytest's thread enters a
fresh namespace while it starts the side's processes, tests/fixtures/netns.py) with a private
data root, and a docker-registry of its own on 127.0.0.1:5000 in that namespace (the same name
on both sides, so `docker push 127.0.0.1:5000/...` reads the same; each registry serves only its
daemon). Both hold the same busybox image: dockerd imports tools/mkimage-busybox's rootfs and
saves it as a docker-archive, pyengined `pyctl load`s that archive (the same image ID on both).

A session is a list of `Step`s: a shell command line run with the docker CLI 28 on PATH and
DOCKER_HOST pointing at the side, in the side's work directory (identical relative paths), with
stdin bytes or a pty (an expect/send script); the runner records exit code, stdout and stderr.
An earlier step's stripped stdout captured (`capture="NAME"`) is in the environment of the
later ones as $NAME, and $NSENTER runs a command in the side's network namespace.
`Normaliser` replaces what legitimately differs between two daemons (ids, times, durations,
sizes, host ports, addresses, paths of the data root) by stable placeholders: ids become the
name of the object they belong to where it is known (`<ctr:web>`), else the order they were
first seen in (`<id:3>`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tools" / "bench"))
sys.path.insert(0, str(REPO / "tests" / "integration" / "engine_containers"))
sys.path.insert(0, str(REPO / "tests" / "integration" / "engine"))

from ctr_harness import ContainerEngine, busybox_rootfs, cleanup, install_launcher  # noqa: E402

from engine import Dockerd  # noqa: E402 - tools/bench/engine.py's private dockerd
from tests.fixtures.netns import entered  # noqa: E402
from tests.fixtures.registry import RegistryServer  # noqa: E402

DOCKER_CLI = "/usr/local/bin/docker"  # the docker CLI 28 (Debian's 20.10 client is /usr/bin)
REGISTRY_PORT = 5000  # in each side's own network namespace
STEP_TIMEOUT = 20.0  # a step that hangs fails with what it printed so far
PTY_ROWS, PTY_COLS = 24, 80
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


# -- sessions ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One command line of a session. `exit` is what the reference must answer (the session is
    checked against dockerd first); `pty` is a script of (expect, send) pairs played on a
    terminal: wait until `expect` was printed, then type `send`."""

    key: str
    cmd: str
    exit: int = 0
    stdin: bytes | None = None
    pty: tuple[tuple[bytes, bytes], ...] | None = None
    capture: str | None = None
    subs: tuple[tuple[str, str], ...] = ()  # the step's own normalising regexes
    sort: bool = False  # compare stdout's lines as a set (an order neither daemon promises)


@dataclass
class Result:
    exit: int
    stdout: str
    stderr: str

    def fields(self) -> dict[str, object]:
        return {"exit": self.exit, "stdout": self.stdout, "stderr": self.stderr}


# -- normalising ---------------------------------------------------------------------------------
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
HUMAN_TIME = re.compile(
    r"\b(Less than a second|About a minute|About an hour|an? (second|minute|hour)|"
    r"\d+ (seconds|minutes|hours|second|minute|hour))\b")
SIZE = re.compile(r"\b\d+(\.\d+)?\s?(B|kB|KB|MB|GB|KiB|MiB|GiB|TiB)\b")
PERCENT = re.compile(r"\b\d+\.\d+%")
HOST_PORT = re.compile(r"(?<=:)(3[2-9]\d{3}|[4-5]\d{4}|60\d{3})\b")
IPV4 = re.compile(r"\b(?:172|10)\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")
LONG_HEX = re.compile(r"(sha256:)?\b[0-9a-f]{64}\b")
SHORT_HEX = re.compile(r"\b[0-9a-f]{12}\b")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BARE_PROMPT = re.compile(r"^\S* # ?$")


@dataclass
class Normaliser:
    """Per side: ids known by name (refreshed from the daemon when an unknown one appears),
    unknown ids and addresses numbered in the order they were first seen."""

    lookup: Callable[[], dict[str, str]]  # full id -> "<ctr:NAME>" etc.
    paths: dict[str, str] = field(default_factory=dict)  # a side's path -> placeholder
    known: dict[str, str] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)

    def _label(self, token: str) -> str:
        hexid = token.removeprefix("sha256:")
        for attempt in range(2):
            for full, label in self.known.items():
                if full.startswith(hexid):
                    return label
            if attempt == 0:
                self.known.update(self.lookup())
        if hexid not in self.seen:
            # a short id of a full one seen before is the same object
            for full, label in self.seen.items():
                if full.startswith(hexid) or hexid.startswith(full):
                    return label
            self.seen[hexid] = f"<id:{len(self.seen) + 1}>"
        return self.seen[hexid]

    def _address(self, match: re.Match[str]) -> str:
        ip = match.group(0)
        if ip.endswith(".1") or ip.endswith(".0"):  # gateways, subnets: the same on both
            return ip
        return self.addresses.setdefault(ip, f"<ip:{len(self.addresses) + 1}>")

    def next_step(self) -> None:
        """Unknown ids and addresses are numbered within one step: a step more or less on one
        side must not renumber every later one."""
        self.seen.clear()
        self.addresses.clear()

    def __call__(self, text: str, subs: tuple[tuple[str, str], ...] = (),
                 terminal: bool = False) -> str:
        text = text.replace("\r\n", "\n")
        text = ANSI.sub("", text)
        if terminal:
            text = visible(text)
        for path, label in self.paths.items():
            text = text.replace(path, label)
        for pattern, replacement in subs:
            text = re.sub(pattern, replacement, text)
        text = LONG_HEX.sub(lambda m: self._label(m.group(0)), text)
        text = SHORT_HEX.sub(lambda m: self._label(m.group(0)), text)
        text = TIME.sub("<time>", text)
        text = HUMAN_TIME.sub("<dur>", text)
        text = SIZE.sub("<size>", text)
        text = PERCENT.sub("<pct>", text)
        text = HOST_PORT.sub("<port>", text)
        text = IPV4.sub(self._address, text)
        # table columns: their widths follow the (normalised) values
        return "\n".join(re.sub(r" {2,}", "  ", line).rstrip() for line in text.split("\n"))


def visible(transcript: str) -> str:
    """A terminal's lines as they show: a carriage return starts its line over (busybox sh
    redraws its prompt when the terminal is resized, which may come before or after the prompt),
    lines with a bare prompt dropped (one more or less of them is that race too)."""
    lines = (line.rsplit("\r", 1)[-1] for line in transcript.split("\n"))
    return "\n".join(line for line in lines if not BARE_PROMPT.match(line))


# -- a side --------------------------------------------------------------------------------------
@dataclass
class Side:
    """A daemon with its docker socket, its network namespace (a process in it) and a work
    directory the session runs in."""

    name: str
    socket: Path
    ns_pid: int
    work: Path
    data_root: Path
    normaliser: Normaliser = field(init=False)
    values: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.normaliser = Normaliser(self.ids, {str(self.data_root): "<data-root>",
                                                str(self.work): "<work>"})
        self.values["NSENTER"] = f"nsenter --net=/proc/{self.ns_pid}/ns/net"
        (self.work / "client").mkdir(parents=True, exist_ok=True)
        bin_dir = self.work / "bin"
        bin_dir.mkdir(exist_ok=True)
        with contextlib.suppress(FileExistsError):
            (bin_dir / "docker").symlink_to(DOCKER_CLI)

    @property
    def env(self) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        return dict(environ, DOCKER_HOST=f"unix://{self.socket}",
                    DOCKER_CONFIG=str(self.work / "client"), DOCKER_BUILDKIT="0",
                    PATH=f"{self.work / 'bin'}:{environ.get('PATH', '/usr/bin:/bin')}",
                    TERM="xterm", LC_ALL="C")

    def docker(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([DOCKER_CLI, *args], env=self.env, input=stdin,
                              capture_output=True, timeout=STEP_TIMEOUT, check=False)

    def ids(self) -> dict[str, str]:
        """Every object's full id -> a placeholder naming it."""
        found: dict[str, str] = {}
        for kind, args in (
                ("ctr", ("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}")),
                ("img", ("images", "--no-trunc", "--format",
                         "{{.ID}} {{.Repository}}:{{.Tag}}")),
                ("net", ("network", "ls", "--no-trunc", "--format", "{{.ID}} {{.Name}}"))):
            result = self.docker(*args)
            # images: the first tag in sorted order names it (dockerd lists an image's tags
            # in a random order)
            for line in sorted(result.stdout.decode().splitlines()):
                full, _, name = line.partition(" ")
                full = full.removeprefix("sha256:")
                if full and full not in found:
                    found[full] = f"<{kind}:{name}>"
        return found

    def play(self, step: Step) -> Result:
        cmd, environ = step.cmd, dict(self.env, **self.values)
        if step.pty is not None:
            code, out = run_pty(["sh", "-c", cmd], environ, self.work, step.pty)
            result = Result(code, out, "")
        else:
            result = run_piped(["sh", "-c", cmd], environ, self.work, step.stdin or b"")
        if step.capture:
            self.values[step.capture] = result.stdout.strip()
        normalise = self.normaliser
        normalise.next_step()
        stdout = normalise(result.stdout, step.subs, terminal=step.pty is not None)
        if step.sort:
            stdout = "\n".join(sorted(stdout.splitlines()))
        return Result(result.exit, stdout, normalise(result.stderr, step.subs))


def run_piped(argv: list[str], environ: dict[str, str], cwd: Path, stdin: bytes) -> Result:
    """`argv` with pipes, in a session of its own: one that hangs is ended with its children
    (the docker CLI under the shell) after STEP_TIMEOUT."""
    process = subprocess.Popen(argv, env=environ, cwd=cwd, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        out, err = process.communicate(stdin, timeout=STEP_TIMEOUT)
        code = process.returncode
    except subprocess.TimeoutExpired as expired:
        os.killpg(process.pid, signal.SIGKILL)
        try:
            out, err = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:  # a child in a group of its own holds the pipes
            process.stdout.close()  # type: ignore[union-attr]  # PIPE: never None here
            process.stderr.close()  # type: ignore[union-attr]
            process.wait()
            out, err = expired.stdout or b"", expired.stderr or b""
        code, err = -1, err + f"\n(timed out after {STEP_TIMEOUT}s)".encode()
    return Result(code, out.decode(errors="replace"), err.decode(errors="replace"))


def run_pty(argv: list[str], environ: dict[str, str], cwd: Path,
            script: tuple[tuple[bytes, bytes], ...]) -> tuple[int, str]:
    """`argv` on a new terminal (PTY_ROWS x PTY_COLS) as its controlling terminal; for each
    (expect, send): read until `expect` appears after what was matched before, then type
    `send`; then read to the end. Returns the exit code and everything printed."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", PTY_ROWS, PTY_COLS, 0, 0))

    def controlling() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=environ,
                               cwd=cwd, start_new_session=True, preexec_fn=controlling)
    os.close(slave)
    transcript = b""
    mark = 0
    deadline = time.monotonic() + STEP_TIMEOUT

    def read_more() -> bool:
        nonlocal transcript
        ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return False
        try:
            chunk = os.read(master, 65536)
        except OSError as err:
            if err.errno == errno.EIO:  # the terminal's last user closed it
                return False
            raise
        transcript += chunk
        return bool(chunk)

    try:
        for expect, send in script:
            while expect not in transcript[mark:]:
                if not read_more():
                    break
            else:
                mark = transcript.index(expect, mark) + len(expect)
                os.write(master, send)
                continue
            break  # the expected text never came: the transcript shows what did
        while read_more():
            pass
        try:
            code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            code = process.wait()
    finally:
        os.close(master)
    return code, transcript.decode(errors="replace")


def play(side: Side, session: list[Step]) -> dict[str, Result]:
    return {step.key: side.play(step) for step in session}


# -- the daemons ---------------------------------------------------------------------------------
class FixedPortRegistry(RegistryServer):
    """A registry on 127.0.0.1:REGISTRY_PORT (in a namespace of ours: nobody else's port)."""

    def config_text(self) -> str:
        return super().config_text().replace("127.0.0.1:0", f"127.0.0.1:{REGISTRY_PORT}")


def start_registry(root: Path) -> RegistryServer:
    root.mkdir(parents=True)
    return FixedPortRegistry(root=root).start()


def write_context(work: Path) -> None:
    """The build context the sessions use (the same bytes on both sides)."""
    ctx = work / "ctx"
    ctx.mkdir(parents=True)
    (ctx / "Dockerfile").write_text(
        "FROM busybox\n"
        "LABEL cheat=sheet\n"
        "RUN echo built > /built && mkdir /app\n"
        "COPY hello.txt /app/\n"
        "ENV GREETING=hi\n"
        "WORKDIR /app\n"
        'CMD ["sh", "-c", "cat /built /app/hello.txt; echo $GREETING"]\n')
    (ctx / "hello.txt").write_text("hello from the context\n")
    (work / "upload.txt").write_text("copied in\n")


@contextlib.contextmanager
def dockerd_side(base: Path, rootfs: Path, archive: Path) -> Iterator[Side]:
    """dockerd 20.10 with its bridge (docker0, iptables) in a network namespace of its own;
    busybox imported from `rootfs` and saved to `archive` (a docker-archive) for pyengined."""
    daemon = Dockerd(base / "dockerd", bridge=True)
    registry: RegistryServer | None = None
    try:
        with entered():
            registry = start_registry(base / "registry")
            daemon.start()
        assert daemon.process is not None
        side = Side("dockerd", daemon.socket, daemon.process.pid, base / "work",
                    base / "dockerd" / "data")
        for args in (("import", "-c", 'CMD ["sh"]', "-c", f"ENV PATH={PATH}", str(rootfs),
                      "busybox:latest"), ("save", "-o", str(archive), "busybox:latest")):
            done = side.docker(*args)
            if done.returncode != 0:
                raise RuntimeError(f"docker {args[0]}: {done.stderr.decode()}")
        write_context(side.work)
        yield side
    finally:
        with contextlib.suppress(Exception):
            daemon.stop()
        if registry is not None:
            registry.stop()


class ApiEngine(ContainerEngine):
    """pyengined in the namespace pytest's thread is in (ours), serving the Docker API."""

    module_network = True


@contextlib.contextmanager
def pyengined_side(base: Path, archive: Path) -> Iterator[Side]:
    """pyengined (this checkout) with `--docker-api unix://...`, in a network namespace of its
    own; busybox loaded from the reference's docker-archive."""
    launcher = install_launcher(Path(tempfile.mkdtemp(prefix="adiff-bin-")))
    socket = base / "engine" / "run" / "docker.sock"
    (base / "engine").mkdir(parents=True)
    engine = ApiEngine(base / "engine", {"default-runtime": str(launcher)},
                       extra_args=["--docker-api", f"unix://{socket}"])
    engine.launcher = launcher  # type: ignore[attr-defined]  # ctr_harness.cleanup reads it
    registry: RegistryServer | None = None
    try:
        with entered():
            registry = start_registry(base / "registry")
            engine.start()
        assert engine.process is not None
        engine.pyctl("load", "-i", str(archive), check=True)
        side = Side("pyengined", socket, engine.process.pid, base / "work", engine.data_root)
        wait_for_api(side, engine)
        write_context(side.work)
        yield side
    finally:
        cleanup(engine)
        if registry is not None:
            registry.stop()
        shutil.rmtree(launcher.parent, ignore_errors=True)


def wait_for_api(side: Side, engine: ContainerEngine) -> None:
    """Until `docker version` answers (the REST edge starts after the gRPC one)."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while side.docker("version").returncode != 0:
        if engine.process is None or engine.process.poll() is not None:
            raise RuntimeError(f"pyengined exited:\n{engine.log()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"pyengined's docker API did not answer:\n{engine.log()}")
        time.sleep(0.1)


def busybox_archive(directory: Path) -> tuple[Path, Path]:
    """tools/mkimage-busybox's rootfs and where the docker-archive of it will be written."""
    return busybox_rootfs(directory), directory / "busybox-archive.tar"
