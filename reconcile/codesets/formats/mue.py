"""NCCI medically unlikely edits (MUE): CSV whose first record is a quoted multi-line notice.

The header's first cell is ``"HCPCS/<LF>CPT Code"`` (a line break inside quotes), then
``Practitioner Services MUE Values`` (facility: ``Outpatient Hospital Services MUE Values``), ``MUE
Adjudication Indicator`` and ``MUE Rationale``. Record ends are CRLF, breaks inside quoted cells
bare LF. The indicator is a digit and a label: ``1 Line Edit`` (per line), ``2 Date of Service
Edit: Policy`` and ``3 Date of Service Edit: Clinical`` (all lines of the code on the date).

Rows: ``(code, value, indicator, rationale)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from reconcile.codesets.formats.common import ParseContext, norm_space
from reconcile.codesets.formats.csvfile import coded_rows, csv_rows, find_header, header_key

__all__ = ["MueRow", "is_header", "looks_like", "parse", "setting_of"]

MueRow = tuple[str, int, str, str]


def setting_of(text: str) -> str | None:
    """``practitioner`` / ``facility`` from the MUE-values header cell."""
    t = header_key(text)
    if "mue value" not in t:
        return None
    if "practitioner" in t:
        return "practitioner"
    if "hospital" in t or "facility" in t:
        return "facility"
    return None


def is_header(cells: list[str]) -> bool:
    return (
        len(cells) >= 3
        and "hcpcs" in header_key(cells[0])
        and any(setting_of(c) for c in cells[1:3])
        and "indicator" in header_key(cells[2])
    )


def looks_like(head: list[str]) -> bool:
    text = header_key(" ".join(head))
    return "mue values" in text and "mue adjudication indicator" in text


def parse(lines: Iterable[str], ctx: ParseContext) -> Iterator[MueRow]:
    rows = csv_rows(lines, ctx)
    header = find_header(rows, is_header, ctx)
    if header is None:
        ctx.error("mue-no-header", "no header row 'HCPCS/CPT Code', '... MUE Values', 'MUE Adjudication Indicator'")
        return
    ctx.setting = setting_of(header[1]) or setting_of(header[2])
    seen: set[str] = set()
    for line, cells, code in coded_rows(
        rows, ctx, "mue", lambda cells: len(cells) < 3 or not "".join(cells[1:3]).strip()
    ):
        if len(cells) < 3:
            ctx.error("mue-short-row", f"{code}: row has {len(cells)} columns, needs 3", line)
            continue
        raw_value = norm_space(cells[1])
        if not raw_value.isdigit():
            ctx.error("mue-bad-value", f"{code}: MUE value '{raw_value[:10]}' is not a whole number", line)
            continue
        ind_text = norm_space(cells[2])
        ind = ind_text[:1]
        if ind not in ("1", "2", "3") or (len(ind_text) > 1 and ind_text[1].isdigit()):
            ctx.error("mue-bad-indicator", f"{code}: adjudication indicator '{ind_text[:30]}' is not 1, 2 or 3", line)
            continue
        if code in seen:
            ctx.error("mue-duplicate", f"{code} appears twice; the first row is kept", line)
            continue
        seen.add(code)
        ctx.rows += 1
        yield (code, int(raw_value), ind, norm_space(cells[3])[:80] if len(cells) > 3 else "")
    if ctx.rows == 0:
        ctx.error("mue-no-rows", "no data rows after the header")
