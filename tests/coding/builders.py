"""Small builders for coding tests: encounters from contract-shaped dicts, without the loader.

Times are ``HH:MM`` on a fixed date (or full ISO date-times); doses ``"400 mg"``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, overload

from coding.model import Address, Administration, Encounter, Patient, Quantity, Service

DAY = "2026-03-02"
PATIENT = Patient(
    id="P1",
    first="TEST",
    last="PATIENT",
    dob=date(1970, 1, 1),
    sex="F",
    member_id="M0001",
    address=Address("1 TEST ST", "SPRINGFIELD", "IL", "62701"),
)


@overload
def dt(t: str, day: str = DAY) -> datetime: ...
@overload
def dt(t: None, day: str = DAY) -> None: ...
def dt(t: str | None, day: str = DAY) -> datetime | None:
    if t is None:
        return None
    return datetime.fromisoformat(t if "T" in t else f"{day}T{t}")


@overload
def qty(s: str) -> Quantity: ...
@overload
def qty(s: None) -> None: ...
def qty(s: str | None) -> Quantity | None:
    if s is None:
        return None
    v, u = s.split()
    return Quantity(Decimal(v), u)


def adm(
    id: str, drug: str, route: str, start: str, end: str | None = None, dose: str = "1 mg", **kw: Any
) -> Administration:
    extra = dict(kw)
    for k in ("volume_ml", "rate_ml_per_hr"):
        if k in extra and extra[k] is not None:
            extra[k] = Decimal(str(extra[k]))
    if "wasted" in extra:
        extra["wasted"] = qty(extra["wasted"])
    return Administration(id=id, drug=drug, route=route, start=dt(start), end=dt(end), dose=qty(dose), **extra)


def enc(
    admins: list[Administration],
    setting: str = "office",
    payer: str = "medicare",
    services: list[Service] | None = None,
    id: str = "ENC-T",
    **kw: Any,
) -> Encounter:
    return Encounter(
        id=id,
        setting=setting,
        payer=payer,
        patient=PATIENT,
        diagnoses=("K5090",),
        administrations=tuple(admins),
        services=tuple(services or ()),
        **kw,
    )


def summary(coded) -> list[tuple]:
    """(revenue_code, code, modifiers, units) per line, in line order."""
    return [(ln.revenue_code, ln.code, tuple(ln.modifiers), ln.units) for ln in coded.lines]


def admin_codes(coded) -> dict[str, int]:
    out: dict[str, int] = {}
    for ln in coded.lines:
        if ln.kind == "admin":
            out[ln.code] = out.get(ln.code, 0) + ln.units
    return out
