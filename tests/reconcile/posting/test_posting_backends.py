"""Posting stores the same rows in a PostgreSQL ledger as in a SQLite ledger.

The same 835s are posted into a SQLite file and into a PostgreSQL database; every posting table and
the claims' posting state must then hold the same rows, value for value (ids, amounts as the payer
sent them, NULLs), and the ledger's counters must carry on from them alike.
"""

from __future__ import annotations

from decimal import Decimal

from reconcile.ledger import store as ledger
from reconcile.posting.post import post_files, post_remittances
from reconcile.posting.records import Adj, RPlb
from tests.reconcile.posting.support import D, claim, line, make_ledger, posting_contents, remit
from tests.reconcile.posting.two_payers import build


def test_a_random_file_posts_the_same_rows_on_both(tmp_path, pg_ledger):
    """Reversals, corrections, denials, PLBs, unmatched claims and lines, a payment posted twice."""
    targets = [str(tmp_path / "l.db"), pg_ledger]
    for target in targets:
        case = build(target, seed=11, n=30, per_set=12)
        f = tmp_path / "r.835"
        f.write_text(case.text)
        junk = tmp_path / "junk.835"
        junk.write_text("ISA*not an 835~")
        conn = ledger.connect(target)
        # a file with nothing to post is rolled back: the ids it drew are given again
        assert post_files(conn, [junk]).files[0].status == "error"
        assert post_files(conn, [f]).files[0].status == "posted"
        assert post_files(conn, [f]).files[0].status == "duplicate"
        conn.close()
    on_sqlite, on_postgresql = (posting_contents(t) for t in targets)
    assert on_sqlite["claim_postings"] and on_sqlite["unmatched"] and on_sqlite["denials"]
    assert [r[0] for r in on_sqlite["remit_files"]] == [1]
    assert on_postgresql == on_sqlite


def test_adjustment_quantities_and_sentinel_columns_are_stored_alike(tmp_path, pg_ledger):
    """CAS quantities (a decimal, a zero, none), a claim with no line matched, a reversal: the
    columns the poster fills through its ``NULLIF(?, 0)`` sentinels hold the same values; text
    with a backslash, a tab and line ends is kept as it came."""
    targets = [str(tmp_path / "l.db"), pg_ledger]
    for target in targets:
        conn, lcns = make_ledger(
            target, [("ENC1", [("96365", (), 1, "350.00", None), ("J1745", ("JZ",), 40, "1200.00", None)])]
        )
        first = line("96365", "350", "280", lcns["ENC1"][0], adjs=[("CO", "45", "70")])
        first.adjustments = [Adj("CO", "45", D("70"), D("1.5")), Adj("PR", "2", D("0"), D("0"))]
        second = line("J1745", "1200", "960", lcns["ENC1"][1], mods=["JZ"], units="40")
        second.adjustments = [Adj("CO", "45", D("240"), D("2.0")), Adj("OA", "23", D("0"), None)]
        stray = line("99999", "10", "10", "NOT-OURS")
        paid = claim("ENC1", "1", "1560", "1250", icn="Q1", lines=[first, second, stray])
        paid.adjustments = [Adj("CO", "45", D("0.00"), Decimal("-3"))]
        rm = remit([paid, claim("NO\\BO\tDY\r\n", "1", "5", "5")], "1245", plbs=[RPlb("WO", D("10"), "Q1")])
        assert post_remittances(conn, [rm], path="a.835", sha256="a" * 64).status == "posted"
        back = remit([claim("ENC1", "22", "-1560", "-1250", icn="Q1")], "-1250", trace="T2")
        assert post_remittances(conn, [back], path="b.835", sha256="b" * 64).status == "posted"
        conn.close()
    ids = []
    for target in targets:  # rows added later without an id are numbered after the poster's
        conn = ledger.connect(target)
        with ledger.transaction(conn):
            ids.append(
                [
                    ledger.inserted_id(conn.execute(sql, (1,)))
                    for sql in (
                        "INSERT INTO claim_postings (payment_id, patient_control_number, status_code, charge, paid,"
                        " patient_responsibility) VALUES (?, 'X', '1', '0', '0', '0')",
                        "INSERT INTO line_postings (claim_posting_id, charge, paid) VALUES (?, '0', '0')",
                        "INSERT INTO adjustments (claim_posting_id, group_code, reason, amount) VALUES (?, 'CO', '45', '0')",
                    )
                ]
            )
        conn.close()
    assert ids[0] == ids[1] == [4, 7, 11]  # 3 claim postings, 3 lines and 5 adjustments mirrored
    on_sqlite, on_postgresql = (posting_contents(t) for t in targets)
    assert "NO\\BO\tDY\r\n" in [r[3] for r in on_postgresql["claim_postings"]]
    quantities = [r[-1] for r in on_sqlite["adjustments"]]
    assert quantities[:5] == ["-3", "1.5", "0", "2.0", None]
    assert on_postgresql == on_sqlite


def test_postgresql_plans_the_lookups_with_statistics_of_a_ledger_never_analyzed(pg_ledger):
    """Claims loaded in bulk and never analyzed: the poster gathers their planner statistics, so
    its lookups by lists of hundreds of keys use the indexes instead of scanning every claim (the
    plans differ only on a ledger of many claims: a benchmark figure, not a test)."""
    conn, lcns = make_ledger(pg_ledger, [(f"E{i}", [("96372", (), 1, "45.00", None)]) for i in range(3)])
    unknown = "SELECT relname FROM pg_class WHERE relname IN ('claims', 'lines') AND reltuples < 0 ORDER BY 1"
    assert [r[0] for r in conn.execute(unknown)] == ["claims", "lines"]
    rm = remit([claim("E1", "1", "45", "45", lines=[line("96372", "45", "45", lcns["E1"][0])])], "45")
    assert post_remittances(conn, [rm], path="a.835", sha256="a" * 64).status == "posted"
    assert [r[0] for r in conn.execute(unknown)] == []
    conn.close()


def test_copy_stores_every_value_as_the_same_parameter_would(pg_ledger):
    """The writer's COPY text of a Decimal, a bool, a date, a float is the text the connection sends
    for that value as a parameter: COPY and INSERT store the same row."""
    from datetime import date

    from reconcile.posting.writer import Insert, Writer

    conn = ledger.connect(pg_ledger)
    conn.execute("CREATE TEMP TABLE t (k BIGINT, a TEXT, b BIGINT, c TEXT, d TEXT, e TEXT)")
    row = (Decimal("-1.50"), True, date(2026, 1, 2), 2.5, "a\\b\tc")
    with ledger.transaction(conn):
        Writer(conn).insert(Insert("INSERT INTO t (k, a, b, c, d, e)", "(?, ?, ?, ?, ?, ?)"), [(1, *row)])
        conn.execute("INSERT INTO t (k, a, b, c, d, e) VALUES (?, ?, ?, ?, ?, ?)", (2, *row))
    copied, inserted = (tuple(r)[1:] for r in conn.execute("SELECT * FROM t ORDER BY k"))
    assert copied == inserted == ("-1.50", 1, "2026-01-02", "2.5", "a\\b\tc")
    conn.close()
