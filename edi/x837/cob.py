"""Coordination of benefits in the 837: Loops 2320/2330A/2330B per prior payer and Loop 2430 per line.

A claim to a secondary (or tertiary) payer carries, for every payer that adjudicated it before,
that payer's SBR (Loop 2320), claim-level CAS, AMT*D (paid), AMT*EAF (remaining patient
liability), OI, the other subscriber (2330A) and the other payer with its id and adjudication
date (2330B); and per service line one Loop 2430 per prior payer: SVD (payer id, paid, the
procedure as adjudicated, units), the line's CAS exactly as the 835 gave them, DTP*573 and
AMT*EAF. Segment order follows the guides (005010X222A1, 005010X223A2) as in pyx12's maps: in
837P 2320 the AMTs run D, A8, EAF; in 837I D, EAF, A8 (A8 is not written here).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from coding.model import Patient
from edi.x12.text import MAX_LEN, clean, fit, ident
from edi.x837.model import Cas, Coordination, LineAdjudication, OtherPayer

CAS_PER_SEGMENT = 6  # CAS02..CAS19: six reason/amount/quantity triplets


def _money(value: Decimal) -> str:
    from edi.x837.write import _amount

    return _amount(value)


def _quantity(value: Decimal) -> str:
    s = format(value.normalize(), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def cas_segments(adjustments: Sequence[Cas]) -> list[str]:
    """CAS segments: one per group code (in order of first appearance), at most six triplets
    each (a seventh of a group opens a new CAS); quantities kept when the 835 had them."""
    out: list[str] = []
    groups: dict[str, list[Cas]] = {}
    for a in adjustments:
        groups.setdefault(a.group, []).append(a)
    for group, items in groups.items():
        for i in range(0, len(items), CAS_PER_SEGMENT):
            parts = [f"CAS*{ident(group)}"]
            chunk = items[i : i + CAS_PER_SEGMENT]
            for n, a in enumerate(chunk):
                triplet = f"{ident(a.reason)}*{_money(a.amount)}"
                if a.quantity is not None:
                    triplet += f"*{_quantity(a.quantity)}"
                elif n < len(chunk) - 1:
                    triplet += "*"
                parts.append(triplet)
            out.append("*".join(parts))
    return out


def _other_subscriber(p: Patient) -> list[str]:
    """Loop 2330A: NM1*IL with the member id of that payer, N3/N4."""
    from edi.x837.write import _address, _name_elements

    a = p.address
    return [
        f"NM1*IL*1*{_name_elements(p.last, p.first)}*MI*{fit(ident(p.member_id), MAX_LEN['id'])[0]}",
        *_address(a.line1, a.line2, a.city, a.state, a.zip),
    ]


def loop2320(op: OtherPayer, claim_type: str) -> list[str]:
    """Loop 2320 with its 2330A and 2330B for one prior payer."""
    from edi.x837.write import _text, d8

    out = [f"SBR*{op.responsibility}*{op.relationship}*******{clean(op.filing_indicator)}"]
    out += cas_segments(op.adjustments)
    out.append(f"AMT*D*{_money(op.paid)}")
    out.append(f"AMT*EAF*{_money(op.remaining_liability)}")
    out.append("OI***Y***Y")
    out += _other_subscriber(op.subscriber)
    out.append(f"NM1*PR*2*{_text(op.payer_name, 'org')}*****PI*{ident(op.payer_id)}")
    if op.adjudicated is not None:
        out.append(f"DTP*573*D8*{d8(op.adjudicated)}")
    if op.payer_claim_number and ident(op.payer_claim_number):
        out.append(f"REF*F8*{fit(ident(op.payer_claim_number), MAX_LEN['ref'])[0]}")
    return out


def loop2430(adj: LineAdjudication, claim_type: str) -> list[str]:
    """Loop 2430: SVD, the line's CAS, DTP*573 and AMT*EAF (the line's patient responsibility)."""
    from edi.x837.write import _composite, d8

    procedure = _composite(adj.code, adj.modifiers)
    if adj.qualifier and adj.qualifier != "HC":
        procedure = ident(adj.qualifier) + procedure[2:]
    revenue = ident(adj.revenue_code) if claim_type == "837I" and adj.revenue_code else ""
    units = _quantity(adj.units)
    out = [f"SVD*{ident(adj.payer_id)}*{_money(adj.paid)}*{procedure}*{revenue}*{units}"]
    out += cas_segments(adj.adjustments)
    out.append(f"DTP*573*D8*{d8(adj.adjudicated)}")
    liability = sum((a.amount for a in adj.adjustments if a.group == "PR"), Decimal(0))
    if liability:
        out.append(f"AMT*EAF*{_money(liability)}")
    return out


def claim_loops(cob: Coordination, claim_type: str) -> list[str]:
    """Every Loop 2320 of the claim, prior payers in order."""
    out: list[str] = []
    for op in cob.other_payers:
        out += loop2320(op, claim_type)
    return out


def line_loops(cob: Coordination, index: int, claim_type: str) -> list[str]:
    """Every Loop 2430 of line ``index`` (0-based in the claim plan)."""
    out: list[str] = []
    if index < len(cob.lines):
        for adj in cob.lines[index]:
            out += loop2430(adj, claim_type)
    return out
