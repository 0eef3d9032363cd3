"""Typed model of an 835 (005010X221A1) remittance, loop names after the implementation guide.

One :class:`Remittance` per ST/SE transaction set. Amounts are ``Decimal`` (``None`` only when
the file leaves an amount out or it cannot be read, which always comes with a finding).
Qualified repeating segments (REF, DTM, AMT, QTY) are kept as lists of small records in file
order, so nothing the payer sent is lost; convenience properties pick the common qualifiers.
Segments that fit nowhere are kept verbatim in :attr:`Remittance.unknown_segments`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from coding.findings import Finding

# CLP02 claim status codes (paraphrased labels)
CLAIM_STATUS = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded",
    "20": "processed as secondary, forwarded",
    "21": "processed as tertiary, forwarded",
    "22": "reversal of previous payment",
    "23": "not our claim, forwarded",
    "25": "predetermination pricing only",
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


class _Qualified:
    """``ref``/``date`` lookups for a loop that keeps REF and DTM records (``refs``, ``dates``)."""

    __slots__ = ()
    refs: list[Reference]
    dates: list[DateRef]

    def ref(self, qualifier: str) -> str | None:
        """The first REF value with this qualifier."""
        for r in self.refs:
            if r.qualifier == qualifier:
                return r.value
        return None

    def date(self, *qualifiers: str) -> str | None:
        """The first DTM date with the first of these qualifiers that is present."""
        for q in qualifiers:
            for d in self.dates:
                if d.qualifier == q:
                    return d.date
        return None


@dataclass(slots=True, init=False)
class Loop2110(_Qualified):
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
    #: sum of the line's CAS amounts, kept by the reader as it reads them (None: a line built
    #: elsewhere; balancing then adds up ``adjustments``)
    cas_total: Decimal | None = field(default=None, repr=False, compare=False)

    def __init__(
        self,
        qualifier: str,
        code: str,
        modifiers: list[str],
        charge: Decimal | None,
        paid: Decimal | None,
        revenue_code: str = "",
        units: Decimal | None = None,
        description: str = "",
        original_qualifier: str = "",
        original_code: str = "",
        original_modifiers: list[str] | None = None,
        original_units: Decimal | None = None,
        segment_number: int = 0,
        line: int = 0,
    ) -> None:
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
        self.cas_total = None

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
class Loop2100(_Qualified):
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
    #: sum of the claim-level CAS amounts, kept by the reader as it reads them (None: a claim
    #: built elsewhere; balancing then adds up ``adjustments``)
    cas_total: Decimal | None = field(default=None, repr=False, compare=False)

    def __init__(
        self,
        patient_control_number: str,
        status: str,
        charge: Decimal | None,
        paid: Decimal | None,
        patient_responsibility: Decimal | None = None,
        filing_indicator: str = "",
        payer_claim_number: str = "",
        facility_type: str = "",
        frequency: str = "",
        patient_status: str = "",
        drg_code: str = "",
        drg_weight: Decimal | None = None,
        discharge_fraction: Decimal | None = None,
        condition_indicator: str = "",
        header_number: str = "",
        segment_number: int = 0,
        line: int = 0,
    ) -> None:
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
        self.cas_total = None

    @property
    def is_reversal(self) -> bool:
        return self.status == REVERSAL

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

    @property
    def unreadable(self) -> str:
        """Why this claim cannot be trusted ("" for a claim read whole; see :class:`UnreadableClaim`)."""
        return ""


class UnreadableClaim(Loop2100):
    """A claim with a segment the reader could not read (longer than the tokenizer's limit).

    Either the claim a lost segment belonged to (its fields as read so far, then what follows), or,
    when the lost segment was a CLP (or its id could not be told), a placeholder that holds the
    segments after it up to the next claim: charge and paid are then None, and the patient control
    number empty. Its amounts are never posted to a claim (``unreadable`` says why). The compiled
    driver hands every segment of such a claim to the Python handlers (it builds only records of
    the exact model classes)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str, header_number: str = "", segment_number: int = 0, line: int = 0) -> None:
        Loop2100.__init__(
            self, "", "", None, None, header_number=header_number, segment_number=segment_number, line=line
        )
        self.reason = reason

    @classmethod
    def of(cls, claim: Loop2100, reason: str) -> UnreadableClaim:
        """``claim`` (still open) as an unreadable claim: every field, lines included, carried over."""
        out = cls(reason)
        for name in Loop2100.__slots__:
            setattr(out, name, getattr(claim, name))
        return out

    @property
    def unreadable(self) -> str:
        return self.reason


class UnreadableLine(Loop2110):
    """Placeholder service line for an SVC segment the reader could not read: holds the CAS, REF,
    DTM, AMT, QTY and LQ that follow it (they never attach to the line before); charge and paid
    are None. Its claim is an :class:`UnreadableClaim`."""

    __slots__ = ()

    def __init__(self, segment_number: int = 0, line: int = 0) -> None:
        Loop2110.__init__(self, "", "", [], None, None, segment_number=segment_number, line=line)


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


BALANCING_CODES = frozenset({"claim-out-of-balance", "service-line-out-of-balance", "transaction-out-of-balance"})
