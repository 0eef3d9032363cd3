"""Typed model of an 835 (005010X221A1) remittance, loop names after the implementation guide.

One :class:`Remittance` per ST/SE transaction set. Amounts are ``Decimal`` (``None`` only when
the file leaves an amount out or it cannot be read, which always comes with a finding).
Qualified repeating segments (REF, DTM, AMT, QTY) are kept as lists of small records in file
order, so nothing the payer sent is lost; convenience properties pick the common qualifiers.
Segments that fit nowhere are kept verbatim in :attr:`Remittance.unknown_segments`.

Claims (:class:`Loop2100`) and service lines (:class:`Loop2110`) made by the reader are filled in
two steps (performance-notes.md: a complete typed model built eagerly costs 2-3x a Rust parse).
While reading, the reader sets what balancing and positions need (CLP01, charge, paid, lines,
segment number, line) and keeps the loop's split segments; every other field is built from them,
once, the first time any of them is read (``__getattr__`` on an unset slot). The values are exactly
those an eager build gives (same conversions; every finding is made while reading, none later).
Objects made with the constructor are complete from the start. Assigning a lazily-filled field
before any of them was read is overwritten by the fill: read first, then assign.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from coding.findings import Finding

_D = Decimal
_BIG = Decimal("1e15")  # no X12 amount (18 characters at most) is this large


def _amt(s: str) -> Decimal | None:
    """Decimal of an X12 R element, None when empty, not a number, or absurdly large."""
    try:
        d = _D(s)
        return d if -_BIG < d < _BIG else None
    except (InvalidOperation, ValueError, TypeError):  # also NaN comparisons
        return None

# CLP02 claim status codes (paraphrased labels)
CLAIM_STATUS = {
    "1": "processed as primary", "2": "processed as secondary", "3": "processed as tertiary",
    "4": "denied", "19": "processed as primary, forwarded", "20": "processed as secondary, forwarded",
    "21": "processed as tertiary, forwarded", "22": "reversal of previous payment",
    "23": "not our claim, forwarded", "25": "predetermination pricing only",
}
REVERSAL = "22"


@dataclass(slots=True)
class Adjustment:
    """One CAS group/reason/amount/quantity triplet (CAS01 + CAS02-04, 05-07, ... 17-19)."""

    group: str
    reason: str
    amount: Decimal | None
    quantity: Decimal | None = None


@dataclass(slots=True)
class Reference:
    """REF qualifier and value."""

    qualifier: str
    value: str


@dataclass(slots=True)
class DateRef:
    """DTM qualifier and date (CCYYMMDD as sent)."""

    qualifier: str
    date: str


@dataclass(slots=True)
class AmountRef:
    """AMT (or QTY) qualifier and value."""

    qualifier: str
    amount: Decimal | None


@dataclass(slots=True)
class Contact:
    """PER: contact function, name and (qualifier, number) pairs."""

    function: str
    name: str = ""
    numbers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class Party:
    """N1 loop (1000A payer, 1000B payee) with N3/N4/REF/PER/RDM."""

    entity: str = ""
    name: str = ""
    id_qualifier: str = ""
    id: str = ""
    address: list[str] = field(default_factory=list)
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    refs: list[Reference] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    rdm: list[str] | None = None  # remittance delivery method, elements as sent


@dataclass(slots=True)
class Name:
    """NM1 in Loop 2100 (QC patient, IL insured, 74 corrected, 82 rendering, TT crossover, PR payer)."""

    entity: str
    entity_type: str = ""
    last: str = ""
    first: str = ""
    middle: str = ""
    suffix: str = ""
    id_qualifier: str = ""
    id: str = ""


@dataclass(slots=True, init=False)
class Loop2110:
    """Service payment information: SVC and its DTM/CAS/REF/AMT/QTY/LQ.

    The constructor is written out (not generated) because the reader builds one per service
    line: literal lists are about three times cheaper than dataclass default factories.
    """

    qualifier: str  # SVC01-1: HC, N4, NU, AD, ER, HP, IV, WK, ...
    code: str  # SVC01-2
    modifiers: list[str]  # SVC01-3..6
    charge: Decimal | None  # SVC02
    paid: Decimal | None  # SVC03
    revenue_code: str = ""  # SVC04
    units: Decimal | None = None  # SVC05 (guide: 1 when absent)
    description: str = ""  # SVC01-7
    original_qualifier: str = ""  # SVC06-1
    original_code: str = ""  # SVC06-2 (the code as submitted when the payer restated it)
    original_modifiers: list[str] = field(default_factory=list)
    original_units: Decimal | None = None  # SVC07
    dates: list[DateRef] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)
    refs: list[Reference] = field(default_factory=list)
    amounts: list[AmountRef] = field(default_factory=list)
    quantities: list[AmountRef] = field(default_factory=list)
    remarks: list[tuple[str, str]] = field(default_factory=list)  # LQ (HE/RX, code)
    segment_number: int = 0
    line: int = 0
    # reader-made lines: [SVC elements, SVC01 component separator, ISA16, element separator, segment
    # number, line, charge, paid, CAS total, later segments (element lists, or unsplit text)...]
    _raw: list | None = field(default=None, repr=False, compare=False)
    _adj: Decimal | None = field(default=None, repr=False, compare=False)  # sum of line CAS amounts

    def __getattr__(self, name: str):  # only reached for a slot not set yet (or an unknown name)
        raw = self._raw if name[0] != "_" else None
        if raw is None:
            raise AttributeError(f"'Loop2110' object has no attribute {name!r}")
        self._raw = None
        _fill_2110(self, raw)
        return getattr(self, name)

    def __init__(self, qualifier: str, code: str, modifiers: list[str], charge: Decimal | None,
                 paid: Decimal | None, revenue_code: str = "", units: Decimal | None = None,
                 description: str = "", original_qualifier: str = "", original_code: str = "",
                 original_modifiers: list[str] | None = None, original_units: Decimal | None = None,
                 segment_number: int = 0, line: int = 0) -> None:
        self.qualifier = qualifier
        self.code = code
        self.modifiers = modifiers
        self.charge = charge
        self.paid = paid
        self.revenue_code = revenue_code
        self.units = units
        self.description = description
        self.original_qualifier = original_qualifier
        self.original_code = original_code
        self.original_modifiers = original_modifiers if original_modifiers is not None else []
        self.original_units = original_units
        self.dates = []
        self.adjustments = []
        self.refs = []
        self.amounts = []
        self.quantities = []
        self.remarks = []
        self.segment_number = segment_number
        self.line = line
        self._raw = None
        self._adj = None

    def ref(self, qualifier: str) -> str | None:
        for r in self.refs:
            if r.qualifier == qualifier:
                return r.value
        return None

    def date(self, *qualifiers: str) -> str | None:
        for q in qualifiers:
            for d in self.dates:
                if d.qualifier == q:
                    return d.date
        return None

    @property
    def line_control_number(self) -> str | None:
        """REF*6R: the provider's line item control number (ours, from the 837)."""
        return self.ref("6R")

    @property
    def service_date(self) -> str | None:
        """DTM*472, else the period start DTM*150."""
        return self.date("472", "150")

    @property
    def adjustment_total(self) -> Decimal:
        return sum((a.amount for a in self.adjustments if a.amount is not None), Decimal(0))


