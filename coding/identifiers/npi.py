"""NPI: National Provider Identifier (CMS NPPES).

Ten digits; the last is a Luhn check digit computed over the constant prefix ``80840``
followed by the first nine digits (CMS "NPI check digit" rule, ISO 7812 issuer prefix).
Spaces and dashes are ignored.

>>> validate("1234567893")
'1234567893'
>>> is_valid("1234 567 893")
True
>>> validate("1234567890")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: NPI check digit does not match
>>> validate("123456789")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: NPI must be 10 digits
>>> validate("12345A7893")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: NPI must contain digits only
>>> is_valid(None), is_valid(1234567893)
(False, False)
>>> calc_check_digit("123456789")
'3'
>>> format("1234567893")
'1234567893'
"""

from __future__ import annotations

from coding.identifiers import InvalidIdentifier

PREFIX = "80840"


def compact(value: str) -> str:
    """Strip spaces and dashes."""
    return "".join(str(value).split()).replace("-", "")


def _luhn_sum(digits: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 0:  # rightmost of the payload is doubled when the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total


def calc_check_digit(first9: str) -> str:
    """Check digit for the first nine digits of an NPI."""
    return str((10 - _luhn_sum(PREFIX + first9) % 10) % 10)


def validate(value: str) -> str:
    """Return the compact NPI or raise :class:`InvalidIdentifier`."""
    if not isinstance(value, str):
        raise InvalidIdentifier("NPI must be a string")
    v = compact(value)
    if not v.isascii() or not v.isdigit():
        raise InvalidIdentifier("NPI must contain digits only")
    if len(v) != 10:
        raise InvalidIdentifier("NPI must be 10 digits")
    if calc_check_digit(v[:9]) != v[9]:
        raise InvalidIdentifier("NPI check digit does not match")
    return v


def is_valid(value: object) -> bool:
    """True for a valid NPI; never raises."""
    try:
        validate(value)  # type: ignore[arg-type]
        return True
    except (InvalidIdentifier, TypeError, ValueError):
        return False


def format(value: str) -> str:
    """The printable form (10 digits, no separators)."""
    return compact(value)
