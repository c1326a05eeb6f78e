"""The containers domain's repository over the engine's one `Database`."""

from __future__ import annotations

import json
from collections.abc import Callable

from pyengine.containers.model import Container, Spec, State
from pyengine.errors import AlreadyExists, NotFound
from pyengine.store import Database
from pyengine.store.read_cache import ReadCache

COLUMNS = "id, name, image_id, image_name, snapshot, created_at, runtime, spec, config, state"


def _decode(row: tuple) -> Container:
    cid, name, image_id, image_name, snapshot, created, runtime, spec, config, state = row
    return Container(
        id=cid, name=name, image_id=image_id, image_name=image_name, snapshot=snapshot,
        created=created, spec=Spec.from_json(spec), state=State.from_json(state),
        config=json.loads(config), runtime=runtime,
    )


class ContainerRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.rows = ReadCache(db)  # its tables are written by it alone

    def add(self, c: Container, generated_name: bool = False) -> None:
        """Record `c`; a name already taken is a conflict, unless the engine generated it
        (`generated_name`): then another one is generated in the same transaction (concurrent
        creates may draw the same name before either is recorded)."""
        with self.rows.transaction() as conn:
            def taken_by(name: str) -> tuple | None:
                return conn.execute("SELECT id FROM containers WHERE name=?",
                                    (name,)).fetchone()

            taken = taken_by(c.name)
            if taken is not None and generated_name:
                from pyengine.containers import names

                c.name = names.generate(lambda name: taken_by(name) is not None)
                taken = taken_by(c.name)
            if taken is not None:
                raise AlreadyExists(
                    f'Conflict. The container name "/{c.name}" is already in use by container '
                    f'"{taken[0]}". You have to remove (or rename) that container to be able '
                    "to reuse that name."
                )
            conn.execute(
                f"INSERT INTO containers({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (c.id, c.name, c.image_id, c.image_name, c.snapshot, c.created, c.runtime,
                 c.spec.to_json(), json.dumps(c.config), c.state.to_json()),
            )

    def rename(self, cid: str, name: str) -> None:
        with self.rows.transaction() as conn:
            taken = conn.execute("SELECT id FROM containers WHERE name=?", (name,)).fetchone()
            if taken is not None and taken[0] != cid:
                raise AlreadyExists(
                    f'Error when allocating new name: Conflict. The container name "/{name}" '
                    f'is already in use by container "{taken[0]}". You have to remove (or '
                    "rename) that container to be able to reuse that name.")
            conn.execute("UPDATE containers SET name=? WHERE id=?", (name, cid))

    def name_taken(self, name: str) -> bool:
        return bool(self.rows.query("SELECT 1 FROM containers WHERE name=?", (name,)))

    def save_state(self, cid: str, state: State) -> None:
        with self.rows.transaction() as conn:
            cur = conn.execute("UPDATE containers SET state=? WHERE id=?",
                               (state.to_json(), cid))
            if cur.rowcount == 0:
                raise NotFound(f"No such container: {cid}")

    def update_state(self, cid: str, change: Callable[[Container], bool]) -> Container:
        """Apply `change` to the container as it is stored now and save its state when
        `change` says it changed it, in one transaction: a change is never made to a record
        another write overtook. The container as saved."""
        with self.rows.transaction() as conn:
            row = conn.execute(f"SELECT {COLUMNS} FROM containers WHERE id=?",
                               (cid,)).fetchone()
            if row is None:
                raise NotFound(f"No such container: {cid}")
            c = _decode(row)
            if change(c):
                conn.execute("UPDATE containers SET state=? WHERE id=?",
                             (c.state.to_json(), cid))
            return c

    def get(self, cid: str) -> Container:
        rows = self.rows.query(f"SELECT {COLUMNS} FROM containers WHERE id=?", (cid,))
        if not rows:
            raise NotFound(f"No such container: {cid}")
        return _decode(rows[0])

    def all(self) -> list[Container]:
        rows = self.rows.query(f"SELECT {COLUMNS} FROM containers ORDER BY created_at DESC")
        return [_decode(r) for r in rows]

    def names(self) -> dict[str, str]:
        return {n: i for n, i in self.rows.query("SELECT name, id FROM containers")}

    def delete(self, cid: str) -> None:
        with self.rows.transaction() as conn:
            conn.execute("DELETE FROM containers WHERE id=?", (cid,))

    def save_spec(self, cid: str, spec: Spec) -> None:
        with self.rows.transaction() as conn:
            cur = conn.execute("UPDATE containers SET spec=? WHERE id=?", (spec.to_json(), cid))
            if cur.rowcount == 0:
                raise NotFound(f"No such container: {cid}")

    def set_paused(self, cid: str, paused: bool) -> bool:
        """Mark a running container paused or not in one transaction (an exit saved
        meanwhile is not overwritten); whether it was running."""
        with self.rows.transaction() as conn:
            row = conn.execute("SELECT state FROM containers WHERE id=?", (cid,)).fetchone()
            if row is None:
                raise NotFound(f"No such container: {cid}")
            state = State.from_json(row[0])
            if not state.running:
                return False
            state.paused = paused
            conn.execute("UPDATE containers SET state=? WHERE id=?", (state.to_json(), cid))
            return True

    def update_health(self, cid: str, change: Callable[[State], None]) -> tuple[str, str]:
        """Apply `change` to the health fields of the stored state in one transaction (the
        rest of the state as it is now: an exit saved meanwhile is not overwritten); the
        health status before and after."""
        with self.rows.transaction() as conn:
            row = conn.execute("SELECT state FROM containers WHERE id=?", (cid,)).fetchone()
            if row is None:
                raise NotFound(f"No such container: {cid}")
            state = State.from_json(row[0])
            before = state.health_status
            change(state)
            conn.execute("UPDATE containers SET state=? WHERE id=?", (state.to_json(), cid))
            return before, state.health_status
