"""A payer simulator: write an 835 (005010X221A1) that answers claims, from the poster's records.

Used to build the demo's bundled 835 (``fixtures/make_demo_835.py``) and by the tests: what it
writes is read back by the real reader and posted by the real poster, so the two are checked
against amounts known by construction. Loop and segment order follow the implementation guide:
ISA/GS/ST, BPR, TRN, DTM*405, 1000A payer N1*PR/N3/N4/PER, 1000B payee N1*PE, 2000 LX, 2100 CLP/CAS/NM1*QC/DTM*232, 2110 SVC/DTM*472/CAS/REF*6R/LQ, PLB, SE/GE/IEA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from coding.money import x12_amount
from reconcile.posting.records import Adj, RClaim, RLine, RPlb, RRemit


@dataclass(frozen=True)
class Envelope:
    sender: str = "PAYERSIM"
    receiver: str = "DRIPLINE01"
    isa13: int = 1
    gs06: int = 1
    date: date = date(2026, 4, 1)
    payee_name: str = "RIVERSIDE INFUSION CENTER"
    payee_npi: str = "1234567893"


def _d8(iso: str | None, default: date) -> str:
    return (iso or default.isoformat()).replace("-", "")


def _amt(v: Decimal) -> str:
    return x12_amount(v)


def _num(v: Decimal) -> str:
    s = format(v.normalize(), "f")
    return s


def _cas(adjs: list[Adj]) -> list[str]:
    """CAS segments: one per group, up to six reason/amount(/quantity) triplets each."""
    out: list[str] = []
    groups: dict[str, list[Adj]] = {}
    for a in adjs:
        groups.setdefault(a.group, []).append(a)
    for g, items in groups.items():
        for i in range(0, len(items), 6):
            els = ["CAS", g]
            for a in items[i : i + 6]:
                els += [a.reason, _amt(a.amount), "" if a.quantity is None else _num(a.quantity)]
            while els[-1] == "":
                els.pop()
            out.append("*".join(els))
    return out


def _svc(ln: RLine, default: date) -> list[str]:
    comp = ":".join([ln.qualifier, ln.code, *ln.modifiers])
    els = [
        "SVC",
        comp,
        _amt(ln.charge),
        _amt(ln.paid),
        ln.revenue_code or "",
        "" if ln.units is None else _num(ln.units),
    ]
    if ln.original_code:
        els.append(":".join([ln.original_qualifier or "HC", ln.original_code, *ln.original_modifiers]))
    while els[-1] == "":
        els.pop()
    segs = ["*".join(els)]
    if ln.service_date:
        segs.append(f"DTM*472*{_d8(ln.service_date, default)}")
    segs += _cas(ln.adjustments)
    if ln.line_control_number:
        segs.append(f"REF*6R*{ln.line_control_number}")
    segs += [f"LQ*HE*{r}" for r in ln.remarks]
    return segs


def _claim(c: RClaim, default: date) -> list[str]:
    els = [
        "CLP",
        c.patient_control_number,
        c.status,
        _amt(c.charge),
        _amt(c.paid),
        _amt(c.patient_responsibility) if c.patient_responsibility else "",
        "12",
        c.payer_claim_number or "",
        "11",
        c.frequency or "1",
    ]
    segs = ["*".join(els)]
    segs += _cas(c.adjustments)
    segs.append("NM1*QC*1*PATIENT*DEMO****MR*" + c.patient_control_number[:30])
    if c.remarks:
        segs.append("MOA***" + "*".join(c.remarks[:5]))
    if c.statement_date:
        segs.append(f"DTM*232*{_d8(c.statement_date, default)}")
    for ln in c.lines:
        segs += _svc(ln, default)
    return segs


def _plb(plbs: list[RPlb], npi: str, default: date) -> list[str]:
    out = []
    for i in range(0, len(plbs), 6):
        part = plbs[i : i + 6]
        first = part[0]
        els = ["PLB", first.provider or npi, _d8(first.fiscal_period_date, date(default.year, 12, 31))]
        for p in part:
            els += [f"{p.reason}:{p.reference}" if p.reference else p.reason, _amt(p.amount)]
        out.append("*".join(els))
    return out


def transaction(rm: RRemit, st02: int, env: Envelope) -> list[str]:
    """ST..SE of one remittance."""
    pay_date = _d8(rm.payment_date, env.date)
    method = rm.method or "ACH"
    bpr = (
        (
            f"BPR*I*{_amt(rm.amount)}*C*{method}*CCP*01*999999999*DA*123456*1{rm.payer_id[:9]:0>9}**01*888888888"
            f"*DA*654321*{pay_date}"
        )
        if method == "ACH"
        else f"BPR*I*{_amt(rm.amount)}*C*{method}************{pay_date}"
    )
    segs = [
        f"ST*835*{st02:04d}",
        bpr,
        f"TRN*1*{rm.trace}*1{rm.payer_id[:9]:0>9}",
        f"DTM*405*{pay_date}",
        f"N1*PR*{rm.payer_name or 'PAYER'}*XV*{rm.payer_id}",
        "N3*1 PAYER WAY",
        "N4*CAPITAL CITY*IL*62701",
        "PER*BL*CLAIMS*TE*5555550199",
        f"N1*PE*{env.payee_name}*XX*{env.payee_npi}",
    ]
    if rm.claims:
        segs.append("LX*1")
    for c in rm.claims:
        segs += _claim(c, env.date)
    segs += _plb(rm.plbs, env.payee_npi, env.date)
    segs.append(f"SE*{len(segs) + 1}*{st02:04d}")
    return segs


def write_835(remittances: list[RRemit], env: Envelope = Envelope()) -> str:
    """One interchange with one functional group holding one ST/SE per remittance."""
    d = env.date
    isa = (
        f"ISA*00*          *00*          *ZZ*{env.sender:<15}*ZZ*{env.receiver:<15}*{d:%y%m%d}*1200*^*00501*"
        f"{env.isa13:09d}*0*T*:"
    )
    segs = [isa, f"GS*HP*{env.sender}*{env.receiver}*{d:%Y%m%d}*1200*{env.gs06}*X*005010X221A1"]
    for i, rm in enumerate(remittances, start=1):
        segs += transaction(rm, i, env)
    segs += [f"GE*{len(remittances)}*{env.gs06}", f"IEA*1*{env.isa13:09d}"]
    return "~\n".join(segs) + "~\n"
