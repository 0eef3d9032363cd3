"""Physician fee schedule relative value file (``PPRRVU{YYYY}_{Mon}_nonQPP.csv`` / ``_QPP.csv``).

Five preamble rows (title, CPT and ADA notices, a blank row, ``RELEASED mm/dd/yyyy``), then a header
stacked over five rows whose last row starts ``HCPCS,MOD``. Each column's name is the words of its
header cells read top to bottom (``NON-FAC`` / ``PE RVU`` -> ``non-fac pe rvu``), so a column added
in some year (``PRIC IND`` in 2026) does not move the others; when a name is not found the 2026
position answers. The DESCRIPTION column is never read (CPT descriptors are AMA content).

Rows: ``(code, modifier, status, work_rvu, pe_nonfacility_rvu, pe_facility_rvu, mp_rvu,
conversion_factor)``; RVUs exact decimal strings, a PE RVU None when the file leaves it blank or
``NA`` (not applicable in that setting).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from reconcile.codesets.formats.common import ParseContext, norm_space, parse_decimal
from reconcile.codesets.formats.csvfile import coded_rows, csv_rows, header_key

__all__ = ["PfsRow", "is_header", "looks_like", "parse"]

PfsRow = tuple[str, str, str, str, str | None, str | None, str, str]

#: column -> (words its stacked header reads as, 2026 position)
_COLUMNS: dict[str, tuple[tuple[str, ...], int]] = {
    "status": (("status code", "status"), 3),
    "work": (("work rvu", "work rvus"), 5),
    "pe_nonfac": (("non-fac pe rvu", "non-facility pe rvu", "non-facility pe rvus"), 6),
    "pe_fac": (("facility pe rvu", "facility pe rvus"), 8),
    "mp": (("mp rvu", "mp rvus", "malpractice rvu"), 10),
    "cf": (("conv factor", "conversion factor"), 25),
}


def is_header(cells: list[str]) -> bool:
    return len(cells) > 2 and header_key(cells[0]) == "hcpcs" and header_key(cells[1]) in ("mod", "modifier")


def looks_like(head: list[str]) -> bool:
    text = header_key(" ".join(head))
    return (
        any(header_key(ln).replace('"', "").startswith("hcpcs,mod,") for ln in head)
        and "rvu" in text
        and ("conv" in text or "relative value" in text)
    )


def _names(stack: list[list[str]], header: list[str]) -> list[str]:
    width = len(header)
    out = []
    for i in range(width):
        words = [norm_space(r[i]) for r in [*stack, header] if i < len(r) and norm_space(r[i])]
        out.append(header_key(" ".join(words)))
    return out


def _find(names: list[str], key: str) -> int:
    wanted, pos = _COLUMNS[key]
    for i, n in enumerate(names):
        # the facility PE column must not be taken for the non-facility one
        if any(n.endswith(w) or n == w for w in wanted) and not (key == "pe_fac" and "non-fac" in n):
            return i
    return pos


def parse(lines: Iterable[str], ctx: ParseContext) -> Iterator[PfsRow]:
    rows = csv_rows(lines, ctx)
    stack: list[list[str]] = []
    header: list[str] | None = None
    for n, (_line, cells) in enumerate(rows):
        if is_header(cells):
            header = cells
            break
        stack = [*stack[-4:], cells]
        if n > 60:
            break
    if header is None:
        ctx.error("pfs-no-header", "no header row starting 'HCPCS,MOD'")
        return
    names = _names(stack, header)
    idx = {k: _find(names, k) for k in _COLUMNS}
    need = max(idx.values())
    seen: set[tuple[str, str]] = set()
    for line, cells, code in coded_rows(
        rows, ctx, "pfs", lambda cells: len(cells) <= need or not "".join(cells[3:need]).strip()
    ):
        if len(cells) <= need:
            ctx.error("pfs-short-row", f"{code}: row has {len(cells)} columns, needs {need + 1}", line)
            continue
        mod = norm_space(cells[1]).upper()
        values: dict[str, str | None] = {}
        bad = None
        for key in ("work", "pe_nonfac", "pe_fac", "mp", "cf"):
            raw = norm_space(cells[idx[key]])
            if key in ("pe_nonfac", "pe_fac") and raw.upper() in ("", "NA", "N/A"):
                values[key] = None
                continue
            d = parse_decimal(raw)
            if d is None or d < 0:
                bad = (key, raw)
                break
            values[key] = str(d)
        if bad is not None:
            ctx.error(
                "pfs-bad-number", f"{code}{'-' + mod if mod else ''}: {bad[0]} '{bad[1][:20]}' is not a decimal", line
            )
            continue
        if (code, mod) in seen:
            ctx.error("pfs-duplicate", f"{code}{'-' + mod if mod else ''} appears twice; the first row is kept", line)
            continue
        seen.add((code, mod))
        ctx.rows += 1
        yield (
            code,
            mod,
            norm_space(cells[idx["status"]]).upper()[:2],
            str(values["work"]),
            values["pe_nonfac"],
            values["pe_fac"],
            str(values["mp"]),
            str(values["cf"]),
        )
    if ctx.rows == 0:
        ctx.error("pfs-no-rows", "no data rows after the header")
