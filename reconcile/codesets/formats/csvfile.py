"""CSV files with a preamble: rows with their starting line numbers, the header, the period row."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime

from reconcile.codesets.formats.common import ParseContext, is_code, norm_space

__all__ = ["csv_rows", "find_header", "header_key", "parse_period"]

csv.field_size_limit(1 << 24)

_PERIOD = re.compile(
    r"effective\s+(?P<a>[A-Za-z]+\.?\s+\d{1,2},?\s+\d{4})\s+(?:through|thru|to|-)\s+(?P<b>[A-Za-z]+\.?\s+\d{1,2},?\s+\d{4})",
    re.IGNORECASE,
)


def _long_date(s: str) -> date | None:
    t = s.replace(",", " ").replace(".", " ")
    t = " ".join(t.split())
    for fmt in ("%B %d %Y", "%b %d %Y"):
        try:
            return datetime.strptime(t, fmt).date()
        except ValueError:
            continue
    return None


def parse_period(text: str) -> tuple[date, date] | None:
    """ "Effective July 1, 2026 through September 30, 2026" -> (2026-07-01, 2026-09-30).

    >>> parse_period('  Effective July 1, 2026 through September 30, 2026')
    (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30))
    """
    m = _PERIOD.search(norm_space(text))
    if m is None:
        return None
    a, b = _long_date(m.group("a")), _long_date(m.group("b"))
    if a is None or b is None or b < a:
        return None
    return a, b


_BARE_CR = re.compile(r"\r(?!\n)")


def _no_bare_cr(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        yield _BARE_CR.sub(" ", line) if "\r" in line else line


def csv_rows(
    lines: Iterable[str], ctx: ParseContext | None = None, delimiter: str = ","
) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) of every CSV record; quoted cells may span lines.

    A stray carriage return is read as a space; a record the CSV reader cannot read ends the file
    with a finding (``csv-unreadable``) instead of an exception. ``delimiter`` is ``,`` or a tab.
    """
    reader = csv.reader(_no_bare_cr(lines), delimiter=delimiter)
    prev = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if ctx is not None:
                ctx.error(
                    "csv-unreadable", f"CSV record cannot be read ({exc}); the rest of the file is not read", prev + 1
                )
            return
        yield prev + 1, cells
        prev = reader.line_num


def header_key(cell: str) -> str:
    """Header cell for matching: spaces collapsed, lower case."""
    return norm_space(cell).lower()


def find_header(
    rows: Iterator[tuple[int, list[str]]],
    is_header: Callable[[list[str]], bool],
    ctx: ParseContext,
    max_preamble: int = 60,
) -> list[str] | None:
    """Consume preamble rows up to and including the header; note a period row on the way."""
    for n, (_line, cells) in enumerate(rows):
        if is_header(cells):
            return cells
        if ctx.period_from is None:
            period = parse_period(" ".join(cells))
            if period is not None:
                ctx.period_from, ctx.period_to = period
        if n >= max_preamble:
            break
    return None


def coded_rows(
    rows: Iterable[tuple[int, list[str]]],
    ctx: ParseContext,
    prefix: str,
    is_note: Callable[[list[str]], bool],
    code_at: int = 0,
    what: str = "code",
) -> Iterator[tuple[int, list[str], str]]:
    """(line number, cells, code) of each data row whose column ``code_at`` holds a 5-character code.

    Blank rows are skipped. A row without a valid code is a note (``PREFIX-note-row``, info) when
    ``is_note(cells)`` says its data columns are empty, else an error (``PREFIX-bad-code``) that
    names the cell as not a 5-character ``what``.
    """
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        code = norm_space(cells[code_at]).upper() if code_at < len(cells) else ""
        if not is_code(code):
            if is_note(cells):
                ctx.info(f"{prefix}-note-row", "row without a code read as a note", line)
            else:
                ctx.error(f"{prefix}-bad-code", f"'{code[:20]}' is not a 5-character {what}", line)
            continue
        yield line, cells, code