@dataclass(slots=True, init=False)
class Loop2100:
    """Claim payment information: CLP01-14 and everything up to the next CLP/SVC (hand-written
    constructor for the same reason as :class:`Loop2110`)."""

    patient_control_number: str  # CLP01
    status: str  # CLP02
    charge: Decimal | None  # CLP03
    paid: Decimal | None  # CLP04
    patient_responsibility: Decimal | None = None  # CLP05
    filing_indicator: str = ""  # CLP06
    payer_claim_number: str = ""  # CLP07
    facility_type: str = ""  # CLP08
    frequency: str = ""  # CLP09
    patient_status: str = ""  # CLP10
    drg_code: str = ""  # CLP11
    drg_weight: Decimal | None = None  # CLP12
    discharge_fraction: Decimal | None = None  # CLP13
    condition_indicator: str = ""  # CLP14
    adjustments: list[Adjustment] = field(default_factory=list)
    names: list[Name] = field(default_factory=list)
    inpatient: list[str] | None = None  # MIA elements as sent (MIA01..MIA24)
    outpatient: list[str] | None = None  # MOA elements as sent (MOA01..MOA09)
    refs: list[Reference] = field(default_factory=list)
    dates: list[DateRef] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    amounts: list[AmountRef] = field(default_factory=list)
    quantities: list[AmountRef] = field(default_factory=list)
    lines: list[Loop2110] = field(default_factory=list)
    header_number: str = ""  # LX01 of the enclosing Loop 2000
    segment_number: int = 0
    line: int = 0
    # reader-made claims: [CLP elements, element separator, [later 2100-level segments (element
    # lists, or unsplit text)...], [raw service lines (see Loop2110._raw)...]]
    _raw: list | None = field(default=None, repr=False, compare=False)
    _adj: Decimal | None = field(default=None, repr=False, compare=False)  # sum of claim CAS amounts

    def __getattr__(self, name: str):  # only reached for a slot not set yet (or an unknown name)
        raw = self._raw if name[0] != "_" else None
        if raw is None:
            raise AttributeError(f"'Loop2100' object has no attribute {name!r}")
        self._raw = None
        _fill_2100(self, raw)
        return getattr(self, name)

    def __init__(self, patient_control_number: str, status: str, charge: Decimal | None, paid: Decimal | None,
                 patient_responsibility: Decimal | None = None, filing_indicator: str = "",
                 payer_claim_number: str = "", facility_type: str = "", frequency: str = "",
                 patient_status: str = "", drg_code: str = "", drg_weight: Decimal | None = None,
                 discharge_fraction: Decimal | None = None, condition_indicator: str = "",
                 header_number: str = "", segment_number: int = 0, line: int = 0) -> None:
        self.patient_control_number = patient_control_number
        self.status = status
        self.charge = charge
        self.paid = paid
        self.patient_responsibility = patient_responsibility
        self.filing_indicator = filing_indicator
        self.payer_claim_number = payer_claim_number
        self.facility_type = facility_type
        self.frequency = frequency
        self.patient_status = patient_status
        self.drg_code = drg_code
        self.drg_weight = drg_weight
        self.discharge_fraction = discharge_fraction
        self.condition_indicator = condition_indicator
        self.adjustments = []
        self.names = []
        self.inpatient = None
        self.outpatient = None
        self.refs = []
        self.dates = []
        self.contacts = []
        self.amounts = []
        self.quantities = []
        self.lines = []
        self.header_number = header_number
        self.segment_number = segment_number
        self.line = line
        self._raw = None
        self._adj = None

    @property
    def is_reversal(self) -> bool:
        return self.status == REVERSAL

    def ref(self, qualifier: str) -> str | None:
        for r in self.refs:
            if r.qualifier == qualifier:
                return r.value
        return None

    def date(self, *qualifiers: str) -> str | None:
        for q in qualifiers:
            for d in self.dates:
                if d.qualifier == q:
                    return d.date
        return None

    @property
    def remark_codes(self) -> list[str]:
        """Claim-level remark codes from MOA03-07 / MIA05, MIA20-24."""
        out: list[str] = []
        if self.outpatient:
            out += [c for c in self.outpatient[2:7] if c]
        if self.inpatient:
            mia = self.inpatient
            out += [c for c in ([mia[4]] if len(mia) > 4 else []) + mia[19:24] if c]
        return out

    @property
    def adjustment_total(self) -> Decimal:
        """Claim-level CAS amounts (not including line CAS)."""
        return sum((a.amount for a in self.adjustments if a.amount is not None), Decimal(0))


