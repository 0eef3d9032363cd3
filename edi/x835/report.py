"""Renderings of read 835 remittances: JSON (``remit show --json``), CSV (one
row per service line) and a one-line-per-remittance summary a biller checks before posting.

Amounts are decimal strings with at least two decimals (never rounded: an amount sent with more
decimals keeps them); dates are ISO (YYYY-MM-DD) when the file has a valid CCYYMMDD.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any

from coding.findings import Finding
from edi.x835.model import BALANCING_CODES, Adjustment, Loop2100, Loop2110, Remittance

CENT = Decimal("0.01")


def money(d: Decimal | None) -> str | None:
    """'12.50' for 12.5; more decimals are kept as sent; None stays None."""
    if d is None:
        return None
    exp = d.as_tuple().exponent
    if isinstance(exp, int) and exp >= -2:
        try:
            return str(d.quantize(CENT))
        except ArithmeticError:  # more digits than the context holds: as sent
            return str(d)
    return str(d)


def number(d: Decimal | None) -> str | None:
    """Quantities and units exactly as sent (no padding)."""
    return None if d is None else str(d)


def iso_date(s: str | None) -> str | None:
    """CCYYMMDD -> YYYY-MM-DD; anything else as sent (empty -> None)."""
    if not s:
        return None
    if len(s) == 8 and s.isdigit():
        try:
            return date(int(s[:4]), int(s[4:6]), int(s[6:])).isoformat()
        except ValueError:
            return s
    return s


def adjustment_json(a: Adjustment) -> dict[str, Any]:
    return {"group": a.group, "reason": a.reason, "amount": money(a.amount), "quantity": number(a.quantity)}


def line_json(ln: Loop2110) -> dict[str, Any]:
    return {
        "code": ln.code,
        "qualifier": ln.qualifier,
        "modifiers": list(ln.modifiers),
        "charge": money(ln.charge),
        "paid": money(ln.paid),
        "units": number(ln.units),
        "revenue_code": ln.revenue_code or None,
        "original_code": ln.original_code or None,
        "line_control_number": ln.line_control_number,
        "service_date": iso_date(ln.service_date),
        "adjustments": [adjustment_json(a) for a in ln.adjustments],
        "remarks": [code for _, code in ln.remarks if code],
    }


def claim_json(c: Loop2100) -> dict[str, Any]:
    return {
        "patient_control_number": c.patient_control_number,
        "status": c.status,
        "charge": money(c.charge),
        "paid": money(c.paid),
        "patient_responsibility": money(c.patient_responsibility),
        "payer_claim_number": c.payer_claim_number or None,
        "frequency": c.frequency or None,
        "adjustments": [adjustment_json(a) for a in c.adjustments],
        "remarks": c.remark_codes,
        "lines": [line_json(ln) for ln in c.lines],
    }


def remittance_json(r: Remittance) -> dict[str, Any]:
    """The JSON of one remittance (``remit show --json``): file, payer and payee with their ids,
    payment, claims with their lines and adjustments, provider adjustments, segments kept verbatim."""
    p = r.payment
    return {
        "file": r.file,
        "payer": r.payer.name,
        "payer_id": _payer_id(r),
        "payee": r.payee.name,
        "payee_id": r.payee.id or None,
        "payment": {"amount": money(p.amount), "method": p.method, "date": iso_date(p.date), "trace": p.trace},
        "claims": [claim_json(c) for c in r.claims],
        "provider_adjustments": [
            {
                "provider": a.provider,
                "fiscal_period_date": iso_date(a.fiscal_period_date),
                "reason": a.reason,
                "reference": a.reference or None,
                "amount": money(a.amount),
            }
            for a in r.provider_adjustments
        ],
        # segments with no place in the model, verbatim with their position (nothing is dropped)
        "unknown_segments": [
            {"text": u.text, "loop": u.loop, "segment_number": u.segment_number, "line": u.line}
            for u in r.unknown_segments
        ],
    }


def _payer_id(r: Remittance) -> str | None:
    """N104 of 1000A, else REF*2U, else TRN03."""
    if r.payer.id:
        return r.payer.id
    for ref in r.payer.refs:
        if ref.qualifier == "2U":
            return ref.value
    return r.payment.trace_originator or None


def write_json(remittances: Iterable[Remittance], findings: list[Finding], out: IO[str]) -> None:
    """Stream ``{"remittances": [...], "findings": [...]}``; findings of each remittance are
    collected as it is written and appended after the file-level ones given."""
    import json  # not needed by the --summary path (start-up)

    out.write('{\n  "remittances": [')
    collected: list[Finding] = []
    first = True
    for r in remittances:
        out.write("\n    " if first else ",\n    ")
        out.write(json.dumps(remittance_json(r), ensure_ascii=False))
        collected.extend(r.findings)
        first = False
    out.write('\n  ],\n  "findings": ')
    out.write(
        json.dumps([f.to_dict() for f in [*findings, *collected]], ensure_ascii=False, indent=2).replace("\n", "\n  ")
    )
    out.write("\n}\n")


CSV_COLUMNS = [
    "file",
    "payer",
    "payer_id",
    "payee",
    "trace",
    "payment_amount",
    "payment_date",
    "patient_control_number",
    "claim_status",
    "claim_charge",
    "claim_paid",
    "patient_responsibility",
    "payer_claim_number",
    "frequency",
    "claim_adjustments",
    "line_number",
    "qualifier",
    "code",
    "modifiers",
    "line_charge",
    "line_paid",
    "units",
    "revenue_code",
    "original_code",
    "line_control_number",
    "service_date",
    "line_adjustments",
    "remarks",
]


def _adj_text(adjs: list[Adjustment]) -> str:
    return ";".join(
        f"{a.group}-{a.reason}:{money(a.amount)}" + (f"x{a.quantity}" if a.quantity is not None else "") for a in adjs
    )


def csv_rows(r: Remittance) -> Iterator[list[Any]]:
    """One row per service line with its claim's fields; a claim without lines gets one row."""
    head = [
        r.file,
        r.payer.name,
        _payer_id(r),
        r.payee.name,
        r.payment.trace,
        money(r.payment.amount),
        iso_date(r.payment.date),
    ]
    for c in r.claims:
        claim = [
            c.patient_control_number,
            c.status,
            money(c.charge),
            money(c.paid),
            money(c.patient_responsibility),
            c.payer_claim_number,
            c.frequency,
            _adj_text(c.adjustments),
        ]
        if not c.lines:
            yield head + claim + [""] * 13
        for i, ln in enumerate(c.lines, 1):
            yield (
                head
                + claim
                + [
                    i,
                    ln.qualifier,
                    ln.code,
                    ":".join(ln.modifiers),
                    money(ln.charge),
                    money(ln.paid),
                    number(ln.units),
                    ln.revenue_code,
                    ln.original_code,
                    ln.line_control_number or "",
                    iso_date(ln.service_date) or "",
                    _adj_text(ln.adjustments),
                    ";".join(code for _, code in ln.remarks),
                ]
            )


