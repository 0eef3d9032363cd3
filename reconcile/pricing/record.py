"""Store the expected allowed amount of every line of a recorded interchange.

Called by ``claims build`` right after the interchange is recorded: each claim's lines are priced
(:func:`reconcile.pricing.expected.expected_for_claim`) against the fee schedules loaded in the
same ledger and the contract terms of its payer profile, and one ``expected_allowed`` row per
line is written in one transaction. Voids (frequency 8) expect nothing and claims to a secondary
or tertiary payer (the plan's ``cob``) pay what the prior payer left: both are skipped.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from coding.config import Config
from coding.findings import Finding
from reconcile.codesets.fees import FeeSchedules
from reconcile.codesets.lookup import LedgerCodeSets
from reconcile.ledger.db import Connection
from reconcile.ledger.store import transaction
from reconcile.pricing.expected import ClaimContext, Expected, expected_for_claim
from reconcile.pricing.terms import Contract, contract_of

__all__ = ["Pricer", "record_expected"]

DEFAULT_POS = {"home": "12"}  # as the 837P writer: otherwise 11


class Pricer:
    """Fee schedules of one ledger and the contract terms of every payer, read once per build."""

    def __init__(self, conn: Connection, cfg: Config) -> None:
        self.cfg = cfg
        self.fees = FeeSchedules(LedgerCodeSets(conn))
        self._contracts: dict[str, Contract] = {}
        self.findings: list[Finding] = []

    def contract(self, payer_key: str) -> Contract:
        if payer_key not in self._contracts:
            k = contract_of(self.cfg, self.cfg.payers[payer_key])
            self.findings.extend(k.findings)
            self._contracts[payer_key] = k
        return self._contracts[payer_key]

    def price(self, plan: Any, payer_key: str, cp: Any) -> tuple[list[Expected], list[Finding]]:
        enc = cp.coded.encounter
        pos = "" if plan.claim_type == "837I" else (enc.place_of_service or DEFAULT_POS.get(enc.setting, "11"))
        ctx = ClaimContext(plan.claim_type, self.cfg.payers[payer_key], pos, self.contract(payer_key))
        return expected_for_claim(cp.lines, ctx, self.cfg, self.fees, enc.id)


def record_expected(conn: Connection, plan: Any, cfg: Config, now: datetime | None = None) -> list[Finding]:
    """Price and store every line of ``plan`` (already recorded); the findings of pricing."""
    pricer = Pricer(conn, cfg)
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    rows: list[tuple[Any, ...]] = []
    found: list[Finding] = []
    for tp in plan.transactions:
        if tp.payer_key not in cfg.payers:
            continue
        for cp in tp.claims:
            if cp.frequency == "8" or getattr(cp, "cob", None) is not None:
                continue  # a void expects nothing; a claim to the next payer is paid what the prior left
            exp, f = pricer.price(plan, tp.payer_key, cp)
            found.extend(f)
            for ln, e in zip(cp.lines, exp, strict=True):
                rows.append(
                    (
                        ln.line_control_number,
                        None if e.amount is None else str(e.amount),
                        e.basis,
                        e.schedule,
                        e.formula,
                        None if e.prior_amount is None else str(e.prior_amount),
                        e.prior_schedule,
                        json.dumps([{"basis": b, "amount": str(a)} for b, a in e.alternates]) if e.alternates else None,
                        stamp,
                    )
                )
    with transaction(conn):
        conn.executemany(
            "INSERT INTO expected_allowed (line_id, amount, basis, schedule, formula, prior_amount,"
            " prior_schedule, alternates, computed_at)"
            " SELECT id, ?, ?, ?, ?, ?, ?, ?, ? FROM lines WHERE line_control_number = ?"
            " ON CONFLICT (line_id) DO UPDATE SET amount = excluded.amount, basis = excluded.basis,"
            " schedule = excluded.schedule, formula = excluded.formula, prior_amount = excluded.prior_amount,"
            " prior_schedule = excluded.prior_schedule, alternates = excluded.alternates,"
            " computed_at = excluded.computed_at",
            [(*r[1:], r[0]) for r in rows],
        )
    return pricer.findings + found
