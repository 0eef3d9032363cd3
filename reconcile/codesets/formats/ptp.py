"""NCCI procedure-to-procedure (PTP) edits: tab-delimited, one file per setting and code range.

Line 1 is the AMA notice, line 2 ``Column1/Column2 Edits``, then a header wrapped over four lines
(``Column 1``, ``Column 2``, ``*=in existence prior to 1996``, ``Effective Date``, ``Deletion Date
*=no data``, ``Modifier 0=not allowed 1=allowed 9=not applicable``, ``PTP Edit Rationale``). Data
rows: column 1 and column 2 codes (5 characters, CPT or HCPCS), the pre-1996 mark, effective date
and deletion date (``YYYYMMDD``), the modifier indicator (0/1/9) and a short rationale.

Deletion date: ``*`` means the edit is active (None). A date is read as the **last day the edit is
in force** (inclusive): CMS publishes quarter-end values such as ``20231231`` for edits that stop
with the quarter, so an edit deleted ``20231231`` still applies to a service on 2023-12-31 and not
on 2024-01-01 (:meth:`coding.codesets.PtpEdit.active_on`). Rows with effective = deletion carry
indicator 9 and never apply. A pair may repeat with different dates; all rows are kept and the
lookup picks the one in force.

The setting (practitioner ``ccipra``, hospital ``ccioph``) is only in the file name.

Rows: ``(column1, column2, effective, deleted, indicator, line)``, dates ISO text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from reconcile.codesets.formats.common import ParseContext, iso_yyyymmdd

__all__ = ["PtpRow", "looks_like", "parse"]

PtpRow = tuple[str, str, str, str | None, str, int]

MAX_PREAMBLE = 30
_INDICATORS = frozenset("019")


def _is_data(parts: list[str]) -> bool:
    return (
        len(parts) >= 6
        and len(parts[0].strip()) == 5
        and len(parts[1].strip()) == 5
        and len(parts[3].strip()) == 8
        and parts[3].strip().isdigit()
    )


def looks_like(head: list[str]) -> bool:
    """``Column1/Column2`` title or header in the first lines, and tab-delimited data rows."""
    text = " ".join(head[:12]).lower()
    titled = "column1/column2" in text.replace(" ", "") or ("column 1" in text and "deletion date" in text)
    return titled and any(_is_data(ln.rstrip("\r\n").split("\t")) for ln in head)


def parse(lines: Iterable[str], ctx: ParseContext) -> Iterator[PtpRow]:
    started = False
    rows = 0
    latest = ""
    for n, line in enumerate(lines, 1):
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) < 6:
            if not line.strip():
                continue
            if not started and n <= MAX_PREAMBLE:
                continue  # notice, title and the wrapped header
            ctx.error("ptp-bad-row", f"expected 6-7 tab-separated fields, found {len(parts)}", n)
            continue
        c1 = parts[0].strip().upper()
        c2 = parts[1].strip().upper()
        eff_raw = parts[3].strip()
        if len(c1) != 5 or len(c2) != 5 or not c1.isalnum() or not c2.isalnum():
            if not started and n <= MAX_PREAMBLE:
                continue
            ctx.error("ptp-bad-code", "column 1 and column 2 must be 5-character codes", n)
            continue
        started = True
        eff = iso_yyyymmdd(eff_raw)
        if eff is None:
            ctx.error("ptp-bad-date", f"{c1}/{c2}: effective date '{eff_raw[:10]}' is not YYYYMMDD", n)
            continue
        del_raw = parts[4].strip()
        deleted: str | None = None
        if del_raw != "*":
            deleted = iso_yyyymmdd(del_raw)
            if deleted is None:
                ctx.error("ptp-bad-date", f"{c1}/{c2}: deletion date '{del_raw[:10]}' is not YYYYMMDD or '*'", n)
                continue
        ind = parts[5].strip()
        if ind not in _INDICATORS:
            ctx.error("ptp-bad-indicator", f"{c1}/{c2}: modifier indicator '{ind[:5]}' is not 0, 1 or 9", n)
            continue
        if eff > latest:
            latest = eff
        rows += 1
        yield (c1, c2, eff, deleted, ind, n)
    ctx.rows += rows
    ctx.saw_date(latest or None)
    if not started:
        ctx.error("ptp-no-rows", "no PTP edit rows found")
