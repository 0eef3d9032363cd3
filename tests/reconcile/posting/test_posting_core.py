"""Posting hand-built remittances against a ledger of hand-made claims (no 835 reader involved)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reconcile.denials.worklist import denial_worklist
from reconcile.posting.post import post_remittances, posting_totals, unmatched_queue
from reconcile.posting.queries import claim_summaries
from reconcile.posting.records import RPlb
from tests.reconcile.posting.support import D, claim, line, make_ledger, remit


@pytest.fixture
def led(ledger_target):
    conn, lcns = make_ledger(
        ledger_target,
        [
            ("ENC1", [("96365", (), 1, "350.00", None), ("J1745", ("JZ",), 40, "1200.00", "57894003001")]),
            ("ENC2", [("96413", (), 1, "480.00", None), ("J9312", ("JZ",), 10, "900.00", "50242005121")]),
            ("ENC3", [("96372", (), 1, "45.00", None)]),
        ],
    )
    return conn, lcns


def totals_by_pcn(conn):
    return {s["patient_control_number"]: s for s in claim_summaries(conn)}


def test_full_and_partial_payment_posts_per_line(led):
    conn, l = led
    rm = remit(
        [
            claim(
                "ENC1",
                "1",
                "1550",
                "1240",
                lines=[
                    line("96365", "350", "280", l["ENC1"][0], adjs=[("CO", "45", "70")]),
                    line("J1745", "1200", "960", l["ENC1"][1], mods=["JZ"], units="40", adjs=[("CO", "45", "240")]),
                ],
            ),
            claim(
                "ENC3",
                "1",
                "45",
                "20",
                pr="16",
                lines=[
                    line("96372", "45", "20", l["ENC3"][0], adjs=[("CO", "45", "9"), ("PR", "2", "16")]),
                ],
            ),
        ],
        "1260",
    )
    res = post_remittances(conn, [rm], path="a.835", sha256="a" * 64)
    assert res.status == "posted" and res.claims == 2 and res.lines == 3
    assert res.paid == D("1260") and res.patient_responsibility == D("16")
    t = totals_by_pcn(conn)
    assert t["ENC1"]["paid"] == D("1240") and t["ENC1"]["adjusted"] == D("310")
    assert t["ENC1"]["balance"] == 0 and t["ENC1"]["status"] == "paid"
    assert t["ENC3"]["patient_responsibility"] == D("16") and t["ENC3"]["balance"] == 0
    assert t["ENC2"]["paid"] == 0 and t["ENC2"]["balance"] == D("1380")
    matched = conn.execute("SELECT COUNT(*) FROM line_postings WHERE line_id IS NOT NULL AND matched_by='ref6r'")
    assert matched.fetchone()[0] == 3
    assert denial_worklist(conn) == [] and unmatched_queue(conn) == []


def test_same_file_or_same_payment_again_posts_nothing(led):
    conn, l = led
    rm = remit([claim("ENC3", "1", "45", "45", lines=[line("96372", "45", "45", l["ENC3"][0])])], "45")
    assert post_remittances(conn, [rm], path="a.835", sha256="a" * 64).status == "posted"
    again = post_remittances(conn, [rm], path="a.835", sha256="a" * 64)
    assert again.status == "duplicate" and again.claims == 0
    other_bytes = post_remittances(conn, [rm], path="b.835", sha256="b" * 64)
    assert other_bytes.status == "duplicate" and other_bytes.duplicate_payments == 1
    assert totals_by_pcn(conn)["ENC3"]["paid"] == D("45")
    assert conn.execute("SELECT COUNT(*) FROM claim_postings").fetchone()[0] == 1


def test_reversal_and_correction_net_to_corrected_amount(led):
    conn, l = led
    first = remit(
        [
            claim(
                "ENC2",
                "1",
                "1380",
                "1000",
                icn="ICN-A",
                lines=[
                    line("96413", "480", "400", l["ENC2"][0], adjs=[("CO", "45", "80")]),
                    line("J9312", "900", "600", l["ENC2"][1], mods=["JZ"], units="10", adjs=[("CO", "45", "300")]),
                ],
            )
        ],
        "1000",
        trace="T1",
    )
    post_remittances(conn, [first], path="1.835", sha256="1" * 64)
    # reversal without detail (mirrors the original) and the correction with a new ICN
    second = remit(
        [
            claim("ENC2", "22", "-1380", "-1000", icn="ICN-A", adjs=[]),
            claim(
                "ENC2",
                "1",
                "1380",
                "1100",
                icn="ICN-B",
                lines=[
                    line("96413", "480", "400", l["ENC2"][0], adjs=[("CO", "45", "80")]),
                    line("J9312", "900", "700", l["ENC2"][1], mods=["JZ"], units="10", adjs=[("CO", "45", "200")]),
                ],
            ),
        ],
        "100",
        trace="T2",
    )
    res = post_remittances(conn, [second], path="2.835", sha256="2" * 64)
    assert res.reversals == 1
    t = totals_by_pcn(conn)["ENC2"]
    assert t["paid"] == D("1100") and t["adjusted"] == D("280") and t["balance"] == 0
    assert t["payer_claim_number"] == "ICN-B" and t["status"] == "paid"
    orig = conn.execute("SELECT reversed_by FROM claim_postings WHERE payer_claim_number='ICN-A' AND status_code='1'")
    assert orig.fetchone()[0] is not None
    # line level nets too
    net = conn.execute("SELECT line_id, paid FROM line_postings WHERE line_id IS NOT NULL").fetchall()
    per_line: dict[int, Decimal] = {}
    for lid, paid in net:
        per_line[lid] = per_line.get(lid, D(0)) + D(paid)
    assert sorted(per_line.values()) == [D("400"), D("700")]


def test_reversal_with_its_own_negative_detail(led):
    conn, l = led
    post_remittances(
        conn,
        [
            remit(
                [
                    claim(
                        "ENC3",
                        "1",
                        "45",
                        "40",
                        icn="X1",
                        lines=[line("96372", "45", "40", l["ENC3"][0], adjs=[("CO", "45", "5")])],
                    )
                ],
                "40",
                trace="A",
            )
        ],
        path="1",
        sha256="1" * 64,
    )
    post_remittances(
        conn,
        [
            remit(
                [
                    claim(
                        "ENC3",
                        "22",
                        "-45",
                        "-40",
                        icn="X1",
                        lines=[line("96372", "-45", "-40", l["ENC3"][0], units="-1", adjs=[("CO", "45", "-5")])],
                    ),
                    claim(
                        "ENC3",
                        "1",
                        "45",
                        "30",
                        icn="X2",
                        lines=[line("96372", "45", "30", l["ENC3"][0], adjs=[("CO", "45", "15")])],
                    ),
                ],
                "-10",
                trace="B",
            )
        ],
        path="2",
        sha256="2" * 64,
    )
    t = totals_by_pcn(conn)["ENC3"]
    assert (t["paid"], t["adjusted"], t["balance"]) == (D("30"), D("15"), D("0"))


def test_plb_recoupment_linked_to_claim_and_interest_recorded(led):
    conn, l = led
    rm = remit(
        [
            claim(
                "ENC1",
                "1",
                "1550",
                "1550",
                icn="ICN-9",
                lines=[
                    line("96365", "350", "350", l["ENC1"][0]),
                    line("J1745", "1200", "1200", l["ENC1"][1], mods=["JZ"], units="40"),
                ],
            )
        ],
        "1450.5",
        plbs=[
            RPlb("WO", D("100"), "ICN-9", "1234567893", "2026-12-31"),
            RPlb("L6", D("-0.5"), None, "1234567893", "2026-12-31"),
            RPlb("FB", D("1"), "SOMEONE-ELSE", "1234567893", "2026-12-31"),
        ],
    )
    res = post_remittances(conn, [rm], path="p", sha256="p" * 64)
    assert res.provider_adjustments == D("100.5") and res.interest == D("0.5")
    rows = conn.execute("SELECT reason, kind, claim_id FROM provider_adjustments ORDER BY id").fetchall()
    enc1 = conn.execute("SELECT id FROM claims WHERE patient_control_number='ENC1'").fetchone()[0]
    assert [tuple(r) for r in rows] == [
        ("WO", "recoupment", enc1),
        ("L6", "interest", None),
        ("FB", "forward_balance", None),
    ]
    assert posting_totals(conn)[enc1]["provider_adjustments"] == D("100")
    assert any(f.code == "plb-reference-not-ours" for f in res.findings)


def test_plb_reference_precedence_pcn_then_claim_icn_then_posting_icn(led):
    """PLB03-2 names our claim by patient control number first, else by the claim's payer claim
    number (as a 277CA taught it), else by a posting's payer claim number."""
    conn, l = led
    ids = {r[0]: r[1] for r in conn.execute("SELECT patient_control_number, id FROM claims")}
    conn.execute("UPDATE claims SET payer_claim_number = 'ENC1' WHERE patient_control_number = 'ENC2'")
    first = remit(
        [claim("ENC3", "1", "45", "45", icn="ICN-P", lines=[line("96372", "45", "45", l["ENC3"][0])])], "45", trace="T1"
    )
    post_remittances(conn, [first], path="1", sha256="1" * 64)
    conn.execute("UPDATE claims SET payer_claim_number = 'ICN-277' WHERE patient_control_number = 'ENC3'")
    conn.execute("UPDATE claims SET payer_claim_number = 'ICN-P' WHERE patient_control_number = 'ENC2'")
    rm = remit(
        [],
        "-3",
        trace="T2",
        plbs=[
            RPlb("WO", D("1"), "ENC1", "1234567893", "2026-12-31"),
            RPlb("WO", D("1"), "ICN-277", "1234567893", "2026-12-31"),
            RPlb("WO", D("1"), "ICN-P", "1234567893", "2026-12-31"),
        ],
    )
    post_remittances(conn, [rm], path="2", sha256="2" * 64)
    rows = conn.execute("SELECT reference, claim_id FROM provider_adjustments ORDER BY id").fetchall()
    # ENC1 is ENC1's own number (though ENC2 carries it as payer claim number); ICN-277 only a
    # claim's; ICN-P both a posting's (ENC3) and a claim's (ENC2): the claim's wins
    assert [tuple(r) for r in rows] == [("ENC1", ids["ENC1"]), ("ICN-277", ids["ENC3"]), ("ICN-P", ids["ENC2"])]


