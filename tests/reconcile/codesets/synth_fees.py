"""Synthetic fee-schedule files in CMS's published layouts: PFS relative values, GPCIs, OPPS
Addendum B. Every number is invented; the PFS DESCRIPTION and OPPS short-descriptor cells hold
the word ``SYNTHETIC``, never CPT text. ``python -m tests.reconcile.codesets.synth_fees DIR``
writes one file of each kind.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.reconcile.codesets.synth import CRLF, ENC, _csv, write

# The 2026 header, stacked over five rows as CMS prints it (32 columns).
PFS_HEADER = [
    [*[""] * 29, "NON-FACILITY", "FACILITY", ""],
    [*[""] * 4, "NOT USED", *[""] * 21, "PHYSICIAN", "", "DIAGNOSTIC", "PE USED", "PE USED", "MP USED"],
    [*[""] * 4, "FOR", "", "", "NON-FAC", "", "FACILITY", *[""] * 16, "SUPERVISION OF", "", "IMAGING"]
    + ["FOR OPPS", "FOR OPPS", "FOR OPPS"],
    ["", "", "", "STATUS", "MEDICARE", "WORK", "NON-FAC", "NA", "FACILITY", "NA", "MP", "NON-FACILITY"]
    + ["FACILITY", "PCTC", "GLOB", "PRE", "INTRA", "POST", "MULT", "BILAT", "ASST", "CO-", "TEAM", "PRIC"]
    + ["ENDO", "CONV", "DIAGNOSTIC", "CALCULATION", "FAMILY", "PAYMENT", "PAYMENT", "PAYMENT"],
    ["HCPCS", "MOD", "DESCRIPTION", "CODE", "PAYMENT", "RVU", "PE RVU", "INDICATOR", "PE RVU", "INDICATOR"]
    + ["RVU", "TOTAL", "TOTAL", "IND", "DAYS", "OP", "OP", "OP", "PROC", "SURG", "SURG", "SURG", "SURG"]
    + ["IND", "BASE", "FACTOR", "PROCEDURES", "FLAG", "INDICATOR", "AMOUNT", "AMOUNT", "AMOUNT"],
]


@dataclass(frozen=True)
class Rvu:
    """One PFS row: RVUs as text ('NA' allowed for a PE RVU)."""

    code: str
    work: str
    pe_nonfac: str
    pe_fac: str
    mp: str
    mod: str = ""
    status: str = "A"
    cf: str = "33.4009"


def pfs_file(rows: Iterable[Rvu], released: str = "06/30/2026", pric_ind: bool = True) -> bytes:
    """``PPRRVU{YYYY}_{Mon}_nonQPP.csv``: five preamble rows, the stacked header, the rows.

    ``pric_ind=False`` writes the pre-2026 layout (no PRIC IND column: CONV FACTOR one to the left)."""
    width = 32
    pad = [""] * 2
    out: list[list[str]] = [
        [*pad, "2026 National Physician Fee Schedule Relative Value File (synthetic)", *[""] * (width - 3)],
        [*pad, "CPT codes and descriptions only are copyright American Medical Association.", *[""] * (width - 3)],
        [*pad, "Dental codes (D codes) are copyright American Dental Association.", *[""] * (width - 3)],
        [""] * width,
        [*pad, f"RELEASED {released}", *[""] * (width - 3)],
    ]
    header = [list(r) for r in PFS_HEADER]
    if not pric_ind:
        header = [r[:23] + r[24:] for r in header]
    out.extend(header)
    for r in rows:
        nf_total = "0.00"
        cells = [r.code, r.mod, "SYNTHETIC", r.status, "", r.work, r.pe_nonfac, "NA" if r.pe_nonfac == "NA" else ""]
        cells += [r.pe_fac, "NA" if r.pe_fac == "NA" else "", r.mp, nf_total, "0.00", "0", "XXX", "0.00", "0.00"]
        cells += ["0.00", "0", "0", "0", "0", "0"]
        cells += ["9"] if pric_ind else []
        cells += ["", r.cf, "09", "", "99", "0.00", "0.00", "0.00"]
        out.append(cells)
    return _csv(out).encode(ENC)


def gpci_file(rows: Iterable[tuple[str, str, str, str, str, str]], year: int = 2026) -> bytes:
    """``GPCI{YYYY}.csv``: rows of (MAC, state, locality, work, PE, MP GPCI)."""
    out: list[list[str]] = [
        [f"ADDENDUM E. FINAL CY {year} GEOGRAPHIC PRACTICE COST INDICES (GPCIs) (synthetic)", *[""] * 6],
        [""] * 7,
        ["Medicare Administrative Contractor (MAC)", "State", "Locality Number", "Locality Name"]
        + [f"{year} PW GPCI (with 1.0 Floor)***", f"{year} PE GPCI", f"{year} MP GPCI"],
    ]
    for mac, state, loc, w, pe, mp in rows:
        out.append([mac, state, loc, f"LOCALITY {loc}*", w, pe, mp])
    out.append(["*Work GPCI reflects a floor (synthetic footnote).", *[""] * 6])
    return _csv(out).encode(ENC)


OPPS_HEADER = [
    "HCPCS Code",
    "Short Descriptor",
    "SI",
    "APC",
    "Relative Weight",
    "Payment Rate",
    "National Unadjusted Copayment",
    "Minimum Unadjusted Copayment",
    "Note",
    "* Indicates a Change",
]


def opps_b_file(rows: Iterable[tuple[str, str, str, str]], tabs: bool = False) -> bytes:
    """OPPS Addendum B: rows of (code, SI, APC, payment rate as printed: "$1,234.56", "" or ".")."""
    pre = [
        "Addendum B.-Final OPPS Payment by HCPCS Code (synthetic)",
        "CPT codes and descriptions only are copyright American Medical Association.",
        "",
    ]
    body: list[Sequence[str]] = [OPPS_HEADER]
    for code, si, apc, rate in rows:
        body.append([code, "SYNTHETIC", si, apc, "", rate, "", "", "", ""])
    if tabs:
        return (CRLF.join(pre + ["\t".join(r) for r in body]) + CRLF).encode(ENC)
    return _csv([[p, *[""] * 9] for p in pre] + [list(r) for r in body]).encode(ENC)


def write_samples(out: Path) -> list[Path]:
    """One small file of each fee-schedule kind (2026 Q3), as CMS names them, into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    return [
        write(
            out / "PPRRVU2026_Jul_nonQPP.csv",
            pfs_file([Rvu("96365", "2.21", "1.95", "0.61", "0.14"), Rvu("96413", "2.80", "3.10", "0.78", "0.21")]),
        ),
        write(out / "GPCI2026.csv", gpci_file([("06102", "IL", "16", "1.007", "1.005", "2.295")])),
        write(
            out / "2026_July_Web_Addendum_B.csv",
            opps_b_file([("J9035", "K", "9112", "$72.113"), ("96365", "S", "5692", "$210.50")]),
        ),
    ]


if __name__ == "__main__":
    for p in write_samples(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(p)
