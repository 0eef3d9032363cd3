"""HCPCS procedure code: format check.

Level I (CPT): five digits (``96365``), or four digits and ``F`` (Category II), ``T``
(Category III) or ``U`` (proprietary laboratory analyses). Level II: a letter and four digits
(``J1745``, ``Q5121``, ``S9500``, ``G0463``). Normalized form is upper case.

>>> validate("96365"), validate("j1745"), validate("0001F"), validate("0075T"), validate("0001U")
('96365', 'J1745', '0001F', '0075T', '0001U')
>>> level("96365"), level("J1745")
(1, 2)
>>> validate("J174")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: HCPCS code must be 5 characters
>>> validate("JJ745")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: HCPCS code must be 5 digits, 4 digits + F/T/U, or a letter + 4 digits
>>> validate("9636X")
Traceback (most recent call last):
    ...
coding.identifiers.InvalidIdentifier: HCPCS code must be 5 digits, 4 digits + F/T/U, or a letter + 4 digits
>>> is_valid(None), is_valid("")
(False, False)
"""

from __future__ import annotations

from coding.identifiers import InvalidIdentifier


def compact(value: str) -> str:
    """Upper case, whitespace stripped."""
    return "".join(str(value).split()).upper()


def validate(value: str) -> str:
    """Return the normalized code or raise :class:`InvalidIdentifier`."""
    if not isinstance(value, str):
        raise InvalidIdentifier("HCPCS code must be a string")
    v = compact(value)
    if len(v) != 5:
        raise InvalidIdentifier("HCPCS code must be 5 characters")
    ok = v.isascii() and (
        v.isdigit() or (v[:4].isdigit() and v[4] in "FTU") or ("A" <= v[0] <= "Z" and v[1:].isdigit())
    )
    if not ok:
        raise InvalidIdentifier("HCPCS code must be 5 digits, 4 digits + F/T/U, or a letter + 4 digits")
    return v


def level(value: str) -> int:
    """1 for CPT (Level I), 2 for HCPCS Level II."""
    v = validate(value)
    return 2 if v[0].isalpha() else 1


def is_valid(value: object) -> bool:
    """True when the format is right; never raises."""
    try:
        validate(value)  # type: ignore[arg-type]
        return True
    except (InvalidIdentifier, TypeError, ValueError):
        return False


def format(value: str) -> str:
    """The printable (upper-case) form."""
    return validate(value)
