"""The ledger's connection surface is the same on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from reconcile.ledger import store as L
from reconcile.ledger.db import IntegrityError, column_exists, dialect, table_exists


def test_rows_read_by_index_and_by_name_on_both(ledger_target: str) -> None:
    conn = L.connect(ledger_target)
    row = conn.execute("SELECT name, value AS Last FROM control_counters WHERE name = ?", ("isa13",)).fetchone()
    assert row[0] == "isa13" and row["name"] == "isa13" and row["last"] == 0 and row["LAST"] == 0
    assert list(map(str.lower, row.keys())) == ["name", "last"]
    assert dict(row)["name"] == "isa13"
    conn.close()


def test_parameters_take_their_type_from_where_they_are_used(ledger_target: str) -> None:
    conn = L.connect(ledger_target)
    with L.transaction(conn):
        cur = conn.execute(
            "INSERT INTO interchanges (isa13, gs06, claim_type, created_at, status) VALUES (?, ?, ?, ?, ?)",
            ("41", 42, "837P", "2026-01-01T00:00:00+00:00", "reserved"),
        )
        iid = L.inserted_id(cur)
    row = conn.execute("SELECT isa13, gs06 FROM interchanges WHERE id = ?", (str(iid),)).fetchone()
    assert (row[0], row[1]) == (41, 42)
    # a string compared with a TEXT column, exact decimal text, a bool in a CASE
    assert conn.execute("SELECT 1 FROM interchanges WHERE claim_type = ?", ("837P",)).fetchone() is not None
    with L.transaction(conn):
        conn.execute(
            "UPDATE interchanges SET path = ?, temp_path = CASE WHEN ? THEN NULL ELSE 'kept' END WHERE id = ?",
            (str(Decimal("12.30")), True, iid),
        )
    row = conn.execute("SELECT path, temp_path FROM interchanges WHERE id = ?", (iid,)).fetchone()
    assert (row[0], row[1]) == ("12.30", None)
    assert conn.execute("SELECT 1 FROM interchanges WHERE temp_path IS ?", (None,)).fetchone() is not None
    assert conn.execute("SELECT COUNT(*) FROM interchanges WHERE claim_type LIKE '837%'").fetchone()[0] == 1
    assert conn.execute("SELECT COUNT(*) FROM interchanges WHERE claim_type LIKE ?", ("837%",)).fetchone()[0] == 1
    conn.close()


def test_failed_transaction_rolls_back_and_integrity_errors_are_named_once(ledger_target: str) -> None:
    conn = L.connect(ledger_target)
    with pytest.raises(IntegrityError), L.transaction(conn):
        conn.execute("UPDATE control_counters SET value = 7 WHERE name = 'line'")
        conn.execute("INSERT INTO control_counters (name, value) VALUES ('isa13', 1)")
    assert not conn.in_transaction
    assert conn.execute("SELECT value FROM control_counters WHERE name = 'line'").fetchone()[0] == 0
    conn.close()


def test_schema_questions_answered_on_both(ledger_target: str) -> None:
    conn = L.connect(ledger_target)
    assert table_exists(conn, "claims") and not table_exists(conn, "no_such_table")
    assert column_exists(conn, "claims", "part") and not column_exists(conn, "claims", "nope")
    assert dialect(conn) == ("postgresql" if ledger_target.startswith("postgresql") else "sqlite")
    conn.close()


def test_writers_wait_for_each_other_on_both(ledger_target: str) -> None:
    """A second writer waits for the first's transaction (SQLite's BEGIN IMMEDIATE, PostgreSQL's lock)."""
    first = L.connect(ledger_target)
    order: list[str] = []
    with L.transaction(first):
        first.execute("UPDATE control_counters SET value = value + 1 WHERE name = 'line'")

        def other() -> None:
            second = L.connect(ledger_target)  # SQLite connections belong to their thread
            with L.transaction(second):
                order.append("second in")
                second.execute("UPDATE control_counters SET value = value + 1 WHERE name = 'line'")
            second.close()

        t = threading.Thread(target=other)
        t.start()
        time.sleep(0.3)
        order.append("first commits")
    t.join(10)
    assert order == ["first commits", "second in"]
    assert first.execute("SELECT value FROM control_counters WHERE name = 'line'").fetchone()[0] == 2
    first.close()
