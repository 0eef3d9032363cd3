"""Denial work: states and transitions from the table, assignment, notes, the audit trail."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.denials.worklist import denial_worklist
from reconcile.ledger.store import transaction
from reconcile.workqueue.states import load_states
from reconcile.workqueue.work import WorkError, add_note, assign, history, set_state, work_state
from tests.reconcile.workqueue.support import denial_ids, denials_ledger

TABLE = load_states()
T0 = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


@pytest.fixture
def led(ledger_target):
    conn = denials_ledger(ledger_target)
    yield conn, denial_ids(conn)
    conn.close()


def _path_to(target: str) -> list[str]:
    """The shortest list of allowed moves from the initial state to ``target``."""
    seen = {TABLE.initial: [TABLE.initial]}
    todo = deque([TABLE.initial])
    while todo:
        s = todo.popleft()
        for n in TABLE.next_states(s):
            if n not in seen:
                seen[n] = [*seen[s], n]
                todo.append(n)
    return seen[target][1:]


def test_shipped_table_names_the_workflow():
    assert TABLE.initial == "open"
    assert list(TABLE.labels) == ["open", "in_progress", "corrected", "appealed", "written_off", "resolved"]
    assert set(TABLE.next_states("in_progress")) >= {"corrected", "appealed", "written_off", "resolved"}
    assert TABLE.next_states("open") == ("in_progress",)


def test_a_table_naming_an_unknown_state_is_refused(tmp_path: Path):
    bad = tmp_path / "states.toml"
    bad.write_text('initial = "open"\n[states]\nopen = "Open"\n[transitions]\nopen = ["gone"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="gone"):
        load_states.__wrapped__(str(bad))


def test_untouched_denial_reads_open_and_unassigned(led):
    conn, ids = led
    ws = work_state(conn, ids["ENC1"])
    assert (ws.state, ws.assignee, ws.last_note) == ("open", None, None)
    items = denial_worklist(conn)
    assert {(i["state"], i["assignee"], i["last_note"]) for i in items} == {("open", None, None)}
    # the keys the worklist had before are all still there
    assert {"patient_control_number", "amount", "category", "action", "payer", "age_days", "payer_key"} <= set(items[0])


ALL_PAIRS = [(a, b) for a in TABLE.labels for b in TABLE.labels]


@pytest.mark.parametrize(("start", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_transition_is_allowed_exactly_when_the_table_says(led, start, target):
    conn, ids = led
    d = ids["ENC1"]
    for step in _path_to(start):
        set_state(conn, d, step, user="alice")
    before = history(conn, d)
    if target in TABLE.next_states(start):
        assert set_state(conn, d, target, user="bob").state == target
        assert history(conn, d)[-1] | {"id": 0, "at": ""} == {
            "id": 0,
            "kind": "state",
            "old": start,
            "new": target,
            "user": "bob",
            "at": "",
            "denial_id": d,
        }
    else:
        with pytest.raises(WorkError):
            set_state(conn, d, target, user="bob")
        assert work_state(conn, d).state == start and history(conn, d) == before  # nothing recorded


def test_unknown_state_and_unknown_denial_are_refused(led):
    conn, ids = led
    with pytest.raises(WorkError, match="unknown state"):
        set_state(conn, ids["ENC1"], "lost", user="alice")
    with pytest.raises(WorkError, match="no denial"):
        set_state(conn, 999_999, "in_progress", user="alice")
    with pytest.raises(WorkError, match="no denial"):
        add_note(conn, 999_999, "x", user="alice")
    with pytest.raises(WorkError, match="user"):
        set_state(conn, ids["ENC1"], "in_progress", user=" ")


def test_assign_note_and_the_audit_trail(led):
    conn, ids = led
    d = ids["ENC2"]
    assign(conn, d, "bob", user="alice", now=T0)
    assign(conn, d, "bob", user="alice", now=T0)  # no change: nothing recorded
    set_state(conn, d, "in_progress", user="bob", now=T0.replace(minute=31))
    add_note(conn, d, "  called the payer: resubmit with modifier  ", user="bob", now=T0.replace(minute=32))
    assign(conn, d, None, user="carol", now=T0.replace(minute=33))
    events = [(e["kind"], e["old"], e["new"], e["user"], e["at"]) for e in history(conn, d)]
    assert events == [
        ("assign", None, "bob", "alice", "2026-12-05T09:30:00+00:00"),
        ("state", "open", "in_progress", "bob", "2026-12-05T09:31:00+00:00"),
        ("note", None, "called the payer: resubmit with modifier", "bob", "2026-12-05T09:32:00+00:00"),
        ("assign", "bob", None, "carol", "2026-12-05T09:33:00+00:00"),
    ]
    ws = work_state(conn, d)
    assert (ws.state, ws.assignee, ws.last_note, ws.updated_by) == (
        "in_progress",
        None,
        "called the payer: resubmit with modifier",
        "carol",
    )
    item = next(i for i in denial_worklist(conn) if i["denial_id"] == d)
    assert (item["state"], item["assignee"], item["last_note"]) == (
        "in_progress",
        None,
        "called the payer: resubmit with modifier",
    )
    assert history(conn, ids["ENC1"]) == []  # the other denials are untouched


def test_assign_to_unknown_user_and_empty_note_are_refused(led):
    conn, ids = led
    with pytest.raises(WorkError, match="no user"):
        assign(conn, ids["ENC1"], "mallory", user="alice")
    with pytest.raises(WorkError, match="text"):
        add_note(conn, ids["ENC1"], "   ", user="alice")
    with pytest.raises(WorkError, match="at most"):
        add_note(conn, ids["ENC1"], "x" * 4001, user="alice")
    assert history(conn, ids["ENC1"]) == []


@pytest.fixture
def hyp_ledger(ledger_target):
    """One ledger for every example of a property test (a database per example costs too much)."""
    conn = denials_ledger(ledger_target, users=())
    yield conn, denial_ids(conn)["ENC3"]
    conn.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(st.sampled_from(sorted(TABLE.labels)), max_size=12))
def test_any_sequence_of_moves_keeps_state_and_audit_in_step(hyp_ledger, moves):
    conn, d = hyp_ledger
    with transaction(conn):  # every example starts from the denial as posted: no work, no events
        conn.execute("DELETE FROM denial_events WHERE denial_id = ?", (d,))
        conn.execute("DELETE FROM denial_work WHERE denial_id = ?", (d,))
    state, accepted = TABLE.initial, 0
    for m in moves:
        if TABLE.allowed(state, m):
            set_state(conn, d, m, user="u")
            state, accepted = m, accepted + 1
        else:
            with pytest.raises(WorkError):
                set_state(conn, d, m, user="u")
    assert work_state(conn, d).state == state
    events = history(conn, d)
    assert len(events) == accepted
    assert all(e["old"] != e["new"] for e in events)
    if events:
        assert events[-1]["new"] == state


def test_two_people_taking_the_same_denial_at_once_one_wins(ledger_target):
    import threading

    from reconcile.ledger.store import connect

    db = ledger_target
    denials_ledger(db).close()
    d = denial_ids(connect(db))["ENC1"]
    barrier = threading.Barrier(4)
    results: list[str] = []

    def take(user: str) -> None:
        conn = connect(db)
        barrier.wait()
        try:
            set_state(conn, d, "in_progress", user=user)
            results.append("ok")
        except WorkError:
            results.append("refused")
        finally:
            conn.close()

    threads = [threading.Thread(target=take, args=(f"user{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused", "refused", "refused"]
    assert len(history(connect(db), d)) == 1
