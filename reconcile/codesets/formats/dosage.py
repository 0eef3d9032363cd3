"""Billing-unit text ("10 MG", "1000 cc", "up to 40 Units") to a quantity and a normalized unit.

The ASP file's "HCPCS Code Dosage" is mostly upper case (``10 MG``, ``2 MEQ``, ``1000 CC``) but real
files also hold lower case, non-breaking spaces, trailing spaces and free text (``per dose``,
``200 mg/300 mg``). Case and whitespace are normalized; anything that is not one number and one
known unit is left unparsed (the caller reports it), never guessed. Units use the coder's
vocabulary: ``mg``, ``mcg``, ``g``, ``units``, ``mL``, ``meq``, ``mmol``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from reconcile.codesets.formats.common import norm_space

__all__ = ["UNIT_WORDS", "parse_descriptor_unit", "parse_dosage"]

#: Spellings of a unit (lower case) -> normalized unit.
UNIT_WORDS: dict[str, str] = {
    "mg": "mg",
    "milligram": "mg",
    "milligrams": "mg",
    "mcg": "mcg",
    "microgram": "mcg",
    "micrograms": "mcg",
    "ug": "mcg",
    "g": "g",
    "gm": "g",
    "gram": "g",
    "grams": "g",
    "ml": "mL",
    "cc": "mL",
    "milliliter": "mL",
    "milliliters": "mL",
    "unit": "units",
    "units": "units",
    "u": "units",
    "iu": "units",
    "usp unit": "units",
    "usp units": "units",
    "international unit": "units",
    "international units": "units",
    "meq": "meq",
    "mmol": "mmol",
}

_NUM = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_DOSAGE = re.compile(rf"^(?:(?:up\s+to|per)\s+)?{_NUM}\s*(?P<mult>million\s+|billion\s+)?(?P<unit>[a-z][a-z ]*?)\.?$")


def parse_dosage(text: str) -> tuple[Decimal, str] | None:
    """``(quantity, unit)`` of a dosage text; None when it is not one number and one known unit.

    >>> parse_dosage("10 MG"), parse_dosage("1000\\u00a0cc "), parse_dosage("up to 40 Units")
    ((Decimal('10'), 'mg'), (Decimal('1000'), 'mL'), (Decimal('40'), 'units'))
    >>> parse_dosage("per dose") is None, parse_dosage("200 mg/300 mg") is None, parse_dosage("") is None
    (True, True, True)
    >>> parse_dosage("1,000 USP UNITS"), parse_dosage("0.5 MG")
    ((Decimal('1000'), 'units'), (Decimal('0.5'), 'mg'))
    """
    t = norm_space(text).lower()
    m = _DOSAGE.match(t)
    if m is None:
        return None
    unit = UNIT_WORDS.get(m.group("unit").strip())
    if unit is None:
        return None
    try:
        qty = Decimal(m.group("num").replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None
    if m.group("mult"):
        if unit != "units":
            return None
        qty *= Decimal(1_000_000) if m.group("mult").startswith("million") else Decimal(1_000_000_000)
    if qty <= 0:
        return None
    return qty, unit


def parse_descriptor_unit(description: str) -> tuple[Decimal, str, str] | None:
    """The billing unit at the end of an HCPCS drug descriptor: ``(quantity, unit, text)``.

    Only the last comma-separated part is read, and only when it is a plain dosage ("10 mg",
    "per 1,000 units", "up to 50 mg"); anything else (per vial, ranges, combinations) is None.

    >>> parse_descriptor_unit("Injection, infliximab, excludes biosimilar, 10 mg")
    (Decimal('10'), 'mg', '10 mg')
    >>> parse_descriptor_unit("Injection, pegaspargase, per single dose vial") is None
    True
    """
    tail = norm_space(description).rsplit(", ", 1)[-1].strip()
    if not tail:
        return None
    hit = parse_dosage(tail)
    return (hit[0], hit[1], tail) if hit else None
