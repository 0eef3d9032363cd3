"""A clearinghouse the exchange does not see: it reads the 837 files dropped in its inbox and puts
a 999 (every set accepted), a 277CA (every claim accepted, with a payer claim number) and an 835
(every line paid 80 %, the rest a CO-45 adjustment) for each one in its outbox.

It reads the claims back from the files alone (never the ledger), with the project's own 837
reader and the payer simulator's 835 writer, so what the ledger shows afterwards can be checked
against what was answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from edi.x12.tokenizer import iter_segments
from edi.x837.read import read_837
from reconcile.demo.simulate import Envelope, write_835
from reconcile.posting.records import Adj, RClaim, RLine, RRemit
from tests.reconcile import acks_x12
from tests.reconcile.acks_x12 import ISA

CENT = Decimal("0.01")


def write_999(gs06: int, st02s: list[int], n: int) -> str:
    """A 999 accepting every listed transaction set of functional group ``gs06``."""
    body = "".join(f"AK2*837*{st02:04d}*005010X222A1~IK5*A~" for st02 in st02s)
    segs = 2 + body.count("~") + 2
    return (
        ISA.format(n=n) + f"GS*FA*CLEARHOUSE01*DRIPLINE01*20260301*1200*{n}*X*005010X231A1~"
        f"ST*999*0001*005010X231A1~AK1*HC*{gs06}*005010X222A1~{body}AK9*A*{len(st02s)}*{len(st02s)}*{len(st02s)}~"
        f"SE*{segs}*0001~GE*1*{n}~IEA*1*{n:09d}~"
    )


def write_277ca(claims: list[tuple[str, str, str]], n: int) -> str:
    """A 277CA accepting each claim (patient control number, payer claim number, charge): STC A2:20."""
    return acks_x12.write_277ca([(pcn, "A2:20:PR", icn, charge) for pcn, icn, charge in claims], n)


@dataclass
class Answered:
    """What the clearinghouse answered, claim by claim (patient control number -> amounts)."""

    paid: dict[str, Decimal] = field(default_factory=dict)
    charge: dict[str, Decimal] = field(default_factory=dict)
    icn: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def _gs06(data: bytes) -> int:
    for seg in iter_segments(data.decode("latin-1")):
        if seg.id == "GS":
            return int(seg.elements[6])
    raise AssertionError("no GS segment")


def answer(claim_file: Path, outbox: Path, n: int, answered: Answered) -> list[Path]:
    """Write the 999, 277CA and 835 answering ``claim_file`` into ``outbox``; ``n`` numbers them."""
    data = claim_file.read_bytes()
    doc = read_837(data)
    sets = sorted({int(c.st02) for c in doc.claims})
    ack = write_999(_gs06(data), sets, n=n)
    statuses: list[tuple[str, str, str]] = []
    by_payer: dict[str, list[RClaim]] = {}
    for i, c in enumerate(doc.claims, start=1):
        icn = f"ICN{n:03d}{i:05d}"
        charge = c.charge or Decimal(0)
        statuses.append((c.patient_control_number, icn, str(charge)))
        lines = []
        for ln in c.lines:
            paid = (ln.charge * Decimal("0.80")).quantize(CENT)
            lines.append(
                RLine(
                    code=ln.code,
                    charge=ln.charge,
                    paid=paid,
                    qualifier=ln.qualifier or "HC",
                    modifiers=tuple(ln.modifiers),
                    units=ln.units,
                    revenue_code=ln.revenue_code,
                    service_date=ln.service_date.isoformat() if ln.service_date else None,
                    line_control_number=ln.line_control_number,
                    adjustments=[Adj("CO", "45", ln.charge - paid)] if ln.charge != paid else [],
                )
            )
        paid_total = sum((ln.paid for ln in lines), Decimal(0))
        claim = RClaim(
            c.patient_control_number,
            "1",
            charge,
            paid_total,
            payer_claim_number=icn,
            frequency=c.frequency or "1",
            lines=lines,
        )
        by_payer.setdefault(c.payer_id, []).append(claim)
        answered.paid[c.patient_control_number] = paid_total
        answered.charge[c.patient_control_number] = charge
        answered.icn[c.patient_control_number] = icn
    remits = [
        RRemit(
            payer_id=payer_id,
            trace=f"TRACE{n:03d}{k:02d}",
            amount=sum((rc.paid for rc in claims), Decimal(0)),
            payer_name=f"PAYER {payer_id}",
            method="ACH",
            payment_date="2026-04-01",
            claims=claims,
        )
        for k, (payer_id, claims) in enumerate(sorted(by_payer.items()), start=1)
    ]
    out = []
    for name, text in (
        (f"{claim_file.stem}.999", ack),
        (f"{claim_file.stem}.277", write_277ca(statuses, n=n + 100)),
        (f"{claim_file.stem}.835", write_835(remits, Envelope(isa13=n + 200, gs06=n + 200))),
    ):
        p = outbox / name
        p.write_text(text)
        out.append(p)
        answered.files.append(name)
    return out


def answer_inbox(inbox: Path, outbox: Path, answered: Answered) -> int:
    """Answer every claim file in ``inbox`` not answered yet; return how many were answered."""
    done = 0
    for f in sorted(inbox.iterdir()):
        if f.name.startswith(".") or f"{f.stem}.999" in answered.files:
            continue
        answer(f, outbox, len(answered.files) // 3 + 1, answered)
        done += 1
    return done
