"""Generator of synthetic 835 files, balanced by construction (bench, property tests, posting tests).

Every claim is built so the guide's balancing rules hold: SVC03 = SVC02 - line CAS,
CLP04 = CLP03 - claim CAS - line CAS, and BPR02 = sum CLP04 - sum PLB. Claims include reversals
(CLP02 22, negative amounts, the original payer claim number) with their corrections, denials,
claims without service lines, N4-qualified drug lines, SVC06 restated codes, MOA remarks and PLB
recoupments/interest. All names and ids are synthetic.

Payers: by default N1*PR carries the payer's name only, so a reader falls back to TRN03
(:data:`ORIGINATOR`) for the payer id; ``payer_ids=True`` (render functions) or ``--payer-ids`` adds
N103/N104 (``XV`` + the set's payer id), as most payers send it. Tests that post to a ledger with
claims of several payers use that, and may give sets their own payer (``GenSet.payer``/``payer_id``).

Usage: ``python bench/gen835.py CLAIMS OUT.835 [--seed N] [--per-set N] [--payer-ids]``
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

CENT = Decimal("0.01")
CODES = [
    "96413",
    "96415",
    "96417",
    "96365",
    "96366",
    "96375",
    "96372",
    "J9035",
    "J1745",
    "J2505",
    "J9271",
    "J0897",
    "96360",
    "96361",
    "J7050",
]
MODS = ["", "", "", "59", "JW", "JZ", "XE", "25"]
GROUPS_REASONS = [
    ("CO", "45"),
    ("CO", "253"),
    ("PR", "1"),
    ("PR", "2"),
    ("PR", "3"),
    ("OA", "23"),
    ("CO", "4"),
    ("CO", "16"),
    ("PI", "97"),
]
PLB_REASONS = ["WO", "FB", "72", "L6", "J1", "CS"]
ORIGINATOR = "1512345678"  # TRN03 of every set: the payer id a reader falls back to without N104


def money(rng: random.Random, lo: int, hi: int) -> Decimal:
    return Decimal(rng.randint(lo, hi)) * CENT


def amt(d: Decimal) -> str:
    """X12 amount: no trailing zeros after the point, no exponent."""
    s = format(d.quantize(CENT), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


@dataclass
class GenLine:
    qualifier: str
    code: str
    modifiers: list[str]
    charge: Decimal
    paid: Decimal
    units: Decimal
    adjustments: list[tuple[str, str, Decimal]]
    control: str
    date: str
    original_code: str = ""
    remarks: list[str] = field(default_factory=list)


@dataclass
class GenClaim:
    pcn: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str
    frequency: str
    adjustments: list[tuple[str, str, Decimal]]
    lines: list[GenLine]
    moa_remarks: list[str] = field(default_factory=list)


@dataclass
class GenPLB:
    reason: str
    reference: str
    amount: Decimal


@dataclass
class GenSet:
    payer: str
    payer_id: str
    trace: str
    claims: list[GenClaim]
    plbs: list[GenPLB]

    @property
    def payment(self) -> Decimal:
        return sum((c.paid for c in self.claims), Decimal(0)) - sum((p.amount for p in self.plbs), Decimal(0))


def _split(rng: random.Random, total: Decimal, parts: int) -> list[Decimal]:
    cents = int(total / CENT)
    if parts <= 1 or cents <= 0:
        return [total] + [Decimal(0)] * (parts - 1)
    cuts = sorted(rng.randint(0, cents) for _ in range(parts - 1))
    bounds = [0, *cuts, cents]
    return [Decimal(bounds[i + 1] - bounds[i]) * CENT for i in range(parts)]


def random_line(rng: random.Random, n: int, claim_no: int, denied: bool) -> GenLine:
    drug = rng.random() < 0.2
    charge = money(rng, 500, 250000)
    if denied:
        adj_total = charge
    else:
        adj_total = (charge * Decimal(rng.randint(0, 70)) / 100).quantize(CENT)
    k = rng.randint(1, 4) if adj_total else 0
    pieces = _split(rng, adj_total, k) if k else []
    adjs = []
    for p in pieces:
        g, r = rng.choice(GROUPS_REASONS[:6] if not denied else GROUPS_REASONS[6:])
        adjs.append((g, r, p))
    line = GenLine(
        "N4" if drug else "HC",
        f"{rng.randint(0, 99999999999):011d}" if drug else rng.choice(CODES),
        [m for m in [rng.choice(MODS), rng.choice(MODS)] if m][: rng.randint(0, 2)],
        charge,
        charge - adj_total,
        Decimal(rng.randint(1, 12)),
        adjs,
        f"L{claim_no:07d}{n:02d}",
        f"2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
    )
    if not drug and rng.random() < 0.05:
        line.original_code = rng.choice(CODES)
    if denied or rng.random() < 0.1:
        line.remarks = [rng.choice(["N519", "M119", "N130", "MA130"])]
    return line


def random_claim(rng: random.Random, i: int) -> GenClaim:
    """One balanced claim: lines with CAS, sometimes claim-level CAS or no lines at all."""
    denied = rng.random() < 0.08
    n_lines = 0 if rng.random() < 0.05 else rng.randint(1, 4)
    lines = [random_line(rng, j + 1, i, denied) for j in range(n_lines)]
    if lines:
        charge = sum((ln.charge for ln in lines), Decimal(0))
        line_paid = sum((ln.paid for ln in lines), Decimal(0))
        cadj: list[tuple[str, str, Decimal]] = []
        if line_paid > 1 and rng.random() < 0.15:
            a = min(money(rng, 1, 5000), line_paid)
            cadj.append(("OA", "94", a))
        paid = line_paid - sum((a for _, _, a in cadj), Decimal(0))
    else:
        charge = money(rng, 1000, 90000)
        a = (charge * Decimal(rng.randint(0, 100)) / 100).quantize(CENT)
        cadj = [("CO", "45", a)] if a else []
        paid = charge - a
    pr = sum((a for g, _, a in cadj if g == "PR"), Decimal(0)) + sum(
        (a for ln in lines for g, _, a in ln.adjustments if g == "PR"), Decimal(0)
    )
    status = "4" if denied else rng.choice(["1", "1", "1", "2", "19"])
    return GenClaim(
        f"E{i:08d}", status, charge, paid, pr, f"PCN{i:010d}", "1", cadj, lines, ["MA01"] if rng.random() < 0.1 else []
    )


def reversal_of(claim: GenClaim) -> GenClaim:
    """CLP02 22: every amount negated, same payer claim number."""
    neg = lambda adjs: [(g, r, -a) for g, r, a in adjs]  # noqa: E731
    lines = [
        GenLine(
            ln.qualifier,
            ln.code,
            ln.modifiers,
            -ln.charge,
            -ln.paid,
            ln.units,
            neg(ln.adjustments),
            ln.control,
            ln.date,
        )
        for ln in claim.lines
    ]
    return GenClaim(
        claim.pcn,
        "22",
        -claim.charge,
        -claim.paid,
        -claim.patient_responsibility,
        claim.payer_claim_number,
        "1",
        neg(claim.adjustments),
        lines,
    )


def random_set(rng: random.Random, first: int, n: int, set_no: int) -> GenSet:
    claims: list[GenClaim] = []
    i = first
    while len(claims) < n:
        c = random_claim(rng, i)
        if rng.random() < 0.03 and len(claims) + 2 <= n:
            claims.append(reversal_of(c))
            corrected = random_claim(rng, i)
            corrected.payer_claim_number = f"PCN{i:010d}R"
            claims.append(corrected)
        else:
            claims.append(c)
        i += 1
    plbs = []
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        reason = rng.choice(PLB_REASONS)
        ref = rng.choice(claims).pcn if reason in ("WO", "FB", "72", "J1", "CS") else ""
        a = money(rng, 1, 5000)
        plbs.append(GenPLB(reason, ref, -a if reason == "L6" else a))
    return GenSet(
        "SYNTHETIC HEALTH PLAN" if set_no % 2 == 0 else "OTHER PAYER CO",
        f"PAYER{set_no % 2}",
        f"TRC{set_no:09d}",
        claims,
        plbs,
    )


def generate_sets(n_claims: int, seed: int = 835, per_set: int = 1000) -> Iterator[GenSet]:
    """Sets of about ``per_set`` claims until ``n_claims`` claims were produced."""
    rng = random.Random(seed)
    done, set_no = 0, 0
    while done < n_claims:
        n = min(per_set, n_claims - done)
        s = random_set(rng, done + 1, n, set_no)
        done += n
        set_no += 1
        yield s


def render_set(s: GenSet, st: int, e: str = "*", c: str = ":", payer_ids: bool = False) -> list[str]:
    """Segments (without terminators) of one ST..SE transaction set (``payer_ids``: N1*PR with N104)."""
    segs = [
        f"ST{e}835{e}{st:04d}",
        f"BPR{e}I{e}{amt(s.payment)}{e}C{e}ACH{e}CCP{e}01{e}999999999{e}DA{e}123456{e}1512345678{e}{e}01"
        f"{e}999988880{e}DA{e}98765{e}20260115",
        f"TRN{e}1{e}{s.trace}{e}{ORIGINATOR}",
        f"DTM{e}405{e}20260113",
        f"N1{e}PR{e}{s.payer}{e}XV{e}{s.payer_id}" if payer_ids else f"N1{e}PR{e}{s.payer}",
        f"N3{e}1 PAYER WAY",
        f"N4{e}SPRINGFIELD{e}IL{e}62701",
        f"PER{e}BL{e}{e}TE{e}8005551212",
        f"N1{e}PE{e}SYNTHETIC INFUSION CLINIC{e}XX{e}1234567893",
        f"REF{e}TJ{e}123456789",
        f"LX{e}1",
    ]
    for cl in s.claims:
        segs.append(
            f"CLP{e}{cl.pcn}{e}{cl.status}{e}{amt(cl.charge)}{e}{amt(cl.paid)}{e}"
            f"{amt(cl.patient_responsibility) if cl.patient_responsibility else ''}{e}12{e}"
            f"{cl.payer_claim_number}{e}11{e}{cl.frequency}"
        )
        if cl.adjustments:
            segs.extend(_cas(cl.adjustments, e))
        segs.append(f"NM1{e}QC{e}1{e}DOE{e}JANE{e}{e}{e}{e}MI{e}X00000000")
        if cl.moa_remarks:
            segs.append(f"MOA{e}{e}{e}{cl.moa_remarks[0]}")
        segs.append(f"DTM{e}232{e}20260105")
        for ln in cl.lines:
            comp = c.join([ln.qualifier, ln.code, *ln.modifiers])
            svc = f"SVC{e}{comp}{e}{amt(ln.charge)}{e}{amt(ln.paid)}{e}{e}{amt(ln.units)}"
            if ln.original_code:
                svc += f"{e}HC{c}{ln.original_code}"
            segs.append(svc)
            segs.append(f"DTM{e}472{e}{ln.date}")
            if ln.adjustments:
                segs.extend(_cas(ln.adjustments, e))
            segs.append(f"REF{e}6R{e}{ln.control}")
            if ln.paid > 0:
                segs.append(f"AMT{e}B6{e}{amt(ln.paid)}")
            for r in ln.remarks:
                segs.append(f"LQ{e}HE{e}{r}")
    for k in range(0, len(s.plbs), 6):
        parts = [f"PLB{e}1234567893{e}20261231"]
        for p in s.plbs[k : k + 6]:
            parts.append(c.join([p.reason, p.reference]) if p.reference else p.reason)
            parts.append(amt(p.amount))
        segs.append(e.join(parts))
    segs.append(f"SE{e}{len(segs) + 1}{e}{st:04d}")
    return segs


def _cas(adjs: list[tuple[str, str, Decimal]], e: str) -> list[str]:
    """CAS segments: one per group, at most six triplets each."""
    out: list[str] = []
    by_group: dict[str, list[tuple[str, Decimal]]] = {}
    for g, r, a in adjs:
        by_group.setdefault(g, []).append((r, a))
    for g, items in by_group.items():
        for k in range(0, len(items), 6):
            els = ["CAS", g]
            for r, a in items[k : k + 6]:
                els += [r, amt(a), ""]
            out.append(e.join(els[:-1]))
    return out


def render_interchange(
    sets: list[GenSet], control: int = 1, e: str = "*", c: str = ":", rep: str = "^", payer_ids: bool = False
) -> list[str]:
    """Segments of one ISA..IEA interchange holding the given sets in one GS."""
    segs = [
        f"ISA{e}00{e}{' ' * 10}{e}00{e}{' ' * 10}{e}ZZ{e}{'SYNPAYER':<15}{e}ZZ{e}{'SYNCLINIC':<15}{e}"
        f"260115{e}1200{e}{rep}{e}00501{e}{control:09d}{e}0{e}P{e}{c}",
        f"GS{e}HP{e}SYNPAYER{e}SYNCLINIC{e}20260115{e}1200{e}{control}{e}X{e}005010X221A1",
    ]
    for k, s in enumerate(sets):
        segs.extend(render_set(s, k + 1, e, c, payer_ids))
    segs.append(f"GE{e}{len(sets)}{e}{control}")
    segs.append(f"IEA{e}1{e}{control:09d}")
    return segs


def write_file(
    path: str | Path, n_claims: int, seed: int = 835, per_set: int = 1000, payer_ids: bool = False
) -> dict[str, Decimal | int]:
    """Write an 835 of ``n_claims`` claims (one interchange, sets of ``per_set``); return its totals."""
    totals: dict[str, Decimal | int] = {
        "claims": 0,
        "lines": 0,
        "paid": Decimal(0),
        "plb": Decimal(0),
        "charge": Decimal(0),
        "sets": 0,
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # owner-only, like every file we write
    with open(fd, "w", encoding="ascii", newline="") as fh:
        sets_iter = generate_sets(n_claims, seed, per_set)
        fh.write(render_interchange([])[0] + "~\n")
        fh.write("GS*HP*SYNPAYER*SYNCLINIC*20260115*1200*1*X*005010X221A1~\n")
        n = 0
        for s in sets_iter:
            n += 1
            fh.write("~\n".join(render_set(s, n, payer_ids=payer_ids)) + "~\n")
            totals["claims"] += len(s.claims)
            totals["lines"] += sum(len(cl.lines) for cl in s.claims)
            totals["paid"] += sum((cl.paid for cl in s.claims), Decimal(0))
            totals["charge"] += sum((cl.charge for cl in s.claims), Decimal(0))
            totals["plb"] += sum((p.amount for p in s.plbs), Decimal(0))
        fh.write(f"GE*{n}*1~\nIEA*1*000000001~\n")
        totals["sets"] = n
    return totals


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 835
    per_set = int(argv[argv.index("--per-set") + 1]) if "--per-set" in argv else 1000
    print(write_file(argv[1], int(argv[0]), seed, per_set, payer_ids="--payer-ids" in argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
