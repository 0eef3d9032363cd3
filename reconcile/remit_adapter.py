"""Turn the 835 reader's model (:mod:`edi.x835`) into the poster's records (:mod:`reconcile.remit_input`).

The only module of ``reconcile`` that knows the reader's classes. Missing amounts (which the reader
already reported as findings) post as zero; CCYYMMDD dates become ISO dates.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Iterator

from coding.findings import Finding
from reconcile.remit_input import ZERO, Adj, RClaim, RLine, RPlb, RRemit


def iso(d: str | None) -> str | None:
    """CCYYMMDD -> CCYY-MM-DD (None when absent or malformed)."""
    if not d or len(d) != 8 or not d.isdigit():
        return None
    return f"{d[:4]}-{d[4:6]}-{d[6:]}"


def _m(v: Decimal | None) -> Decimal:
    return ZERO if v is None else v


def _adjs(adjs) -> list[Adj]:
    return [Adj(a.group, a.reason, _m(a.amount), a.quantity) for a in adjs]


def _line(s) -> RLine:
    return RLine(
        code=s.code, charge=_m(s.charge), paid=_m(s.paid), qualifier=s.qualifier or "HC",
        modifiers=tuple(m for m in s.modifiers if m), units=s.units, revenue_code=s.revenue_code or None,
        original_qualifier=s.original_qualifier or None, original_code=s.original_code or None,
        original_modifiers=tuple(m for m in s.original_modifiers if m), service_date=iso(s.service_date),
        line_control_number=s.line_control_number, adjustments=_adjs(s.adjustments),
        remarks=[code for _q, code in s.remarks if code], segment=s.segment_number or None,
    )


def _claim(c) -> RClaim:
    return RClaim(
        patient_control_number=c.patient_control_number, status=c.status, charge=_m(c.charge),
        paid=_m(c.paid), patient_responsibility=_m(c.patient_responsibility),
        payer_claim_number=c.payer_claim_number or None, frequency=c.frequency or None,
        adjustments=_adjs(c.adjustments), lines=[_line(s) for s in c.lines], remarks=c.remark_codes,
        statement_date=iso(c.date("232")), segment=c.segment_number or None,
    )


def payer_id(rm) -> str:
    """N1*PR identifier (N104), else REF*2U additional payer id, else TRN03."""
    if rm.payer.id:
        return rm.payer.id
    for r in rm.payer.refs:
        if r.qualifier == "2U" and r.value:
            return r.value
    return rm.payment.trace_originator or ""


def convert(rm) -> RRemit:
    """One reader ``Remittance`` as the poster's ``RRemit``."""
    pay = rm.payment
    return RRemit(
        payer_id=payer_id(rm), trace=pay.trace, amount=_m(pay.amount), payer_name=rm.payer.name or None,
        method=pay.method or None, payment_date=iso(pay.date) or iso(rm.production_date),
        claims=[_claim(c) for c in rm.claims],
        plbs=[RPlb(p.reason, _m(p.amount), p.reference or None, p.provider or None, iso(p.fiscal_period_date),
                   p.segment_number or None) for p in rm.provider_adjustments],
        findings=list(rm.findings), segment=rm.start_segment or None,
    )


def read_remittances(path: Path, findings: list[Finding]) -> Iterator[RRemit]:
    """Stream the remittances of one 835 file; file-level findings go to ``findings``."""
    from edi import x835

    for rm in x835.read_835(path, filename=str(path)):
        yield convert(rm)
