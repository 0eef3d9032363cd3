"""Serialize an :class:`edi.x837.model.InterchangePlan` to 837P (005010X222A1) or 837I (005010X223A2).

Loop and segment order follow the implementation guides (and pyx12's maps of them). The
writer is a plain generator of strings: every free-text value goes through
:mod:`edi.x12.text` (so no value can carry a separator), money through
:func:`coding.money.x12_amount`. Envelope control numbers and the clock are injected.
Separators: element ``*``, component ``:``, repetition ``^``, segment ``~`` + newline.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from coding.config import Config
from coding.model import Patient, ServiceLine
from coding.money import round_cents, x12_amount
from edi.x12.text import MAX_LEN, clean, digits, fit, ident
from edi.x837.model import ClaimPlan, EnvelopeNumbers, InterchangePlan, TransactionPlan
from edi.x837.plan import NDC_UNITS, PCN_OK, ndc11, patient_is_subscriber

VERSION = {"837P": "005010X222A1", "837I": "005010X223A2"}
TERM = "~\n"
# PAT01 individual relationship codes (2000C) by the encounter's `relationship`.
RELATIONSHIP = {
    "spouse": "01",
    "child": "19",
    "employee": "20",
    "unknown": "21",
    "organ_donor": "39",
    "cadaver_donor": "40",
    "life_partner": "53",
    "other": "G8",
}
DEFAULT_POS = {"home": "12"}  # otherwise 11 (office / infusion center)
_MILLI = Decimal("0.001")
_TRAILING = re.compile(r"\*+~")


def relationship_code(relationship: str) -> str:
    """PAT01/SBR02 individual relationship code of an encounter's ``relationship``."""
    if relationship in ("self", "18"):
        return "18"
    return RELATIONSHIP.get(relationship, relationship if relationship in RELATIONSHIP.values() else "G8")


@lru_cache(maxsize=4096)
def d8(d: date) -> str:
    """CCYYMMDD."""
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


_amount = lru_cache(maxsize=16384)(x12_amount)  # same function, charges repeat a lot


