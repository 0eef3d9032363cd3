"""What every CMS file parser shares: decoding, line splitting, dates, codes and findings.

CMS publishes Windows-1252 text (it says "latin-1"; ``0x92``, ``0xA0`` and ``®`` occur) with CRLF
record ends. A parser reads decoded lines (each with its line end, so the CSV reader can join a
quoted cell that holds a line break) and yields plain row tuples, ready for the store; every
problem becomes a :class:`~coding.findings.Finding` with the file name and line number in the
parser's :class:`ParseContext`. Parsers never raise on bad data.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from coding.findings import Finding, Severity

__all__ = [
    "MAX_FINDINGS_PER_CODE",
    "ParseContext",
    "decode_line",
    "iso_yyyymmdd",
    "norm_space",
    "parse_decimal",
    "split_lines",
]

#: Findings of one code kept per file; the rest are counted in a closing summary finding.
MAX_FINDINGS_PER_CODE = 200


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) read as Latin-1."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


codecs.register_error("dripline-cp1252", _cp1252_fallback)


def decode_line(raw: bytes, utf8: bool = False) -> str:
    """One line of a CMS file as text (Windows-1252, or UTF-8 when the file starts with a BOM)."""
    if utf8:
        return raw.decode("utf-8", "replace")
    return raw.decode("cp1252", "dripline-cp1252")


_LINE = re.compile(r"[^\n]*\n|[^\n]+$")


def split_lines(text: str) -> Iterator[str]:
    """Lines of ``text`` split on LF only, each keeping its line end (CR stays with it)."""
    for m in _LINE.finditer(text):
        yield m.group(0)


_WS = re.compile(r"[\s\u00a0\ufeff]+")


def norm_space(s: str) -> str:
    """Non-breaking spaces, BOMs, tabs and line breaks to one space; trimmed."""
    return _WS.sub(" ", s).strip()


_DATE_CACHE: dict[str, str | None] = {}


def iso_yyyymmdd(s: str) -> str | None:
    """``YYYYMMDD`` -> ``YYYY-MM-DD``; None when it is not a valid calendar date (cached: files
    repeat a few thousand dates over millions of rows)."""
    hit = _DATE_CACHE.get(s, "")
    if hit != "":
        return hit
    out: str | None = None
    if len(s) == 8 and s.isdigit():
        try:
            out = date(int(s[:4]), int(s[4:6]), int(s[6:])).isoformat()
        except ValueError:
            out = None
    if len(_DATE_CACHE) < 100_000:
        _DATE_CACHE[s] = out
    return out


def parse_decimal(s: str) -> Decimal | None:
    """A bare decimal (``75.492``, ``$1,234.50``, ``0.5``); None when it is not one."""
    t = norm_space(s).replace(",", "").removeprefix("$")
    if not t:
        return None
    try:
        d = Decimal(t)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


@dataclass
class ParseContext:
    """What a parse learned besides its rows: findings and the period the content states."""

    file: str
    kind: str
    findings: list[Finding] = field(default_factory=list)
    period_from: date | None = None  # effective period stated in the file (ASP period row)
    period_to: date | None = None
    latest_date: date | None = None  # newest effective/action date seen (quarter fallback)
    setting: str | None = None  # PTP/MUE setting the content names, when it does
    rows: int = 0
    n_errors: int = 0
    n_warnings: int = 0
    _counts: dict[str, int] = field(default_factory=dict)

    def add(self, severity: Severity, code: str, message: str, line: int | None = None) -> None:
        """Record a finding at ``line`` (capped per code; :meth:`close` reports how many more)."""
        n = self._counts.get(code, 0) + 1
        self._counts[code] = n
        if severity == "error":
            self.n_errors += 1
        elif severity == "warning":
            self.n_warnings += 1
        if n <= MAX_FINDINGS_PER_CODE:
            self.findings.append(Finding(severity, code, message, file=self.file, line=line))

    def error(self, code: str, message: str, line: int | None = None) -> None:
        self.add("error", code, message, line)

    def warning(self, code: str, message: str, line: int | None = None) -> None:
        self.add("warning", code, message, line)

    def info(self, code: str, message: str, line: int | None = None) -> None:
        self.add("info", code, message, line)

    def count(self, code: str) -> int:
        return self._counts.get(code, 0)

    def close(self) -> None:
        """Summarize findings beyond the per-code cap (their rows are still counted)."""
        for code, n in self._counts.items():
            if n > MAX_FINDINGS_PER_CODE:
                sev: Severity = next((f.severity for f in self.findings if f.code == code), "warning")
                self.findings.append(
                    Finding(
                        sev, code, f"{n - MAX_FINDINGS_PER_CODE} more '{code}' finding(s) not listed", file=self.file
                    )
                )
        self._counts = {k: min(v, MAX_FINDINGS_PER_CODE) for k, v in self._counts.items()}

    def saw_date(self, iso: str | None) -> None:
        if iso is not None:
            d = date.fromisoformat(iso)
            if self.latest_date is None or d > self.latest_date:
                self.latest_date = d


def is_code(s: str) -> bool:
    """A 5-character HCPCS/CPT code (letters and digits)."""
    return len(s) == 5 and s.isascii() and s.isalnum()


def nonblank(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(line number, text without line end) of every line, numbered from 1."""
    for n, line in enumerate(lines, 1):
        yield n, line.rstrip("\r\n")
