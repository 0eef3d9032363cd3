"""Text from data files shown to people: terminals, HTML pages, CSV files.

Payer names, claim numbers and codes come from files we do not control. Shown as they are, a
control character can move a terminal's cursor or rewrite what is on screen (``ESC [``), a
right-to-left override can reorder a line, and a CSV cell that starts with ``=``, ``+``, ``-``
or ``@`` is run as a formula by spreadsheet programs. These functions make such text inert and
visible without losing it:

>>> visible("ACME\\x1b[2J\\u202eHEALTH")
'ACME\\\\x1b[2J\\\\u202eHEALTH'
>>> csv_cell("=HYPERLINK(1)")
"'=HYPERLINK(1)"
>>> csv_cell("-12.50"), csv_cell("+1"), csv_cell("-1+2")
('-12.50', '+1', "'-1+2")
>>> csv_cell(None), csv_cell(3)
('', '3')
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# C0 and C1 controls and DEL, lone surrogates, and the format characters that change the order
# or the look of a line (bidirectional marks, embeddings, overrides and isolates; line and
# paragraph separators).
_HIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control or invisible formatting character written as an escape
    (``\\x1b``, ``\\u202e``); everything else unchanged."""
    return _HIDDEN.sub(_escape, text) if _HIDDEN.search(text) else text


def csv_cell(value: Any) -> str:
    """One CSV cell: ``None`` is empty, hidden characters are escaped, and a text that a
    spreadsheet would read as a formula (first character ``= + - @``, tab or line break) gets a
    leading apostrophe. Plain numbers (``-12.50``) are left as they are: they are data, not
    formulas."""
    if value is None:
        return ""
    raw = str(value)
    text = visible(raw)
    head = raw.lstrip(" ")
    if head.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(raw):
        return "'" + text
    return text


def csv_row(values: Iterable[Any]) -> list[str]:
    """Every cell of a row through :func:`csv_cell`."""
    return [csv_cell(v) for v in values]
