"""Turn the 835 reader's model (:mod:`edi.x835.reader`) into the poster's records (:mod:`reconcile.posting.records`).

The only module of ``reconcile`` that knows the reader's classes. Missing amounts (which the reader
already reported as findings) post as zero; CCYYMMDD dates become ISO dates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from coding.findings import Finding
from edi.x835.model import Adjustment, Loop2100, Loop2110, Remittance
from reconcile.posting.records import ZERO, Adj, RClaim, RLine, RPlb, RRemit

_ISO: dict[str, str | None] = {}


def iso(d: str | None) -> str | None:
    """CCYYMMDD -> CCYY-MM-DD (ISO passes through; None when absent or malformed); cached."""
    if not d:
        return None
    if len(d) == 10 and d[4] == "-":
        return d  # already ISO
    out = _ISO.get(d, "")
    if out == "":
        out = f"{d[:4]}-{d[4:6]}-{d[6:]}" if len(d) == 8 and d.isdigit() else None
        if len(_ISO) < 100_000:
            _ISO[d] = out
    return out


def _m(v: Decimal | None) -> Decimal:
    return ZERO if v is None else v


def _adjs(adjs: list[Adjustment]) -> list[Any]:
    """The reader's CAS records serve as they are (same attribute names) unless an amount is missing."""
    for a in adjs:
        if a.amount is None:
            return [Adj(a.group, a.reason, _m(a.amount), a.quantity) for a in adjs]
    return adjs


def _line(s: Loop2110) -> RLine:
    ch, pd = s.charge, s.paid
    return RLine(
        s.code,
        ZERO if ch is None else ch,
        ZERO if pd is None else pd,
        s.qualifier or "HC",
        tuple(s.modifiers),
        s.units,
        s.revenue_code or None,
        s.original_qualifier or None,
        s.original_code or None,
        tuple(s.original_modifiers) if s.original_modifiers else (),
        iso(s.service_date),
        s.line_control_number,
        _adjs(s.adjustments) if s.adjustments else [],
        [code for _q, code in s.remarks if code] if s.remarks else [],
        s.segment_number or None,
    )


def _claim(c: Loop2100) -> RClaim:
    ch, pd, pr = c.charge, c.paid, c.patient_responsibility
    return RClaim(
        c.patient_control_number,
        c.status,
        ZERO if ch is None else ch,
        ZERO if pd is None else pd,
        ZERO if pr is None else pr,
        c.payer_claim_number or None,
        c.frequency or None,
        _adjs(c.adjustments) if c.adjustments else [],
        [_line(s) for s in c.lines],
        c.remark_codes if (c.outpatient or c.inpatient) else [],
        iso(c.date("232")) if c.dates else None,
        c.segment_number or None,
        c.unreadable,
    )


def payer_id(rm: Remittance) -> str:
    """N1*PR identifier (N104), else REF*2U additional payer id, else TRN03."""
    if rm.payer.id:
        return rm.payer.id
    for r in rm.payer.refs:
        if r.qualifier == "2U" and r.value:
            return r.value
    return rm.payment.trace_originator or ""


def convert(rm: Remittance, claims: bool = True) -> RRemit:
    """One reader ``Remittance`` as the poster's ``RRemit`` (header only when ``claims`` is False)."""
    pay = rm.payment
    out = RRemit(
        payer_id=payer_id(rm),
        trace=pay.trace,
        amount=_m(pay.amount),
        payer_name=rm.payer.name or None,
        method=pay.method or None,
        payment_date=iso(pay.date) or iso(rm.production_date),
        segment=rm.start_segment or None,
    )
    if claims:
        out.claims = [_claim(c) for c in rm.claims]
        _tail(out, rm)
    return out


def _tail(out: RRemit, rm: Remittance) -> None:
    out.plbs = [
        RPlb(
            p.reason,
            _m(p.amount),
            p.reference or None,
            p.provider or None,
            iso(p.fiscal_period_date),
            p.segment_number or None,
        )
        for p in rm.provider_adjustments
    ]
    out.findings = list(rm.findings)


BATCH = 500  # finished claims handed to the poster at a time (one ledger chunk)


def stream_835(
    path: Path, findings: list[Finding], on_claims: Callable[[Remittance, list[Loop2100]], None]
) -> Iterator[Remittance]:
    """The reader's remittances of one file (``edi.x835.reader`` ``Remittance`` objects, one per ST/SE).

    While a remittance is read, every :data:`BATCH` finished claims are handed to
    ``on_claims(remittance, claims)`` and leave it, so memory stays flat even for one huge
    transaction set; the claims still in ``remittance.claims`` when it is yielded are the rest.
    File-level findings go to ``findings``. Claims are taken as they close through the reader's
    public ``on_claim`` hook.
    """
    from edi.x835 import reader as x835

    def take_batch(rem: Remittance, _claim: Loop2100) -> None:
        if len(rem.claims) >= BATCH:
            batch = list(rem.claims)
            rem.claims.clear()
            on_claims(rem, batch)

    yield from x835.read_835(path, filename=str(path), findings=findings, on_claim=take_batch)


def tail(rm: Remittance) -> RRemit:
    """The header of a reader ``Remittance`` with its PLB entries and findings (no claims)."""
    out = convert(rm, claims=False)
    _tail(out, rm)
    return out


def read_remittances(path: Path, findings: list[Finding]) -> Iterator[RRemit]:
    """The remittances of one 835 file as :class:`RRemit` records (whole sets, for tools and tests)."""
    from edi.x835 import reader as x835

    for rm in x835.read_835(path, filename=str(path), findings=findings):
        yield convert(rm)
