"""Reading what was posted: totals per claim, claim summaries (for ``claims list``) and the unmatched queue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from coding.money import money_str
from reconcile.ledger.db import Connection
from reconcile.ledger.store import table_exists

ZERO = Decimal("0")


def posting_totals(conn: Connection) -> dict[int, dict[str, Decimal]]:
    """Per claim id: paid (net of reversals), adjusted (every CAS), patient responsibility (PR CAS),
    provider-level adjustments linked to it."""
    totals: dict[int, dict[str, Decimal]] = {}

    def slot(cid: int) -> dict[str, Decimal]:
        return totals.setdefault(
            cid, {"paid": ZERO, "adjusted": ZERO, "patient_responsibility": ZERO, "provider_adjustments": ZERO}
        )

    for cid, paid in conn.execute("SELECT claim_id, paid FROM claim_postings WHERE claim_id IS NOT NULL"):
        slot(cid)["paid"] += Decimal(paid)
    for cid, group, amount in conn.execute(
        "SELECT p.claim_id, a.group_code, a.amount FROM adjustments a"
        " JOIN claim_postings p ON p.id = a.claim_posting_id WHERE p.claim_id IS NOT NULL"
    ):
        s = slot(cid)
        s["adjusted"] += Decimal(amount)
        if group == "PR":
            s["patient_responsibility"] += Decimal(amount)
    for cid, amount in conn.execute("SELECT claim_id, amount FROM provider_adjustments WHERE claim_id IS NOT NULL"):
        slot(cid)["provider_adjustments"] += Decimal(amount)
    return totals


def _expected_totals(conn: Connection) -> dict[int, Decimal]:
    """Sum of the expected allowed amounts of each claim's lines that have one."""
    out: dict[int, Decimal] = {}
    for claim_id, amount in conn.execute(
        "SELECT l.claim_id, e.amount FROM expected_allowed e JOIN lines l ON l.id = e.line_id WHERE e.amount IS NOT NULL"
    ):
        out[claim_id] = out.get(claim_id, Decimal("0")) + Decimal(amount)
    return out


def claim_summaries(conn: Connection) -> list[dict[str, Any]]:
    """Every claim in the ledger joined with its posted totals: charge, paid, adjusted, patient
    responsibility, balance, expected allowed (sum over the lines that have one; None: none has)
    and status.

    Amounts are Decimals; balance = charge − paid − adjusted (patient responsibility is part of
    the adjustments the payer reports and stays due from the patient).
    """
    # A ledger opened without the posting migration has no postings: every claim is unpaid.
    totals = posting_totals(conn) if table_exists(conn, "claim_postings") else {}
    expected = _expected_totals(conn) if table_exists(conn, "expected_allowed") else {}
    zero = Decimal("0")
    out: list[dict[str, Any]] = []
    rows = conn.execute(
        "SELECT c.id, c.patient_control_number, c.encounter_id, c.payer, c.payer_id, c.claim_type,"
        " c.frequency, c.payer_claim_number, c.total_charge, c.status, c.created_at,"
        " i.isa13, t.st02 FROM claims c JOIN transactions t ON t.id = c.transaction_id"
        " JOIN interchanges i ON i.id = t.interchange_id ORDER BY c.id"
    )
    from reconcile.posting.cob import coordination_totals

    by_payer = coordination_totals(conn, totals)
    for r in rows:
        t = totals.get(r["id"], {})
        charge = Decimal(r["total_charge"])
        paid = t.get("paid", zero)
        adjusted = t.get("adjusted", zero)
        out.append(
            {
                "claim_id": r["id"],
                "patient_control_number": r["patient_control_number"],
                "encounter_id": r["encounter_id"],
                "payer": r["payer"],
                "payer_id": r["payer_id"],
                "claim_type": r["claim_type"],
                "frequency": r["frequency"],
                "payer_claim_number": r["payer_claim_number"],
                "charge": charge,
                "paid": paid,
                "adjusted": adjusted,
                "patient_responsibility": t.get("patient_responsibility", zero),
                "balance": charge - paid - adjusted,
                "paid_by_payer": by_payer.get(r["id"], ({}, zero))[0],
                "patient_balance": by_payer.get(r["id"], ({}, zero))[1],
                "expected": expected.get(r["id"]),  # sum of the lines' expected allowed (None: no basis)
                "status": r["status"],
                "isa13": r["isa13"],
                "st02": r["st02"],
                "created_at": r["created_at"],
            }
        )
    return out


def unmatched_queue(conn: Connection, include_closed: bool = False) -> list[dict[str, Any]]:
    """Remittance claims and lines that matched nothing we sent, with the reason and the payment."""
    where = "" if include_closed else "WHERE u.status = 'open'"
    rows = conn.execute(
        "SELECT u.kind, u.patient_control_number, u.line_control_number, u.code, u.amount, u.reason,"
        " u.segment, u.status, p.payer_name, p.payer_id, p.trace, f.path, u.related_claim_id FROM unmatched u"
        " JOIN payments p ON p.id = u.payment_id JOIN remit_files f ON f.id = p.file_id"
        f" {where} ORDER BY u.id"
    )
    keys = (
        "kind",
        "patient_control_number",
        "line_control_number",
        "code",
        "amount",
        "reason",
        "segment",
        "status",
        "payer",
        "payer_id",
        "trace",
        "file",
        "related_claim_id",  # the claim it was deliberately not posted to (a duplicate payment), or None
    )
    items = [dict(zip(keys, r)) for r in rows]
    for it in items:
        it["amount"] = money_str(Decimal(it["amount"] or "0"))
    return items
