"""The checked-in gRPC stubs match the protos, and import package-relatively."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def test_generated_code_is_current() -> None:
    pytest.importorskip("grpc_tools")
    result = subprocess.run([sys.executable, str(REPO / "tools" / "gen-proto"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_stubs_import_as_a_package() -> None:
    from pyengine.api import common_pb2, images_pb2_grpc, system_pb2_grpc

    assert images_pb2_grpc.ImagesServiceStub and system_pb2_grpc.SystemServiceStub
    assert common_pb2.Progress(result="x").result == "x"
    for path in (REPO / "engine" / "pyengine" / "api").glob("*_pb2*.py"):
        assert "from pyengine.v1 import" not in path.read_text(), path
