"""The underpayment worklist, computed from the ledger when asked.

For every line of a claim that has an expected allowed amount and a posting from its payer as
primary (CLP02 1 or 19, neither reversed nor a reversal, the latest one), with no denial:

- the payer's **allowed** amount is the line's AMT*B6 when the 835 states it, else
  paid + patient responsibility (group PR) + sequestration (CO-253) of the line;
- the **variance** is expected allowed − allowed;
- the line is **underpaid** when the variance exceeds the payer's tolerance: the smaller of
  ``underpayment_tolerance_percent`` of the expected amount (default 1 %) and
  ``underpayment_tolerance_amount`` (default 1.00), i.e. a line is flagged when it is short by
  more than 1.00 *or* by more than 1 % (a line under 100.00 is judged by the percent, a larger
  one by the amount: cent rounding never flags, a few dollars on an expensive drug does);
- its **expected payment**, for Medicare (filing indicator MB/MA), is
  (expected allowed − deductible) × (100 − ``coinsurance_percent``, default 20) %, less
  ``sequestration_percent`` (default 2 for Medicare, 0 otherwise) of that, each step rounded to
  the cent; for other payers expected allowed − the patient responsibility the payer assigned.

The likely **cause**, first that fits: ``units-reduced`` (the payer paid fewer units than billed),
``old-fee-schedule`` (the allowed amount is the previous quarter's rate, within tolerance),
``wrong-fee-schedule`` (it is another schedule's amount: the other PFS setting, Medicare's rate
for a contract payer, OPPS for a physician claim), ``unexplained-co45`` (a CO-45 contractual
adjustment took the difference), else ``unexplained``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from coding.config import MEDICARE_FILING, Config
from coding.display import csv_row
from coding.money import money_str
from reconcile.ledger.db import Connection

__all__ = [
    "UNDERPAYMENT_FIELDS",
    "Tolerance",
    "expected_payment",
    "is_underpaid",
    "tolerance_of",
    "underpayment_worklist",
    "underpayments_csv",
]

CENT = Decimal("0.01")
ZERO = Decimal("0")

UNDERPAYMENT_FIELDS = (
    "patient_control_number",
    "line_control_number",
    "code",
    "units",
    "expected_allowed",
    "allowed",
    "paid",
    "variance",
    "basis",
    "cause",
    "payer",
)
EXTRA_FIELDS = ("service_date", "paid_units", "expected_paid", "formula", "cause_detail")

CAUSES = {
    "units-reduced": "units reduced",
    "old-fee-schedule": "old fee schedule quarter",
    "wrong-fee-schedule": "wrong fee schedule",
    "unexplained-co45": "unexplained CO-45",
    "unexplained": "unexplained",
}


def _cents(d: Decimal) -> Decimal:
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def _dec(v: Any, default: Decimal) -> Decimal:
    if v is None or v == "":
        return default
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        return default
    return d if d.is_finite() and d >= 0 else default


@dataclass(frozen=True)
class Tolerance:
    """How far short of expected a line may be allowed before it is an underpayment."""

    percent: Decimal = Decimal("1")
    amount: Decimal = Decimal("1.00")

    def threshold(self, expected: Decimal) -> Decimal:
        """The larger shortfall still tolerated: the smaller of the percent of ``expected`` and the amount."""
        return min(_cents(expected * self.percent / 100), self.amount)


def is_underpaid(expected: Decimal, allowed: Decimal, tol: Tolerance) -> bool:
    """Short by more than the tolerance.

    >>> t = Tolerance()
    >>> is_underpaid(Decimal("754.92"), Decimal("753.92"), t), is_underpaid(Decimal("754.92"), Decimal("753.91"), t)
    (False, True)
    >>> is_underpaid(Decimal("50.00"), Decimal("49.50"), t), is_underpaid(Decimal("50.00"), Decimal("49.49"), t)
    (False, True)
    """
    return expected - allowed > tol.threshold(expected)


def _settings(cfg: Config | None, payer: str) -> dict[str, Any]:
    if cfg is None or payer not in cfg.payers:
        return {}
    p = cfg.payers[payer]
    return {**p.settings, "_medicare": p.filing_indicator in MEDICARE_FILING}


def tolerance_of(cfg: Config | None, payer: str) -> Tolerance:
    s = _settings(cfg, payer)
    return Tolerance(
        _dec(s.get("underpayment_tolerance_percent"), Tolerance.percent),
        _dec(s.get("underpayment_tolerance_amount"), Tolerance.amount),
    )


def expected_payment(
    expected_allowed: Decimal,
    medicare: bool,
    coinsurance_percent: Decimal = Decimal("20"),
    sequestration_percent: Decimal = Decimal("2"),
    deductible: Decimal = ZERO,
    patient_responsibility: Decimal = ZERO,
) -> Decimal:
    """What the payer should pay on the expected allowed amount.

    Medicare: ``p = (allowed − deductible) × (1 − coinsurance)`` to the cent, less sequestration
    ``p × percent`` to the cent. Others: allowed − the patient responsibility they assigned.

    >>> expected_payment(Decimal("754.92"), True)
    Decimal('591.86')
    >>> expected_payment(Decimal("100.00"), False, patient_responsibility=Decimal("20.00"))
    Decimal('80.00')
    """
    if not medicare:
        return _cents(expected_allowed - patient_responsibility)
    p = _cents((expected_allowed - deductible) * (100 - coinsurance_percent) / 100)
    return p - _cents(p * sequestration_percent / 100)


def _near(a: Decimal, b: Decimal, tol: Tolerance) -> bool:
    return abs(a - b) <= tol.threshold(max(a, b))


def _cause(
    billed_units: Decimal,
    paid_units: Decimal | None,
    allowed: Decimal,
    prior: Decimal | None,
    prior_schedule: str | None,
    alternates: list[dict[str, str]],
    co45: Decimal,
    tol: Tolerance,
) -> tuple[str, str]:
    if paid_units is not None and paid_units < billed_units:
        return "units-reduced", f"billed {billed_units} units, paid {paid_units}"
    if prior is not None and _near(allowed, prior, tol):
        return "old-fee-schedule", f"allowed matches the previous quarter's rate ({prior_schedule}: {money_str(prior)})"
    for alt in alternates:
        amount = _dec(alt.get("amount"), ZERO)
        if _near(allowed, amount, tol):
            return "wrong-fee-schedule", f"allowed matches {alt.get('basis')} ({money_str(amount)})"
    if co45 > 0:
        return "unexplained-co45", f"CO-45 of {money_str(co45)} beyond the expected amount"
    return "unexplained", "no reduction in the remittance explains the difference"


_QUERY = """
SELECT c.patient_control_number, l.line_control_number, l.code, l.units, l.service_date,
       e.amount, e.basis, e.schedule, e.formula, e.prior_amount, e.prior_schedule, e.alternates,
       lp.id, lp.paid, lp.units, lp.allowed, c.payer, l.modifiers
