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


_ISO: dict[str, str | None] = {}


def iso(d: str | None) -> str | None:
    """CCYYMMDD -> CCYY-MM-DD (None when absent or malformed); cached, dates repeat a lot."""
    if not d:
        return None
    out = _ISO.get(d, "")
    if out == "":
        out = f"{d[:4]}-{d[4:6]}-{d[6:]}" if len(d) == 8 and d.isdigit() else None
        if len(_ISO) < 100_000:
            _ISO[d] = out
    return out


def _m(v: Decimal | None) -> Decimal:
    return ZERO if v is None else v


def _adjs(adjs) -> list:
    """The reader's CAS records serve as they are (same attribute names) unless an amount is missing."""
    for a in adjs:
        if a.amount is None:
            return [Adj(a.group, a.reason, _m(a.amount), a.quantity) for a in adjs]
    return adjs


def _line(s) -> RLine:
    ch, pd = s.charge, s.paid
    return RLine(
        s.code, ZERO if ch is None else ch, ZERO if pd is None else pd, s.qualifier or "HC",
        tuple(s.modifiers), s.units, s.revenue_code or None, s.original_qualifier or None,
        s.original_code or None, tuple(s.original_modifiers) if s.original_modifiers else (),
        iso(s.service_date), s.line_control_number, _adjs(s.adjustments) if s.adjustments else [],
        [code for _q, code in s.remarks if code] if s.remarks else [], s.segment_number or None,
    )


def _claim(c) -> RClaim:
    ch, pd, pr = c.charge, c.paid, c.patient_responsibility
    return RClaim(
        c.patient_control_number, c.status, ZERO if ch is None else ch, ZERO if pd is None else pd,
        ZERO if pr is None else pr, c.payer_claim_number or None, c.frequency or None,
        _adjs(c.adjustments) if c.adjustments else [], [_line(s) for s in c.lines],
        c.remark_codes if (c.outpatient or c.inpatient) else [], iso(c.date("232")) if c.dates else None,
        c.segment_number or None,
    )


def payer_id(rm) -> str:
    """N1*PR identifier (N104), else REF*2U additional payer id, else TRN03."""
    if rm.payer.id:
        return rm.payer.id
    for r in rm.payer.refs:
        if r.qualifier == "2U" and r.value:
            return r.value
    return rm.payment.trace_originator or ""


def convert(rm, claims: bool = True) -> RRemit:
    """One reader ``Remittance`` as the poster's ``RRemit`` (header only when ``claims`` is False)."""
    pay = rm.payment
    out = RRemit(
        payer_id=payer_id(rm), trace=pay.trace, amount=_m(pay.amount), payer_name=rm.payer.name or None,
        method=pay.method or None, payment_date=iso(pay.date) or iso(rm.production_date),
        segment=rm.start_segment or None,
    )
    if claims:
        out.claims = [_claim(c) for c in rm.claims]
        _tail(out, rm)
    return out


def _tail(out: RRemit, rm) -> None:
    out.plbs = [RPlb(p.reason, _m(p.amount), p.reference or None, p.provider or None, iso(p.fiscal_period_date),
                     p.segment_number or None) for p in rm.provider_adjustments]
    out.findings = list(rm.findings)


BATCH = 256  # converted claims handed over at a time


def _events(path: Path, findings: list[Finding]) -> Iterator[tuple[str, object, list]]:
    """("claims", remittance, [RClaim...]) every few finished claims, ("end", remittance, []) at its SE.

    Drives the reader segment by segment and takes each finished claim out of the remittance at
    once, so memory stays flat even for one huge transaction set.
    """
    from edi import x835

    r = x835._Reader(path, str(path), findings, True)
    body = r.body
    pending: list[RClaim] = []
    for els, num, line in r.tok:
        rem = r.rem
        if rem is not None:
            h = body.get(els[0])
            if h is not None:
                h(els, num, line)
                if rem.claims:
                    pending.extend(_claim(c) for c in rem.claims)
                    rem.claims.clear()
                    if len(pending) >= BATCH:
                        yield "claims", rem, pending
                        pending = []
                continue
        done = r._other(els, num, line)
        if done is not None:
            pending.extend(_claim(c) for c in done.claims)
            done.claims.clear()
            if pending:
                yield "claims", done, pending
                pending = []
            yield "end", done, pending
    done = r._eof()
    if done is not None:
        pending.extend(_claim(c) for c in done.claims)
        done.claims.clear()
        if pending:
            yield "claims", done, pending
        yield "end", done, []
    if r.remittances == 0:
        findings.append(Finding("error", "x835-no-remittance", "no 835 transaction set (ST*835) was found "
                                "in this file", file=str(path)))


def read_remittances(path: Path, findings: list[Finding]) -> Iterator[RRemit]:
    """Stream the remittances of one 835 file; each one's ``claims`` is itself a lazy stream
    (its ``plbs`` and ``findings`` are filled once the claims are consumed). File-level findings
    go to ``findings``."""
    from edi import x835

    if not hasattr(x835, "_Reader") or not hasattr(x835._Reader, "_other"):  # reader changed shape
        for rm in x835.read_835(path, filename=str(path), findings=findings):
            yield convert(rm)
        return
    ev = _events(path, findings)
    item = next(ev, None)
    while item is not None:
        rem = item[1]
        head = convert(rem, claims=False)
        state: dict[str, object] = {}

        def stream(first=item, rem=rem, head=head, state=state) -> Iterator[RClaim]:
            it = first
            while it is not None and it[1] is rem and it[0] == "claims":
                yield from it[2]
                it = next(ev, None)
            if it is not None and it[1] is rem and it[0] == "end":
                _tail(head, rem)
                it = next(ev, None)
            state["next"] = it

        head.claims = stream()  # type: ignore[assignment]
        yield head
        for _ in head.claims:  # whatever the poster did not consume (e.g. a duplicate payment)
            pass
        item = state.get("next")  # type: ignore[assignment]
