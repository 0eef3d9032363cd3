"""Expected allowed amount of each claim line, with its basis (fee schedule, quarter, formula).

Medicare (a payer profile whose filing indicator is ``MB``/``MA``):

- 837P drugs: the ASP file's payment limit for the date of service × billed units.
- 837P services: the physician fee schedule, per unit
  ``[(work RVU × work GPCI) + (PE RVU × PE GPCI) + (MP RVU × MP GPCI)] × CF`` rounded to the cent,
  × units; the PE RVU is the facility one when the place of service is a facility (:data:`FACILITY_POS`),
  else the non-facility one; the GPCIs are the facility's ``medicare_carrier`` / ``medicare_locality``;
  the CF is the one printed on the row. A modifier 26, TC or 53 picks that row.
- 837I: the OPPS Addendum B payment rate × units. When the facility sets ``opps_wage_index`` the
  rate of a service is wage adjusted, ``rate × (0.60 × wage index + 0.40)`` (60 % labor share);
  separately paid drugs and biologicals (SI G, K) are not (CMS pays them at ASP-based national
  rates). Packaged items expect zero: SI N always, Q1 when the claim has an S, T, V or X line on the
  same date, Q2 when it has a T line on the same date. What each indicator expects is the table
  ``data/opps_status_indicators.csv``. A drug the loaded Addendum B does not price (no OPPS set
  for the date, or no row) falls back to its ASP payment limit × units.

Other payers, by the payer profile's contract terms (:mod:`reconcile.pricing.terms`): the contract
fee schedule first, then per-diem rates, then ``drug_rate`` for drugs (ASP = limit ÷ 1.06), then
``service_rate`` for services.

A line none of these prices gets no amount and an info finding ``no-expected-amount`` saying
why: never a guess. Each amount also carries what the previous quarter's file would have given
(``prior``: to recognize a payer paying an old rate) and what other plausible schedules give
(``alternates``: to recognize a wrong fee schedule). Amounts are exact Decimals rounded to the cent.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

from coding.config import MEDICARE_FILING, Config, PayerProfile
from coding.findings import Finding, info
from coding.model import ServiceLine
from reconcile.codesets.fees import FeeSchedules
from reconcile.pricing.terms import ASP_MARKUP, Contract

__all__ = [
    "FACILITY_POS",
    "LABOR_SHARE",
    "ClaimContext",
    "Expected",
    "cents",
    "expected_for_claim",
    "is_medicare",
]

CENT = Decimal("0.01")
LABOR_SHARE = Decimal("0.60")
#: Places of service paid at the PFS facility rate (CMS's list of facility settings).
FACILITY_POS = frozenset(
    {"02", "10", "19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"}
)
#: Modifiers with their own PFS row.
PFS_MODIFIERS = ("26", "TC", "53")
#: PFS status codes paid from the RVUs.
PFS_PAID_STATUS = frozenset({"A", "R", "T"})
#: What each OPPS status indicator expects (``data/opps_status_indicators.csv``).
OPPS_TABLE = Path(__file__).resolve().parent / "data" / "opps_status_indicators.csv"


@lru_cache(maxsize=1)
def opps_status_rules(path: str = str(OPPS_TABLE)) -> dict[str, str]:
    """Status indicator -> ``rate`` / ``drug-rate`` / ``packaged`` / ``packaged-with-stvx`` /
    ``packaged-with-t`` / ``none``."""
    with open(path, encoding="utf-8", newline="") as f:
        return {r["status_indicator"].strip(): r["expected"].strip() for r in csv.DictReader(f)}


def cents(d: Decimal) -> Decimal:
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def is_medicare(payer: PayerProfile) -> bool:
    return payer.filing_indicator in MEDICARE_FILING


@dataclass
class Expected:
    """Expected allowed amount of one line (``amount`` None: no basis, ``formula`` says why)."""

    amount: Decimal | None
    basis: (
        str  # asp / pfs / opps / contract-fee-schedule / contract-asp / contract-pfs / contract-opps / per-diem / none
    )
    schedule: str  # the file or term it came from: "ASP 2026Q3", "PFS 2026Q3 + GPCI 2026Q1", "fees.csv"
    formula: str
    prior_amount: Decimal | None = None
    prior_schedule: str | None = None
    alternates: list[tuple[str, Decimal]] = field(default_factory=list)
    start: date | None = None  # first day of the schedule's period (for the previous quarter)

    def to_dict(self) -> dict[str, object]:
        return {
            "amount": None if self.amount is None else str(self.amount),
            "basis": self.basis,
            "schedule": self.schedule,
            "formula": self.formula,
            "prior_amount": None if self.prior_amount is None else str(self.prior_amount),
            "prior_schedule": self.prior_schedule,
            "alternates": [{"basis": b, "amount": str(a)} for b, a in self.alternates],
        }


def _none(why: str) -> Expected:
    return Expected(None, "none", "", why)


@dataclass(frozen=True)
class ClaimContext:
    """What pricing needs of a claim besides its lines."""

    claim_type: str  # 837P / 837I
    payer: PayerProfile
    place_of_service: str  # 837P; "" for 837I
    contract: Contract


def _is_drug(line: ServiceLine, fees: FeeSchedules) -> bool:
    return line.kind == "drug" or (line.code[:1] in "JQ" and fees.asp(line.code, line.service_date) is not None)


def _asp(line: ServiceLine, fees: FeeSchedules, on: date, factor: Decimal | None = None) -> Expected | None:
    lim = fees.asp(line.code, on)
    if lim is None:
        return None
    units = Decimal(line.units)
    if factor is None:
        amount = cents(lim.payment_limit * units)
        return Expected(amount, "asp", lim.source.label, f"{lim.payment_limit} × {units}", start=lim.start)
    per_unit = lim.payment_limit / ASP_MARKUP * factor
    return Expected(
        cents(per_unit * units),
        "contract-asp",
        lim.source.label,
        f"{lim.payment_limit} ÷ 1.06 × {factor} × {units}",
        start=lim.start,
    )


def _pfs(
    line: ServiceLine, cfg: Config, fees: FeeSchedules, on: date, facility: bool
) -> tuple[Expected | None, str | None]:
    """(expected, why not) for the PFS amount of ``line`` in the given setting."""
    fac = cfg.facility
    if not fac.medicare_carrier or not fac.medicare_locality:
        return None, "the PFS needs facility.medicare_carrier and facility.medicare_locality in the config"
    mod = next((m for m in line.modifiers if m.upper() in PFS_MODIFIERS), "")
    rvu = fees.pfs(line.code, mod, on) or (fees.pfs(line.code, "", on) if mod else None)
    if rvu is None:
        return None, f"no PFS relative values for {line.code} on {on.isoformat()}"
    if rvu.status not in PFS_PAID_STATUS:
        return None, f"PFS status {rvu.status or '?'} of {line.code} is not paid from the RVUs"
    g = fees.gpci(fac.medicare_carrier, fac.medicare_locality, on)
    if g is None:
        return None, f"no GPCI for MAC {fac.medicare_carrier} locality {fac.medicare_locality} on {on.isoformat()}"
    pe = rvu.pe_facility if facility else rvu.pe_nonfacility
    setting = "facility" if facility else "non-facility"
    if pe is None:
        return None, f"{line.code} has no {setting} PE RVU (NA)"
    per_unit = cents((rvu.work * g.work + pe * g.pe + rvu.mp * g.mp) * rvu.conversion_factor)
    units = Decimal(line.units)
    formula = (
        f"[({rvu.work} × {g.work}) + ({pe} {setting} × {g.pe}) + ({rvu.mp} × {g.mp})] × {rvu.conversion_factor}"
        f" = {per_unit} × {units}"
    )
    return (
        Expected(cents(per_unit * units), "pfs", f"{rvu.source.label} + {g.source.label}", formula, start=rvu.start),
        None,
    )


def _opps(
    line: ServiceLine, cfg: Config, fees: FeeSchedules, on: date, packaged: bool
) -> tuple[Expected | None, str | None]:
    r = fees.opps(line.code, on)
    if r is None:
        return None, f"no OPPS Addendum B rate for {line.code} on {on.isoformat()}"
    si = r.status_indicator
    rule = opps_status_rules().get(si, "none")
    if rule == "packaged" or (rule.startswith("packaged-with") and packaged):
        why = f"packaged (SI {si})" if rule == "packaged" else f"packaged (SI {si} with a paid procedure on the date)"
        return Expected(Decimal("0.00"), "opps", r.source.label, why, start=r.start), None
    if rule == "none" or r.payment_rate is None:
        return None, f"OPPS status indicator {si} of {line.code} has no Addendum B payment rate"
    units = Decimal(line.units)
    wi = cfg.facility.opps_wage_index
    if wi is not None and rule != "drug-rate":
        per_unit = cents(r.payment_rate * (LABOR_SHARE * wi + (1 - LABOR_SHARE)))
        formula = f"{r.payment_rate} × (0.60 × {wi} + 0.40) = {per_unit} × {units} (SI {si})"
    else:
        per_unit = r.payment_rate
        formula = f"{r.payment_rate} × {units} (SI {si})"
    return Expected(cents(per_unit * units), "opps", r.source.label, formula, start=r.start), None


def _packaged_flags(lines: Sequence[ServiceLine], fees: FeeSchedules) -> list[bool]:
    """Whether each Q1/Q2 line is packaged: an S, T, V or X line (Q1) or a T line (Q2) on its date."""
    sis: list[str] = []
    for ln in lines:
        r = fees.opps(ln.code, ln.service_date)
        sis.append(r.status_indicator if r else "")
    by_day: dict[date, set[str]] = {}
    for ln, si in zip(lines, sis, strict=True):
        by_day.setdefault(ln.service_date, set()).add(si)
    out = []
    for ln, si in zip(lines, sis, strict=True):
        same_day = by_day[ln.service_date]
        rule = opps_status_rules().get(si, "")
        out.append(
            (rule == "packaged-with-stvx" and bool(same_day & {"S", "T", "V", "X"}))
            or (rule == "packaged-with-t" and "T" in same_day)
        )
    return out


def _medicare(
    line: ServiceLine, ctx: ClaimContext, cfg: Config, fees: FeeSchedules, on: date, packaged: bool
) -> tuple[Expected | None, str | None]:
    if ctx.claim_type == "837I":
        e, why = _opps(line, cfg, fees, on, packaged)
        if e is None and _is_drug(line, fees):  # a drug Addendum B does not price: its ASP limit
            asp = _asp(line, fees, on)
            return (asp, None) if asp is not None else (None, why)
        return e, why
    if _is_drug(line, fees):
        e = _asp(line, fees, on)
        return e, None if e else f"no ASP payment limit for {line.code} on {on.isoformat()}"
    return _pfs(line, cfg, fees, on, ctx.place_of_service in FACILITY_POS)


def _contract(
    line: ServiceLine, ctx: ClaimContext, cfg: Config, fees: FeeSchedules, on: date, packaged: bool
) -> tuple[Expected | None, str | None]:
    k = ctx.contract
    units = Decimal(line.units)
    row = k.fee(line.code, line.modifiers)
    if row is not None:
        mod = f" {row.modifier}" if row.modifier else ""
        return (
            Expected(
                cents(row.rate * units),
                "contract-fee-schedule",
                f"fee schedule {k.fee_schedule_name}",
                f"{row.code}{mod} {row.rate} × {units}",
            ),
            None,
        )
    rate = k.per_diem.get(line.code.upper())
    if rate is not None:
        return Expected(cents(rate * units), "per-diem", "per_diem_rates", f"{rate} × {units}"), None
    if _is_drug(line, fees):
        if k.drug_factor is None:
            return None, f"payer {ctx.payer.key} states no drug_rate and its fee schedule has no {line.code}"
        e = _asp(line, fees, on, k.drug_factor)
        if e is not None:
            e.schedule = f"{k.drug_text} ({e.schedule})"
        return e, None if e else f"no ASP payment limit for {line.code} on {on.isoformat()}"
    if k.service is None:
        return None, f"payer {ctx.payer.key} states no service_rate and its fee schedule has no {line.code}"
    factor, which = k.service
    if which == "OPPS":
        base, why = _opps(line, cfg, fees, on, packaged)
    else:
        base, why = _pfs(line, cfg, fees, on, ctx.place_of_service in FACILITY_POS)
    if base is None or base.amount is None:
        return None, why
    return (
        Expected(
            cents(base.amount * factor),
            f"contract-{which.lower()}",
            f"{k.service_text} ({base.schedule})",
            f"{factor} × ({base.formula})",
            start=base.start,
        ),
        None,
    )


def _price(
    line: ServiceLine, ctx: ClaimContext, cfg: Config, fees: FeeSchedules, on: date, packaged: bool
) -> tuple[Expected | None, str | None]:
    if is_medicare(ctx.payer):
        return _medicare(line, ctx, cfg, fees, on, packaged)
    if ctx.contract.empty:
        return None, f"payer {ctx.payer.key} has no contract terms (drug_rate, service_rate, fee_schedule)"
    return _contract(line, ctx, cfg, fees, on, packaged)


def _kind_of(basis: str) -> str | None:
    return {
        "asp": "asp",
        "contract-asp": "asp",
        "pfs": "pfs-rvu",
        "contract-pfs": "pfs-rvu",
        "opps": "opps-b",
        "contract-opps": "opps-b",
    }.get(basis)


def _alternates(
    line: ServiceLine, ctx: ClaimContext, cfg: Config, fees: FeeSchedules, e: Expected, packaged: bool
) -> list[tuple[str, Decimal]]:
    """Amounts of other schedules a payer might wrongly apply to the line."""
    out: list[tuple[str, Decimal]] = []
    on = line.service_date
    if e.basis in ("pfs", "contract-pfs") and ctx.claim_type == "837P":
        other = ctx.place_of_service not in FACILITY_POS
        alt, _ = _pfs(line, cfg, fees, on, other)
        if alt is not None and alt.amount is not None:
            factor = ctx.contract.service[0] if e.basis == "contract-pfs" and ctx.contract.service else Decimal(1)
            out.append((f"PFS {'facility' if other else 'non-facility'}", cents(alt.amount * factor)))
    if not is_medicare(ctx.payer):
        base, _ = _medicare(line, ctx, cfg, fees, on, packaged)
        if base is not None and base.amount is not None and base.amount != e.amount:
            out.append((f"Medicare {base.basis.upper()}", base.amount))
    elif ctx.claim_type == "837P" and e.basis == "pfs":
        r = fees.opps(line.code, on)
        if r is not None and r.payment_rate is not None:
            out.append(("OPPS", cents(r.payment_rate * Decimal(line.units))))
    return [(b, a) for b, a in out if a != e.amount]


def expected_for_claim(
    lines: Sequence[ServiceLine],
    ctx: ClaimContext,
    cfg: Config,
    fees: FeeSchedules,
    encounter_id: str | None = None,
) -> tuple[list[Expected], list[Finding]]:
    """The expected allowed amount of every line of one claim, and ``no-expected-amount`` findings."""
    packaged = (
        _packaged_flags(lines, fees)
        if ctx.claim_type == "837I" and (is_medicare(ctx.payer) or (ctx.contract.service or (0, ""))[1] == "OPPS")
        else [False] * len(lines)
    )
    out: list[Expected] = []
    found: list[Finding] = []
    for line, pk in zip(lines, packaged, strict=True):
        e, why = _price(line, ctx, cfg, fees, line.service_date, pk)
        if e is None:
            reason = why or "no basis"
            out.append(_none(reason))
            found.append(
                info(
                    "no-expected-amount",
                    f"line {line.line_control_number or ''} {line.code}: no expected amount ({reason})".replace(
                        "  ", " "
                    ),
                )
            )
            continue
        kind = _kind_of(e.basis)
        if kind is not None and e.start is not None:
            prev = fees.previous_day(kind, line.service_date)
            if prev is not None:
                p, _ = _price(line, ctx, cfg, fees, prev, pk)
                if p is not None and p.amount is not None and p.schedule != e.schedule:
                    e.prior_amount, e.prior_schedule = p.amount, p.schedule
        e.alternates = _alternates(line, ctx, cfg, fees, e, pk)
        out.append(e)
    return out, found
