"""Billing units from text: HCPCS long descriptors ("..., 10 mg", "up to 50 mg", "(500 ml = 1 unit)")
and the ASP file's "HCPCS Code Dosage" ("10 MG", "1000 CC", "up to 40 Units").

:func:`parse_unit` is the parser the bundled drug table was generated with
(``coding/data/build_tables.py``) and the one the coder applies to a loaded HCPCS set's
descriptor, so a unit reads the same whichever source gives it. :func:`dosage_unit` maps a loaded
:class:`~coding.codesets.DosageFact` onto the coder's dose units (mg, g, mcg, units, mL), or None
when its unit is one a dose cannot be converted to (meq, "per dose"): the caller then asks the next
source and never guesses.
"""

from __future__ import annotations

import re
from decimal import Decimal

from coding.codesets import DosageFact

__all__ = ["DOSE_UNITS", "dosage_unit", "parse_unit"]

#: The coder's dose units (coding.model.QUANTITY_UNITS) plus "each" (per vial/dose).
DOSE_UNITS: frozenset[str] = frozenset({"mg", "g", "mcg", "units", "mL", "each"})

_UNIT_WORDS = [
    (r"milligrams?|mg", "mg"),
    (r"micrograms?|mcg", "mcg"),
    (r"grams?|gm|g", "g"),
    (r"(?:usp\s+|international\s+)?units?|i\.u\.|iu|kiu", "units"),
    (r"milliliters?|ml|cc", "mL"),
]
_UNIT_RE = "|".join(f"(?P<u{i}>{w})" for i, (w, _) in enumerate(_UNIT_WORDS))
_QTY = re.compile(
    r"(?:(?P<mod>up\s+to|per|not\s+to\s+exceed)\s+)?"
    r"(?P<num>\d+(?:\.\d+)?|\.\d+)?\s*(?P<mult>million\s+|billion\s+)?"
    rf"(?:{_UNIT_RE})(?![a-z0-9])"
)
_EQ_UNIT = re.compile(r"\((?:\s*)(\d+(?:\.\d+)?)\s*(ml|cc)\s*=\s*1\s*unit\s*\)")
_PER_ITEM = re.compile(
    r"\b(per\s+(?:single[\s-]+(?:use|dose)\s+)?vial|per\s+dose|per\s+instillation|,\s*each\b|\beach$|per\s+vial|per\s+kit|per\s+device|per\s+treatment|per\s+patch|per\s+implant|per\s+syringe)"
)
_NOC = re.compile(r"not otherwise (?:classified|specified)|unclassified|\bnoc\b|\bnos\b")
_RANGE = re.compile(r"greater than|less than")


def parse_unit(desc: str) -> tuple[str, Decimal | None, str | None, bool, str]:
    """Parse a long descriptor: (status, value, unit, up_to, matched text).

    >>> parse_unit("Injection, infliximab, excludes biosimilar, 10 mg")[:4]
    ('ok', Decimal('10'), 'mg', False)
    >>> parse_unit("Injection, diphenhydramine hcl, up to 50 mg")[:4]
    ('ok', Decimal('50'), 'mg', True)
    >>> parse_unit("Injection, ampicillin sodium/sulbactam sodium, per 1.5 gm")[:3]
    ('ok', Decimal('1.5'), 'g')
    >>> parse_unit("Infusion, normal saline solution, sterile (500 ml = 1 unit)")[:3]
    ('ok', Decimal('500'), 'mL')
    >>> parse_unit("Injection, interferon, alfa-2a, recombinant, 3 million units")[:3]
    ('ok', Decimal('3000000'), 'units')
    >>> parse_unit("Injection, chorionic gonadotropin, per 1,000 usp units")[:3]
    ('ok', Decimal('1000'), 'units')
    >>> parse_unit("Injection, abatacept, 10 mg (code may be used for medicare when ...)")[:3]
    ('ok', Decimal('10'), 'mg')
    >>> parse_unit("Injection, pegaspargase, per single dose vial")[:3]
    ('per_item', Decimal('1'), 'each')
    >>> parse_unit("Unclassified drugs")[0], parse_unit("Injection, potassium chloride, per 2 meq")[0]
    ('noc', 'unparseable')
    """
    text = desc.lower()
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 10,000 -> 10000
    m = _EQ_UNIT.search(text)
    if m:
        return "ok", Decimal(m.group(1)), "mL", False, m.group(0)
    if _RANGE.search(text):
        return "unparseable", None, None, False, ""
    stripped = re.sub(r"\([^)]*\)", " ", text)  # parenthetical remarks: brand names, usage notes
    matches = []
    for m in _QTY.finditer(stripped):
        unit = next(_UNIT_WORDS[i][1] for i in range(len(_UNIT_WORDS)) if m.group(f"u{i}"))
        if m.group("num") is None and m.group("mod") != "per":
            continue  # a bare word such as "units" in "plaque forming units"
        if m.group("num") is None and m.group("mult"):
            continue
        matches.append((m, unit))
    if matches:
        m, unit = matches[-1]
        value = Decimal(m.group("num") or "1")
        if m.group("mult"):
            if unit != "units":
                return "unparseable", None, None, False, m.group(0)
            value *= Decimal(1_000_000) if "million" in m.group("mult") else Decimal(1_000_000_000)
        up_to = bool(m.group("mod") and m.group("mod").startswith(("up", "not")))
        return "ok", value, unit, up_to, m.group(0).strip()
    per_item = _PER_ITEM.search(text)
    if per_item:
        return "per_item", Decimal(1), "each", False, per_item.group(0)
    if _NOC.search(text):
        return "noc", None, None, False, ""
    return "unparseable", None, None, False, ""


_DOSAGE_UNITS = {
    "mg": "mg",
    "milligram": "mg",
    "milligrams": "mg",
    "g": "g",
    "gm": "g",
    "gram": "g",
    "grams": "g",
    "mcg": "mcg",
    "microgram": "mcg",
    "micrograms": "mcg",
    "unit": "units",
    "units": "units",
    "iu": "units",
    "ml": "mL",
    "cc": "mL",
    "milliliter": "mL",
    "milliliters": "mL",
}


def dosage_unit(fact: DosageFact) -> tuple[Decimal, str, bool] | None:
    """(quantity, dose unit, up to) of a loaded dosage, or None when no dose converts to it.

    The loader's normalized ``unit`` is tried first, then its ``text`` through :func:`parse_unit`.

    >>> from coding.codesets import SetSource
    >>> s = SetSource("asp", "ASP 2026Q3")
    >>> dosage_unit(DosageFact("J0174", Decimal("1"), "mg", "1 MG", None, s))
    (Decimal('1'), 'mg', False)
    >>> dosage_unit(DosageFact("J9999", Decimal("1000"), "cc", "1000 CC", None, s))
    (Decimal('1000'), 'mL', False)
    >>> dosage_unit(DosageFact("J9998", Decimal("40"), "units", "up to 40 Units", None, s))
    (Decimal('40'), 'units', True)
    >>> dosage_unit(DosageFact("J7999", Decimal("2"), "meq", "2 MEQ", None, s)) is None
    True
    """
    text = " ".join(fact.text.replace("\xa0", " ").split()).lower()
    up_to = text.startswith(("up to", "not to exceed"))
    unit = _DOSAGE_UNITS.get(fact.unit.strip().lower())
    if unit is not None and fact.quantity > 0:
        return fact.quantity, unit, up_to
    if text:
        status, value, parsed, up, _ = parse_unit(text)
        if status == "ok" and value is not None and parsed is not None and value > 0:
            return value, parsed, up
    return None