def write_csv(remittances: Iterable[Remittance], out: IO[str]) -> list[Finding]:
    """Write the CSV; returns the remittances' findings (for stderr)."""
    import csv  # only the --csv path needs it (keeps --summary start-up small)

    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    found: list[Finding] = []
    for r in remittances:
        w.writerows(csv_rows(r))
        found.extend(r.findings)
    return found


@dataclass(slots=True)
class RemitSummary:
    """What a biller checks before posting one remittance."""

    file: str | None
    payer: str
    trace: str
    payment_amount: Decimal | None
    payment_date: str | None
    claims: int
    lines: int
    total_paid: Decimal
    plb_total: Decimal
    balancing_findings: int
    errors: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "payer": self.payer,
            "trace": self.trace,
            "payment_amount": money(self.payment_amount),
            "payment_date": self.payment_date,
            "claims": self.claims,
            "lines": self.lines,
            "total_paid": money(self.total_paid),
            "plb_total": money(self.plb_total),
            "balancing_findings": self.balancing_findings,
            "errors": self.errors,
        }

    def line(self) -> str:
        bal = "balanced" if not self.balancing_findings else f"{self.balancing_findings} balancing finding(s)"
        return (
            f"{self.payer or '?'} | trace {self.trace or '?'} | paid {money(self.payment_amount)} on "
            f"{self.payment_date or '?'} | {self.claims} claims, {self.lines} lines | claims paid "
            f"{money(self.total_paid)} | PLB {money(self.plb_total)} | {bal}"
        )


def summarize(r: Remittance) -> RemitSummary:
    """The summary line's figures of one remittance (its balancing findings and errors counted)."""
    codes = BALANCING_CODES
    return RemitSummary(
        r.file,
        r.payer.name,
        r.payment.trace,
        r.payment.amount,
        iso_date(r.payment.date),
        r.claim_count,
        r.line_count,
        r.total_paid,
        r.plb_total,
        sum(1 for f in r.findings if f.code in codes),
        sum(1 for f in r.findings if f.severity == "error"),
    )


def csv_text(remittances: Iterable[Remittance]) -> str:
    buf = io.StringIO()
    write_csv(remittances, buf)
    return buf.getvalue()
