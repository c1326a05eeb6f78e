"""The build context is extracted with the engine's safe extractor: nothing outside the
directory, no device nodes, .dockerignore applied again (the Dockerfile and .dockerignore
stay)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from pyengine.build import context
from pyengine.errors import EngineError


def _tar(path: Path, entries: list[tarfile.TarInfo], data: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for info in entries:
            content = data.get(info.name, b"")
            info.size = len(content) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(content) if info.isfile() else None)
    return path


def _file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = 0o644
    return info


def test_a_context_never_writes_outside(tmp_path: Path) -> None:
    link = tarfile.TarInfo("escape")
    link.type, link.linkname = tarfile.SYMTYPE, str(tmp_path / "outside")
    (tmp_path / "outside").mkdir()
    spool = _tar(tmp_path / "c.tar", [link, _file("escape/pwned")], {"escape/pwned": b"x"})
    with pytest.raises(EngineError):
        context.extract(spool, tmp_path / "ctx", None, "Dockerfile")
    assert os.listdir(tmp_path / "outside") == []


def _left_after_extract(tmp_path: Path, names: list[str], dockerignore: bytes,
                        dockerfile: str) -> list[str]:
    """The paths a context of `names` (each file holding its name, .dockerignore holding
    `dockerignore`) keeps once extracted for `dockerfile`."""
    data = {n: n.encode() for n in names}
    data[".dockerignore"] = dockerignore
    spool = _tar(tmp_path / "c.tar", [_file(n) for n in names], data)
    context.extract(spool, tmp_path / "ctx", None, dockerfile)
    return sorted(str(p.relative_to(tmp_path / "ctx")) for p in (tmp_path / "ctx").rglob("*"))


def test_dockerignore_applies_again_but_keeps_the_dockerfile(tmp_path: Path) -> None:
    names = ["Dockerfile", ".dockerignore", "keep.txt", "secret.key", "logs/a.log"]
    left = _left_after_extract(tmp_path, names, b"*.key\nlogs\nDockerfile\n", "Dockerfile")
    assert left == [".dockerignore", "Dockerfile", "keep.txt"]


def test_an_excluded_directory_keeps_the_dockerfile_named_inside_it(tmp_path: Path) -> None:
    # `build -f app/Dockerfile .` with a .dockerignore of "*" and "!main.py" (tools/demo's)
    names = ["app/Dockerfile", "app/notes.txt", ".dockerignore", "main.py", "other.txt"]
    left = _left_after_extract(tmp_path, names, b"*\n!main.py\n", "app/Dockerfile")
    assert left == [".dockerignore", "app", "app/Dockerfile", "main.py"]