@dataclass(slots=True)
class Loop2000:
    """Header number (LX) with the provider summary (TS3) and supplemental (TS2) as sent."""

    number: str
    ts3: list[str] | None = None
    ts2: list[str] | None = None
    segment_number: int = 0


@dataclass(slots=True)
class ProviderAdjustment:
    """One PLB reason/amount pair: positive amounts reduce the payment, negative ones add."""

    provider: str  # PLB01
    fiscal_period_date: str  # PLB02
    reason: str  # PLB03-1 (WO, FB, 72, L6, J1, CS, ...)
    reference: str  # PLB03-2 (often the payer claim number / our claim)
    amount: Decimal | None  # PLB04, 06, ...
    segment_number: int = 0


@dataclass(slots=True)
class UnknownSegment:
    """A segment the model has no place for, kept verbatim with where it was."""

    text: str
    loop: str
    segment_number: int
    line: int


@dataclass(slots=True)
class Payment:
    """BPR (financial information) and TRN (reassociation trace)."""

    handling: str = ""  # BPR01: I, C, D, H, P, U, X
    amount: Decimal | None = None  # BPR02
    credit_debit: str = ""  # BPR03
    method: str = ""  # BPR04: ACH, BOP, CHK, FWT, NON
    format: str = ""  # BPR05
    sender_dfi_qualifier: str = ""  # BPR06
    sender_dfi: str = ""  # BPR07
    sender_account_qualifier: str = ""  # BPR08
    sender_account: str = ""  # BPR09
    originating_company: str = ""  # BPR10
    originating_supplemental: str = ""  # BPR11
    receiver_dfi_qualifier: str = ""  # BPR12
    receiver_dfi: str = ""  # BPR13
    receiver_account_qualifier: str = ""  # BPR14
    receiver_account: str = ""  # BPR15
    date: str = ""  # BPR16
    trace_type: str = ""  # TRN01
    trace: str = ""  # TRN02 (check or EFT trace number)
    trace_originator: str = ""  # TRN03
    trace_supplemental: str = ""  # TRN04