def test_fallback_line_matching_without_ref6r(led):
    conn, l = led
    rm = remit(
        [
            claim(
                "ENC1",
                "1",
                "1550",
                "1550",
                lines=[
                    # order swapped, no REF*6R; J1745 restated by the payer (SVC06 carries the original code)
                    line("J1745", "1200", "1200", None, mods=["JZ"], units="40"),
                    line("96366", "350", "350", None, original="96365"),
                ],
            ),
            claim(
                "ENC2",
                "1",
                "1380",
                "1380",
                lines=[
                    line("50242005121", "900", "900", None, qualifier="N4", units=None),
                    line("96413", "480", "480", None),
                ],
            ),
        ],
        "2930",
    )
    post_remittances(conn, [rm], path="f", sha256="f" * 64)
    got = dict(
        conn.execute(
            "SELECT l.line_control_number, lp.matched_by FROM line_postings lp JOIN lines l ON l.id = lp.line_id"
        ).fetchall()
    )
    assert got == {
        l["ENC1"][1]: "code-modifiers-date-units",
        l["ENC1"][0]: "svc06",
        l["ENC2"][1]: "ndc",
        l["ENC2"][0]: "code-modifiers-date-units",
    }
    assert unmatched_queue(conn) == []


def test_unmatched_claims_and_lines_are_queued_with_reason(led):
    conn, l = led
    rm = remit(
        [
            claim("NOT-OURS", "1", "10", "10", lines=[line("99213", "10", "10", "77")]),
            claim(
                "ENC3",
                "1",
                "100",
                "100",
                lines=[line("96372", "45", "45", l["ENC3"][0]), line("99999", "55", "55", "999999")],
            ),
        ],
        "110",
    )
    res = post_remittances(conn, [rm], path="u", sha256="u" * 64)
    q = unmatched_queue(conn)
    assert res.unmatched == 2 and [i["kind"] for i in q] == ["claim", "line"]
    assert q[0]["patient_control_number"] == "NOT-OURS" and "CLP01" in q[0]["reason"]
    assert q[1]["code"] == "99999" and q[1]["amount"] == "55.00" and "REF*6R" in q[1]["reason"]
    # the money is still recorded: nothing dropped
    assert sum((D(r[0]) for r in conn.execute("SELECT paid FROM claim_postings")), D(0)) == D("110")


