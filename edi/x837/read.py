"""Read 837P/837I files (ours and others') back into claims.

Used by the round-trip tests and by our edits (:mod:`edi.x837.edits`). It keeps what billing
and remittance matching need: per claim the patient control number, charge, frequency, place
of service / type of bill, payer, payer claim number (REF*F8), diagnoses and billing/rendering
NPIs; per line the procedure code and modifiers, units, charge, revenue code, service date,
line control number (REF*6R) and the 2410 NDC with quantity and unit. Structure problems are
pyx12's job; this reader never raises on bad data (it reads what it can).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

from coding.findings import Finding
from edi.x12.tokenizer import Segment, iter_segments


@dataclass(slots=True)
class ReadAdjudication:
    """A prior payer's adjudication: Loop 2320 (claim) or Loop 2430 (line)."""

    payer_id: str = ""  # 2330B NM109 / SVD01
    paid: Decimal | None = None  # AMT*D / SVD02
    adjustments: Decimal = Decimal(0)  # sum of the loop's CAS amounts
    segment_line: int = 0
    file_line: int = 0


@dataclass(slots=True)
class ReadLine:
    """One 2400 service line."""

    number: int  # LX01 order within the claim (1-based)
    code: str = ""
    qualifier: str = "HC"
    modifiers: list[str] = field(default_factory=list)
    units: Decimal = Decimal(0)
    charge: Decimal = Decimal(0)
    revenue_code: str | None = None
    service_date: date | None = None
    line_control_number: str | None = None
    ndc: str | None = None
    ndc_qualifier: str | None = None
    ndc_quantity: Decimal | None = None
    ndc_unit: str | None = None
    segment_line: int = 0  # segment number (ordinal in the file) of the SV1/SV2
    file_line: int = 0  # physical line where that segment starts
    has_ctp: bool = False
    adjudications: list[ReadAdjudication] = field(default_factory=list)  # Loop 2430


@dataclass(slots=True)
class ReadClaim:
    """One 2300 claim with its lines and context."""

    claim_type: str  # 837P / 837I / unknown
    patient_control_number: str
    charge: Decimal | None
    frequency: str = ""
    facility_code: str = ""  # 837P place of service / 837I facility type
    payer_id: str = ""
    payer_name: str = ""
    payer_claim_number: str | None = None
    diagnoses: list[tuple[str, str]] = field(default_factory=list)  # (qualifier, code)
    billing_npi: str | None = None
    provider_npis: list[tuple[str, str, int, int]] = field(default_factory=list)  # NM101, npi, segment, line
    billing_pos: tuple[int, int] = (0, 0)  # (segment number, line) of the NM1*85
    lines: list[ReadLine] = field(default_factory=list)
    st02: str = ""
    segment_line: int = 0  # segment number (ordinal in the file) of the CLM
    file_line: int = 0  # physical line of the CLM
    loop: str = "2300"  # guide loop path of the claim, e.g. 2000A/2000B/2300 or .../2000C/2300
    raw_charge: str = ""
    other_payers: list[ReadAdjudication] = field(default_factory=list)  # Loop 2320/2330B


@dataclass(slots=True)
class Read837:
    claims: list[ReadClaim]
    findings: list[Finding]
    versions: list[str]  # GS08 of every functional group


def _dec(value: str) -> Decimal | None:
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


def _d8(value: str) -> date | None:
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8])) if len(value) >= 8 else None
    except ValueError:
        return None


HL_PATHS = {"20": "2000A", "22": "2000A/2000B", "23": "2000A/2000B/2000C"}


def claim_type_of(version: str) -> str:
    """837P/837I from GS08/ST03 (X222 professional, X223 institutional)."""
    if "X222" in version or "X098" in version:
        return "837P"
    if "X223" in version or "X096" in version:
        return "837I"
    return "unknown"


class _State:
    def __init__(self) -> None:
        self.version = ""
        self.st02 = ""
        self.billing_npi: str | None = None
        self.billing_pos = (0, 0)
        self.hl_path = ""
        self.payer: tuple[str, str] = ("", "")
        self.claim: ReadClaim | None = None
        self.line: ReadLine | None = None


def _on_clm(s: _State, seg: Segment, out: list[ReadClaim]) -> None:
    comp = seg.components(5)
    s.claim = ReadClaim(
        claim_type_of(s.version),
        seg.get(1),
        _dec(seg.get(2)),
        frequency=comp[2] if len(comp) > 2 else "",
        facility_code=comp[0] if comp else "",
        payer_id=s.payer[0],
        payer_name=s.payer[1],
        billing_npi=s.billing_npi,
        st02=s.st02,
        segment_line=seg.number,
        file_line=seg.line,
        raw_charge=seg.get(2),
        billing_pos=s.billing_pos,
        loop=f"{s.hl_path}/2300".lstrip("/"),
    )
    s.line = None
    out.append(s.claim)