@dataclass(slots=True)
class Remittance:
    """One 835 transaction set (ST..SE) with its envelope identifiers."""

    file: str | None = None
    interchange_control: str = ""  # ISA13
    sender: str = ""  # ISA06
    receiver: str = ""  # ISA08
    group_control: str = ""  # GS06
    version: str = ""  # GS08
    control_number: str = ""  # ST02
    payment: Payment = field(default_factory=Payment)
    currency: list[str] | None = None  # CUR as sent
    refs: list[Reference] = field(default_factory=list)
    production_date: str = ""  # DTM*405
    dates: list[DateRef] = field(default_factory=list)
    payer: Party = field(default_factory=Party)  # Loop 1000A
    payee: Party = field(default_factory=Party)  # Loop 1000B
    header_groups: list[Loop2000] = field(default_factory=list)
    claims: list[Loop2100] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    unknown_segments: list[UnknownSegment] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # running totals (also valid when claims are not kept)
    claim_count: int = 0
    line_count: int = 0
    total_charge: Decimal = Decimal(0)
    total_paid: Decimal = Decimal(0)
    plb_total: Decimal = Decimal(0)
    segment_count: int = 0  # ST..SE inclusive, as counted
    start_segment: int = 0
    complete: bool = False  # SE seen

    @property
    def balancing_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.code in BALANCING_CODES]


LINE_ADJ = 8  # index of the CAS total in a raw service line; its segments start after it
LINE_SEGMENTS = 9


def cas_records(els: list[str], out: list[Adjustment]) -> None:
    """The CAS triplets of one segment as :class:`Adjustment` records (all-empty triplets skipped)."""
    n = len(els)
    group = els[1] if n > 1 else ""
    if (n == 4 or n == 5) and els[2]:  # one triplet, the usual shape
        q = els[4] if n == 5 else ""
        out.append(Adjustment(group, els[2], _amt(els[3]), _amt(q) if q else None))
        return
    for j in range(2, n, 3):
        reason = els[j]
        a = els[j + 1] if j + 1 < n else ""
        q = els[j + 2] if j + 2 < n else ""
        if not reason and not a and not q:
            continue
        out.append(Adjustment(group, reason, _amt(a), _amt(q) if q else None))


def _pair(x: list[str]) -> tuple[str, str]:
    n = len(x)
    return (x[1] if n > 1 else "", x[2] if n > 2 else "")


