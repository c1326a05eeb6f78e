"""File primitives for cgroupfs: every read and write names the file and the errno on failure."""

from __future__ import annotations

import errno
import os
import time

from pyrunc.errors import CgroupError

MAX_UINT64 = (1 << 64) - 1


def cgroup_error(op: str, path: str, err: OSError, value: str | None = None) -> CgroupError:
    """A CgroupError like ``cgroup: write /x/memory.max "1": Device or resource busy``."""
    what = f"{path} {value!r}" if value is not None else path
    exc = CgroupError(f"cgroup: {op} {what}: {os.strerror(err.errno or 0)}")
    exc.errno = err.errno
    return exc


def write(directory: str, name: str, value: str | int) -> None:
    """Write ``value`` to ``directory/name`` in one write(2), as the kernel expects."""
    path = f"{directory}/{name}"
    text = str(value)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    except OSError as err:
        raise cgroup_error("open", path, err) from None
    try:
        os.write(fd, text.encode())
    except OSError as err:
        raise cgroup_error("write", path, err, text) from None
    finally:
        os.close(fd)


def read(directory: str, name: str) -> str:
    """Return the content of ``directory/name`` without the trailing newline."""
    path = f"{directory}/{name}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        raise cgroup_error("open", path, err) from None
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError as err:
        raise cgroup_error("read", path, err) from None
    finally:
        os.close(fd)
    return b"".join(chunks).decode().rstrip("\n")


def read_optional(directory: str, name: str) -> str | None:
    """Like :func:`read`, but None when the file does not exist."""
    try:
        return read(directory, name)
    except CgroupError as exc:
        if getattr(exc, "errno", None) == errno.ENOENT:
            return None
        raise


def exists(directory: str, name: str) -> bool:
    return os.path.exists(f"{directory}/{name}")


def parse_uint(text: str) -> int:
    """Parse a cgroup number; ``max`` means unlimited (2**64-1, as runc reports it)."""
    text = text.strip()
    if text == "max":
        return MAX_UINT64
    value = int(text)
    return value if value >= 0 else 0


def read_uint(directory: str, name: str) -> int:
    """A number file, 0 when absent."""
    text = read_optional(directory, name)
    return parse_uint(text) if text else 0


def read_keyed(directory: str, name: str) -> dict[str, int]:
    """A flat keyed file (``key value`` per line) as a dict; empty when absent."""
    text = read_optional(directory, name)
    out: dict[str, int] = {}
    if not text:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value:
            try:
                out[key] = parse_uint(value)
            except ValueError:
                continue
    return out


def read_pids(directory: str) -> list[int]:
    """The pids in ``directory/cgroup.procs``."""
    text = read(directory, "cgroup.procs")
    return [int(line) for line in text.split()]


def walk_dirs(top: str) -> list[str]:
    """``top`` and every cgroup directory below it, parents before children."""
    out = [top]
    index = 0
    while index < len(out):
        current = out[index]
        index += 1
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        out.append(entry.path)
        except FileNotFoundError:
            continue
        except OSError as err:
            raise cgroup_error("list", current, err) from None
    return out


def mkdir(path: str) -> bool:
    """Create one directory; True if it was created here, False if it existed."""
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        return False
    except OSError as err:
        raise cgroup_error("mkdir", path, err) from None
    return True


def rmdir_tree(top: str, retries: int = 10, delay: float = 0.01) -> None:
    """Remove ``top`` and its child cgroups bottom-up; EBUSY is retried, ENOENT tolerated."""
    for path in reversed(walk_dirs(top)):
        for attempt in range(retries + 1):
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError as err:
                if err.errno in (errno.EBUSY, errno.EAGAIN) and attempt < retries:
                    time.sleep(delay * (attempt + 1))
                    continue
                raise cgroup_error("rmdir", path, err) from None
