"""pyctl's start-up path: well-formed command lines are parsed without argparse into the same
values argparse gives, anything else falls back to argparse, and `pyctl images` imports neither
grpc nor argparse nor dataclasses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pyengine.cli.argparser import build_parser
from pyengine.cli.main import fast_parse

ENGINE = str(Path(__file__).resolve().parents[3] / "engine")


@pytest.mark.parametrize("argv", [
    ["images"], ["image", "ls", "-q"], ["image", "list", "--format", "json"],
    ["images", "-a", "--no-trunc", "-f", "dangling=true", "-f", "reference=bb*", "bb"],
    ["-H", "unix:///x.sock", "--debug", "images", "--digests"], ["--host=tcp://h:1", "version"],
    ["--tlsverify", "--tlscacert", "ca.pem", "--tlscert=c.pem", "--tlskey", "k", "info"],
    ["rmi", "-f", "a", "b", "c"], ["tag", "a", "b"], ["save", "--format=oci", "-o", "x", "a"],
    ["import", "-c", "ENV A=1", "--change", "CMD x", "-", "ref:1"], ["import", "f.tar"],
    ["search", "--limit", "3", "term"], ["system", "df", "-v"], ["image", "rm", "--", "-odd"],
    ["pull", "--platform", "linux/arm64", "-q", "busybox"], ["login", "-u", "me", "reg"],
    ["images", "-aq"], ["ps", "-aq", "--no-trunc"], ["ps", "-a", "-n", "3", "-f", "name=x"],
    # create/run: -h is --hostname, everything after IMAGE is the command's (flags included)
    ["run", "--rm", "busybox", "true"], ["run", "busybox"], ["create", "busybox"],
    ["run", "-d", "--name", "x", "-e", "A=1", "-e", "B=2", "-l", "k=v", "-h", "host",
     "busybox", "sh", "-c", "echo -h --rm", "--rm", "-it"],
    ["run", "-it", "--rm", "busybox", "sh"], ["run", "-i", "-t", "busybox", "-", "x"],
    ["container", "run", "--entrypoint", "", "--read-only", "bb"],
    ["run", "--pids-limit", "5", "--stop-timeout=3", "-m", "1g", "--cpus", "1.5", "-w", "/",
     "-u", "1:2", "--env-file", "f", "--log-opt", "max-size=1k", "--restart", "always",
     "--runtime", "runc", "--stop-signal", "SIGINT", "busybox", "top", "-b"],
    ["create", "--hostname=h", "--name=n", "busybox", "x"],
    ["exec", "-e", "A=1", "c1", "sh", "-c", "ls -l"], ["exec", "c1", "ls", "-la", "--", "x"],
])
def test_fast_parse_agrees_with_argparse(argv: list[str]) -> None:
    fast = fast_parse(argv)
    assert fast is not None, argv
    slow, extra = build_parser(argv).parse_known_args(argv)
    assert extra == []
    assert vars(fast) == vars(slow)


@pytest.mark.parametrize("argv", [
    [], ["-h"], ["images", "--help"], ["images", "-af", "x"], ["images", "--bogus"], ["nosuch"],
    ["run", "--help"], ["run", "-h"], ["run"], ["run", "--", "busybox"], ["run", "bb", "--", "x"],
    ["ps", "-n", "x"], ["run", "-ith", "h", "bb"], ["run", "--rm=1", "bb"],
    ["image"], ["image", "nosuch"], ["-v"], ["tag", "a"], ["images", "a", "b"],
    ["save", "--format", "tar", "a"], ["search", "--limit", "x", "t"], ["system", "df", "-H"],
    ["images", "--format"], ["-Hunix:///x", "images"], ["run", "--sig-proxy=false", "bb"],
])
def test_everything_else_goes_to_argparse(argv: list[str]) -> None:
    assert fast_parse(argv) is None


@pytest.mark.parametrize(("argv", "proxy"), [
    (["run", "bb"], True), (["run", "--sig-proxy=false", "bb"], False),
    (["run", "--sig-proxy=true", "bb"], True), (["attach", "--sig-proxy=0", "c"], False),
    (["attach", "c"], True),
])
def test_sig_proxy_is_a_boolean_flag_as_dockers(argv: list[str], proxy: bool) -> None:
    from pyengine.cli.sig_proxy import wanted

    args = fast_parse(argv) or build_parser(argv).parse_args(argv)
    assert wanted(args) is proxy


def test_images_imports_no_grpc_argparse_or_dataclasses(tmp_path) -> None:
    probe = (
        "import sys\n"
        f"sys.path[0:0] = [{ENGINE!r}] + [p for p in {sys.path!r} if 'site-packages' in p]\n"
        "from pyengine.cli.main import main\n"
        f"code = main(['-H', 'unix://{tmp_path}/none.sock', 'images'])\n"
        "print(code, ' '.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-I", "-S", "-c", probe], capture_output=True,
                         text=True, check=True)
    code, modules = out.stdout.split(" ", 1)
    assert code == "1" and "Cannot connect to the pyengine daemon" in out.stderr
    loaded = set(modules.split())
    assert "pyengine.cli.verb_images" in loaded and "pyengine.cli.wire.channel" in loaded
    assert not {"grpc", "argparse", "dataclasses", "pathlib"} & loaded
