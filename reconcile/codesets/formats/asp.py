"""ASP pricing file ("Payment Allowance Limits for Medicare Part B Drugs"): CSV with a preamble.

The preamble holds the title, the period row ("Effective July 1, 2026 through September 30, 2026")
and notes; the header names the columns (``HCPCS Code``, ``Short Description``, ``HCPCS Code
Dosage``, ``Payment Limit``, ...). Columns are found by name, so added or empty columns (2026
files carry an unnamed one) do not matter. The short description is not kept (the file carries
CPT descriptors for some codes).

Rows: ``(code, dosage_text, quantity, unit, payment_limit)``; quantity/unit None when the dosage
is not one number and a known unit (a warning names it: never a guess); payment limit an exact
decimal string or None for ``N/A``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from reconcile.codesets.formats.common import ParseContext, norm_space, parse_decimal
from reconcile.codesets.formats.csvfile import coded_rows, csv_rows, find_header, header_key
from reconcile.codesets.formats.dosage import parse_dosage

__all__ = ["AspRow", "is_header", "looks_like", "parse"]

AspRow = tuple[str, str, str | None, str | None, str | None]


def is_header(cells: list[str]) -> bool:
    keys = {header_key(c) for c in cells}
    return "hcpcs code" in keys and "payment limit" in keys and "hcpcs code dosage" in keys


def looks_like(head: list[str]) -> bool:
    return any(
        "hcpcs code dosage" in header_key(ln) and "payment limit" in header_key(ln) and "hcpcs code" in header_key(ln)
        for ln in head
    )


def parse(lines: Iterable[str], ctx: ParseContext) -> Iterator[AspRow]:
    rows = csv_rows(lines, ctx)
    header = find_header(rows, is_header, ctx)
    if header is None:
        ctx.error("asp-no-header", "no header row with 'HCPCS Code', 'HCPCS Code Dosage' and 'Payment Limit'")
        return
    keys = [header_key(c) for c in header]
    i_code, i_dose, i_limit = keys.index("hcpcs code"), keys.index("hcpcs code dosage"), keys.index("payment limit")
    seen: set[str] = set()
    for line, cells, code in coded_rows(
        rows,
        ctx,
        "asp",
        lambda cells: len(cells) <= i_limit or not "".join(cells[i_dose : i_limit + 1]).strip(),
        code_at=i_code,
        what="HCPCS code",
    ):
        if len(cells) <= max(i_dose, i_limit):
            ctx.error("asp-short-row", f"{code}: row has {len(cells)} columns, the header {len(header)}", line)
            continue
        if code in seen:
            ctx.error("asp-duplicate", f"{code} appears twice; the first row is kept", line)
            continue
        dose_text = norm_space(cells[i_dose])
        dose = parse_dosage(dose_text)
        if dose is None:
            ctx.warning(
                "asp-dosage-unparsed", f"{code}: dosage '{dose_text[:40]}' is not a number and a unit; not used", line
            )
        raw_limit = norm_space(cells[i_limit])
        limit: str | None = None
        if raw_limit.upper() not in ("N/A", "NA", ""):
            d = parse_decimal(raw_limit)
            if d is None or d < 0:
                ctx.error("asp-bad-limit", f"{code}: payment limit '{raw_limit[:20]}' is not a decimal", line)
                continue
            limit = str(d)
        seen.add(code)
        ctx.rows += 1
        yield (code, dose_text, str(dose[0]) if dose else None, dose[1] if dose else None, limit)
    if ctx.rows == 0:
        ctx.error("asp-no-rows", "no data rows after the header")