def test_denials_categorized_and_sorted(led):
    conn, l = led
    rm = remit(
        [
            claim(
                "ENC1",
                "1",
                "1550",
                "350",
                lines=[
                    line("96365", "350", "350", l["ENC1"][0]),
                    line(
                        "J1745",
                        "1200",
                        "0",
                        l["ENC1"][1],
                        mods=["JZ"],
                        units="40",
                        adjs=[("CO", "16", "1200")],
                        remarks=["M119"],
                    ),
                ],
            ),
            claim(
                "ENC2",
                "4",
                "1380",
                "0",
                adjs=[("CO", "4", "1380")],
                lines=[
                    line("96413", "480", "0", l["ENC2"][0]),
                    line("J9312", "900", "0", l["ENC2"][1], mods=["JZ"], units="10"),
                ],
            ),
            claim("ENC3", "4", "45", "0", adjs=[("CO", "ZZ9", "45")]),
        ],
        "350",
    )
    post_remittances(conn, [rm], path="d", sha256="d" * 64)
    from datetime import date

    items = denial_worklist(conn, as_of=date(2026, 4, 11))
    assert [(i["patient_control_number"], i["code"], i["amount"]) for i in items] == [
        ("ENC1", "J1745", "1200.00"),
        ("ENC2", "J9312", "900.00"),
        ("ENC2", "96413", "480.00"),
        ("ENC3", None, "45.00"),
    ]
    first = items[0]
    assert (first["group"], first["carc"], first["rarc"], first["category"], first["action"]) == (
        "CO",
        "16",
        "M119",
        "missing_information",
        "corrected_claim",
    )
    assert first["line_control_number"] == l["ENC1"][1] and first["age_days"] == 10
    assert first["payer"] == "ACME HEALTH PLAN"
    assert items[1]["category"] == "coding_modifier" and items[3]["category"] == "other"
    assert totals_by_pcn(conn)["ENC1"]["status"] == "partially_denied"
    assert totals_by_pcn(conn)["ENC2"]["status"] == "denied"


