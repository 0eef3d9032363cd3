"""Line charges from the chargemaster.

The chargemaster (``[chargemaster]`` in the TOML config) holds a price per billed unit:
per unit of the code for administration and other services, per HCPCS billing unit for
drugs. A claim line priced at zero is rejected by payers, so a code that the chargemaster
does not price gives an ``error`` finding (``unpriced-code``) and the caller holds the line.

A HCPCS Level II code missing from the chargemaster falls back to a wildcard entry for its
letter (``"J*" = "5.00"`` prices any other J drug per billing unit), when the config has one;
CPT codes (digits) have no wildcard.

>>> from coding.config import load_config
>>> cfg = load_config()
>>> line_charge(cfg, "96365", 1)
(Decimal('350.00'), None)
>>> line_charge(cfg, "96366", 3)[0]
Decimal('285.00')
>>> line_charge(cfg, "J9041", 3)[0] == cfg.price("J9041") * 3
True
>>> charge, finding = line_charge(cfg, "99999", 1)
>>> charge, finding.code, finding.severity
(Decimal('0.00'), 'unpriced-code', 'error')
"""

from __future__ import annotations

from decimal import Decimal

from coding.config import Config
from coding.findings import Finding, error

ZERO_CHARGE = Decimal("0.00")


def unit_price(cfg: Config, code: str) -> Decimal | None:
    """Chargemaster price per billed unit for ``code`` (case-insensitive), or None.

    Exact code first, then the wildcard for a Level II code's letter (``J*``)."""
    price = cfg.price(code)
    if price is None and code[:1].isalpha():
        price = cfg.price(code[:1] + "*")
    return price


def line_charge(cfg: Config, code: str, units: int, **where: object) -> tuple[Decimal, Finding | None]:
    """Charge for ``units`` of ``code``: price per unit × units (exact Decimal, not rounded).

    Returns ``(charge, None)`` when priced; ``(0.00, error finding "unpriced-code")`` when the
    chargemaster has no price, or the price is not positive. ``where`` (encounter_id,
    administration_id, field...) is copied onto the finding.
    """
    price = unit_price(cfg, code)
    if price is None:
        return ZERO_CHARGE, error(
            "unpriced-code",
            f"{code} has no price in the chargemaster; line held (a zero-charge line is rejected)",
            **where,
        )
    if price <= 0:
        return ZERO_CHARGE, error(
            "unpriced-code",
            f"{code} has a chargemaster price that is not positive; line held",
            **where,
        )
    return price * Decimal(int(units)), None
