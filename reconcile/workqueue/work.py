"""Work on a denial: assign it, move it through the work states, add notes; every change audited.

Each change runs in one ledger transaction that reads the current work state, checks the change
against the state table (:mod:`reconcile.workqueue.states`), writes the ``denial_work`` row and a
``denial_events`` row with the user and the time. A denial nobody has touched has no work row and
reads as state ``open``, nobody assigned. Denials are identified by ``denials.id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconcile.ledger.db import Connection
from reconcile.ledger.store import iso_time, transaction
from reconcile.workqueue.states import load_states
from reconcile.workqueue.users import user_exists

MAX_NOTE = 4000


class WorkError(Exception):
    """A change that cannot be made: unknown denial or user, a transition the table refuses, an empty note."""


@dataclass(frozen=True)
class WorkState:
    denial_id: int
    state: str
    assignee: str | None
    last_note: str | None
    updated_at: str | None
    updated_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "denial_id": self.denial_id,
            "state": self.state,
            "assignee": self.assignee,
            "last_note": self.last_note,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        }


def work_state(conn: Connection, denial_id: int) -> WorkState:
    """The denial's work state (the initial state, nobody assigned, when nothing was recorded)."""
    if conn.execute("SELECT 1 FROM denials WHERE id = ?", (denial_id,)).fetchone() is None:
        raise WorkError(f"no denial {denial_id}")
    row = conn.execute(
        "SELECT state, assignee, last_note, updated_at, updated_by FROM denial_work WHERE denial_id = ?",
        (denial_id,),
    ).fetchone()
    if row is None:
        return WorkState(denial_id, load_states().initial, None, None, None, None)
    return WorkState(denial_id, row[0], row[1], row[2], row[3], row[4])


def _write(
    conn: Connection,
    before: WorkState,
    after: WorkState,
    kind: str,
    old: str | None,
    new: str | None,
) -> None:
    """Store ``after`` and record the event (inside the caller's transaction)."""
    if before.updated_at is None:
        conn.execute(
            "INSERT INTO denial_work (denial_id, state, assignee, last_note, updated_at, updated_by)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (after.denial_id, after.state, after.assignee, after.last_note, after.updated_at, after.updated_by),
        )
    else:
        conn.execute(
            "UPDATE denial_work SET state = ?, assignee = ?, last_note = ?, updated_at = ?, updated_by = ?"
            " WHERE denial_id = ?",
            (after.state, after.assignee, after.last_note, after.updated_at, after.updated_by, after.denial_id),
        )
    conn.execute(
        "INSERT INTO denial_events (denial_id, kind, old_value, new_value, user_name, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (after.denial_id, kind, old, new, after.updated_by, after.updated_at),
    )


def _actor(user: str) -> str:
    if not user or not user.strip():
        raise WorkError("every change needs the user who makes it")
    return user


def assign(
    conn: Connection, denial_id: int, assignee: str | None, *, user: str, now: datetime | None = None
) -> WorkState:
    """Give the denial to ``assignee`` (an active user), or to nobody with None."""
    actor = _actor(user)
    with transaction(conn):
        if assignee is not None and not user_exists(conn, assignee):
            raise WorkError(f"no user {assignee!r}")
        before = work_state(conn, denial_id)
        if before.assignee == assignee:
            return before
        after = WorkState(denial_id, before.state, assignee, before.last_note, iso_time(now), actor)
        _write(conn, before, after, "assign", before.assignee, assignee)
    return after


def set_state(conn: Connection, denial_id: int, state: str, *, user: str, now: datetime | None = None) -> WorkState:
    """Move the denial to ``state`` when the state table allows it from its current state."""
    actor = _actor(user)
    table = load_states()
    if state not in table.labels:
        raise WorkError(f"unknown state {state!r}")
    with transaction(conn):
        before = work_state(conn, denial_id)
        if not table.allowed(before.state, state):
            raise WorkError(f"a denial in state {before.state!r} cannot move to {state!r}")
        after = WorkState(denial_id, state, before.assignee, before.last_note, iso_time(now), actor)
        _write(conn, before, after, "state", before.state, state)
    return after


def add_note(conn: Connection, denial_id: int, text: str, *, user: str, now: datetime | None = None) -> WorkState:
    """Add a note (kept whole in the history; the latest one also on the work row)."""
    actor = _actor(user)
    note = text.strip()
    if not note:
        raise WorkError("a note needs some text")
    if len(note) > MAX_NOTE:
        raise WorkError(f"a note holds at most {MAX_NOTE} characters")
    with transaction(conn):
        before = work_state(conn, denial_id)
        after = WorkState(denial_id, before.state, before.assignee, note, iso_time(now), actor)
        _write(conn, before, after, "note", None, note)
    return after


def history(conn: Connection, denial_id: int) -> list[dict[str, Any]]:
    """Every recorded change of the denial, oldest first."""
    rows = conn.execute(
        "SELECT id, kind, old_value, new_value, user_name, created_at FROM denial_events"
        " WHERE denial_id = ? ORDER BY id",
        (denial_id,),
    ).fetchall()
    return [
        {"id": r[0], "kind": r[1], "old": r[2], "new": r[3], "user": r[4], "at": r[5], "denial_id": denial_id}
        for r in rows
    ]
