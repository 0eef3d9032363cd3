"""OPPS Addendum B (CSV, or tab-delimited ``... Addendum B.txt``): payment rate by HCPCS code.

A few title and notice rows precede the header; the column set and order vary by year, so columns
are found by name: ``HCPCS Code``, ``SI``, ``APC``, ``Payment Rate`` (``Short Descriptor`` is never
read: CPT descriptors are AMA content). Money is written ``"$3,307.24"`` (sometimes 3 decimals); a
blank or ``.`` rate means none (packaged status indicators). The file carries no per-code dates:
the set is the file's quarter (``--effective``, the name, or a period the preamble states).

Rows: ``(code, status_indicator, apc, payment_rate)``; rate an exact decimal string or None.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from reconcile.codesets.formats.common import ParseContext, norm_space, parse_decimal
from reconcile.codesets.formats.csvfile import coded_rows, csv_rows, find_header, header_key

__all__ = ["OppsRow", "is_header", "looks_like", "parse"]

OppsRow = tuple[str, str, str, str | None]


def _keys(cells: list[str]) -> list[str]:
    return [header_key(c).rstrip("*").strip() for c in cells]


def is_header(cells: list[str]) -> bool:
    keys = _keys(cells)
    return "hcpcs code" in keys and "si" in keys and "payment rate" in keys


def looks_like(head: list[str]) -> bool:
    for ln in head:
        k = header_key(ln.replace("\t", ","))
        cells = [c.strip().strip('"').rstrip("*").strip() for c in k.split(",")]
        if "hcpcs code" in cells and "si" in cells and "payment rate" in cells:
            return True
    return False


def parse(lines: Iterable[str], ctx: ParseContext) -> Iterator[OppsRow]:
    it = iter(lines)
    head = list(itertools.islice(it, 60))
    # the tab-delimited text release: its header line holds tabs
    delim = "\t" if any("\t" in ln and "hcpcs" in ln.lower() for ln in head) else ","
    rows = csv_rows(itertools.chain(head, it), ctx, delimiter=delim)
    header = find_header(rows, is_header, ctx)
    if header is None:
        ctx.error("opps-no-header", "no header row with 'HCPCS Code', 'SI' and 'Payment Rate'")
        return
    keys = _keys(header)
    i_code, i_si, i_rate = keys.index("hcpcs code"), keys.index("si"), keys.index("payment rate")
    i_apc = keys.index("apc") if "apc" in keys else None
    need = max(i_code, i_si, i_rate)
    seen: set[str] = set()
    for line, cells, code in coded_rows(
        rows, ctx, "opps", lambda cells: len(cells) <= need or not norm_space(cells[i_si]), code_at=i_code
    ):
        if len(cells) <= need:
            ctx.error("opps-short-row", f"{code}: row has {len(cells)} columns, needs {need + 1}", line)
            continue
        si = norm_space(cells[i_si]).upper()
        if not si or len(si) > 2 or not si.isalnum():
            ctx.error("opps-bad-si", f"{code}: status indicator '{si[:10]}' is not one", line)
            continue
        raw = norm_space(cells[i_rate])
        rate: str | None = None
        if raw not in ("", ".", "-"):
            d = parse_decimal(raw)
            if d is None or d < 0:
                ctx.error("opps-bad-rate", f"{code}: payment rate '{raw[:20]}' is not an amount", line)
                continue
            rate = str(d)
        if code in seen:
            ctx.error("opps-duplicate", f"{code} appears twice; the first row is kept", line)
            continue
        seen.add(code)
        ctx.rows += 1
        apc = norm_space(cells[i_apc]) if i_apc is not None and i_apc < len(cells) else ""
        yield (code, si, apc if apc != "." else "", rate)
    if ctx.rows == 0:
        ctx.error("opps-no-rows", "no data rows after the header")
