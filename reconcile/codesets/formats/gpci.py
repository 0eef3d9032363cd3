"""Geographic practice cost indices (PFS Addendum E, ``GPCI{YYYY}.csv`` in the RVU zip).

A title row, a blank row, the header ``Medicare Administrative Contractor (MAC)``, ``State``,
``Locality Number``, ``Locality Name``, ``2026 PW GPCI (with 1.0 Floor)***``, ``2026 PE GPCI``,
``2026 MP GPCI`` (year and footnote marks vary), about 109 rows, then footnotes. The year in the
header dates the set (1 January of that year) when neither ``--effective`` nor the name does
(the RVU release zip's name, ``rvu26c``, dates the GPCI member in it).

Rows: ``(mac, locality, state, work_gpci, pe_gpci, mp_gpci)``; MAC 5 digits, locality 2 digits,
GPCIs exact decimal strings. Locality names are not kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date

from reconcile.codesets.formats.common import ParseContext, norm_space, parse_decimal
from reconcile.codesets.formats.csvfile import csv_rows, find_header, header_key

__all__ = ["GpciRow", "is_header", "looks_like", "parse"]

GpciRow = tuple[str, str, str, str, str, str]

_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")


def _col(keys: list[str], *words: str) -> int | None:
    for i, k in enumerate(keys):
        if all(w in k for w in words):
            return i
    return None


def _mac_col(keys: list[str]) -> int | None:
    for i, k in enumerate(keys):
        if "contractor" in k or "carrier" in k or k == "mac":
            return i
    return None


def is_header(cells: list[str]) -> bool:
    keys = [header_key(c) for c in cells]
    return _mac_col(keys) is not None and _col(keys, "pe gpci") is not None


def looks_like(head: list[str]) -> bool:
    return any(
        ("contractor" in header_key(ln) or "carrier" in header_key(ln)) and "pe gpci" in header_key(ln) for ln in head
    )


def parse(lines: Iterable[str], ctx: ParseContext) -> Iterator[GpciRow]:
    rows = csv_rows(lines, ctx)
    header = find_header(rows, is_header, ctx)
    if header is None:
        ctx.error("gpci-no-header", "no header row with 'Medicare Administrative Contractor (MAC)' and 'PE GPCI'")
        return
    keys = [header_key(c) for c in header]
    i_mac = _mac_col(keys)
    i_state = _col(keys, "state")
    i_loc = _col(keys, "locality number")
    i_pw = _col(keys, "pw gpci") if _col(keys, "pw gpci") is not None else _col(keys, "work gpci")
    i_pe = _col(keys, "pe gpci")
    i_mp = _col(keys, "mp gpci") if _col(keys, "mp gpci") is not None else _col(keys, "malpractice gpci")
    if i_mac is None or i_loc is None or i_pw is None or i_pe is None or i_mp is None:
        ctx.error("gpci-no-header", "the header lacks the locality number or one of the three GPCI columns")
        return
    m = _YEAR.search(keys[i_pe])
    if m:  # dates the set when neither --effective nor the name does
        ctx.saw_date(date(int(m.group(1)), 1, 1).isoformat())
    need = max(i_mac, i_loc, i_pw, i_pe, i_mp)
    seen: set[tuple[str, str]] = set()
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        mac = norm_space(cells[i_mac]) if i_mac < len(cells) else ""
        if not (mac.isdigit() and len(mac) == 5):
            if len(cells) <= need or not "".join(cells[i_pw : need + 1]).strip():
                ctx.info("gpci-note-row", "row without a MAC number read as a note", line)
            else:
                ctx.error("gpci-bad-mac", f"'{mac[:20]}' is not a 5-digit MAC number", line)
            continue
        if len(cells) <= need:
            ctx.error("gpci-short-row", f"MAC {mac}: row has {len(cells)} columns, needs {need + 1}", line)
            continue
        loc = norm_space(cells[i_loc])
        if not loc.isdigit() or len(loc) > 2:
            ctx.error("gpci-bad-locality", f"MAC {mac}: locality '{loc[:10]}' is not a 2-digit number", line)
            continue
        loc = loc.zfill(2)
        gpcis = [parse_decimal(cells[i]) for i in (i_pw, i_pe, i_mp)]
        if any(g is None or g < 0 for g in gpcis):
            ctx.error("gpci-bad-index", f"MAC {mac} locality {loc}: a GPCI is not a decimal", line)
            continue
        if (mac, loc) in seen:
            ctx.error("gpci-duplicate", f"MAC {mac} locality {loc} appears twice; the first row is kept", line)
            continue
        seen.add((mac, loc))
        ctx.rows += 1
        state = norm_space(cells[i_state]).upper()[:2] if i_state is not None and i_state < len(cells) else ""
        yield (mac, loc, state, str(gpcis[0]), str(gpcis[1]), str(gpcis[2]))
    if ctx.rows == 0:
        ctx.error("gpci-no-rows", "no data rows after the header")
