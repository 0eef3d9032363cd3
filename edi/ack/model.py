"""Typed results of the acknowledgment readers (:mod:`edi.ack.read`): 999/997, TA1 and 277CA.

Kept apart from the reader so the ledger side (:mod:`reconcile.claims.acks`) and the CLI can use the
types and the code meanings without the parsing state machine. No value that may carry patient
data is modelled (IK404/AK404 bad-value copies, business-unit contexts other than CLM01).
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from coding.findings import Finding

DATA = Path(__file__).resolve().parent / "data"
ACCEPTED_CODES = frozenset({"A", "E"})  # IK501/AK501/AK901: accepted (E: with errors noted)
REJECTED_CODES = frozenset({"R", "M", "W", "X"})
PATIENT_LEVELS = frozenset({"PT", "22", "23"})  # HL03 levels that carry claims


@lru_cache(maxsize=1)
def ack_code_meanings() -> dict[tuple[str, str], str]:
    """(element, code) -> paraphrased meaning, from ``edi/ack/data/ack_codes.csv``."""
    with open(DATA / "ack_codes.csv", encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {(r["element"], r["code"]): r["meaning"] for r in rows}


def code_meaning(element: str, code: str) -> str:
    """Meaning of an acknowledgment code (997 element names map onto the 999 ones)."""
    alias = {"AK304": "IK304", "AK403": "IK403", "AK501": "IK501", "AK502": "IK502"}
    return ack_code_meanings().get((alias.get(element, element), code), "code not in dripline's table")


@dataclass
class AckError:
    """One segment (IK3/AK3) or element (IK4/AK4) error inside an acknowledged set."""

    segment_id: str
    segment_position: int | None
    loop: str | None
    code: str | None
    element_position: str | None = None  # "2" or "2:1" (component) for IK4
    element_reference: str | None = None
    element_code: str | None = None
    claim: str | None = None  # CLM01 from a business-unit CTX (our patient control number)

    @property
    def message(self) -> str:
        parts = [f"segment {self.segment_id}"]
        if self.segment_position is not None:
            parts.append(f"at position {self.segment_position}")
        if self.loop:
            parts.append(f"loop {self.loop}")
        text = " ".join(parts)
        if self.code:
            text += f": {code_meaning('IK304', self.code)} ({self.code})"
        if self.element_position:
            text += f"; element {self.segment_id}{self.element_position.split(':')[0].zfill(2)}"
            if self.element_code:
                text += f": {code_meaning('IK403', self.element_code)} ({self.element_code})"
        if self.claim:
            text += f"; claim {self.claim}"
        return text

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if v is not None}
        d["message"] = self.message
        return d


@dataclass
class SetAck:
    """AK2…IK5: the answer for one of our transaction sets."""

    set_id: str  # AK201, e.g. 837
    control_number: str  # AK202 = our ST02
    code: str | None = None  # IK501 / AK501
    set_errors: list[str] = field(default_factory=list)  # IK502..IK506
    errors: list[AckError] = field(default_factory=list)
    line: int | None = None

    @property
    def accepted(self) -> bool | None:
        """True/False when the code says so; None when no IK5/AK5 was read."""
        if self.code in ACCEPTED_CODES:
            return True
        if self.code in REJECTED_CODES:
            return False
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "set_id": self.set_id,
            "control_number": self.control_number,
            "code": self.code,
            "accepted": self.accepted,
            "set_errors": [{"code": c, "message": code_meaning("IK502", c)} for c in self.set_errors],
            "errors": [e.to_dict() for e in self.errors],
        }


@dataclass
class GroupAck:
    """AK1…AK9: the answer for one of our functional groups (AK102 = our GS06)."""

    functional_id: str
    group_control_number: str
    version: str | None = None
    code: str | None = None  # AK901
    sets_included: int | None = None
    sets_received: int | None = None
    sets_accepted: int | None = None
    group_errors: list[str] = field(default_factory=list)
    sets: list[SetAck] = field(default_factory=list)
    kind: str = "999"
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "functional_id": self.functional_id,
            "group_control_number": self.group_control_number,
            "version": self.version,
            "code": self.code,
            "sets_included": self.sets_included,
            "sets_received": self.sets_received,
            "sets_accepted": self.sets_accepted,
            "group_errors": [{"code": c, "message": code_meaning("AK905", c)} for c in self.group_errors],
            "sets": [s.to_dict() for s in self.sets],
        }


@dataclass
class StatusCode:
    """One STC composite: category (A0–A8, P…, F…, E…), status code and entity."""

    category: str
    status: str | None = None
    entity: str | None = None


@dataclass
class LineStatus:
    """2220D: status of one service line (REF*FJ = our line control number)."""

    code: str | None
    charge: Decimal | None = None
    line_control_number: str | None = None
    statuses: list[StatusCode] = field(default_factory=list)
    service_date: str | None = None


@dataclass
class ClaimStatus:
    """2200D: the status of one claim in a 277CA."""

    patient_control_number: str  # TRN02 (falls back to REF*EJ)
    statuses: list[StatusCode] = field(default_factory=list)
    status_date: str | None = None  # STC02
    action_code: str | None = None  # STC03
    charge: Decimal | None = None  # STC04
    payer_claim_number: str | None = None  # REF*1K
    clearinghouse_trace: str | None = None  # REF*D9
    patient_account_number: str | None = None  # REF*EJ (other 277 flavours)
    bill_type: str | None = None  # REF*BLT
    service_date: str | None = None  # DTP*472
    lines: list[LineStatus] = field(default_factory=list)
    line: int | None = None  # line of the TRN in the file
    segment_number: int | None = None  # ordinal of the TRN in the file

    @property
    def categories(self) -> list[str]:
        return [s.category for s in self.statuses]

    @property
    def reference_numbers(self) -> list[str]:
        """Numbers that may carry our patient control number: TRN02, then REF*EJ and REF*D9."""
        refs = [self.patient_control_number, self.patient_account_number, self.clearinghouse_trace]
        return list(dict.fromkeys(r for r in refs if r))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["charge"] = None if self.charge is None else str(self.charge)
        for ln in d["lines"]:
            ln["charge"] = None if ln["charge"] is None else str(ln["charge"])
        return d


@dataclass
class InterchangeAck:
    """TA1: the answer for one of our interchanges (TA101 = our ISA13)."""

    control_number: str
    code: str | None  # TA104: A accepted, E accepted with errors, R rejected
    note_code: str | None = None  # TA105
    line: int | None = None

    @property
    def rejected(self) -> bool:
        return self.code == "R"


@dataclass
class AckDocument:
    """Everything read from one acknowledgment file."""

    file: str | None
    kinds: list[str] = field(default_factory=list)  # 999 / 997 / 277 per ST, in order
    groups: list[GroupAck] = field(default_factory=list)  # from 999/997
    claims: list[ClaimStatus] = field(default_factory=list)  # from 277CA
    batch_statuses: list[StatusCode] = field(default_factory=list)  # 2200B/2200C STC
    interchange_acks: list[InterchangeAck] = field(default_factory=list)  # TA1
    findings: list[Finding] = field(default_factory=list)

    @property
    def kind(self) -> str:
        if "277" in self.kinds:
            return "277CA"
        if "999" in self.kinds:
            return "999"
        if "997" in self.kinds:
            return "997"
        return "TA1" if self.interchange_acks else "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "groups": [g.to_dict() for g in self.groups],
            "claims": [c.to_dict() for c in self.claims],
            "batch_statuses": [asdict(s) for s in self.batch_statuses],
            "interchange_acks": [asdict(t) for t in self.interchange_acks],
            "findings": [f.to_dict() for f in self.findings],
        }
