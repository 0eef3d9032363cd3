"""The worklist page (filters, paging, order), one denial, and a claim's page and timeline."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from reconcile.denials.worklist import denial_worklist
from reconcile.ledger.db import dialect
from reconcile.workqueue import queries as Q
from reconcile.workqueue.work import add_note, assign, set_state
from tests.reconcile.workqueue.support import HOSTILE_PAYER, denial_ids, denials_ledger, language_collation

AS_OF = date(2026, 4, 11)  # the remittances were paid on 2026-04-01: every denial is 10 days old


@pytest.fixture
def led(ledger_target):
    conn = denials_ledger(ledger_target)
    yield conn, denial_ids(conn)
    conn.close()


def pcns(items):
    return [i["patient_control_number"] for i in items]


def test_page_is_ordered_like_the_cli_worklist(led):
    conn, _ = led
    items, total = Q.worklist_page(conn, Q.WorklistFilter(), as_of=AS_OF)
    assert total == 3
    assert pcns(items) == pcns(denial_worklist(conn, as_of=AS_OF)) == ["ENC2", "ENC1", "ENC3"]
    assert [i["amount"] for i in items] == ["1380.00", "1200.00", "45.00"]
    assert items[0]["age_days"] == 10 and items[0]["state"] == "open"


def test_paging_cuts_in_sql(led):
    conn, _ = led
    pages = [Q.worklist_page(conn, Q.WorklistFilter(), page=p, per_page=2, as_of=AS_OF) for p in (1, 2, 3)]
    assert [pcns(i) for i, _ in pages] == [["ENC2", "ENC1"], ["ENC3"], []]
    assert {t for _, t in pages} == {3}


@pytest.mark.parametrize(
    ("filt", "expected"),
    [
        (Q.WorklistFilter(payer=HOSTILE_PAYER), ["ENC3"]),
        (Q.WorklistFilter(payer="ACME HEALTH PLAN"), ["ENC2", "ENC1"]),
        (Q.WorklistFilter(category="missing_information"), ["ENC1"]),
        (Q.WorklistFilter(action="corrected_claim", payer="ACME HEALTH PLAN"), ["ENC2", "ENC1"]),
        (Q.WorklistFilter(age="0-30"), ["ENC2", "ENC1", "ENC3"]),
        (Q.WorklistFilter(age="31-60"), []),
        (Q.WorklistFilter(age="bogus"), ["ENC2", "ENC1", "ENC3"]),  # an unknown bucket filters nothing
        (Q.WorklistFilter(state="open"), ["ENC2", "ENC3"]),
        (Q.WorklistFilter(state="in_progress"), ["ENC1"]),
        (Q.WorklistFilter(assignee="bob"), ["ENC1"]),
        (Q.WorklistFilter(assignee=Q.NOBODY), ["ENC2", "ENC3"]),
        (Q.WorklistFilter(assignee="bob", state="resolved"), []),
    ],
)
def test_filters(led, filt, expected):
    conn, ids = led
    assign(conn, ids["ENC1"], "bob", user="alice")
    set_state(conn, ids["ENC1"], "in_progress", user="bob")
    items, total = Q.worklist_page(conn, filt, as_of=AS_OF)
    assert pcns(items) == expected and total == len(expected)


def test_age_buckets_bound_denied_on(led):
    conn, _ = led
    for bucket, (lo, hi) in Q.AGE_BUCKETS.items():
        items, _ = Q.worklist_page(conn, Q.WorklistFilter(age=bucket), as_of=date(2026, 4, 1) + timedelta(days=lo))
        assert len(items) == 3, bucket  # exactly lo days old: inside
        if hi is not None:
            items, _ = Q.worklist_page(
                conn, Q.WorklistFilter(age=bucket), as_of=date(2026, 4, 1) + timedelta(days=hi + 1)
            )
            assert items == [], bucket  # one day past hi: outside


PAGE_QUERY = (
    "SELECT d.id FROM denials d WHERE d.status = 'open'"
    " ORDER BY CAST(d.amount AS NUMERIC) DESC, d.denied_on, d.id LIMIT 50 OFFSET 0"
)


def test_the_page_query_walks_the_ranking_index(led):
    conn, _ = led
    if dialect(conn) == "sqlite":
        plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + PAGE_QUERY))
        assert "denials_rank" in plan and "TEMP B-TREE" not in plan
        return
    # three rows: PostgreSQL would read the table itself; barred from that, it walks the index in
    # the page's order, with no sort step
    conn.execute("SET enable_seqscan = off")
    plan = " ".join(r[0] for r in conn.execute("EXPLAIN " + PAGE_QUERY))
    conn.execute("RESET enable_seqscan")
    assert "denials_rank" in plan and "Sort" not in plan, plan


def test_payers_and_one_denial(led):
    conn, ids = led
    assert Q.open_denial_payers(conn) == sorted(["ACME HEALTH PLAN", HOSTILE_PAYER])
    add_note(conn, ids["ENC3"], "write off: small balance", user="alice")
    d = Q.denial(conn, ids["ENC3"], as_of=AS_OF)
    assert d is not None and d["last_note"] == "write off: small balance" and d["claim_id"] is not None
    assert Q.denial(conn, 999_999) is None


def test_payers_are_listed_in_code_point_order_whatever_the_server_collation(led):
    conn, ids = led
    language_collation(conn, "denials", "payer")
    conn.execute("UPDATE denials SET payer = 'aetna' WHERE id = ?", (ids["ENC3"],))
    conn.execute("UPDATE denials SET payer = 'BLUE RIVER' WHERE id = ?", (ids["ENC2"],))
    assert Q.open_denial_payers(conn) == ["ACME HEALTH PLAN", "BLUE RIVER", "aetna"]  # as SQLite orders them


def test_no_open_denial_no_payer(another_ledger_target):
    from reconcile.ledger.store import connect

    conn = connect(another_ledger_target)
    assert Q.open_denial_payers(conn) == []
    conn.close()


def test_claim_page_timeline_lines_and_denials(led):
    conn, ids = led
    claim_id = conn.execute("SELECT id FROM claims WHERE patient_control_number = 'ENC1'").fetchone()[0]
    page = Q.claim_page(conn, claim_id, as_of=AS_OF)
    assert page is not None
    assert page["claim"]["patient_control_number"] == "ENC1" and page["claim"]["total_charge"] == "1550.00"
    assert [(ln["code"], ln["charge"], ln["paid"]) for ln in page["lines"]] == [
        ("96365", "350.00", "350.00"),
        ("J1745", "1200.00", "0.00"),
    ]
    assert [d["denial_id"] for d in page["denials"]] == [ids["ENC1"]]
    whats = [(e["source"], e["what"]) for e in page["timeline"]]
    # sent, then the payment posted, then the status that posting set (all in the same second here)
    assert whats == [("build", "sent"), ("ACME HEALTH PLAN", "835 posting"), ("835", "partially_denied")]
    assert Q.claim_page(conn, 999_999) is None


def test_claim_timeline_shows_reversal_and_corrections(led):
    conn, _ = led
    from reconcile.posting.post import post_remittances
    from tests.reconcile.posting.support import claim, remit

    post_remittances(
        conn,
        [remit([claim("ENC3", "22", "-45", "0", adjs=[("CO", "ZZ9", "-45")])], "0", trace="T3")],
        path="c.835",
        sha256="c" * 64,
    )
    claim_id = conn.execute("SELECT id FROM claims WHERE patient_control_number = 'ENC3'").fetchone()[0]
    page = Q.claim_page(conn, claim_id)
    assert page is not None
    assert "835 reversal" in [e["what"] for e in page["timeline"]]


def test_underpayments_come_from_the_expected_payment_worklist(led, monkeypatch):
    conn, _ = led
    assert Q.has_underpayments(conn)
    found = Q.underpayments(conn)
    assert found is not None and found[0][:3] == ["patient_control_number", "line_control_number", "code"]
    assert found[1] == []  # no expected amounts recorded for these lines
    import reconcile.underpay.worklist as uw

    item = dict.fromkeys(uw.UNDERPAYMENT_FIELDS, "x")
    monkeypatch.setattr(uw, "underpayment_worklist", lambda conn, cfg=None: [item] * 3)
    assert Q.underpayments(conn, limit=2) == (list(uw.UNDERPAYMENT_FIELDS), [item, item])


def test_claim_page_lists_secondary_claims(led):
    conn, _ = led
    primary = conn.execute("SELECT id FROM claims WHERE patient_control_number = 'ENC1'").fetchone()[0]
    assert Q.claim_page(conn, primary)["related"] == []  # type: ignore[index]
    conn.execute(
        "INSERT INTO claims (patient_control_number, encounter_id, payer, payer_id, claim_type, frequency,"
        " total_charge, status, transaction_id, created_at, updated_at, coverage_order, prior_claim_id)"
        " SELECT patient_control_number, encounter_id, 'medigap', 'GAP01', claim_type, '1', '1200.00', 'sent',"
        " transaction_id, '2026-04-20T10:00:00+00:00', created_at, 2, id FROM claims WHERE id = ?",
        (primary,),
    )
    page = Q.claim_page(conn, primary)
    assert page is not None
    assert [(r["kind"], r["payer"]) for r in page["related"]] == [("secondary", "medigap")]
    assert ("build", "secondary claim ENC1") in [(e["source"], e["what"]) for e in page["timeline"]]
