"""ICD-10-CM diagnosis code: format check only (not a lookup in the code set).

Shape: a letter, a digit, a letter or digit (the category), then optionally a dot and one to
four letters or digits. ``K50.90`` and ``K5090`` are both accepted; the normalized form (what
goes in the 837 HI segment) is upper case without the dot.

>>> validate("K50.90")
'K5090'
>>> validate("k5090")
'K5090'
>>> validate("E86.0"), validate("Z51.11"), validate("C50.911"), validate("S52.521A")
('E860', 'Z5111', 'C50911', 'S52521A')
>>> validate("E86")
'E86'
>>> validate("5K0.9")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: ICD-10-CM code must start with a letter and a digit
>>> validate("K50.")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: ICD-10-CM code has a dot with nothing after it
>>> validate("K5.090")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: ICD-10-CM dot must follow the third character
>>> validate("K50.90123")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: ICD-10-CM code must be 3 to 7 characters
>>> validate("K5-09")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: ICD-10-CM code must contain letters and digits only
>>> format("k5090")
'K50.90'
>>> is_valid(""), is_valid(None), is_valid("Z5111")
(False, False, True)
"""

from __future__ import annotations

from coding.identifiers import InvalidIdentifier


def compact(value: str) -> str:
    """Upper case, whitespace stripped (the dot is kept; :func:`validate` removes it)."""
    return "".join(str(value).split()).upper()


def _alnum(s: str) -> bool:
    return s.isascii() and s.isalnum()


def validate(value: str) -> str:
    """Return the normalized code (upper case, no dot) or raise :class:`InvalidIdentifier`."""
    if not isinstance(value, str):
        raise InvalidIdentifier("ICD-10-CM code must be a string")
    v = compact(value)
    if "." in v:
        head, _, tail = v.partition(".")
        if len(head) != 3:
            raise InvalidIdentifier("ICD-10-CM dot must follow the third character")
        if not tail:
            raise InvalidIdentifier("ICD-10-CM code has a dot with nothing after it")
        v = head + tail
    if not _alnum(v):
        raise InvalidIdentifier("ICD-10-CM code must contain letters and digits only")
    if len(v) < 3 or len(v) > 7:
        raise InvalidIdentifier("ICD-10-CM code must be 3 to 7 characters")
    if not (v[0].isalpha() and v[1].isdigit()):
        raise InvalidIdentifier("ICD-10-CM code must start with a letter and a digit")
    return v


def is_valid(value: object) -> bool:
    """True when the format is right; never raises."""
    try:
        validate(value)  # type: ignore[arg-type]
        return True
    except (InvalidIdentifier, TypeError, ValueError):
        return False


def format(value: str) -> str:
    """Display form with the dot after the category (``K50.90``)."""
    v = validate(value)
    return v if len(v) == 3 else f"{v[:3]}.{v[3:]}"
