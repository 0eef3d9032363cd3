"""The scrubber over an 837 read back: NCCI and code-set edits on the claim lines of a file.

Each claim's lines (code, modifiers, units, date of service from DTP*472) go through
:func:`coding.scrub.scrub_lines` with the claim's kind (837P: practitioner edits; 837I: hospital
PTP, facility MUE); findings point at the line's SV1/SV2 segment in Loop 2400. A line without a
date of service is not scrubbed (the 837 edits report the missing date).
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_CEILING

from coding.codesets import NO_CODESETS, CodeSets
from coding.findings import Finding
from coding.scrub import Scrubber, ScrubLine
from edi.x837.read import ReadClaim

__all__ = ["scrub_claims"]


def scrub_claims(claims: list[ReadClaim], file: str, codesets: CodeSets) -> list[Finding]:
    """Scrub every claim of a read 837 (nothing when no set is loaded)."""
    if codesets is NO_CODESETS:
        return []
    out: list[Finding] = []
    scrubber = Scrubber(codesets)
    for claim in claims:
        if claim.claim_type not in ("837P", "837I"):
            continue
        dated = [ln for ln in claim.lines if ln.service_date is not None and ln.code]
        lines = [
            ScrubLine(
                ln.code,
                tuple(ln.modifiers),
                int(ln.units.to_integral_value(rounding=ROUND_CEILING)),
                ln.service_date,  # type: ignore[arg-type]  # filtered above
            )
            for ln in dated
        ]
        for f in scrubber.lines(lines, claim.claim_type, encounter_id=claim.patient_control_number, file=file):
            idx = int((f.field or "lines[0]")[6:-1])
            ln = dated[idx]
            out.append(
                dataclasses.replace(
                    f,
                    field=None,
                    segment="SV1" if claim.claim_type == "837P" else "SV2",
                    loop="2400",
                    line=ln.file_line or None,
                    segment_number=ln.segment_line or None,
                )
            )
    return out
