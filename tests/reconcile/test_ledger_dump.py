"""The canonical ledger dump and consistency check the team tests compare ledgers with."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.ledger import store as L
from reconcile.workqueue.work import add_note
from tests.reconcile.ledger_dump import check_consistent, dump
from tests.reconcile.team import prepare


def test_same_work_on_both_backends_dumps_the_same_and_a_change_shows(pg_ledger: str, tmp_path: Path) -> None:
    prepare(tmp_path / "sqlite", str(tmp_path / "sqlite" / "ledger.db"))
    prepare(tmp_path / "pg", pg_ledger)
    sq, pg = L.connect(tmp_path / "sqlite" / "ledger.db"), L.connect(pg_ledger)
    try:
        want = dump(sq)
        assert dump(pg) == want
        assert len(want["claims"]) == 49 and len(want["denials"]) >= 4 and want["control_numbers"]["line"]
        assert check_consistent(sq, tmp_path / "sqlite") == check_consistent(pg, tmp_path / "pg") == []

        denial = pg.execute("SELECT id FROM denials ORDER BY id DESC LIMIT 1").fetchone()[0]
        add_note(pg, denial, "called the payer", user="alice")
        got = dump(pg)
        assert [t for t in want if got[t] != want[t]] == ["denial_work", "denial_events"]
    finally:
        sq.close()
        pg.close()


def test_dump_refuses_a_table_it_does_not_know(tmp_path: Path) -> None:
    conn = L.connect(tmp_path / "ledger.db")
    try:
        conn.execute("CREATE TABLE notes_of_someone (id INTEGER PRIMARY KEY, text TEXT)")
        dump(conn)  # empty: nothing left out
        conn.execute("INSERT INTO notes_of_someone (text) VALUES ('x')")
        with pytest.raises(AssertionError, match="notes_of_someone"):
            dump(conn)
    finally:
        conn.close()


def test_consistency_check_names_what_is_wrong(tmp_path: Path) -> None:
    prepare(tmp_path, str(tmp_path / "ledger.db"))
    conn = L.connect(tmp_path / "ledger.db")
    try:
        assert check_consistent(conn, tmp_path) == []
        path, isa13 = conn.execute("SELECT path, isa13 FROM interchanges ORDER BY id LIMIT 1").fetchone()
        (tmp_path / path).unlink()
        conn.execute("UPDATE claims SET total_charge = '1.00' WHERE patient_control_number = 'S3-007'")
        conn.execute("UPDATE control_counters SET value = 1 WHERE name = 'line'")
        problems = check_consistent(conn, tmp_path)
    finally:
        conn.close()
    assert f"interchange {isa13}: file {path} missing" in problems
    assert any(p.startswith("claim S3-007: charge 1.00") for p in problems)
    assert any(p.startswith("lines.line_control_number") and "beyond its counter 1" in p for p in problems)
