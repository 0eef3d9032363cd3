"""Money is Decimal end to end; rounding happens only when writing X12.

>>> to_money("12.5")
Decimal('12.5')
>>> x12_amount(Decimal("12.50"))
'12.5'
>>> x12_amount(Decimal("100.00"))
'100'
>>> x12_amount(Decimal("0.005"))
'0.01'
>>> money_str(Decimal("3"))
'3.00'
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")


def to_money(value: object) -> Decimal:
    """Exact Decimal from a str/int/Decimal (floats go through str to avoid binary noise)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as exc:  # caller turns this into a finding
        raise ValueError(f"not a decimal amount: {value!r}") from exc


def round_cents(value: Decimal) -> Decimal:
    """Round half-up to cents (only at output boundaries)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money_str(value: Decimal) -> str:
    """Two-decimal string for JSON/CSV output."""
    return str(round_cents(value))


def x12_amount(value: Decimal) -> str:
    """X12 R-type amount: cents, no trailing zeros, no exponent."""
    v = round_cents(value).normalize()
    s = format(v, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"