def test_claim_matched_when_payer_changes_case_or_only_keeps_our_claim_number(led):
    conn, l = led
    conn.execute("UPDATE claims SET payer_claim_number = 'ICN-77' WHERE patient_control_number = 'ENC3'")
    rm = remit(
        [
            claim(
                " enc1 ",
                "1",
                "1550",
                "1550",
                icn="X",
                lines=[
                    line("96365", "350", "350", l["ENC1"][0]),
                    line("J1745", "1200", "1200", l["ENC1"][1], mods=["JZ"], units="40"),
                ],
            ),
            claim("GARBLED", "1", "45", "45", icn="ICN-77", lines=[line("96372", "45", "45", l["ENC3"][0])]),
        ],
        "1595",
    )
    post_remittances(conn, [rm], path="c", sha256="c" * 64)
    t = totals_by_pcn(conn)
    assert t["ENC1"]["paid"] == D("1550") and t["ENC3"]["paid"] == D("45")
    assert unmatched_queue(conn) == []


def test_zero_paid_lines_denied_by_claim_level_reason(led):
    conn, l = led
    rm = remit(
        [
            claim(
                "ENC2",
                "1",
                "1380",
                "0",
                adjs=[("CO", "197", "1380")],
                lines=[
                    line("96413", "480", "0", l["ENC2"][0]),
                    line("J9312", "900", "0", l["ENC2"][1], mods=["JZ"], units="10"),
                ],
            )
        ],
        "0",
    )
    post_remittances(conn, [rm], path="z", sha256="z" * 64)
    items = denial_worklist(conn)
    assert [(i["code"], i["carc"], i["category"], i["action"], i["amount"]) for i in items] == [
        ("J9312", "197", "authorization", "appeal", "900.00"),
        ("96413", "197", "authorization", "appeal", "480.00"),
    ]
    assert totals_by_pcn(conn)["ENC2"]["status"] == "denied"


def test_denial_resolved_when_the_line_is_paid_later(led):
    conn, l = led
    post_remittances(
        conn,
        [
            remit(
                [
                    claim(
                        "ENC3",
                        "1",
                        "45",
                        "0",
                        lines=[line("96372", "45", "0", l["ENC3"][0], adjs=[("CO", "16", "45")], remarks=["M53"])],
                    )
                ],
                "0",
                trace="A",
            )
        ],
        path="1",
        sha256="1" * 64,
    )
    assert len(denial_worklist(conn)) == 1
    post_remittances(
        conn,
        [
            remit(
                [claim("ENC3", "1", "45", "45", icn="I2", lines=[line("96372", "45", "45", l["ENC3"][0])])],
                "45",
                trace="B",
            )
        ],
        path="2",
        sha256="2" * 64,
    )
    assert denial_worklist(conn) == []
    assert totals_by_pcn(conn)["ENC3"]["paid"] == D("45")


