"""How the worklist page reads the ledger: the payer list walked from payer to payer (both
backends), and on PostgreSQL a page read from the ranking index alone."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.ledger import store as L
from reconcile.ledger.db import Connection
from reconcile.workqueue import queries as Q

PAYERS = ["ACME", "acme", "BLUE RIVER", "Ünïcode Care", "<b>&", "Z", "", " A"]


def _fill(conn: Connection, denials: list[tuple[str | None, str, str]]) -> None:
    """One claim, claim posting and denial per ``(payer, status, amount)`` (direct inserts)."""
    n = len(denials)
    with L.transaction(conn):
        conn.execute(
            "INSERT INTO interchanges (id, isa13, gs06, claim_type, created_at, status)"
            " VALUES (1, 1, 1, '837P', 'x', 'recorded')"
        )
        conn.execute("INSERT INTO transactions (id, interchange_id, st02, bht03, payer) VALUES (1, 1, 1, '1', 'x')")
        conn.execute("INSERT INTO remit_files (id, path, sha256, posted_at) VALUES (1, 'r.835', 'x', 'x')")
        conn.execute("INSERT INTO payments (id, file_id, payer_id, trace, amount) VALUES (1, 1, 'P', 'T', '0')")
        conn.executemany(
            "INSERT INTO claims (id, patient_control_number, encounter_id, payer, payer_id, claim_type, frequency,"
            " total_charge, status, transaction_id, created_at, updated_at)"
            " VALUES (?, ?, ?, 'commercial', 'P', '837P', '1', '1', 'denied', 1, 'x', 'x')",
            [(i, f"E{i}", f"E{i}") for i in range(1, n + 1)],
        )
        conn.executemany(
            "INSERT INTO claim_postings (id, payment_id, claim_id, patient_control_number, status_code, charge,"
            " paid, patient_responsibility) VALUES (?, 1, ?, ?, '4', '1', '0', '0')",
            [(i, i, f"E{i}") for i in range(1, n + 1)],
        )
        conn.executemany(
            "INSERT INTO denials (id, claim_posting_id, claim_id, patient_control_number, amount, category,"
            " action, payer, denied_on, status) VALUES (?, ?, ?, ?, ?, 'other', 'review', ?, '2026-04-01', ?)",
            [(i, i, i, f"E{i}", amount, payer, status) for i, (payer, status, amount) in enumerate(denials, 1)],
        )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    denials=st.lists(
        st.tuples(st.one_of(st.none(), st.sampled_from(PAYERS)), st.sampled_from(["open", "resolved", "reversed"])),
        max_size=40,
    )
)
def test_open_denial_payers_are_the_distinct_payers_of_open_denials(ledger_target: str, denials: list) -> None:
    """The walk from payer to payer lists what ``SELECT DISTINCT`` lists: each payer of an open
    denial once, in code-point order, no NULL, none of closed denials only."""
    conn = L.connect(ledger_target)
    try:
        with L.transaction(conn):
            for table in ("denials", "claim_postings", "claims", "payments", "remit_files", "transactions"):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM interchanges")
        _fill(conn, [(p, s, "1.00") for p, s in denials])
        expected = sorted(
            r[0] for r in conn.execute("SELECT DISTINCT payer FROM denials WHERE status = 'open' AND payer IS NOT NULL")
        )
        assert Q.open_denial_payers(conn) == expected
        assert set(expected) == {p for p, s in denials if p is not None and s == "open"}
    finally:
        conn.close()


def test_a_deep_page_is_read_from_the_ranking_index_alone(pg_ledger: str) -> None:
    """PostgreSQL: the page query (every filter column, the amount order) is an index-only scan of
    ``denials_rank``, so page 1,000 does not fetch 50,000 table rows; and it is the same page."""
    conn = L.connect(pg_ledger)
    rnd = random.Random(5)
    _fill(conn, [(rnd.choice(PAYERS), "open", f"{rnd.randint(1, 99_999) / 100:.2f}") for _ in range(3000)])
    conn.execute("VACUUM ANALYZE denials")  # the visibility map a server's autovacuum keeps
    sql = (
        "SELECT d.id FROM denials d WHERE d.status = 'open'"
        " ORDER BY CAST(d.amount AS NUMERIC) DESC, d.denied_on, d.id LIMIT 50 OFFSET 1000"
    )
    with L.transaction(conn):
        conn.execute("SET LOCAL enable_seqscan = off")  # a small table: make the planner show its index path
        conn.execute("SET LOCAL enable_sort = off")
        plan = " ".join(r[0] for r in conn.execute("EXPLAIN " + sql))
    assert "Index Only Scan using denials_rank" in plan, plan
    page = [r[0] for r in conn.execute(sql)]
    expected = [
        r[0]
        for r in sorted(
            conn.execute("SELECT id, amount, denied_on FROM denials WHERE status = 'open'"),
            key=lambda r: (-Decimal(r[1]), r[2], r[0]),
        )
    ][1000:1050]
    assert page == expected and len(page) == 50
    conn.close()
