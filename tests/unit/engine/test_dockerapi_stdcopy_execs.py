"""docker's stream framing, the logs query's since/tail, and exec records' life (no daemon)."""

from __future__ import annotations

import asyncio

import pytest
from pyengine.containers.exec_records import ExecConfig, ExecRecord, ExecStore
from pyengine.dockerapi import stdcopy
from pyengine.dockerapi.execs import exec_config, inspect_json
from pyengine.dockerapi.logs import parse_tail, parse_timestamp
from pyengine.errors import FailedPrecondition, InvalidArgument, NotFound


def test_frames_are_dockers_header_and_payload() -> None:
    assert stdcopy.frame("stdout", b"hi\n") == b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n"
    assert stdcopy.frame("stderr", b"") == b"\x02" + bytes(7)
    header = stdcopy.encode("stderr", b"x" * 300, tty=False)[:8]
    assert header == b"\x02\x00\x00\x00\x00\x00\x01\x2c"
    assert stdcopy.encode("stderr", b"raw", tty=True) == b"raw"


def test_since_until_and_tail_parse_as_dockers() -> None:
    assert parse_timestamp("", "since") == 0
    assert parse_timestamp("1700000000", "since") == 1_700_000_000_000_000_000
    assert parse_timestamp("1700000000.5", "until") == 1_700_000_000_500_000_000
    with pytest.raises(InvalidArgument):
        parse_timestamp("yesterday", "since")
    assert [parse_tail(t) for t in ("all", "", "-1", "0", "7")] == [-1, -1, -1, 0, 7]


def test_exec_create_body_and_inspect_document() -> None:
    config = exec_config({"Cmd": ["sh", "-c", "true"], "AttachStdout": True, "Tty": True,
                          "User": "1:2", "Env": ["A=b"], "DetachKeys": "ctrl-x"})
    assert config == ExecConfig(args=["sh", "-c", "true"], env=["A=b"], user="1:2", tty=True,
                                attach_stdout=True, detach_keys="ctrl-x")
    with pytest.raises(InvalidArgument):
        exec_config({"Cmd": ["true"], "DetachKeys": "ctrl-"})
    doc = inspect_json(ExecRecord("e" * 64, "c" * 64, config))
    assert (doc["Running"], doc["ExitCode"], doc["Pid"]) == (False, None, 0)
    assert doc["ProcessConfig"] == {"tty": True, "entrypoint": "sh",
                                    "arguments": ["-c", "true"], "privileged": False,
                                    "user": "1:2"}


def test_exec_create_fields_match_as_go_decodes_them() -> None:
    """Go's encoding/json matches a field's name but for case: docker-py sends the config
    file's detach keys as `detachKeys`, which dockerd honours (pyengined dropped it)."""
    config = exec_config({"cmd": ["cat"], "detachKeys": "ctrl-p", "tty": True})
    assert (config.args, config.detach_keys, config.tty) == (["cat"], "ctrl-p", True)
    exact = exec_config({"Cmd": ["cat"], "DetachKeys": "ctrl-q", "detachkeys": "ctrl-p"})
    assert exact.detach_keys == "ctrl-q"

def test_a_record_starts_once_and_keeps_its_exit_code() -> None:
    async def scenario() -> ExecRecord:
        record = ExecRecord("e1", "c1", ExecConfig(args=["true"]))
        record.claim()
        status: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Process:  # what a record reads of an ExecProcess
            pass

        proc = Process()
        proc.status = status  # type: ignore[attr-defined]  # a stand-in of ExecProcess
        record.attach(proc, 42)  # type: ignore[arg-type]  # the stand-in above
        assert record.running and record.pid == 42
        with pytest.raises(FailedPrecondition, match="is already running"):
            record.claim()
        status.set_result(3)
        await asyncio.sleep(0)
        return record

    record = asyncio.run(scenario())
    assert (record.running, record.exit_code, record.process) == (False, 3, None)
    with pytest.raises(FailedPrecondition, match="has already run"):
        record.claim()
    failed = ExecRecord("e2", "c1", ExecConfig(args=["nope"]))
    failed.claim()
    failed.failed(InvalidArgument('exec: "nope": executable file not found in $PATH'))
    assert failed.exit_code == 126  # dockerd 20.10: 126 whatever the cause


def test_the_store_finds_forgets_with_the_container() -> None:
    store = ExecStore()
    store.add(ExecRecord("e1", "c1", ExecConfig(args=["true"])))
    store.add(ExecRecord("e2", "c2", ExecConfig(args=["true"])))
    assert store.get("e1").container_id == "c1"
    store.forget_container("c1")
    with pytest.raises(NotFound, match="No such exec instance: e1"):
        store.get("e1")
    assert store.of_container("c2") == ["e2"]