def _on_service(s: _State, seg: Segment) -> None:
    if s.line is None:
        return
    ln = s.line
    ln.segment_line, ln.file_line = seg.number, seg.line
    if seg.id == "SV1":
        comp, charge, units = seg.components(1), seg.get(2), seg.get(4)
    else:
        ln.revenue_code = seg.get(1) or None
        comp, charge, units = seg.components(2), seg.get(3), seg.get(5)
    if comp:
        ln.qualifier = comp[0]
        ln.code = comp[1] if len(comp) > 1 else ""
        ln.modifiers = [m for m in comp[2:6] if m]
    ln.charge = _dec(charge) or Decimal(0)
    ln.units = _dec(units) or Decimal(0)


def _on_nm1(s: _State, seg: Segment) -> None:
    who = seg.get(1)
    if who == "85":
        s.billing_npi = seg.get(9) if seg.get(8) == "XX" else None
        s.billing_pos = (seg.number, seg.line)
    elif who == "PR" and s.claim is None:  # 2010BB (a 2330B other payer sits inside a claim)
        s.payer = (seg.get(9), seg.get(3))
    elif who == "PR" and s.claim is not None and s.line is None and s.claim.other_payers:  # 2330B
        s.claim.other_payers[-1].payer_id = seg.get(9)
    if seg.get(8) == "XX" and s.claim is not None and who not in ("PR", "85"):
        s.claim.provider_npis.append((who, seg.get(9), seg.number, seg.line))


def _on_cob(s: _State, seg: Segment) -> None:
    """Loops 2320 (SBR, CAS, AMT*D) and 2430 (SVD, CAS) of a claim to a later payer."""
    assert s.claim is not None
    sid = seg.id
    if sid == "SBR" and s.line is None:
        s.claim.other_payers.append(ReadAdjudication(segment_line=seg.number, file_line=seg.line))
    elif sid == "SVD" and s.line is not None:
        s.line.adjudications.append(ReadAdjudication(seg.get(1), _dec(seg.get(2)), Decimal(0), seg.number, seg.line))
    elif sid == "AMT" and s.line is None and seg.get(1) == "D" and s.claim.other_payers:
        s.claim.other_payers[-1].paid = _dec(seg.get(2))
    elif sid == "CAS":
        target = (
            s.line.adjudications[-1]
            if s.line is not None and s.line.adjudications
            else (s.claim.other_payers[-1] if s.line is None and s.claim.other_payers else None)
        )
        if target is not None:
            target.adjustments += sum((_dec(seg.get(i)) or Decimal(0) for i in range(3, 19, 3)), Decimal(0))


def _on_segment(s: _State, seg: Segment, out: list[ReadClaim], versions: list[str]) -> None:
    sid = seg.id
    if sid == "GS":
        s.version = seg.get(8)
        versions.append(s.version)
    elif sid == "ST":
        s.st02, s.claim, s.line, s.billing_npi = seg.get(2), None, None, None
        s.version = seg.get(3) or s.version
    elif sid == "HL":
        if seg.get(3) in ("20", "22", "23"):
            s.claim, s.line = None, None
            s.hl_path = HL_PATHS[seg.get(3)]
    elif sid == "NM1":
        _on_nm1(s, seg)
    elif sid == "CLM":
        _on_clm(s, seg, out)
    elif s.claim is None:
        return
    elif sid == "LX":
        s.line = ReadLine(len(s.claim.lines) + 1)
        s.claim.lines.append(s.line)
    elif sid in ("SV1", "SV2"):
        _on_service(s, seg)
    elif sid in ("SBR", "AMT", "CAS", "SVD"):
        _on_cob(s, seg)
    elif sid == "DTP" and s.line is not None and seg.get(1) == "472":
        s.line.service_date = _d8(seg.get(3).split("-")[0])
    elif sid == "REF":
        if s.line is not None and seg.get(1) == "6R":
            s.line.line_control_number = seg.get(2)
        elif s.line is None and seg.get(1) == "F8":
            s.claim.payer_claim_number = seg.get(2)
    elif sid == "HI" and s.line is None:
        for i in range(1, len(seg.elements)):
            comp = seg.components(i)
            if len(comp) > 1:
                s.claim.diagnoses.append((comp[0], comp[1]))
    elif sid == "LIN" and s.line is not None:
        s.line.ndc_qualifier, s.line.ndc = seg.get(2) or None, seg.get(3) or None
    elif sid == "CTP" and s.line is not None:
        s.line.has_ctp = True
        s.line.ndc_quantity = _dec(seg.get(4))
        unit = seg.components(5)
        s.line.ndc_unit = unit[0] if unit else None


def iter_claims(
    source: str | Path | bytes | BinaryIO, findings: list[Finding] | None = None, versions: list[str] | None = None
) -> Iterator[ReadClaim]:
    """Stream claims; each is yielded once its next claim (or the file end) starts."""
    s = _State()
    pending: list[ReadClaim] = []
    vers = versions if versions is not None else []
    for seg in iter_segments(source, findings):
        _on_segment(s, seg, pending, vers)
        if len(pending) > 1:
            yield pending.pop(0)
    yield from pending


def read_837(source: str | Path | bytes | BinaryIO) -> Read837:
    """Every claim of an 837P/837I file, with tokenizer findings."""
    findings: list[Finding] = []
    versions: list[str] = []
    claims = list(iter_claims(source, findings, versions))
    return Read837(claims, findings, versions)
