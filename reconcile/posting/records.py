"""What the poster needs from an 835, as small typed records.

Hand-built remittances for tests and the payer simulator use these records. The poster reads
claims and lines by the names the 835 reader's model uses (``edi.x835.model.Loop2100`` /
``Loop2110``: ``segment_number``, ``remark_codes``, ``date("232")``, amounts possibly None, CCYYMMDD
dates), so it takes the reader's objects as they stream (no copy per claim) or these records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from coding.findings import Finding

ZERO = Decimal("0")


@dataclass(slots=True)
class Adj:
    """One CAS group/reason/amount(/quantity) triplet."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(slots=True)
class RLine:
    """Loop 2110: one service line as the payer adjudicated it."""

    code: str
    charge: Decimal
    paid: Decimal
    qualifier: str = "HC"
    modifiers: tuple[str, ...] = ()
    units: Decimal | None = None  # SVC05 (None: absent, the guide's default is 1)
    revenue_code: str | None = None  # SVC04
    original_qualifier: str | None = None  # SVC06-1
    original_code: str | None = None  # SVC06-2
    original_modifiers: tuple[str, ...] = ()
    service_date: str | None = None  # ISO date, DTM*472 or DTM*150
    line_control_number: str | None = None  # REF*6R
    adjustments: list[Adj] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # LQ*HE codes
    segment: int | None = None
    allowed: Decimal | None = None  # AMT*B6 (None: not stated)

    @property
    def segment_number(self) -> int | None:  # the reader's name (the poster takes either)
        return self.segment


@dataclass(slots=True)
class RClaim:
    """Loop 2100: one claim payment."""

    patient_control_number: str
    status: str  # CLP02
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal = ZERO
    payer_claim_number: str | None = None  # CLP07
    frequency: str | None = None  # CLP09
    adjustments: list[Adj] = field(default_factory=list)
    lines: list[RLine] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # MOA/MIA remark codes
    statement_date: str | None = None  # DTM*232 (ISO)
    segment: int | None = None
    #: why this claim's amounts cannot be trusted (a segment of it could not be read): never posted
    #: to a claim, its lines go to the unmatched queue ("" for a claim read whole)
    unreadable: str = ""

    # the reader's names (``edi.x835.model.Loop2100``): the poster reads claims of either kind
    @property
    def segment_number(self) -> int | None:
        return self.segment

    @property
    def remark_codes(self) -> list[str]:
        return self.remarks

    def date(self, *qualifiers: str) -> str | None:
        return self.statement_date if "232" in qualifiers else None


@dataclass(slots=True)
class RPlb:
    """One PLB reason/reference/amount pair."""

    reason: str
    amount: Decimal
    reference: str | None = None
    provider: str | None = None
    fiscal_period_date: str | None = None  # ISO
    segment: int | None = None


@dataclass(slots=True)
class RRemit:
    """One ST/SE 835 transaction: the payment and everything it pays."""

    payer_id: str
    trace: str
    amount: Decimal
    payer_name: str | None = None
    method: str | None = None
    payment_date: str | None = None  # ISO (BPR16, else DTM*405)
    claims: list[RClaim] = field(default_factory=list)
    plbs: list[RPlb] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    segment: int | None = None
