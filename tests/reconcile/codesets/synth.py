"""Small synthetic CMS code-set files in the published layouts (no CPT descriptors, no real files).

Each builder returns the file's bytes as CMS publishes them: Windows-1252, CRLF record ends, the
preamble of its layout. :func:`write_ptp` streams a PTP file of any size (the benchmark's
1.5-million-row file). Codes used with a description are HCPCS Level II (public domain) or
invented; numeric codes appear only in columns that carry no text.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ENC = "cp1252"
CRLF = "\r\n"

HCPCS_PREAMBLE = [
    "Note regarding coverage and payment indicators for codes in CMS\u2019 HCPCS Update files",
    "",
    "If specific Medicare coverage or payment indicators have not been established for any new codes, this may be",
    "because a national coverage determination has not yet been established.",
    "",
]


@dataclass(frozen=True)
class Hcpcs:
    """One HCPCS record (a modifier when ``modifier``); dates YYYYMMDD or ''."""

    code: str
    description: str
    added: str = "20200101"
    action_effective: str = ""
    terminated: str = ""
    action: str = "N"
    short: str = ""
    modifier: bool = False


def hcpcs_record_lines(r: Hcpcs) -> list[str]:
    """The fixed-width lines of one code: a 3/7 record and 4/8 continuations of 80 characters."""
    field = f"   {r.code}" if r.modifier else r.code.ljust(5)
    chunks = [r.description[i : i + 80] for i in range(0, max(len(r.description), 1), 80)]
    first, cont = ("7", "8") if r.modifier else ("3", "4")
    line = (
        field
        + "00100"
        + first
        + chunks[0].ljust(80)
        + (r.short or r.description[:28]).ljust(28)
        + ("51" if not r.modifier else "").ljust(8)
        + " " * 141
        + r.added.ljust(8)
        + (r.action_effective or r.added).ljust(8)
        + r.terminated.ljust(8)
        + r.action
    ).ljust(320)
    assert len(line) == 320 and line[268:276].strip() == r.added
    out = [line]
    for i, chunk in enumerate(chunks[1:], 2):
        out.append(f"{field}{i:03d}00{cont}{chunk}".ljust(91))
    return out


def hcpcs_file(records: Iterable[Hcpcs], preamble: bool = True) -> bytes:
    lines = list(HCPCS_PREAMBLE) + [""] if preamble else []
    for r in records:
        lines.extend(hcpcs_record_lines(r))
    return (CRLF.join(lines) + CRLF).encode(ENC)


def _csv_cell(v: str) -> str:
    if any(ch in v for ch in ',"\n\r'):
        return '"' + v.replace('"', '""') + '"'
    return v


def _csv(rows: Iterable[Sequence[str]]) -> str:
    return "".join(",".join(_csv_cell(c) for c in row) + CRLF for row in rows)


ASP_HEADER = [
    "HCPCS Code",
    "Short Description",
    "HCPCS Code Dosage",
    "Payment Limit",
    "Co-insurance Percentage",
    "Vaccine AWP%",
    "Vaccine Limit",
    "Blood AWP%",
    "Blood limit",
    "Clotting Factor",
    "Notes",
]


def asp_file(
    rows: Iterable[tuple[str, str, str, str]],
    period: str = "Effective July 1, 2026 through September 30, 2026",
    empty_column: bool = True,
    footnote: bool = True,
) -> bytes:
    """ASP pricing CSV: rows of (code, short description, dosage, payment limit)."""
    pad = [""] if empty_column else []
    out = [
        ["Payment Allowance Limits for Medicare Part B Drugs", *[""] * 10, *pad],
        ["", *[""] * 10, *pad],
        [f"  {period}", *[""] * 10, *pad],
        ["", *[""] * 10, *pad],
        ["Note: payment limits are per HCPCS code dosage unit.\nSee the notes column.", *[""] * 10, *pad],
        ["", *[""] * 10, *pad],
        [*ASP_HEADER, *pad],
    ]
    for code, short, dosage, limit in rows:
        out.append([code, short, dosage, limit, "20.000", "", "", "", "", "", "", *pad])
    if footnote:
        out.append(["Footnote: N/A means the limit is not available this quarter.", *[""] * 10, *pad])
    return _csv(out).encode(ENC)


def asp_ndc_file(
    rows: Iterable[tuple[str, str, str, str]],
    year: int = 2026,
    period: str = "Effective July 1, 2026 through September 30, 2026",
    pad: int = 20,
) -> bytes:
    """ASP NDC-HCPCS crosswalk CSV: rows of (code, NDC2 5-4-2, BILLUNITS, BILLUNITSPKG)."""
    header = [f"_{year}_CODE", "Short Description", "LABELER NAME", "NDC2", "Drug Name", "HCPCS dosage"]
    header += ["PKG SIZE", "PKG QTY", "BILLUNITS", "BILLUNITSPKG"]
    out: list[list[str]] = [
        ["ASP NDC-HCPCS Crosswalk", *[""] * pad],
        [f"   {period}", *[""] * pad],
        ["", *[""] * pad],
        [*header, *[""] * pad],
    ]
    for code, ndc, units, pkg in rows:
        out.append(
            [code, "Synthetic drug", "Labeler Inc.\u00a0", ndc, "DRUG X", "10 MG", "1", "1", units, pkg, *[""] * pad]
        )
    return _csv(out).encode(ENC)


PTP_HEADER = [
    "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion Date\tModifier\tPTP Edit Rationale",
    "\t\tprior to 1996\tDate\t*=no data\t0=not allowed\t",
    "\t\t\t\t\t1=allowed\t",
    "\t\t\t\t\t9=not applicable\t",
]


def ptp_header_lines() -> list[str]:
    return [
        "CPT codes, descriptions and other data only are copyright American Medical Association. All rights reserved.",
        "Column1/Column2 Edits",
        *PTP_HEADER,
    ]


def ptp_line(c1: str, c2: str, eff: str, deleted: str = "*", ind: str = "1", prior: str = "") -> str:
    return f"{c1}\t{c2}\t{prior}\t{eff}\t{deleted}\t{ind}\tMutually exclusive procedures"


def ptp_file(rows: Iterable[tuple[str, str, str, str, str]]) -> bytes:
    """NCCI PTP text: rows of (column 1, column 2, effective, deletion or '*', modifier indicator)."""
    lines = ptp_header_lines() + [ptp_line(*r) for r in rows]
    return (CRLF.join(lines) + CRLF).encode(ENC)


def write_ptp(out: IO[bytes], n_rows: int) -> None:
    """Stream a PTP file of ``n_rows`` edits (sorted by column 1, some deleted, some repeated)."""
    out.write((CRLF.join(ptp_header_lines()) + CRLF).encode(ENC))
    buf: list[str] = []
    per_c1 = 60
    for i in range(n_rows):
        c1 = f"{10000 + i // per_c1:05d}"
        j = i % per_c1
        c2 = f"{20000 + (i * 7919) % 80000:05d}" if j % 5 else f"J{(i // 5) % 10000:04d}"
        if j % 11 == 0:
            buf.append(ptp_line(c1, c2, "20100101", "20231231", "1"))
        elif j % 13 == 0:
            buf.append(ptp_line(c1, c2, "20260701", "20260701", "9"))
        else:
            buf.append(ptp_line(c1, c2, "20190401", "*", "01"[j % 2]))
        if len(buf) >= 10_000:
            out.write((CRLF.join(buf) + CRLF).encode(ENC))
            buf.clear()
    if buf:
        out.write((CRLF.join(buf) + CRLF).encode(ENC))


MUE_NOTICE = (
    "CPT codes, descriptions and other data only are copyright 2025 American Medical Association.\n"
    "All Rights Reserved. Applicable FARS/DFARS Restrictions Apply to Government Use."
)


def mue_file(rows: Iterable[tuple[str, int | str, str]], setting: str = "practitioner") -> bytes:
    """MUE CSV: rows of (code, MUE value, indicator text such as '1 Line Edit')."""
    col = "Practitioner Services MUE Values" if setting == "practitioner" else "Outpatient Hospital Services MUE Values"
    text = f'"{MUE_NOTICE}"{CRLF}'
    text += f'"HCPCS/\nCPT Code",{col},MUE Adjudication Indicator,MUE Rationale{CRLF}'
    for code, value, ind in rows:
        text += f"{code},{value},{ind},Nature of Service/Procedure{CRLF}"
    return text.encode(ENC)


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def write_samples(out: Path, ptp_rows: int = 0) -> list[Path]:
    """Write one small file of every kind (2026 Q3), as CMS names them, into ``out``.

    ``python -m tests.reconcile.codesets.synth DIR [PTP_ROWS]`` runs this; with PTP_ROWS the
    practitioner PTP file is the streamed generator's (e.g. 1500000 for a full-size file).
    """
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "HCPC2026_JUL_ANWEB.txt": hcpcs_file(
            [
                Hcpcs("J9035", "Injection, bevacizumab, 10 mg", added="20050101"),
                Hcpcs("J0174", "Injection, synthetic new drug, 1 mg", added="20260701", action="A"),
                Hcpcs("J0001", "Injection, retired drug, 5 mg", added="20100101", terminated="20260630"),
                Hcpcs(
                    "JG",
                    "Drug or biological acquired with 340b drug pricing program discount",
                    added="20180101",
                    terminated="20241231",
                    modifier=True,
                ),
                Hcpcs(
                    "TB",
                    "Drug or biological acquired with 340b drug pricing program discount, tracking",
                    added="20230101",
                    modifier=True,
                ),
                Hcpcs("JW", "Drug amount discarded/not administered to any patient", added="20030101", modifier=True),
                Hcpcs(
                    "JZ", "Zero drug amount discarded/not administered to any patient", added="20220701", modifier=True
                ),
            ]
        ),
        "Section 508 version of July 2026 Payment Limit File.csv": asp_file(
            [("J9035", "Bevacizumab injection", "10 MG", "75.492"), ("J0174", "Synthetic", "1 MG", "12.500")]
        ),
        "Section 508 version of July 2026 ASP NDC-HCPCS Crosswalk.csv": asp_ndc_file(
            [("J9035", "50242-0060-01", "40", "40"), ("J0174", "99999-0001-01", "100", "100")]
        ),
        "ccioph-v322r0-f1.TXT": ptp_file(
            [("96413", "96365", "20100101", "*", "1"), ("96365", "96360", "20100101", "*", "1")]
        ),
        "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv": mue_file(
            [("J9035", 160, "3 Date of Service Edit: Clinical"), ("96365", 1, "1 Line Edit")]
        ),
        "MCR_MUE_OutpatientHospitalServices_Eff_07-01-2026.csv": mue_file(
            [("J9035", 160, "3 Date of Service Edit: Clinical"), ("96365", 1, "2 Date of Service Edit: Policy")],
            "facility",
        ),
    }
    written = [write(out / name, data) for name, data in files.items()]
    ptp = out / "ccipra-v322r0-f1.TXT"
    with ptp.open("wb") as f:
        if ptp_rows:
            write_ptp(f, ptp_rows)
        else:
            f.write(ptp_file([("96413", "96365", "20100101", "*", "1"), ("96365", "96372", "20100101", "*", "0")]))
    from tests.reconcile.codesets import synth_fees  # the fee schedules (PFS RVU, GPCI, OPPS B)

    return [*written, ptp, *synth_fees.write_samples(out)]


if __name__ == "__main__":
    import sys

    for p in write_samples(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0):
        print(p)
