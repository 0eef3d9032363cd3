"""Public API of the 837P/837I writer (what ``claims build`` calls).

Two steps, both pure:

1. :func:`plan_interchanges` groups coded encounters into interchanges (one per claim
   type: 837P and 837I are never mixed), transaction sets (one ST per payer) and claims
   (an 837P claim over 50 lines is split), leaving out with a finding every encounter that
   cannot be billed.
2. :func:`write_interchange` serializes one plan with the envelope control numbers and the
   clock injected, so the output is deterministic (golden files) and the ledger owns every
   control number. Line control numbers (REF*6R) are read from
   ``ServiceLine.line_control_number``; the ledger assigns them before writing.

Patient control number (CLM01, at most 20 characters): the encounter id, case kept, when the
claim is not split; for the parts of a split 837P claim the encounter id cut to
``20 - len(suffix)`` characters followed by the suffix ``-<part>`` (``ENC123-1``,
``ENC123-2``, ...), renumbered ``<id>-<hash>-<part>`` when that CLM01 already names another
claim of the batch or the ledger. See :mod:`edi.x837.plan`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from coding.config import Config
from coding.findings import Finding
from coding.model import ClaimType, CodedEncounter, Coverage, Patient, ServiceLine

MAX_LINES_837P = 50  # 2400 loop repeat limit in 005010X222A1
MAX_LINES_837I = 999  # 2400 loop repeat limit in 005010X223A2
MAX_PCN_LENGTH = 20  # CLM01


@dataclass(frozen=True, slots=True)
class Cas:
    """One CAS group/reason/amount(/quantity) as the prior payer's 835 reported it."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(slots=True)
class LineAdjudication:
    """Loop 2430: how one prior payer adjudicated one service line (SVD, CAS, DTP*573)."""

    payer_id: str  # SVD01: the prior payer's id, as in its Loop 2330B NM109
    paid: Decimal  # SVD02
    code: str  # SVD03: the procedure as adjudicated
    modifiers: tuple[str, ...]
    units: Decimal  # SVD05
    adjudicated: date  # DTP*573
    adjustments: tuple[Cas, ...] = ()
    qualifier: str = "HC"
    revenue_code: str | None = None  # SVD04 (837I)


@dataclass(slots=True)
class OtherPayer:
    """Loops 2320/2330A/2330B: one payer that adjudicated the claim before the destination payer."""

    responsibility: str  # SBR01 of that payer: P / S / T
    relationship: str  # SBR02: the patient's relationship to that payer's insured (18 self)
    filing_indicator: str  # SBR09
    payer_name: str
    payer_id: str  # 2330B NM109 (matches SVD01)
    subscriber: Patient  # 2330A: that payer's insured, member id in NM109
    paid: Decimal  # AMT*D
    remaining_liability: Decimal  # AMT*EAF
    adjustments: tuple[Cas, ...] = ()  # claim-level CAS
    adjudicated: date | None = None  # 2330B DTP*573
    payer_claim_number: str | None = None  # 2330B REF*F8


@dataclass(slots=True)
class Coordination:
    """What turns a claim into one for the next payer (coordination of benefits).

    ``payer_key``/``coverage`` are the destination payer (2010BB, 2000B SBR with SBR01
    ``responsibility``); ``other_payers`` the payers before it in order; ``lines[i]`` the
    Loop 2430 adjudications of ``ClaimPlan.lines[i]``.
    """

    responsibility: str  # S or T
    payer_key: str
    coverage: Coverage
    other_payers: list[OtherPayer]
    lines: list[list[LineAdjudication]]
    prior_claim_id: int | None = None  # the ledger's claim of the payer before, recorded with the new one

    @property
    def coverage_order(self) -> int:
        """2 for a claim to the secondary payer, 3 for the tertiary."""
        return 3 if self.responsibility == "T" else 2


@dataclass(slots=True)
class ClaimPlan:
    """One CLM (Loop 2300) to write: a whole encounter or one part of a split one."""

    patient_control_number: str
    coded: CodedEncounter
    lines: list[ServiceLine]
    frequency: str = "1"  # CLM05-3: 1 original, 7 replacement, 8 void
    payer_claim_number: str | None = None  # REF*F8, required for frequency 7/8
    part: int = 0  # 0 when not split, else 1..n
    parts: int = 0
    cob: Coordination | None = None  # set for a claim to a secondary/tertiary payer

    @property
    def payer_key(self) -> str:
        """The payer profile this claim is sent to."""
        return self.cob.payer_key if self.cob is not None else self.coded.encounter.payer


@dataclass(slots=True)
class TransactionPlan:
    """One ST..SE set: every claim of one payer."""

    payer_key: str
    claims: list[ClaimPlan] = field(default_factory=list)


@dataclass(slots=True)
class InterchangePlan:
    """One ISA..IEA file: one claim type, one GS, one ST per payer."""

    claim_type: ClaimType
    transactions: list[TransactionPlan] = field(default_factory=list)

    @property
    def claims(self) -> list[ClaimPlan]:
        return [c for t in self.transactions for c in t.claims]


@dataclass(frozen=True, slots=True)
class EnvelopeNumbers:
    """Control numbers for one interchange, from the ledger.

    ``st02`` and ``bht03`` have one entry per transaction set, in plan order.
    """

    isa13: int
    gs06: int
    st02: list[int]
    bht03: list[str]


def plan_interchanges(
    coded: Sequence[CodedEncounter], cfg: Config, registry: Any = None, batch_ids: Sequence[str] = ()
) -> tuple[list[InterchangePlan], list[Finding]]:
    """Group coded encounters into interchange plans; see :mod:`edi.x837.plan`.

    ``registry`` (an :class:`edi.x837.plan.PcnRegistry`) answers for CLM01s already recorded.
    """
    from edi.x837.plan import plan_interchanges as _plan

    return _plan(coded, cfg, registry, batch_ids)


def write_interchange(plan: InterchangePlan, cfg: Config, numbers: EnvelopeNumbers, now: datetime) -> bytes:
    """Serialize one interchange plan to X12 bytes; see :mod:`edi.x837.write`."""
    from edi.x837.write import write_interchange as _write

    return _write(plan, cfg, numbers, now)


__all__ = [
    "MAX_LINES_837I",
    "MAX_LINES_837P",
    "Cas",
    "ClaimPlan",
    "Coordination",
    "EnvelopeNumbers",
    "InterchangePlan",
    "LineAdjudication",
    "OtherPayer",
    "TransactionPlan",
    "plan_interchanges",
    "write_interchange",
]
