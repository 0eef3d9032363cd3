"""Posting respects the payer: a remittance answers only claims sent to the payer that issued it.

Two payers hold claims with the same patient control number; payments, reversals and second
payments must never cross from one payer's claims to the other's, and what cannot be posted goes to
the unmatched queue with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coding.config import load_config
from reconcile.posting.matching import PayerDirectory
from reconcile.posting.post import post_remittances, unmatched_queue
from reconcile.posting.queries import claim_summaries
from tests.reconcile.posting.support import D, claim, line, make_ledger, remit

MEDICARE = {"payer_id": "00952", "payer_name": "MEDICARE PART B"}


@pytest.fixture
def two_payers(ledger_target):
    """ENC1 sent to Medicare, then ENC1 (same number, same charge) sent to the commercial payer."""
    db = ledger_target
    conn, med = make_ledger(db, [("ENC1", [("96372", (), 1, "45.00", None)])], payer="medicare", payer_id="00952")
    conn.close()
    conn, com = make_ledger(
        db, [("ENC1", [("96372", (), 1, "45.00", None)])], payer="commercial", payer_id="ACME01", another_payer=True
    )
    return conn, med["ENC1"][0], com["ENC1"][0]


def paid_by_payer(conn) -> dict[str, D]:
    return {s["payer"]: s["paid"] for s in claim_summaries(conn)}


def test_payment_lands_on_the_claim_of_the_payer_that_paid(two_payers):
    conn, med_lcn, _com_lcn = two_payers
    rm = remit([claim("ENC1", "1", "45", "40", lines=[line("96372", "45", "40", None)])], "40", **MEDICARE)
    post_remittances(conn, [rm], path="m.835", sha256="m" * 64)
    assert paid_by_payer(conn) == {"medicare": D("40"), "commercial": D("0")}
    lp = conn.execute("SELECT l.line_control_number FROM line_postings p JOIN lines l ON l.id = p.line_id").fetchall()
    assert [r[0] for r in lp] == [med_lcn]
    assert unmatched_queue(conn) == []


def test_remittance_of_a_payer_we_never_billed_goes_to_the_unmatched_queue(two_payers):
    conn, *_ = two_payers
    rm = remit([claim("ENC1", "1", "45", "40")], "40", payer_id="OTHER99", payer_name="OTHER PLAN")
    res = post_remittances(conn, [rm], path="o.835", sha256="o" * 64)
    assert paid_by_payer(conn) == {"medicare": D("0"), "commercial": D("0")}
    [u] = unmatched_queue(conn)
    assert u["kind"] == "claim" and u["amount"] == "40.00" and u["payer_id"] == "OTHER99"
    assert "another payer" in u["reason"]
    assert res.unmatched == 1


def test_claim_sent_only_to_another_payer_is_unmatched(ledger_target):
    conn, _ = make_ledger(ledger_target, [("ENC9", [("96372", (), 1, "45.00", None)])])
    rm = remit([claim("ENC9", "1", "45", "45")], "45", **MEDICARE)
    post_remittances(conn, [rm], path="m.835", sha256="m" * 64)
    assert [s["paid"] for s in claim_summaries(conn)] == [D("0")]
    [u] = unmatched_queue(conn)
    assert "another payer" in u["reason"] and u["amount"] == "45.00"


def test_reversal_never_undoes_another_payers_posting(two_payers):
    conn, *_ = two_payers
    paid = remit([claim("ENC1", "1", "45", "40", icn="Q1")], "40", trace="M1", **MEDICARE)
    post_remittances(conn, [paid], path="m.835", sha256="m" * 64)
    # the commercial payer reverses "its" Q1: it never paid anything here
    rev = remit([claim("ENC1", "22", "-45", "-40", icn="Q1")], "-40", trace="C1")
    res = post_remittances(conn, [rev], path="c.835", sha256="c" * 64)
    assert paid_by_payer(conn) == {"medicare": D("40"), "commercial": D("0")}
    assert conn.execute("SELECT COUNT(*) FROM claim_postings WHERE reversed_by IS NOT NULL").fetchone()[0] == 0
    [u] = unmatched_queue(conn)
    assert u["amount"] == "-40.00" and "reversal" in u["reason"]
    assert any(f.code == "reversal-without-original" for f in res.findings)
    statuses = {s["payer"]: s["status"] for s in claim_summaries(conn)}
    assert statuses == {"medicare": "paid", "commercial": "sent"}


def test_reversal_by_the_same_payer_still_reverses(two_payers):
    conn, *_ = two_payers
    post_remittances(conn, [remit([claim("ENC1", "1", "45", "40", icn="Q1")], "40", trace="M1", **MEDICARE)],
                     path="m.835", sha256="m" * 64)  # fmt: skip
    rev = remit([claim("ENC1", "22", "-45", "-40", icn="Q1")], "-40", trace="M2", **MEDICARE)
    post_remittances(conn, [rev], path="r.835", sha256="r" * 64)
    assert paid_by_payer(conn) == {"medicare": D("0"), "commercial": D("0")}
    assert conn.execute("SELECT COUNT(*) FROM claim_postings WHERE reversed_by IS NOT NULL").fetchone()[0] == 1
    assert unmatched_queue(conn) == []


def test_second_payment_of_a_paid_claim_by_the_same_payer_is_a_duplicate(ledger_target):
    conn, lcns = make_ledger(ledger_target, [("ENC3", [("96372", (), 1, "45.00", None)])])
    first = remit([claim("ENC3", "1", "45", "45", icn="Q1", lines=[line("96372", "45", "45", lcns["ENC3"][0])])], "45")
    post_remittances(conn, [first], path="a.835", sha256="a" * 64)
    again = remit(
        [claim("ENC3", "1", "45", "45", icn="Q7", lines=[line("96372", "45", "45", lcns["ENC3"][0])])],
        "45",
        trace="TRACE2",
    )
    res = post_remittances(conn, [again], path="b.835", sha256="b" * 64)
    assert [s["paid"] for s in claim_summaries(conn)] == [D("45")]
    dup = [f for f in res.findings if f.code == "duplicate-claim-payment"]
    assert len(dup) == 1 and dup[0].severity == "warning"
    [u] = unmatched_queue(conn)
    assert u["kind"] == "claim" and u["amount"] == "45.00" and "already paid" in u["reason"]
    related = conn.execute("SELECT related_claim_id FROM unmatched").fetchone()[0]
    assert related == conn.execute("SELECT id FROM claims").fetchone()[0]


def test_second_payment_in_the_same_remittance_is_a_duplicate(ledger_target):
    conn, lcns = make_ledger(ledger_target, [("ENC3", [("96372", (), 1, "45.00", None)])])
    one = claim("ENC3", "1", "45", "45", icn="Q1", lines=[line("96372", "45", "45", lcns["ENC3"][0])])
    res = post_remittances(conn, [remit([one, one], "90")], path="a.835", sha256="a" * 64)
    assert [s["paid"] for s in claim_summaries(conn)] == [D("45")]
    assert [f.code for f in res.findings if f.code == "duplicate-claim-payment"] == ["duplicate-claim-payment"]
    assert [u["amount"] for u in unmatched_queue(conn)] == ["45.00"]


def test_correction_before_its_reversal_in_one_remittance_is_not_a_duplicate(ledger_target):
    conn, _ = make_ledger(ledger_target, [("ENC3", [("96372", (), 1, "45.00", None)])])
    post_remittances(conn, [remit([claim("ENC3", "1", "45", "40", icn="Q1")], "40")], path="a.835", sha256="a" * 64)
    pair = remit(
        [claim("ENC3", "1", "45", "42", icn="Q2"), claim("ENC3", "22", "-45", "-40", icn="Q1")], "2", trace="T2"
    )
    res = post_remittances(conn, [pair], path="b.835", sha256="b" * 64)
    assert [s["paid"] for s in claim_summaries(conn)] == [D("42")]
    assert not any(f.code == "duplicate-claim-payment" for f in res.findings)
    assert unmatched_queue(conn) == []


def test_denied_then_paid_is_not_a_duplicate(ledger_target):
    conn, _ = make_ledger(ledger_target, [("ENC3", [("96372", (), 1, "45.00", None)])])
    den = remit([claim("ENC3", "4", "45", "0", adjs=[("CO", "16", "45")])], "0")
    post_remittances(conn, [den], path="a.835", sha256="a" * 64)
    paid = remit([claim("ENC3", "1", "45", "45", icn="Q2")], "45", trace="T2")
    post_remittances(conn, [paid], path="b.835", sha256="b" * 64)
    assert [s["paid"] for s in claim_summaries(conn)] == [D("45")]
    assert unmatched_queue(conn) == []


def test_configured_payer_id_alias_matches(tmp_path: Path, two_payers):
    conn, *_ = two_payers
    cfg_path = tmp_path / "c.toml"
    cfg_path.write_text(
        '[payers.medicare]\nname = "MEDICARE PART B"\npayer_id = "00952"\npayer_id_aliases = ["12202", " mcr-b "]\n'
        '[payers.commercial]\nname = "ACME"\npayer_id = "ACME01"\n'
    )
    payers = PayerDirectory.from_config(load_config(cfg_path))
    rm = remit([claim("ENC1", "1", "45", "30")], "30", payer_id="MCR-B")
    post_remittances(conn, [rm], path="a.835", sha256="a" * 64, payers=payers)
    assert paid_by_payer(conn) == {"medicare": D("30"), "commercial": D("0")}
    # without the alias configured, the same remittance matches nothing
    rm2 = remit([claim("ENC1", "1", "45", "5")], "5", payer_id="12202", trace="T9")
    post_remittances(conn, [rm2], path="b.835", sha256="b" * 64)
    assert paid_by_payer(conn) == {"medicare": D("30"), "commercial": D("0")}
    assert [u["amount"] for u in unmatched_queue(conn)] == ["5.00"]


def test_payer_id_aliases_must_be_a_list_of_strings(tmp_path: Path):
    from coding.config import ConfigError

    bad = tmp_path / "c.toml"
    bad.write_text('[payers.medicare]\npayer_id = "00952"\npayer_id_aliases = "12202"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(bad)
    assert any("payer_id_aliases" in m for m in exc.value.messages)


def test_plb_links_only_to_a_claim_of_the_same_payer(two_payers):
    from reconcile.posting.records import RPlb

    conn, *_ = two_payers
    rm = remit([claim("ENC1", "1", "45", "45")], "35", plbs=[RPlb("WO", D("10"), "ENC1")], **MEDICARE)
    post_remittances(conn, [rm], path="m.835", sha256="m" * 64)
    linked = conn.execute(
        "SELECT c.payer FROM provider_adjustments a JOIN claims c ON c.id = a.claim_id"
    ).fetchall()  # fmt: skip
    assert [r[0] for r in linked] == ["medicare"]
