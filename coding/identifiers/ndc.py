"""NDC: National Drug Code, normalized to the 11-digit 5-4-2 form used in the 837 (Loop 2410 LIN03).

A label NDC has 10 digits in three dash-separated segments: 4-4-2, 5-3-2 or 5-4-1. The 11-digit
form pads the short segment with a leading zero (4-4-2 -> pad segment 1; 5-3-2 -> segment 2;
5-4-1 -> segment 3). An 11-digit value (plain, or dashed 5-4-2) is accepted as is. A 10-digit
value without dashes is ambiguous (the layout cannot be inferred) and is rejected.

>>> to_11("0574-4072-05")
'00574407205'
>>> to_11("51655-089-52")
'51655008952'
>>> to_11("58118-1397-3")
'58118139703'
>>> to_11("57894003001")
'57894003001'
>>> to_11("57894-0030-01")
'57894003001'
>>> format("57894003001")
'57894-0030-01'
>>> validate("5789400300")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: 10-digit NDC without dashes is ambiguous; give the dashed label form
>>> validate("1234-567-89")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: NDC segments must be 4-4-2, 5-3-2, 5-4-1 or 5-4-2 digits
>>> validate("5789A003001")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: NDC must contain digits and dashes only
>>> validate("123")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: NDC must have 11 digits, or 10 digits in dashed segments
>>> validate("00000-0000-00")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: NDC labeler, product and package cannot be all zero
>>> is_valid("0944-2700-03"), is_valid(""), is_valid(None)
(True, False, False)
"""

from __future__ import annotations

from coding.identifiers import InvalidIdentifier

_LAYOUTS = {(4, 4, 2): 0, (5, 3, 2): 1, (5, 4, 1): 2, (5, 4, 2): None}


def compact(value: str) -> str:
    """Strip surrounding and inner whitespace (dashes are meaningful and kept)."""
    return "".join(str(value).split())


def validate(value: str) -> str:
    """Return the 11-digit NDC (no dashes) or raise :class:`InvalidIdentifier`."""
    if not isinstance(value, str):
        raise InvalidIdentifier("NDC must be a string")
    v = compact(value)
    if not v or not v.isascii() or not all(c.isdigit() or c == "-" for c in v):
        raise InvalidIdentifier("NDC must contain digits and dashes only")
    if "-" in v:
        parts = v.split("-")
        layout = tuple(len(p) for p in parts)
        if len(parts) != 3 or layout not in _LAYOUTS:
            raise InvalidIdentifier("NDC segments must be 4-4-2, 5-3-2, 5-4-1 or 5-4-2 digits")
        pad = _LAYOUTS[layout]
        if pad is not None:
            parts[pad] = "0" + parts[pad]
        out = "".join(parts)
    elif len(v) == 11:
        out = v
    elif len(v) == 10:
        raise InvalidIdentifier("10-digit NDC without dashes is ambiguous; give the dashed label form")
    else:
        raise InvalidIdentifier("NDC must have 11 digits, or 10 digits in dashed segments")
    if out == "0" * 11:
        raise InvalidIdentifier("NDC labeler, product and package cannot be all zero")
    return out


def to_11(value: str) -> str:
    """The 11-digit 5-4-2 form without dashes (raises :class:`InvalidIdentifier`)."""
    return validate(value)


def is_valid(value: object) -> bool:
    """True for an NDC that :func:`to_11` accepts; never raises."""
    try:
        validate(value)  # type: ignore[arg-type]
        return True
    except (InvalidIdentifier, TypeError, ValueError):
        return False


def format(value: str) -> str:
    """The dashed 5-4-2 form of the 11-digit NDC."""
    v = validate(value)
    return f"{v[:5]}-{v[5:9]}-{v[9:]}"