FROM expected_allowed e
JOIN lines l ON l.id = e.line_id
JOIN claims c ON c.id = l.claim_id
JOIN line_postings lp ON lp.id = (
    SELECT lp2.id FROM line_postings lp2 JOIN claim_postings cp2 ON cp2.id = lp2.claim_posting_id
    WHERE lp2.line_id = l.id AND cp2.status_code IN ('1', '19')
      AND cp2.reversed_by IS NULL AND cp2.reversal_of IS NULL
    ORDER BY lp2.id DESC LIMIT 1)
WHERE e.amount IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM denials d WHERE d.line_posting_id = lp.id)
"""


def _adjustments(conn: Connection, lp_ids: list[int]) -> dict[int, list[tuple[str, str, Decimal]]]:
    out: dict[int, list[tuple[str, str, Decimal]]] = {}
    for start in range(0, len(lp_ids), 500):
        chunk = lp_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for lp_id, group, reason, amount in conn.execute(
            f"SELECT line_posting_id, group_code, reason, amount FROM adjustments WHERE line_posting_id IN ({marks})",
            chunk,
        ):
            out.setdefault(lp_id, []).append((group, reason, Decimal(amount)))
    return out


def underpayment_worklist(conn: Connection, cfg: Config | None = None) -> list[dict[str, Any]]:
    """Underpaid lines, largest variance first (amounts as two-decimal strings)."""
    rows = conn.execute(_QUERY).fetchall()
    adjs = _adjustments(conn, [r[12] for r in rows])
    items: list[dict[str, Any]] = []
    for r in rows:
        (pcn, lcn, code, units, dos, exp, _kind, schedule, formula, prior, prior_sched, alts) = r[:12]
        lp_id, paid_s, paid_units_s, allowed_s, payer = r[12], r[13], r[14], r[15], r[16]
        expected = Decimal(exp)
        paid = Decimal(paid_s)
        line_adjs = adjs.get(lp_id, [])
        patient = sum((a for g, _, a in line_adjs if g == "PR"), ZERO)
        deductible = sum((a for g, c, a in line_adjs if g == "PR" and c == "1"), ZERO)
        sequestration = sum((a for g, c, a in line_adjs if g == "CO" and c == "253"), ZERO)
        co45 = sum((a for g, c, a in line_adjs if g == "CO" and c == "45"), ZERO)
        allowed = Decimal(allowed_s) if allowed_s is not None else paid + patient + sequestration
        tol = tolerance_of(cfg, payer)
        if not is_underpaid(expected, allowed, tol):
            continue
        s = _settings(cfg, payer)
        medicare = bool(s.get("_medicare", False))
        exp_paid = expected_payment(
            expected,
            medicare,
            _dec(s.get("coinsurance_percent"), Decimal("20")),
            _dec(s.get("sequestration_percent"), Decimal("2") if medicare else ZERO),
            deductible,
            patient,
        )
        billed_units = Decimal(units)
        paid_units = Decimal(paid_units_s) if paid_units_s is not None else None
        cause, detail = _cause(
            billed_units,
            paid_units,
            allowed,
            Decimal(prior) if prior is not None else None,
            prior_sched,
            json.loads(alts) if alts else [],
            co45,
            tol,
        )
        items.append(
            {
                "patient_control_number": pcn,
                "line_control_number": lcn,
                "code": code,
                "units": str(units),  # as billed (the ledger keeps whole units)
                "expected_allowed": money_str(expected),
                "allowed": money_str(allowed),
                "paid": money_str(paid),
                "variance": money_str(expected - allowed),
                "basis": schedule,
                "cause": cause,
                "payer": payer,
                "service_date": dos,
                "paid_units": None if paid_units is None else str(paid_units),
                "expected_paid": money_str(exp_paid),
                "formula": formula,
                "cause_detail": detail,
            }
        )
    items.sort(key=lambda d: (-Decimal(d["variance"]), d["patient_control_number"], d["line_control_number"]))
    return items


def underpayments_csv(items: Sequence[dict[str, Any]], out: Any) -> None:
    """One row per underpaid line: the JSON fields (cells made spreadsheet-safe)."""
    w = csv.writer(out)
    cols = list(UNDERPAYMENT_FIELDS) + list(EXTRA_FIELDS)
    w.writerow(cols)
    for d in items:
        w.writerow(csv_row(d.get(c) for c in cols))
