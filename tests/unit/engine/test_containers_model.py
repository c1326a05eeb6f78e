"""The containers domain without a daemon: names and ids, json-file logs with rotation, state
transitions, and the repository over a real SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyengine import errors
from pyengine.containers import logs, names
from pyengine.containers.model import (
    CREATED,
    EXITED,
    REMOVING,
    RUNNING,
    Container,
    Spec,
    State,
    TransitionError,
)
from pyengine.containers.repository import ContainerRepository
from pyengine.store import Database


def test_ids_are_64_hex_and_distinct() -> None:
    made = {names.new_id() for _ in range(100)}
    assert len(made) == 100
    assert all(names.ID_RE.match(i) for i in made)


def test_generated_names_are_adjective_surname_and_avoid_taken_ones() -> None:
    taken: set[str] = set()
    for _ in range(50):
        name = names.generate(taken.__contains__)
        assert name not in taken
        names.validate(name)
        adjective, surname = name.split("_")[:2]
        assert adjective in names.ADJECTIVES
        assert surname.rstrip("0123456789") in names.SURNAMES
        taken.add(name)


def test_generation_falls_back_when_every_try_is_taken() -> None:
    name = names.generate(lambda n: len(n.split("_")) == 2 or n[-1].isdigit())
    assert len(name.split("_")) == 3


@pytest.mark.parametrize("bad", ["", "a", "-x", "has space", "x/y", "ü"])
def test_invalid_names_are_refused(bad: str) -> None:
    with pytest.raises(errors.InvalidArgument, match="Invalid container name"):
        names.validate(bad)


def test_resolve_by_id_name_and_unique_prefix() -> None:
    a, b = "ab" + "0" * 62, "ac" + "1" * 62
    by_name = {"web": a, "db": b}
    assert names.resolve(a, [a, b], by_name) == a
    assert names.resolve("/db", [a, b], by_name) == b
    assert names.resolve("ab", [a, b], by_name) == a
    with pytest.raises(errors.InvalidArgument, match="multiple IDs found"):
        names.resolve("a", [a, b], by_name)
    with pytest.raises(errors.NotFound, match="No such container: zz"):
        names.resolve("zz", [a, b], by_name)
    # a name wins over an id prefix that looks the same
    assert names.resolve("ac", [a, b], {"ac": a}) == a


def test_state_transitions_follow_the_lifecycle() -> None:
    state = State()
    assert state.status == CREATED
    state.move(RUNNING)
    state.move(EXITED)
    state.move(RUNNING)  # start again
    state.move(REMOVING)
    with pytest.raises(TransitionError, match="removing cannot become running"):
        state.move(RUNNING)


def test_state_and_spec_round_trip_json() -> None:
    spec = Spec(image="busybox", cmd=["echo", "hi"], stop_timeout=3, labels={"a": "b"})
    assert Spec.from_json(spec.to_json()) == spec
    state = State(status=EXITED, exit_code=3)
    assert State.from_json(state.to_json()) == state


def _entry(n: int, stream: str = "stdout") -> logs.Entry:
    return logs.Entry(stream, f"line {n}\n".encode(), 1_700_000_000_000_000_000 + n)


def test_json_file_lines_are_dockers_format(tmp_path: Path) -> None:
    log = logs.JsonFileLog(tmp_path / "c-json.log")
    log.write(logs.Entry("stderr", b"oops\n", 1_700_000_000_123_456_789))
    log.close()
    line = json.loads((tmp_path / "c-json.log").read_text())
    assert line == {"log": "oops\n", "stream": "stderr",
                    "time": "2023-11-14T22:13:20.123456789Z"}
    assert logs.parse_rfc3339_nano(line["time"]) == 1_700_000_000_123_456_789


def test_json_file_rotates_by_size_and_keeps_max_file(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    one = len(logs.encode(_entry(0)))
    log = logs.JsonFileLog(path, max_size=one * 3, max_file=3)
    for n in range(10):
        log.write(_entry(n))
    log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "c-json.log", "c-json.log.1", "c-json.log.2"]
    entries = logs.read(log.files())
    # the oldest file was dropped: 3 + 3 + 1 lines kept, in order
    assert [e.data for e in entries] == [f"line {n}\n".encode() for n in range(3, 10)]


def test_json_file_single_file_truncates(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    one = len(logs.encode(_entry(0)))
    log = logs.JsonFileLog(path, max_size=one * 2, max_file=1)
    for n in range(5):
        log.write(_entry(n))
    log.close()
    assert [e.data for e in logs.read(log.files())] == [b"line 4\n"]


def test_read_selects_tail_since_until_and_streams(tmp_path: Path) -> None:
    log = logs.JsonFileLog(tmp_path / "c-json.log")
    for n in range(6):
        log.write(_entry(n, "stderr" if n % 2 else "stdout"))
    log.write(logs.Entry("stdout", b"", 0))  # garbage-proof: an empty entry is still valid
    log.close()
    with open(tmp_path / "c-json.log", "ab") as handle:
        handle.write(b'{"log": "cut by a cra')  # a torn last line is skipped
    files = log.files()
    base = 1_700_000_000_000_000_000
    assert [e.data for e in logs.read(files, tail=2)][-1] == b""
    assert [e.data for e in logs.read(files, streams=("stderr",))] == [
        b"line 1\n", b"line 3\n", b"line 5\n"]
    assert [e.time_nano - base for e in logs.read(files, since=base + 2, until=base + 4)] == [
        2, 3, 4]
    assert logs.read(files, tail=0) == []


def test_subscribers_see_each_entry_then_the_end(tmp_path: Path) -> None:
    log = logs.JsonFileLog(tmp_path / "c-json.log")
    seen: list[logs.Entry | None] = []
    log.subscribers.append(seen.append)
    log.write(_entry(1))
    log.finish()
    log.close()
    assert seen == [_entry(1), None]


def _container(cid: str, name: str) -> Container:
    return Container(id=cid, name=name, image_id="sha256:" + "a" * 64, image_name="busybox",
                     snapshot=cid, created="2026-01-01T00:00:00Z", spec=Spec(image="busybox"),
                     state=State(), config={"args": ["sh"]}, runtime="/usr/bin/runc")


def test_repository_names_are_unique(tmp_path: Path) -> None:
    repo = ContainerRepository(Database(tmp_path / "metadata.db"))
    first = _container("1" * 64, "web")
    repo.add(first)
    with pytest.raises(errors.AlreadyExists, match='The container name "/web" is already in use'):
        repo.add(_container("2" * 64, "web"))
    state = State(status=RUNNING, pid=42)
    repo.save_state(first.id, state)
    assert repo.get(first.id).state == state
    assert repo.names() == {"web": first.id}
    repo.delete(first.id)
    with pytest.raises(errors.NotFound):
        repo.get(first.id)


def test_a_generated_name_drawn_twice_is_drawn_again(tmp_path: Path) -> None:
    """Concurrent creates may generate the same name before either is recorded: the second
    one gets another name instead of a conflict (a name the user gave stays a conflict)."""
    repo = ContainerRepository(Database(tmp_path / "metadata.db"))
    repo.add(_container("1" * 64, "plucky_fermi"))
    second = _container("2" * 64, "plucky_fermi")
    repo.add(second, generated_name=True)
    assert second.name != "plucky_fermi"
    assert repo.names() == {"plucky_fermi": "1" * 64, second.name: "2" * 64}


def test_restart_policies_parse_and_decide() -> None:
    from pyengine.containers.restart import Policy, delay

    assert Policy.parse("") == Policy("no")
    assert Policy.parse("on-failure:3") == Policy("on-failure", 3)
    assert str(Policy.parse("on-failure:3")) == "on-failure:3"
    for bad in ("sometimes", "always:2", "on-failure:x", "on-failure:-1"):
        with pytest.raises(errors.InvalidArgument):
            Policy.parse(bad)
    no, always = Policy.parse("no"), Policy.parse("always")
    unless, failure = Policy.parse("unless-stopped"), Policy.parse("on-failure:2")
    assert not no.should_restart(1, 0, False)
    assert always.should_restart(0, 5, False) and not always.should_restart(0, 5, True)
    assert unless.should_restart(0, 0, False) and not unless.should_restart(0, 0, True)
    assert failure.should_restart(1, 1, False)
    assert not failure.should_restart(0, 0, False)  # success is not a failure
    assert not failure.should_restart(1, 2, False)  # retries used up
    assert Policy.parse("on-failure").should_restart(1, 1000, False)  # unbounded
    # at daemon start, always restarts even a container stopped by hand; unless-stopped not
    assert always.at_daemon_start(0, 0, True)
    assert not unless.at_daemon_start(0, 0, True) and unless.at_daemon_start(0, 0, False)
    assert not no.at_daemon_start(1, 0, False)
    assert [delay(n) for n in range(4)] == [0.1, 0.2, 0.4, 0.8]
    assert delay(100) == 60.0


def test_env_files_follow_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyengine.cli.container_opts import env_files
    from pyengine.cli.context import CliError

    path = tmp_path / "env"
    path.write_text("# comment\n\nA=1\n  B=two words\nFROM_CLIENT\nUNSET_HERE\nC=\n")
    monkeypatch.setenv("FROM_CLIENT", "yes")
    monkeypatch.delenv("UNSET_HERE", raising=False)
    assert env_files([str(path)]) == ["A=1", "B=two words", "FROM_CLIENT=yes", "C="]
    path.write_text("BAD KEY=1\n")
    with pytest.raises(CliError, match="poorly formatted environment: variable 'BAD KEY' "
                       "contains whitespaces"):
        env_files([str(path)])
    with pytest.raises(CliError, match="open"):
        env_files([str(tmp_path / "missing")])


def test_a_restarting_container_is_dockers_restarting() -> None:
    """State.restarting (exited, a restart policy's start waiting out its backoff): docker's
    status word, State.Running, ps' STATUS and the status filter."""
    from pyengine.containers import list_filters, listing

    c = _container("3" * 64, "looping")
    c.state = State(status=EXITED, exit_code=3, restarting=True,
                    finished_at="2026-01-01T00:00:00Z")
    assert (c.state.docker_status(), c.state.listed_as_running) == ("restarting", True)
    assert listing.status_text(c).startswith("Restarting (3) ")
    assert listing.state_text(c) == "restarting"
    parsed = list_filters.parse(["status=restarting"])
    assert list_filters.select([c], parsed, False, {}, None) == [c]
    assert list_filters.select([c], list_filters.parse([]), False, {}, None) == [c]  # ps, no -a
    c.state.restarting = False
    assert (c.state.docker_status(), c.state.listed_as_running) == ("exited", False)
    assert listing.status_text(c).startswith("Exited (3) ")
    assert list_filters.select([c], list_filters.parse([]), False, {}, None) == []
