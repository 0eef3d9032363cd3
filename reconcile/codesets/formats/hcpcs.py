"""HCPCS Level II quarterly alpha-numeric file (fixed width, CMS record layout).

Records: positions 1-5 code (modifiers: 3 blanks + the modifier), 6-10 sequence, 11 record id
(``3`` first line of a code, ``4`` continuation, ``7``/``8`` the same for modifiers), 12-91 long
description (continuation text is appended with a space), 92-119 short description, 269-276
added date, 277-284 action effective date, 285-292 termination date (last usable day; blank =
active), 293 action code. A prose preamble before the first record is skipped.

Validity comes from the dates, never from the action code; a reactivated code (action ``R``) is
valid from its action effective date. Numeric codes (CPT, should a file carry them) are skipped
and their text is never kept.

Rows: ``(code, is_modifier, added, terminated, action, description, short_description)``, dates
ISO text or None.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from reconcile.codesets.formats.common import ParseContext, iso_yyyymmdd, nonblank

__all__ = ["HcpcsRow", "looks_like", "parse"]

HcpcsRow = tuple[str, int, str | None, str | None, str, str, str]

WIDTH = 293
MAX_PREAMBLE = 60  # lines of prose allowed before the first record


def is_record(line: str) -> bool:
    """A fixed-width record line: sequence digits at 6-10 and a record id 3/4/7/8 at 11."""
    return len(line) >= 11 and line[5:10].isdigit() and line[10] in "3478"


def looks_like(head: list[str]) -> bool:
    """True when the first lines of a file hold HCPCS records of full width."""
    return any(is_record(ln.rstrip("\r\n")) and len(ln.rstrip("\r\n")) >= 200 for ln in head)


@dataclass(slots=True)
class _Rec:
    code: str
    is_mod: int
    added: str | None
    term: str | None
    action: str
    desc: str
    short: str
    line: int


def _date(ctx: ParseContext, raw: str, what: str, code: str, line: int) -> tuple[str | None, bool]:
    s = raw.strip()
    if not s:
        return None, True
    iso = iso_yyyymmdd(s)
    if iso is None:
        ctx.error("hcpcs-bad-date", f"{code}: {what} '{s}' is not a YYYYMMDD date", line)
        return None, False
    return iso, True


def parse(lines: Iterable[str], ctx: ParseContext) -> Iterator[HcpcsRow]:
    """Yield one row per Level II code or modifier (continuations joined)."""
    current: _Rec | None = None
    seen: set[tuple[str, int]] = set()
    started = False
    skipped_numeric = 0

    def emit(rec: _Rec) -> HcpcsRow | None:
        key = (rec.code, rec.is_mod)
        if key in seen:
            ctx.error("hcpcs-duplicate", f"{rec.code} appears twice; the first record is kept", rec.line)
            return None
        seen.add(key)
        ctx.rows += 1
        return (rec.code, rec.is_mod, rec.added, rec.term, rec.action, rec.desc, rec.short)

    for n, line in nonblank(lines):
        if not line.strip():
            continue
        if not is_record(line):
            if not started and n <= MAX_PREAMBLE:
                continue  # disclaimer prose before the first record
            ctx.error("hcpcs-bad-record", "not an HCPCS record (positions 6-11: sequence and record id)", n)
            continue
        started = True
        rid = line[10]
        raw_code = line[0:5]
        is_mod = rid in "78"
        code = raw_code.strip().upper()
        if rid in "48":
            if current is None or code != current.code or is_mod != bool(current.is_mod):
                if code[:1].isdigit():
                    continue  # continuation of a skipped numeric code
                ctx.error("hcpcs-orphan-continuation", f"continuation of {code or '?'} without its first record", n)
                continue
            current.desc = f"{current.desc} {line[11:91].strip()}".strip()
            continue
        if current is not None:
            row = emit(current)
            if row is not None:
                yield row
            current = None
        if not is_mod and code[:1].isdigit():
            skipped_numeric += 1  # CPT: never stored
            continue
        if is_mod and (raw_code[:3].strip() or len(code) != 2 or not code.isalnum()):
            ctx.error("hcpcs-bad-code", f"modifier record with code field '{raw_code.strip()}'", n)
            continue
        if not is_mod and (len(code) != 5 or not code.isalnum() or not code[0].isalpha()):
            ctx.error("hcpcs-bad-code", f"'{raw_code.strip()}' is not a Level II code", n)
            continue
        if len(line) < 284:
            ctx.error("hcpcs-short-record", f"{code}: record is {len(line)} characters, the layout needs 293", n)
            continue
        rec = line.ljust(WIDTH)
        added, ok1 = _date(ctx, rec[268:276], "added date", code, n)
        act_eff, ok2 = _date(ctx, rec[276:284], "action effective date", code, n)
        term, ok3 = _date(ctx, rec[284:292], "termination date", code, n)
        if not (ok1 and ok2 and ok3):
            continue
        action = rec[292].strip().upper()
        if action == "R" and act_eff is not None:
            added = act_eff  # reactivated: valid again from the action effective date
        ctx.saw_date(act_eff)
        current = _Rec(code, int(is_mod), added, term, action, rec[11:91].strip(), rec[91:119].strip(), n)
    if current is not None:
        row = emit(current)
        if row is not None:
            yield row
    if skipped_numeric:
        ctx.info("hcpcs-numeric-skipped", f"{skipped_numeric} numeric (CPT) code record(s) skipped; not stored")
    if not started:
        ctx.error("hcpcs-no-records", "no HCPCS records found")
