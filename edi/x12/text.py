"""Text safety for X12 output: no input value can break the file's structure.

Every free-text value (names, addresses, ids) goes through :func:`clean` before it is written:
accents are folded to ASCII, anything outside the X12 *basic* character set that we allow in
free text (``A-Z 0-9 space & ' ( ) , - . /``) -- notably the separators ``~ * : ^``, control
characters and non-Latin letters -- becomes a space, runs of spaces collapse, the value is
upper-cased and trimmed. :func:`fit` also enforces the element's maximum length.

>>> clean("José  O'Brien~*:^")
"JOSE O'BRIEN"
>>> clean("Straße\\x07 12")
'STRASSE 12'
>>> clean("李小龍")
''
>>> digits("62701-0001")
'627010001'
>>> fit("A" * 70, 60)
('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', True)
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

# Letters NFKD does not decompose into ASCII.
_FOLD = str.maketrans(
    {
        "ß": "SS",
        "ẞ": "SS",
        "Æ": "AE",
        "æ": "AE",
        "Ø": "O",
        "ø": "O",
        "Œ": "OE",
        "œ": "OE",
        "Đ": "D",
        "đ": "D",
        "Ł": "L",
        "ł": "L",
        "Þ": "TH",
        "þ": "TH",
        "ı": "I",
        "’": "'",
        "‘": "'",
        "–": "-",
        "—": "-",
    }
)
_CLEAN = re.compile(r"[A-Z0-9&'(),\-./]+(?: [A-Z0-9&'(),\-./]+)*")
_BAD = re.compile(r"[^A-Z0-9&'(),\-./ ]+")
_SPACES = re.compile(r" {2,}")
_NOT_DIGIT = re.compile(r"[^0-9]+")


def _load_lengths() -> dict[str, int]:
    """Element maximum lengths by kind, from ``edi/x12/data/x12_element_lengths.csv``."""
    path = Path(__file__).parent / "data" / "x12_element_lengths.csv"
    rows = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    return {r["kind"]: int(r["max_len"]) for r in csv.DictReader(rows)}


MAX_LEN = _load_lengths()


@lru_cache(maxsize=65536)
def clean(value: str | None) -> str:
    """Normalize one free-text value to the safe character set (may return '')."""
    if not value:
        return ""
    up = value.upper()
    if _CLEAN.fullmatch(up):
        return up
    text = unicodedata.normalize("NFKD", value.translate(_FOLD))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper().translate(_FOLD)
    text = _BAD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def digits(value: str | None) -> str:
    """Only the digits of a value (ZIP codes, phone numbers, NPIs, EINs)."""
    return _NOT_DIGIT.sub("", value or "")


_ID_OK = re.compile(r"[A-Z0-9&'(),\-./]+")


def ident(value: str | None) -> str:
    """An identifier (member id, payer id, code): cleaned, without spaces."""
    if value and _ID_OK.fullmatch(value):
        return value
    return clean(value).replace(" ", "")


def fit(value: str, max_len: int) -> tuple[str, bool]:
    """Cut a cleaned value to ``max_len`` characters; the flag tells whether it was cut."""
    if len(value) <= max_len:
        return value, False
    return value[:max_len].rstrip(), True


def is_safe(value: str) -> bool:
    """True when a value can be written as is (already clean, no separators)."""
    return not value or _CLEAN.fullmatch(value) is not None
