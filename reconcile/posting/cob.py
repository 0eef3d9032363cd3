"""Coordination of benefits after a remittance is posted: who is billed next.

Run inside the posting transaction of each 835 file (:func:`after_posting`). For every claim the
file answered:

- a claim whose encounter names a next payer (``secondary`` after the primary, ``tertiary``
  after the secondary), adjudicated (CLP02 1/2/3/19/20/21) with an amount the patient still owes
  (PR adjustments: deductible, coinsurance, copay, ...), moves to ``ready_for_secondary``:
  ``dripline claims secondary`` builds its claim for the next payer;
- unless the payer crossed it over itself (NM1*TT, or CLP02 19/20/21 with a forwarding remark
  from ``reconcile/claims/data/crossover_remarks.csv``): then it moves to ``crossed_over`` and
  nothing is built; CLP02 19/20/21 without such a remark is billed but flagged;
- a denial (CLP02 4), a claim not the payer's (23) or a predetermination (25) is not forwarded:
  it is a denial to rework first; nothing owed by the patient leaves the claim as posted;
- a remittance (a reversal, a correction, a new payment) for a claim whose claim to the next
  payer was already sent moves it to ``cob_review`` with a warning: the next payer's claim
  carries the old adjudication.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from coding.findings import Finding, info, warning
from reconcile.ledger.db import Connection, column_exists
from reconcile.ledger.store import set_claim_status

DATA = Path(__file__).resolve().parent.parent / "claims" / "data"
READY = "ready_for_secondary"
CROSSED_OVER = "crossed_over"
REVIEW = "cob_review"
ADJUDICATED = frozenset({"1", "2", "3", "19", "20", "21"})
FORWARDED = frozenset({"19", "20", "21"})


@lru_cache(maxsize=1)
def crossover_remarks() -> frozenset[str]:
    """Remark codes by which a payer says it forwarded the claim to the next payer."""
    with open(DATA / "crossover_remarks.csv", encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return frozenset(r["code"].strip().upper() for r in rows if r.get("code"))


def patient_responsibility(conn: Connection, claim_posting_id: int) -> Decimal:
    """PR adjustments of one claim posting (claim- and line-level)."""
    return sum(
        (
            Decimal(r[0])
            for r in conn.execute(
                "SELECT amount FROM adjustments WHERE claim_posting_id = ? AND group_code = 'PR'", (claim_posting_id,)
            )
        ),
        Decimal(0),
    )


def after_posting(conn: Connection, file_id: int) -> list[Finding]:
    """Move the claims this file answered to their coordination-of-benefits status; findings say why."""
    rows = conn.execute(
        "SELECT cp.id, cp.claim_id, cp.status_code, c.next_payer, c.patient_control_number,"
        " (SELECT COUNT(*) FROM claims n WHERE n.prior_claim_id = c.id AND n.status != 'rejected') AS sent_next"
        " FROM claim_postings cp JOIN payments p ON p.id = cp.payment_id JOIN claims c ON c.id = cp.claim_id"
        " WHERE p.file_id = ? AND (c.next_payer IS NOT NULL"
        " OR EXISTS (SELECT 1 FROM claims n WHERE n.prior_claim_id = c.id)) ORDER BY cp.id",
        (file_id,),
    ).fetchall()
    last: dict[int, tuple] = {}
    for r in rows:  # the last posting of each claim in this file decides
        last[r[1]] = tuple(r)
    out: list[Finding] = []
    for cp_id, claim_id, code, next_payer, pcn, sent_next in last.values():
        if sent_next:
            set_claim_status(conn, claim_id, REVIEW, "cob", {"claim_posting_id": cp_id, "clp02": code})
            out.append(
                warning(
                    "primary-changed-after-secondary",
                    f"claim {pcn}: a remittance (CLP02 {code}) changed this payer's adjudication after the claim"
                    " to the next payer was sent; review that claim (it carries the earlier adjudication)",
                    segment="CLP",
                )
            )
            continue
        if code not in ADJUDICATED or not next_payer:
            continue
        fwd = conn.execute(
            "SELECT crossover, remarks FROM claim_posting_forwards WHERE claim_posting_id = ?", (cp_id,)
        ).fetchone()
        remarks = {c for c in (fwd[1] or "").split(",") if c} if fwd else set()
        crossed = fwd is not None and (fwd[0] is not None or bool(remarks & crossover_remarks()))
        if crossed:
            set_claim_status(conn, claim_id, CROSSED_OVER, "cob", {"claim_posting_id": cp_id, "clp02": code})
            out.append(
                info(
                    "crossed-over",
                    f"claim {pcn}: the payer forwarded it to the next payer itself; no claim is built for that payer",
                    segment="CLP",
                )
            )
            continue
        if patient_responsibility(conn, cp_id) <= 0:
            continue
        set_claim_status(conn, claim_id, READY, "cob", {"claim_posting_id": cp_id, "clp02": code})
        if code in FORWARDED:
            out.append(
                warning(
                    "forwarded-without-remark",
                    f"claim {pcn}: CLP02 {code} says the claim was forwarded, but no crossover remark or NM1*TT"
                    " names the next payer; it is ready to bill to the next payer, check it was not crossed over",
                    segment="CLP",
                )
            )
    return out


def coordination_totals(
    conn: Connection, totals: dict[int, dict[str, Decimal]]
) -> dict[int, tuple[dict[str, Decimal], Decimal]]:
    """Per claim id: paid by each payer of its chain (the primary's claim and the claims to later
    payers linked to it, keyed by payer profile) and the patient balance (the patient responsibility
    the last payer that adjudicated the chain left). ``totals`` is :func:`posting_totals`."""
    has_cob = column_exists(conn, "claims", "prior_claim_id")
    cols = "id, payer, coverage_order, prior_claim_id" if has_cob else "id, payer, 1, NULL"
    claims = conn.execute(f"SELECT {cols} FROM claims ORDER BY id").fetchall()
    prior = {r[0]: r[3] for r in claims}

    def root(cid: int) -> int:
        seen = {cid}
        while prior.get(cid) is not None and prior[cid] not in seen:
            cid = prior[cid]
            seen.add(cid)
        return cid

    chains: dict[int, list[tuple]] = {}
    for r in claims:
        chains.setdefault(root(r[0]), []).append(tuple(r))
    out: dict[int, tuple[dict[str, Decimal], Decimal]] = {}
    zero = Decimal(0)
    for members in chains.values():
        members.sort(key=lambda m: (int(m[2] or 1), m[0]))
        paid: dict[str, Decimal] = {}
        balance = zero
        for cid, payer, _order, _prior in members:
            t = totals.get(cid)
            if t is None:
                continue
            paid[payer] = paid.get(payer, zero) + t["paid"]
            balance = t["patient_responsibility"]
        for m in members:
            out[m[0]] = (paid, balance)
    return out
