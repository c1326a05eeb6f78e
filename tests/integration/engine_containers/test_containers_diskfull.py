"""A full disk while logging: the container log directory on a 2 MB tmpfs, a container writes
more than fits. As docker's json-file does, the container keeps running and the entries that
do not fit are dropped; the daemon logs the cause ("write .../<id>-json.log: no space left
on device"), stays up and answers, `logs` returns every entry stored (each whole, in order,
none torn), and logging resumes once there is room again."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

import pytest
from ctr_harness import ContainerEngine

pytestmark = [pytest.mark.root]

LINES = 40_000  # about 4 MB of json-file entries: twice what the tmpfs holds
WRITER = (f"i=0; while [ $i -lt {LINES} ]; do i=$((i+1)); echo \"line $i of the flood\"; "
          "done; touch /tmp/written; while [ ! -e /tmp/go ]; do sleep 0.1; done; "
          "echo after the flood; exec sleep 1000")


def test_full_disk_while_logging(make_engine: Callable[..., ContainerEngine]) -> None:
    engine = make_engine()
    engine.stop()
    logs_dir = engine.data_root / "containers"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=700", "tmpfs",
                    str(logs_dir)], check=True)
    try:
        engine.start()
        cid = engine.out("run", "-d", "--name", "flood", "busybox", "sh", "-c",
                         WRITER).strip()
        while engine.pyctl("exec", cid, "cat", "/tmp/written").returncode != 0:
            pass  # bounded by the test run's own timeout
        # the daemon is up and answers; the container runs
        assert engine.pyctl("version").returncode == 0
        state = json.loads(engine.out("inspect", cid))[0]["State"]
        assert state["Status"] == "running"
        log_path = logs_dir / cid / f"{cid}-json.log"
        daemon_log = engine.log_path.read_text()
        assert f"write {log_path}: no space left on device" in daemon_log
        # what was stored is whole and in order, from the first line on, none torn (a line
        # that fits in what is left may follow lines dropped before it, as in docker)
        raw = log_path.read_bytes()
        assert raw.endswith(b"\n")
        stored = [json.loads(line)["log"] for line in raw.splitlines()]
        assert 0 < len(stored) < LINES
        numbers = [int(text.split()[1]) for text in stored]
        assert stored == [f"line {n} of the flood\n" for n in numbers]
        assert numbers[0] == 1 and numbers == sorted(set(numbers))
        assert engine.out("logs", cid).splitlines() == [s.rstrip("\n") for s in stored]
        # room again: the next line is stored, and the daemon says how many it dropped
        subprocess.run(["mount", "-o", "remount,size=8m", str(logs_dir)], check=True)
        engine.out("exec", cid, "touch", "/tmp/go")
        while engine.out("logs", "--tail", "1", cid) != "after the flood\n":
            pass
        assert "container log writable again" in engine.log_path.read_text()
        engine.out("rm", "-f", cid)
    finally:
        for ref in engine.ids() if engine.process and engine.process.poll() is None else []:
            engine.pyctl("rm", "-f", ref)
        engine.stop()
        subprocess.run(["umount", "-l", str(logs_dir)], check=False)
        engine.start()  # for the module's clean-up, on the data root's own disk again