def test_original_reversal_and_correction_in_one_remittance(led):
    conn, l = led
    orig = claim(
        "ENC3", "1", "45", "40", icn="Q1", lines=[line("96372", "45", "40", l["ENC3"][0], adjs=[("CO", "45", "5")])]
    )
    rm = remit(
        [
            orig,
            claim("ENC3", "22", "-45", "-40", icn="Q1"),  # no detail: mirrors the original
            claim(
                "ENC3",
                "1",
                "45",
                "42",
                icn="Q2",
                lines=[line("96372", "45", "42", l["ENC3"][0], adjs=[("CO", "45", "3")])],
            ),
            claim("ENC3", "22", "-45", "-99", icn="Q1"),
        ],
        "-57",
    )  # a second reversal of Q1: nothing left
    res = post_remittances(conn, [rm], path="s", sha256="s" * 64)
    t = totals_by_pcn(conn)["ENC3"]
    # the first reversal nets the original out; the stray second one has no posting left to undo, so it
    # goes to the unmatched queue (with a finding) instead of taking money off the claim
    assert res.reversals == 2 and any(f.code == "reversal-without-original" for f in res.findings)
    assert t["paid"] == D("40") - D("40") + D("42")
    assert [(u["amount"], u["kind"]) for u in unmatched_queue(conn)] == [("-99.00", "claim")]
    mirrored = conn.execute("SELECT COUNT(*) FROM line_postings WHERE matched_by = 'reversal-mirror'").fetchone()[0]
    assert mirrored == 1
    rows = conn.execute(
        "SELECT payer_claim_number, status_code, reversed_by IS NOT NULL, reversal_of IS NOT NULL"
        " FROM claim_postings ORDER BY id"
    ).fetchall()
    assert [tuple(r) for r in rows] == [("Q1", "1", 1, 0), ("Q1", "22", 0, 1), ("Q2", "1", 0, 0), ("Q1", "22", 0, 0)]
    on_claim = conn.execute("SELECT claim_id IS NOT NULL FROM claim_postings ORDER BY id").fetchall()
    assert [r[0] for r in on_claim] == [1, 1, 1, 0]


@pytest.mark.parametrize(
    "clp02, paid, adjs, status",
    [
        ("1", "45", [], "paid"),
        ("2", "45", [], "paid_secondary"),
        ("19", "45", [], "paid_forwarded"),
        ("20", "0", [("OA", "23", "45")], "denied_secondary_forwarded"),
        ("1", "0", [("PR", "1", "45")], "processed"),
        ("4", "0", [("CO", "50", "45")], "denied"),
        ("23", "0", [("OA", "23", "45")], "forwarded"),
    ],
)
def test_claim_status_follows_clp02(led, clp02, paid, adjs, status):
    conn, l = led
    rm = remit([claim("ENC3", clp02, "45", paid, lines=[line("96372", "45", paid, l["ENC3"][0], adjs=adjs)])], paid)
    post_remittances(conn, [rm], path="x", sha256="x" * 64)
    assert totals_by_pcn(conn)["ENC3"]["status"] == status


def test_reversal_of_an_unmatched_payment_in_the_same_remittance(led):
    """A payment of a claim we never sent and its reversal (no detail of its own) in one remittance:
    both stay in the unmatched queue, the reversal pointing at the payment it undoes."""
    conn, _l = led
    rm = remit(
        [
            claim("NOT-OURS", "1", "10", "10", icn="Z1", lines=[line("99213", "10", "10", "77")]),
            claim("NOT-OURS", "22", "-10", "-10", icn="Z1"),
        ],
        "0",
    )
    res = post_remittances(conn, [rm], path="r", sha256="r" * 64)
    assert res.status == "posted" and res.reversals == 1
    assert [(u["kind"], u["amount"]) for u in unmatched_queue(conn)] == [
        ("claim", "10.00"),
        ("claim", "-10.00"),
    ]
    assert "unmatched queue" in unmatched_queue(conn)[1]["reason"]
    rows = conn.execute("SELECT claim_id, reversal_of, reversed_by FROM claim_postings ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [(None, None, 2), (None, 1, None)]


def test_remittance_naming_no_payer_id_matches_no_claim(led):
    """An 835 without N1*PR N104 or REF*2U answers no claim (its money waits in the unmatched queue)."""
    conn, l = led
    rm = remit(
        [
            claim("ENC3", "1", "45", "45", icn="Q1", lines=[line("96372", "45", "45", l["ENC3"][0])]),
            claim("ENC3", "22", "-45", "-45", icn="Q1"),
        ],
        "0",
        payer_id="",
    )
    res = post_remittances(conn, [rm], path="n", sha256="n" * 64)
    assert res.status == "posted"
    queue = unmatched_queue(conn)
    assert [(u["kind"], u["amount"]) for u in queue] == [("claim", "45.00"), ("claim", "-45.00")]
    assert "names no payer id" in queue[0]["reason"]
    assert totals_by_pcn(conn)["ENC3"]["paid"] == 0
