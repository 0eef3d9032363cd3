"""ASP NDC-HCPCS crosswalk: CSV with a preamble, header first cell ``_YYYY_CODE``.

Columns by name: the code (``_YYYY_CODE``), ``NDC2`` (or ``NDC``; 11-digit 5-4-2 with hyphens),
``BILLUNITS`` (HCPCS units in one item) and ``BILLUNITSPKG`` (in one package), both decimals. An NDC
may map to several codes; 10-digit dashed forms (4-4-2, 5-3-2, 5-4-1) are padded to 11 digits.
Rows whose product number is not an NDC are reported and left out. Labeler, drug name and descriptions are not kept.

Rows: ``(ndc11, code, units_per_item, units_per_package)`` (decimal strings or None).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from coding.identifiers import InvalidIdentifier
from coding.identifiers import ndc as ndc_id
from reconcile.codesets.formats.common import ParseContext, norm_space, parse_decimal
from reconcile.codesets.formats.csvfile import coded_rows, csv_rows, find_header, header_key

__all__ = ["NdcRow", "is_header", "looks_like", "parse"]

NdcRow = tuple[str, str, str | None, str | None]

_CODE_COL = re.compile(r"^_?\d{4}_code$")


def is_header(cells: list[str]) -> bool:
    keys = [header_key(c) for c in cells]
    return bool(keys) and _CODE_COL.match(keys[0].lstrip("\ufeff")) is not None and "billunits" in keys


def looks_like(head: list[str]) -> bool:
    return any(re.match(r"^\W*_?\d{4}_code\b", ln.strip().lower()) and "billunits" in ln.lower() for ln in head)


def parse(lines: Iterable[str], ctx: ParseContext) -> Iterator[NdcRow]:
    rows = csv_rows(lines, ctx)
    header = find_header(rows, is_header, ctx)
    if header is None:
        ctx.error("asp-ndc-no-header", "no header row starting '_YYYY_CODE' with 'BILLUNITS'")
        return
    keys = [header_key(c) for c in header]
    i_ndc = keys.index("ndc2") if "ndc2" in keys else keys.index("ndc") if "ndc" in keys else -1
    if i_ndc < 0:
        ctx.error("asp-ndc-no-header", "the header has no 'NDC2' column")
        return
    i_item = keys.index("billunits")
    i_pkg = keys.index("billunitspkg") if "billunitspkg" in keys else -1
    seen: set[tuple[str, str]] = set()
    for line, cells, code in coded_rows(
        rows, ctx, "asp-ndc", lambda cells: len(cells) <= i_item or not "".join(cells[1:]).strip(), what="HCPCS code"
    ):
        if len(cells) <= max(i_ndc, i_item, i_pkg):
            ctx.error("asp-ndc-short-row", f"{code}: row has {len(cells)} columns, the header {len(header)}", line)
            continue
        raw_ndc = norm_space(cells[i_ndc])
        try:
            digits = ndc_id.to_11(raw_ndc)
        except InvalidIdentifier:
            ctx.warning("asp-ndc-not-ndc", f"{code}: product number '{raw_ndc[:20]}' is not an NDC", line)
            continue
        units: list[str | None] = []
        bad = False
        for i, what in ((i_item, "BILLUNITS"), (i_pkg, "BILLUNITSPKG")):
            raw = norm_space(cells[i]) if i >= 0 else ""
            if not raw:
                units.append(None)
                continue
            d = parse_decimal(raw)
            if d is None or d <= 0:
                ctx.error("asp-ndc-bad-units", f"{code} {digits}: {what} '{raw[:20]}' is not a positive decimal", line)
                bad = True
                break
            units.append(str(d))
        if bad:
            continue
        if (digits, code) in seen:
            ctx.warning("asp-ndc-duplicate", f"{code} {digits} appears twice; the first row is kept", line)
            continue
        seen.add((digits, code))
        ctx.rows += 1
        yield (digits, code, units[0], units[1])
    if ctx.rows == 0:
        ctx.error("asp-ndc-no-rows", "no data rows after the header")