def _fill_2110(s: Loop2110, raw: list) -> None:
    """Every field of a reader-made service line from its SVC and later segments."""
    els, sep, comp, elem = raw[0], raw[1], raw[2], raw[3]
    e = els if len(els) >= 8 else els + [""] * (8 - len(els))
    c = e[1].split(sep)
    nc = len(c)
    s.qualifier = c[0]
    s.code = c[1] if nc > 1 else ""
    s.modifiers = [m for m in c[2:6] if m] if nc > 2 else []
    s.description = c[6] if nc > 6 else ""
    s.revenue_code = e[4]
    s.units = _amt(e[5]) if e[5] else None
    if e[6]:
        osep = comp if comp in e[6] or len(e[6]) < 4 or e[6][2].isalnum() else e[6][2]
        orig = e[6].split(osep)
        s.original_qualifier = orig[0]
        s.original_code = orig[1] if len(orig) > 1 else ""
        s.original_modifiers = [m for m in orig[2:6] if m]
    else:
        s.original_qualifier = s.original_code = ""
        s.original_modifiers = []
    s.original_units = _amt(e[7]) if e[7] else None
    dates: list[DateRef] = []
    adjs: list[Adjustment] = []
    refs: list[Reference] = []
    amounts: list[AmountRef] = []
    quantities: list[AmountRef] = []
    remarks: list[tuple[str, str]] = []
    for x in raw[LINE_SEGMENTS:]:
        if x.__class__ is str:
            x = x.split(elem)
        sid = x[0]
        if sid == "CAS":
            cas_records(x, adjs)
        elif sid == "DTM":
            dates.append(DateRef(*_pair(x)))
        elif sid == "REF":
            refs.append(Reference(*_pair(x)))
        elif sid == "AMT" or sid == "QTY":
            q, v = _pair(x)
            (amounts if sid == "AMT" else quantities).append(AmountRef(q, _amt(v)))
        elif sid == "LQ":
            remarks.append(_pair(x))
    s.dates, s.adjustments, s.refs, s.amounts, s.quantities, s.remarks = dates, adjs, refs, amounts, quantities, remarks


def _fill_2100(c: Loop2100, raw: list) -> None:
    """Every field of a reader-made claim from its CLP and later 2100-level segments."""
    els = raw[0]
    e = els if len(els) >= 15 else els + [""] * (15 - len(els))
    c.status = e[2]
    c.patient_responsibility = _amt(e[5]) if e[5] else None
    (c.filing_indicator, c.payer_claim_number, c.facility_type, c.frequency, c.patient_status,
     c.drg_code) = e[6:12]
    c.drg_weight = _amt(e[12]) if e[12] else None
    c.discharge_fraction = _amt(e[13]) if e[13] else None
    c.condition_indicator = e[14]
    adjs: list[Adjustment] = []
    names: list[Name] = []
    refs: list[Reference] = []
    dates: list[DateRef] = []
    contacts: list[Contact] = []
    amounts: list[AmountRef] = []
    quantities: list[AmountRef] = []
    c.inpatient = c.outpatient = None
    elem = raw[1]
    lines: list[Loop2110] = []
    new = object.__new__
    for lr in raw[3]:
        ln = new(Loop2110)
        ln.segment_number, ln.line, ln.charge, ln.paid, ln._adj = lr[4], lr[5], lr[6], lr[7], lr[LINE_ADJ]
        ln._raw = lr
        lines.append(ln)
    c.lines = lines
    for x in raw[2]:
        if x.__class__ is str:
            x = x.split(elem)
        sid = x[0]
        if sid == "CAS":
            cas_records(x, adjs)
        elif sid == "NM1":
            y = x if len(x) >= 10 else x + [""] * (10 - len(x))
            names.append(Name(y[1], y[2], y[3], y[4], y[5], y[7], y[8], y[9]))
        elif sid == "DTM":
            dates.append(DateRef(*_pair(x)))
        elif sid == "REF":
            refs.append(Reference(*_pair(x)))
        elif sid == "AMT" or sid == "QTY":
            q, v = _pair(x)
            (amounts if sid == "AMT" else quantities).append(AmountRef(q, _amt(v)))
        elif sid == "MOA":
            c.outpatient = x[1:]
        elif sid == "MIA":
            c.inpatient = x[1:]
        elif sid == "PER":
            y = x if len(x) >= 9 else x + [""] * (9 - len(x))
            contacts.append(Contact(y[1], y[2], [(y[i], y[i + 1]) for i in (3, 5, 7) if y[i] or y[i + 1]]))
    c.adjustments, c.names, c.refs, c.dates, c.contacts, c.amounts, c.quantities = (
        adjs, names, refs, dates, contacts, amounts, quantities)


BALANCING_CODES = frozenset({"claim-out-of-balance", "service-line-out-of-balance",
                             "transaction-out-of-balance"})