def quantity(q: Decimal) -> str:
    """CTP04 quantity: up to 3 decimals, none for whole numbers, no exponent.

    >>> quantity(Decimal("2.50")), quantity(Decimal("10")), quantity(Decimal("0.3333"))
    ('2.5', '10', '0.333')
    """
    s = format(q.quantize(_MILLI, rounding=ROUND_HALF_UP), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


@lru_cache(maxsize=65536)
def _text(value: str | None, kind: str) -> str:
    return fit(clean(value), MAX_LEN[kind])[0]


def _name_elements(last: str, first: str) -> str:
    """NM103..NM107 for a person: last, first, middle, prefix, suffix."""
    return f"{_text(last, 'last') or 'UNKNOWN'}*{_text(first, 'first')}***"


def _address(line1: str, line2: str | None, city: str, state: str, zip_: str) -> list[str]:
    l2 = _text(line2, "address")
    n3 = f"N3*{_text(line1, 'address')}" + (f"*{l2}" if l2 else "")
    return [n3, f"N4*{_text(city, 'city')}*{clean(state)[:2]}*{digits(zip_)}"]


def _person(p: Patient, nm1: str, with_id: bool) -> list[str]:
    """NM1 (+id), N3, N4, DMG of a subscriber (2010BA) or patient (2010CA)."""
    head = f"NM1*{nm1}*1*{_name_elements(p.last, p.first)}"
    seg = head + (f"*MI*{fit(ident(p.member_id), MAX_LEN['id'])[0]}" if with_id else "")
    a = p.address
    sex = p.sex.upper() if p.sex and p.sex.upper() in ("M", "F", "U") else "U"
    return [seg, *_address(a.line1, a.line2, a.city, a.state, a.zip), f"DMG*D8*{d8(p.dob)}*{sex}"]


@lru_cache(maxsize=16384)
def _composite(code: str, modifiers: tuple[str, ...]) -> str:
    mods = [ident(m)[:2] for m in modifiers[:4] if ident(m)]
    return ":".join(["HC", ident(code), *mods])


def _procedure(ln: ServiceLine) -> str:
    """HC:code:modifiers (at most four)."""
    return _composite(ln.code, tuple(ln.modifiers))


def _line(n: int, ln: ServiceLine, claim_type: str, pointers: str) -> list[str]:
    """Loop 2400 (+2410) for one service line."""
    if ln.line_control_number is None:
        raise ValueError("service line has no line control number: the ledger must assign it before writing")
    amount = _amount(ln.charge)
    if claim_type == "837P":
        sv = f"SV1*{_procedure(ln)}*{amount}*UN*{int(ln.units)}***{pointers}"
    else:
        sv = f"SV2*{ident(ln.revenue_code)}*{_procedure(ln)}*{amount}*UN*{int(ln.units)}"
    out = [f"LX*{n}", sv, f"DTP*472*D8*{d8(ln.service_date)}", f"REF*6R*{ident(ln.line_control_number)}"]
    if ln.ndc:
        qty = ln.ndc_quantity if ln.ndc_quantity is not None else Decimal(ln.units)
        unit = (ln.ndc_unit or "UN").upper()
        unit = unit if unit in NDC_UNITS else "UN"  # the plan warns when it had to default
        out += [f"LIN**N4*{ndc11(ln.ndc) or digits(ln.ndc)}", f"CTP****{quantity(qty)}*{unit}"]
    return out


def _provider_name(npi: str, cfg: Config) -> tuple[str, str]:
    """(last, first) of a rendering/attending NPI from the config ([providers], facility, billing), else UNKNOWN."""
    bp, fac = cfg.billing_provider, cfg.facility
    known = cfg.providers.get(npi)
    if known and known[0]:
        return known
    if npi == fac.attending_npi and fac.attending_last:
        return fac.attending_last, fac.attending_first
    if npi == bp.rendering_npi and bp.rendering_last:
        return bp.rendering_last, bp.rendering_first
    return "UNKNOWN", ""


@lru_cache(maxsize=16384)
def _diagnoses(codes: tuple[str, ...], claim_type: str) -> tuple[str, ...]:
    """HI segments: ABK principal, ABF others (837P: 12 in all; 837I: two HI of 12 others)."""
    dx = [ident(c).replace(".", "") for c in codes if ident(c)]
    if claim_type == "837P":
        return ("HI*" + "*".join([f"ABK:{dx[0]}", *(f"ABF:{c}" for c in dx[1:12])]),)
    out = [f"HI*ABK:{dx[0]}"]
    others = dx[1:25]
    for i in range(0, len(others), 12):
        out.append("HI*" + "*".join(f"ABF:{c}" for c in others[i : i + 12]))
    return tuple(out)


def _claim(cp: ClaimPlan, cfg: Config, claim_type: str) -> list[str]:
    """Loop 2300 with its 2310 provider and 2400 lines."""
    enc = cp.coded.encounter
    # CLM02 is the sum of the amounts as written on the lines (each rounded to cents), so the
    # claim balances even when a line charge carries fractions of a cent
    total = _amount(sum((round_cents(ln.charge) for ln in cp.lines), Decimal(0)))
    pcn = cp.patient_control_number if PCN_OK.fullmatch(cp.patient_control_number) else ident(cp.patient_control_number)
    if claim_type == "837P":
        pos = clean(enc.place_of_service) or DEFAULT_POS.get(enc.setting, "11")
        out = [f"CLM*{pcn}*{total}***{pos}:B:{cp.frequency}*Y*A*Y*Y"]
    else:
        dates = [ln.service_date for ln in cp.lines]
        payer = cfg.payers[cp.payer_key]
        # CL101 is required by 005010X223A2 on every institutional claim, outpatient included
        out = [
            f"CLM*{pcn}*{total}***{clean(cfg.facility.facility_type)}:A:{cp.frequency}**A*Y*Y",
            f"DTP*434*RD8*{d8(min(dates))}-{d8(max(dates))}",
            f"CL1*{clean(cfg.admission_type(cp.payer_key))}*{clean(str(payer.get('admission_source', '')))}"
            f"*{clean(str(payer.get('patient_status', '01')))}",
        ]
    if cp.frequency in ("7", "8") and cp.payer_claim_number:
        out.append(f"REF*F8*{fit(ident(cp.payer_claim_number), MAX_LEN['ref'])[0]}")
    out += _diagnoses(tuple(enc.diagnoses), claim_type)
    bp = cfg.billing_provider
    if claim_type == "837P":
        npi = digits(enc.rendering_npi or bp.rendering_npi)
        if npi and npi != digits(bp.npi):
            last, first = _provider_name(npi, cfg)
            out.append(f"NM1*82*1*{_name_elements(last, first)}*XX*{npi}")
    else:
        npi = digits(enc.rendering_npi or cfg.facility.attending_npi or bp.rendering_npi)
        if npi:
            last, first = _provider_name(npi, cfg)
            out.append(f"NM1*71*1*{_name_elements(last, first)}*XX*{npi}")
    pointers = ":".join(str(i) for i in range(1, min(len(enc.diagnoses), 4) + 1))
    if cp.cob is None:
        for n, ln in enumerate(cp.lines, 1):
            out += _line(n, ln, claim_type, pointers)
        return out
    from edi.x837 import cob  # Loop2320 per prior payer, Loop2430 per line and prior payer

    out += cob.claim_loops(cp.cob, claim_type)
    for n, ln in enumerate(cp.lines, 1):
        out += _line(n, ln, claim_type, pointers)
        out += cob.line_loops(cp.cob, n - 1, claim_type)
    return out


def _insured(cp: ClaimPlan) -> tuple[Patient, bool, str]:
    """(insured, patient is the insured, relationship) of the payer the claim is sent to."""
    enc = cp.coded.encounter
    if cp.cob is None:
        is_self = patient_is_subscriber(enc)
        return (enc.patient if is_self or enc.subscriber is None else enc.subscriber), is_self, enc.relationship
    cov = cp.cob.coverage
    if cov.subscriber is None or cov.relationship in ("self", "18"):
        return replace(enc.patient, member_id=cov.member_id), True, "self"
    return cov.subscriber, False, cov.relationship


def _subscriber_and_claim(cp: ClaimPlan, cfg: Config, claim_type: str, hl: int, parent: int) -> list[str]:
    """2000B/2010BA/2010BB (+2000C/2010CA when the patient is not the subscriber) and the claim."""
    enc = cp.coded.encounter
    payer = cfg.payers[cp.payer_key]
    sub, is_self, relationship = _insured(cp)
    sequence = cp.cob.responsibility if cp.cob is not None else "P"
    sbr = f"SBR*{sequence}*{'18' if is_self else ''}*******{clean(payer.filing_indicator)}"
    out = [
        f"HL*{hl}*{parent}*22*{0 if is_self else 1}",
        sbr,
        *_person(sub, "IL", True),
        f"NM1*PR*2*{_text(payer.name, 'org')}*****PI*{ident(payer.payer_id)}",
    ]
    if not is_self:
        rel = relationship_code(relationship)
        out += [f"HL*{hl + 1}*{hl}*23*0", f"PAT*{rel}", *_person(enc.patient, "QC", False)]
    return out + _claim(cp, cfg, claim_type)


def _transaction(tp: TransactionPlan, cfg: Config, claim_type: str, st02: int, bht03: str, now: datetime) -> list[str]:
    """ST..SE for one payer's claims."""
    bp, sub, rcv = cfg.billing_provider, cfg.submitter, cfg.receiver
    version = VERSION[claim_type]
    contact = _text(sub.contact_name, "contact")
    segs = [
        f"ST*837*{st02:04d}*{version}",
        f"BHT*0019*00*{ident(bht03)}*{now:%Y%m%d}*{now:%H%M}*CH",
        f"NM1*41*2*{_text(sub.name, 'org')}*****46*{ident(sub.id)}",
        f"PER*IC*{contact}*TE*{digits(sub.phone)}",
        f"NM1*40*2*{_text(rcv.name, 'org')}*****46*{ident(rcv.id)}",
        "HL*1**20*1",
        f"PRV*BI*PXC*{ident(bp.taxonomy)}",
        f"NM1*85*2*{_text(bp.name, 'org')}*****XX*{digits(bp.npi)}",
        *_address(bp.address.line1, None, bp.address.city, bp.address.state, bp.address.zip),
        f"REF*EI*{digits(bp.ein)}",
    ]
    hl = 2
    for cp in tp.claims:
        part = _subscriber_and_claim(cp, cfg, claim_type, hl, 1)
        hl += 1 if _insured(cp)[1] else 2
        segs += part
    segs.append(f"SE*{len(segs) + 1}*{st02:04d}")
    return segs


def write_interchange(plan: InterchangePlan, cfg: Config, numbers: EnvelopeNumbers, now: datetime) -> bytes:
    """One ISA..IEA interchange (one GS) with one ST per transaction plan."""
    if len(numbers.st02) != len(plan.transactions) or len(numbers.bht03) != len(plan.transactions):
        raise ValueError("EnvelopeNumbers needs one ST02 and one BHT03 per transaction set")
    sub, rcv = cfg.submitter, cfg.receiver
    sid, rid = ident(sub.id)[:15], ident(rcv.id)[:15]
    segs = [
        f"ISA*00*          *00*          *{ident(sub.qualifier)[:2]:<2}*{sid:<15}*{ident(rcv.qualifier)[:2]:<2}"
        f"*{rid:<15}*{now:%y%m%d}*{now:%H%M}*^*00501*{numbers.isa13:09d}*0*{clean(cfg.usage_indicator)[:1] or 'T'}*:",
        f"GS*HC*{sid}*{rid}*{now:%Y%m%d}*{now:%H%M}*{numbers.gs06}*X*{VERSION[plan.claim_type]}",
    ]
    for tp, st02, bht03 in zip(plan.transactions, numbers.st02, numbers.bht03):
        segs += _transaction(tp, cfg, plan.claim_type, st02, bht03, now)
    segs += [f"GE*{len(plan.transactions)}*{numbers.gs06}", f"IEA*1*{numbers.isa13:09d}"]
    # an empty last element (e.g. no first name) must not leave a trailing separator; values
    # never contain "*" (see edi.x12.text), so this only removes empty trailing elements
    return _TRAILING.sub("~", TERM.join(segs) + TERM).encode("ascii")


# Widest control numbers the size bounds allow for: ISA13, GS06 and ST02 have 9 digits (the
# ledger's counters stop there); BHT03 and the REF*6R line control numbers are counters written
# in decimal, 15 digits is more than any ledger will reach.
_WIDE_NUMBER = 999_999_999
_WIDE_REF = "9" * 15
_COUNT_SLACK = 16  # SE01 and GE01 counts wider than in the bound's own sample


def _segments_bytes(segs: list[str]) -> int:
    return sum(len(s) for s in segs) + len(TERM) * len(segs)


class SizeBounds:
    """Upper bounds on the bytes of the pieces of one claim type's interchange.

    Each piece is serialized with its real content and HL numbers but the widest control
    numbers the ledger can hand out, so a file written with the real numbers is never longer
    than the sum of the bounds of its pieces (trailing empty elements, removed on writing,
    only make it shorter).
    """

    def __init__(self, cfg: Config, claim_type: str) -> None:
        self.cfg, self.claim_type = cfg, claim_type
        now = datetime(2000, 1, 1)  # date and time have fixed widths
        wide = EnvelopeNumbers(_WIDE_NUMBER, _WIDE_NUMBER, [], [])
        self.envelope = len(write_interchange(InterchangePlan(claim_type), cfg, wide, now)) + _COUNT_SLACK  # type: ignore[arg-type]
        empty = _transaction(TransactionPlan(""), cfg, claim_type, _WIDE_NUMBER, _WIDE_REF, now)
        self.set_header = _segments_bytes(empty) + _COUNT_SLACK  # ST..2010AA and SE

    def claim(self, cp: ClaimPlan, hl: int) -> int:
        """Bytes of one claim (2000B..2400) as HL number ``hl`` of its set."""
        wide = replace(cp, lines=[replace(ln, line_control_number=_WIDE_REF) for ln in cp.lines])
        return _segments_bytes(_subscriber_and_claim(wide, self.cfg, self.claim_type, hl, 1))
