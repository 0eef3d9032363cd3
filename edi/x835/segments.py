"""Segment handlers of the 835 reader: one function per segment id of a transaction set (header,
1000A/B, 2000, 2100, 2110, PLB), reached through :data:`SEGMENT_HANDLERS`, and the end of a claim
(:func:`end_claim`, claim and service-line balancing).

These handlers are the reference implementation of the 835 rules: the pure-Python driver calls
them for every segment, and the compiled driver (``edi/x835/_accel.c``) builds only the regular
shape of a few of them itself, with results tested equal (``tests/edi/x835/test_accel.py``).

Each handler gets the reader's :class:`~edi.x835.state.ReaderState` (an 835 set is open:
``st.rem`` is not None), the split elements, the segment's ordinal and its line; a segment that
does not fit the current loop is kept verbatim through :meth:`ReaderState.unknown` with a finding.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from edi.x12.tokenizer import UNREADABLE_SEGMENT
from edi.x835.model import (
    Adjustment,
    AmountRef,
    Contact,
    DateRef,
    Loop2000,
    Loop2100,
    Loop2110,
    Name,
    Party,
    ProviderAdjustment,
    Reference,
    Remittance,
    UnreadableClaim,
    UnreadableLine,
)
from edi.x835.state import ReaderState

__all__ = ["BIG", "SEGMENT_HANDLERS", "ZERO", "Handler", "amount_of", "end_claim", "pad", "unreadable"]

#: ``handler(state, elements, segment number, line)``
Handler = Callable[[ReaderState, list[str], int, int], None]

ZERO = Decimal(0)
BIG = Decimal("1e15")  # no X12 amount (18 characters at most) is this large
_D = Decimal


def amount_of(s: str) -> Decimal | None:
    """Decimal of an X12 R element, None when empty, not a number, or absurdly large."""
    try:
        d = _D(s)
        return d if -BIG < d < BIG else None
    except (InvalidOperation, ValueError, TypeError):  # also NaN comparisons
        return None


def pad(els: list[str], n: int) -> list[str]:
    """``els`` with empty elements added up to ``n`` (the segment id included)."""
    return els if len(els) >= n else els + [""] * (n - len(els))


def _rem(st: ReaderState) -> Remittance:
    rem = st.rem
    assert rem is not None  # handlers run inside an 835 set only
    return rem


def _open_claim(st: ReaderState) -> Loop2100:
    claim = st.claim
    assert claim is not None  # loop 2100 or 2110: a claim is open
    return claim


def _open_line(st: ReaderState) -> Loop2110:
    svc = st.svc
    assert svc is not None  # loop 2110: a service line is open
    return svc


def _add_cas(owner: Loop2100 | Loop2110, amount: Decimal) -> None:
    total = owner.cas_total
    owner.cas_total = amount if total is None else total + amount


# ------------------------------------------------------------------ header segments


def bpr(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """BPR (header): financial information; BPR02 is the amount the transaction balances against."""
    if st.loop != "HEADER":
        return st.unknown(els, num, line)
    e = pad(els, 17)
    p = _rem(st).payment
    st.bpr_pos = (num, line)
    p.handling, p.credit_debit, p.method, p.format = e[1], e[3], e[4], e[5]
    p.amount = amount_of(e[2])
    if p.amount is None:
        st.bad_amount(els, 2, num, line, "HEADER")
    (
        p.sender_dfi_qualifier,
        p.sender_dfi,
        p.sender_account_qualifier,
        p.sender_account,
        p.originating_company,
        p.originating_supplemental,
        p.receiver_dfi_qualifier,
        p.receiver_dfi,
        p.receiver_account_qualifier,
        p.receiver_account,
        p.date,
    ) = e[6:17]


def trn(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """TRN (header): reassociation trace number."""
    if st.loop != "HEADER":
        return st.unknown(els, num, line)
    e = pad(els, 5)
    p = _rem(st).payment
    p.trace_type, p.trace, p.trace_originator, p.trace_supplemental = e[1:5]


def cur(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """CUR (header): foreign currency, kept as sent."""
    if st.loop != "HEADER":
        return st.unknown(els, num, line)
    _rem(st).currency = els[1:]


def ref(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """REF: reference of the header, payer (1000A), payee (1000B), claim (2100) or line (2110)."""
    r = Reference(els[1] if len(els) > 1 else "", els[2] if len(els) > 2 else "")
    loop = st.loop
    if loop == "2110":
        _open_line(st).refs.append(r)
    elif loop == "2100":
        _open_claim(st).refs.append(r)
    elif loop == "HEADER":
        _rem(st).refs.append(r)
    elif loop == "1000A":
        _rem(st).payer.refs.append(r)
    elif loop == "1000B":
        _rem(st).payee.refs.append(r)
    else:
        st.unknown(els, num, line)


def dtm(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """DTM: date of the header (DTM*405 production date), claim (2100) or line (2110)."""
    d = DateRef(els[1] if len(els) > 1 else "", els[2] if len(els) > 2 else "")
    loop = st.loop
    if loop == "2110":
        _open_line(st).dates.append(d)
    elif loop == "2100":
        _open_claim(st).dates.append(d)
    elif loop == "HEADER":
        rem = _rem(st)
        rem.dates.append(d)
        if d.qualifier == "405":
            rem.production_date = d.date
    else:
        st.unknown(els, num, line)


def party_of(st: ReaderState) -> Party | None:
    """The party (payer or payee) whose loop is open, or None."""
    if st.loop == "1000A":
        return _rem(st).payer
    if st.loop == "1000B":
        return _rem(st).payee
    return None


def n1(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """N1*PR / N1*PE: opens loop 1000A (payer) or 1000B (payee), once each."""
    e = pad(els, 5)
    rem = st.rem
    assert rem is not None
    if st.loop in ("HEADER", "1000A", "1000B") and e[1] == "PR" and not rem.payer.entity:
        st.loop, party = "1000A", rem.payer
    elif st.loop in ("HEADER", "1000A", "1000B") and e[1] == "PE" and not rem.payee.entity:
        st.loop, party = "1000B", rem.payee
    else:
        return st.unknown(els, num, line, " (N1 qualifier or position)")
    party.entity, party.name, party.id_qualifier, party.id = e[1], e[2], e[3], e[4]


def n3(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """N3 (1000A/B): party address."""
    party = party_of(st)
    if party is None:
        return st.unknown(els, num, line)
    party.address.extend(x for x in els[1:3] if x)


def n4(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """N4 (1000A/B): party city, state, ZIP, country."""
    party = party_of(st)
    if party is None:
        return st.unknown(els, num, line)
    e = pad(els, 5)
    party.city, party.state, party.zip, party.country = e[1], e[2], e[3], e[4]


def per(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """PER: contact of the payer (1000A), the payee (1000B) or the claim (2100)."""
    e = pad(els, 9)
    c = Contact(e[1], e[2], [(e[i], e[i + 1]) for i in (3, 5, 7) if e[i] or e[i + 1]])
    if st.loop == "1000A":
        _rem(st).payer.contacts.append(c)
    elif st.loop == "2100":
        _open_claim(st).contacts.append(c)
    elif st.loop == "1000B":
        _rem(st).payee.contacts.append(c)
    else:
        st.unknown(els, num, line)


def rdm(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """RDM (1000B): remittance delivery method, kept as sent."""
    if st.loop != "1000B":
        return st.unknown(els, num, line)
    _rem(st).payee.rdm = els[1:]


# ------------------------------------------------------------------ detail


def lx(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """LX: opens a Loop 2000 header number group (closes the open claim)."""
    if st.loop == "FOOTER":
        return st.unknown(els, num, line, " (after PLB)")
    end_claim(st)
    st.lx = els[1] if len(els) > 1 else ""
    _rem(st).header_groups.append(Loop2000(st.lx, segment_number=num))
    st.loop = "2000"


def ts3(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """TS3 (2000): provider summary information, kept as sent."""
    if st.loop != "2000":
        return st.unknown(els, num, line)
    _rem(st).header_groups[-1].ts3 = els[1:]


def ts2(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """TS2 (2000): provider supplemental summary information, kept as sent."""
    if st.loop != "2000":
        return st.unknown(els, num, line)
    _rem(st).header_groups[-1].ts2 = els[1:]


def clp(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """CLP: opens a Loop 2100 claim (closes the open one)."""
    if st.loop == "FOOTER":
        return st.unknown(els, num, line, " (after PLB)")
    if st.claim is not None:
        end_claim(st)
    e = els if len(els) >= 15 else els + [""] * (15 - len(els))
    charge, paid = amount_of(e[3]), amount_of(e[4])
    pr = amount_of(e[5]) if e[5] else None
    claim = Loop2100(
        e[1],
        e[2],
        charge,
        paid,
        pr,
        e[6],
        e[7],
        e[8],
        e[9],
        e[10],
        e[11],
        amount_of(e[12]) if e[12] else None,
        amount_of(e[13]) if e[13] else None,
        e[14],
        st.lx,
        num,
        line,
    )
    claim.cas_total = ZERO
    st.claim = claim
    st.svc = None
    st.loop = "2100"
    if charge is None:
        st.bad_amount(els, 3, num, line, "2100")
    if paid is None:
        st.bad_amount(els, 4, num, line, "2100")
    if pr is None and e[5]:
        st.bad_amount(els, 5, num, line, "2100")
    if not e[1] or not e[2]:
        st.find(
            "error",
            "x835-missing-element",
            "CLP01 (patient control number) or CLP02 (status) is empty",
            num,
            line,
            segment="CLP",
            loop="2100",
            element="CLP01" if not e[1] else "CLP02",
        )


def cas(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """CAS (2100/2110): adjustments, one record per group/reason/amount/quantity triplet."""
    loop = st.loop
    owner: Loop2100 | Loop2110
    if loop == "2110":
        owner = _open_line(st)
    elif loop == "2100":
        owner = _open_claim(st)
    else:
        return st.unknown(els, num, line)
    target = owner.adjustments
    n = len(els)
    group = els[1] if n > 1 else ""
    if (n == 4 or n == 5) and els[2]:  # one triplet, the usual shape
        amount = amount_of(els[3])
        if amount is None:
            st.bad_amount(els, 3, num, line, loop)
        else:
            _add_cas(owner, amount)
        q = els[4] if n == 5 else ""
        target.append(Adjustment(group, els[2], amount, amount_of(q) if q else None))
        return
    if n > 20:
        st.find(
            "warning",
            "x835-cas-too-many",
            "CAS has more than six reason/amount/quantity triplets; all were read",
            num,
            line,
            segment="CAS",
            loop=loop,
        )
    for j in range(2, n, 3):
        reason = els[j]
        s = els[j + 1] if j + 1 < n else ""
        q = els[j + 2] if j + 2 < n else ""
        if not reason and not s and not q:
            continue
        amount = amount_of(s)
        if amount is None:
            st.bad_amount(els, j + 1, num, line, loop)
        else:
            _add_cas(owner, amount)
        target.append(Adjustment(group, reason, amount, amount_of(q) if q else None))


def nm1(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """NM1 (2100): patient, insured, corrected names and the like."""
    if st.loop != "2100":
        return st.unknown(els, num, line)
    e = pad(els, 10)
    _open_claim(st).names.append(Name(e[1], e[2], e[3], e[4], e[5], e[7], e[8], e[9]))


def mia(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """MIA (2100): inpatient adjudication, kept as sent."""
    if st.loop != "2100":
        return st.unknown(els, num, line)
    _open_claim(st).inpatient = els[1:]


def moa(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """MOA (2100): outpatient adjudication, kept as sent (remark codes in MOA03-07)."""
    if st.loop != "2100":
        return st.unknown(els, num, line)
    _open_claim(st).outpatient = els[1:]


def amt(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """AMT (2100/2110): supplemental amount."""
    amount_ref(st, els, num, line, "amounts")


def qty(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """QTY (2100/2110): supplemental quantity."""
    amount_ref(st, els, num, line, "quantities")


def amount_ref(st: ReaderState, els: list[str], num: int, line: int, attr: str) -> None:
    """AMT or QTY in 2100/2110: qualifier + amount, kept on the line or the claim."""
    loop = st.loop
    if loop not in ("2100", "2110"):
        return st.unknown(els, num, line)
    s = els[2] if len(els) > 2 else ""
    a = AmountRef(els[1] if len(els) > 1 else "", amount_of(s))
    if a.amount is None:
        st.bad_amount(els, 2, num, line, loop)
    owner: Loop2100 | Loop2110 = _open_line(st) if loop == "2110" else _open_claim(st)
    (owner.amounts if attr == "amounts" else owner.quantities).append(a)


def svc(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """SVC (in a claim): opens a Loop 2110 service line (SVC06/07: the code as submitted)."""
    claim = st.claim
    if claim is None or st.loop not in ("2100", "2110"):
        return st.unknown(els, num, line, " (service line without a claim)")
    e = els if len(els) >= 8 else els + [""] * (8 - len(els))
    sep = st.comp
    if sep not in e[1] and len(e[1]) > 3 and not e[1][2].isalnum() and e[1][2] != " ":
        sep = other_component(st, e[1][2], num, line)
    comp = e[1].split(sep)
    nc = len(comp)
    charge: Decimal | None
    paid: Decimal | None
    try:
        charge = _D(e[2])
        paid = _D(e[3])
        if not (-BIG < charge < BIG and -BIG < paid < BIG):
            raise ValueError
    except (InvalidOperation, ValueError):
        charge, paid = amount_of(e[2]), amount_of(e[3])
    units = amount_of(e[5]) if e[5] else None
    svc = Loop2110(
        comp[0],
        comp[1] if nc > 1 else "",
        [m for m in comp[2:6] if m] if nc > 2 else [],
        charge,
        paid,
        e[4],
        units,
        comp[6] if nc > 6 else "",
        "",
        "",
        None,
        None,
        num,
        line,
    )
    if e[6]:
        osep = st.comp if st.comp in e[6] or len(e[6]) < 4 or e[6][2].isalnum() else e[6][2]
        orig = e[6].split(osep)
        svc.original_qualifier = orig[0]
        svc.original_code = orig[1] if len(orig) > 1 else ""
        svc.original_modifiers = [m for m in orig[2:6] if m]
    if e[7]:
        svc.original_units = amount_of(e[7])
    svc.cas_total = ZERO
    claim.lines.append(svc)
    st.svc = svc
    st.loop = "2110"
    if charge is None:
        st.bad_amount(els, 2, num, line, "2110")
    if paid is None:
        st.bad_amount(els, 3, num, line, "2110")


def other_component(st: ReaderState, sep: str, num: int, line: int) -> str:
    """SVC01 split on a character other than ISA16 (seen from real payers): read, and said."""
    st.find(
        "warning",
        "x835-component-separator",
        f"SVC01 uses {sep!r} between its components although ISA16 is {st.comp!r}; read with {sep!r}",
        num,
        line,
        segment="SVC",
        loop="2110",
        element="SVC01",
    )
    return sep


def lq(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """LQ (2110): health care remark code."""
    if st.loop != "2110":
        return st.unknown(els, num, line)
    _open_line(st).remarks.append((els[1] if len(els) > 1 else "", els[2] if len(els) > 2 else ""))


def plb(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """PLB (footer): provider-level adjustments (closes the open claim)."""
    end_claim(st)
    st.loop = "FOOTER"
    rem = st.rem
    assert rem is not None
    e = pad(els, 5)
    provider, period = e[1], e[2]
    n = len(els)
    if n > 15:
        st.find(
            "warning",
            "x835-plb-too-many",
            "PLB has more than six adjustment pairs; all were read",
            num,
            line,
            segment="PLB",
            loop="FOOTER",
        )
    for j in range(3, n, 2):
        ident = els[j]
        s = els[j + 1] if j + 1 < n else ""
        if not ident and not s:
            continue
        parts = ident.split(st.comp, 1)
        amount = amount_of(s)
        if amount is None:
            st.bad_amount(els, j + 1, num, line, "FOOTER")
        else:
            rem.plb_total += amount
        rem.provider_adjustments.append(
            ProviderAdjustment(provider, period, parts[0], parts[1] if len(parts) > 1 else "", amount, num)
        )


# ------------------------------------------------------------------ end of a claim
def end_claim(st: ReaderState) -> None:
    """Close the open claim (nothing when none is open): balance its lines and itself (findings when
    they do not add up), count it in the remittance's totals, keep it (``keep_claims``) and hand it
    to ``on_claim``.

    SVC02 - line CAS = SVC03 for each line; CLP03 - claim CAS - line CAS = CLP04 for the claim."""
    claim = st.claim
    if claim is None:
        return
    rem = _rem(st)
    st.claim = st.svc = None
    line_adj = ZERO
    lines = claim.lines
    for ln in lines:
        adj = ln.cas_total  # CAS total kept while reading (None: a line built elsewhere)
        if adj is None:
            adj = ZERO
            for a in ln.adjustments:
                if a.amount is not None:
                    adj += a.amount
        line_adj += adj
        ch, pd = ln.charge, ln.paid
        if ch is not None and pd is not None and ch - adj != pd:
            st.find(
                "error",
                "service-line-out-of-balance",
                f"claim {claim.patient_control_number} line {ln.code}: SVC02 {ch} - adjustments "
                f"{adj} = {ch - adj}, but SVC03 is {pd} (difference {ch - adj - pd})",
                ln.segment_number,
                ln.line,
                segment="SVC",
                loop="2110",
                element="SVC03",
                pcn=claim.patient_control_number,
            )
    claim_adj = claim.cas_total
    if claim_adj is None:
        claim_adj = ZERO
        for a in claim.adjustments:
            if a.amount is not None:
                claim_adj += a.amount
    ch, pd = claim.charge, claim.paid
    if ch is not None and pd is not None:
        expect = ch - claim_adj - line_adj
        if expect != pd:
            st.find(
                "error",
                "claim-out-of-balance",
                f"claim {claim.patient_control_number}: CLP03 {ch} - claim adjustments {claim_adj}"
                f" - line adjustments {line_adj} = {expect}, but CLP04 is {pd}"
                f" (difference {expect - pd})",
                claim.segment_number,
                claim.line,
                segment="CLP",
                loop="2100",
                element="CLP04",
                pcn=claim.patient_control_number,
            )
    rem.claim_count += 1
    rem.line_count += len(lines)
    if ch is not None:
        rem.total_charge += ch
    if pd is not None:
        rem.total_paid += pd
    if st.keep_claims:
        rem.claims.append(claim)
    if st.on_claim is not None:
        st.on_claim(rem, claim)


# ------------------------------------------------------------------ a segment that could not be read

#: segments of loops 2100/2110 other than CLP: a lost one belonged to the claim being read
_CLAIM_SEGMENTS = frozenset({"CAS", "NM1", "MIA", "MOA", "REF", "DTM", "PER", "AMT", "QTY", "SVC", "LQ"})


def unreadable(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """The tokenizer's marker for a segment it could not read to its end (``els[1]``: its id, or ""
    when not even that could be read): an error finding, and no money of the claim it belonged to
    is trusted.

    - a CLP, or a segment of unknown id, in a claim or header number loop: the open claim is closed
      (an unknown segment may have been its own, so it is marked unreadable first) and a placeholder
      :class:`UnreadableClaim` takes every segment up to the next claim, so service lines that follow
      never land on the claim before;
    - another segment of loop 2100/2110: the open claim is marked unreadable; a lost SVC also ends
      the open service line, and an :class:`UnreadableLine` takes the CAS/REF/DTM/AMT/QTY/LQ after it;
    - anywhere else (header, payer, payee, PLB): the finding only."""
    sid = els[1] if len(els) > 1 else ""
    what = f"segment {sid}" if sid else "a segment (its id could not be read)"
    loop = st.loop or "ENVELOPE"
    in_claim = st.loop in ("2100", "2110") and st.claim is not None
    opens_claim = (sid == "CLP" or not sid) and st.loop in ("2000", "2100", "2110")
    if opens_claim:
        effect = "; the claim it starts is kept apart (posting sends its lines to the unmatched queue)"
    elif in_claim and sid in _CLAIM_SEGMENTS:
        effect = "; the claim it belongs to is kept apart (posting sends it to the unmatched queue)"
    else:
        effect = ""
    claim = st.claim
    # the claim open now owns the lost segment unless that segment started a claim of its own
    owner_pcn = (claim.patient_control_number or None) if claim is not None and in_claim and not opens_claim else None
    st.find(
        "error",
        "x835-unreadable-segment",
        f"{what} could not be read (longer than the reader's limit) and was skipped{effect}",
        num,
        line,
        segment=sid or None,
        loop=loop,
        pcn=owner_pcn,
    )
    reason = f"{what} of this claim could not be read (segment {num}, line {line}): not posted to any claim"
    if in_claim and claim is not None and (sid in _CLAIM_SEGMENTS or not sid):
        if not isinstance(claim, UnreadableClaim):
            st.claim = claim = UnreadableClaim.of(claim, reason)
        if sid == "SVC":
            placeholder = UnreadableLine(num, line)
            placeholder.cas_total = ZERO
            claim.lines.append(placeholder)
            st.svc = placeholder
            st.loop = "2110"
    if opens_claim:
        end_claim(st)
        placeholder_claim = UnreadableClaim(
            f"{what} could not be read (segment {num}, line {line}): the claim it starts is not posted",
            st.lx,
            num,
            line,
        )
        placeholder_claim.cas_total = ZERO
        st.claim = placeholder_claim
        st.svc = None
        st.loop = "2100"


#: The one dispatch of a transaction set's segments: segment id -> handler. Envelope segments
#: (ISA/GS/ST/SE/GE/IEA) and ids not listed here are :func:`edi.x835.envelope.envelope`'s.
SEGMENT_HANDLERS: dict[str, Handler] = {
    "BPR": bpr,
    "TRN": trn,
    "CUR": cur,
    "REF": ref,
    "DTM": dtm,
    "N1": n1,
    "N3": n3,
    "N4": n4,
    "PER": per,
    "RDM": rdm,
    "LX": lx,
    "TS3": ts3,
    "TS2": ts2,
    "CLP": clp,
    "CAS": cas,
    "NM1": nm1,
    "MIA": mia,
    "MOA": moa,
    "AMT": amt,
    "QTY": qty,
    "SVC": svc,
    "LQ": lq,
    "PLB": plb,
    UNREADABLE_SEGMENT: unreadable,
}
