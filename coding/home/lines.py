"""Home infusion coding (``setting: home``): a course of therapy, not a visit.

Two models, chosen by the payer profile's ``home_infusion_model``:

``per_diem`` (commercial / Medicaid; facts §5.2)
    * one per-diem S-code per therapy (``data/home_per_diem.csv``: category × schedule, hydration
      by daily volume), units = therapy days, one line per calendar month (payer key
      ``home_per_diem_split``: ``calendar_month`` (default) or ``course`` for one line);
    * concurrent per diems (overlapping date ranges; ordered by start date, then id): the second
      gets ``SH``, the third and later ``SJ`` (payer key ``home_concurrent_modifiers``,
      default ``["SH", "SJ"]``). A therapy's rank is one plus the largest number of earlier
      therapies running on any one of its days;
    * nursing: ``99601`` per visit (up to 2 hours) plus ``99602`` per additional hour past the
      first two; an additional hour counts when more than 30 minutes of it are used (the CPT
      time-unit mid-point convention, payer key ``home_nursing_addon_minutes``, default 30):
      2 h 30 min = 99601 only, 2 h 31 min … 3 h 30 min = 99601 + 99602 ×1. Visits on one date are
      one line per code with summed units;
    * the drug over the whole course: units = ceil(dose × doses per day × days ÷ billing unit),
      with the 11-digit NDC and its quantity (Loop 2410).

``medicare_hit`` (Medicare Part B home infusion therapy services; facts §5.1)
    * G0088/G0089/G0090 (initial visit) or G0068/G0069/G0070 (subsequent) by the drug's payment
      category (``data/hit_categories.csv``; drugs not on the list take the category of the
      therapy's category, with a finding), one line per category per visit day, only on days with a
      nursing visit, only for therapies given through a durable external pump (``pump: true``);
      units = the day's visit length in 15-minute increments ("each 15 minutes" in the
      descriptors; CMS change request of 2021-08-09 on multiple units per HIT visit), the final
      partial increment by the payer key ``hit_unit_rounding`` (``half`` by default: 8 minutes or
      more; ``up``; ``down``), at least 1; payment stays one per category and day, so the line's
      charge is the chargemaster's price per day;
    * initial vs subsequent: a visit day is *initial* when the patient had no HIT G-code in the
      previous 60 days (payer key ``hit_initial_gap_days``), looking at the ledger history
      (``hit_history(patient_id) -> [date]``, earlier days only) and at the earlier visit days of
      this claim; ``first_hit_visit`` in the encounter decides the first visit day when given;
    * no S-codes, no 99601/99602 and no drug line: each is left out with a finding saying why
      (the drug, pump and supplies go to the DME MAC under the DME benefit, with ``JB`` on the
      subcutaneous immunoglobulins).

Every line carries a rationale. Claims are 837P; the place of service (12, or the encounter's
``place_of_service`` such as 49) is claim-level and written by the 837 writer.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from coding.codesets import NO_CODESETS, CodeSets
from coding.config import Config, PayerProfile
from coding.findings import Finding, error, info, warning
from coding.identifiers import ndc as ndc_id
from coding.model import Encounter, NursingVisit, ServiceLine, Therapy
from coding.pricing import line_charge

DATA = Path(__file__).resolve().parent.parent / "data"

HitHistory = Callable[[str], Sequence[date]]

NURSING_FIRST = "99601"  # home infusion/specialty drug administration, per visit up to 2 hours
NURSING_ADDON = "99602"  # each additional hour
NURSING_FIRST_MINUTES = 120
DEFAULT_ADDON_MINUTES = 30  # an additional hour counts when MORE than this many minutes are used
DEFAULT_CONCURRENT_MODIFIERS = ("SH", "SJ")
DEFAULT_HIT_GAP_DAYS = 60
HIT_UNIT_MINUTES = 15  # the HIT G-code descriptors: "each 15 minutes"
HIT_ROUNDING = ("up", "half", "down")  # payer key hit_unit_rounding: a final partial increment
DEFAULT_HIT_ROUNDING = "half"
MODELS = ("per_diem", "medicare_hit")


# --------------------------------------------------------------------------- tables


def _read_table(name: str) -> list[dict[str, str]]:
    """Rows of a ``data/`` CSV whose leading ``#`` lines are its provenance header."""
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        lines = [ln for ln in fh if not ln.startswith("#") and ln.strip()]
    return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(lines)]


@dataclass(frozen=True, slots=True)
class PerDiemRule:
    category: str
    schedule: str  # or "*"
    min_daily_ml: Decimal | None  # exclusive
    max_daily_ml: Decimal | None  # inclusive
    code: str
    meaning: str

    @property
    def has_band(self) -> bool:
        return self.min_daily_ml is not None or self.max_daily_ml is not None


@dataclass(frozen=True, slots=True)
class HitCategory:
    category: int
    initial_code: str
    subsequent_code: str
    therapy_categories: tuple[str, ...]
    meaning: str


@dataclass(frozen=True, slots=True)
class HitDrug:
    code: str
    category: int
    jb: bool
    drug: str


def _dec(s: str) -> Decimal | None:
    return Decimal(s) if s else None


@lru_cache(maxsize=1)
def per_diem_rules() -> tuple[PerDiemRule, ...]:
    return tuple(
        PerDiemRule(
            r["category"], r["schedule"], _dec(r["min_daily_ml"]), _dec(r["max_daily_ml"]), r["code"], r["meaning"]
        )
        for r in _read_table("home_per_diem.csv")
    )


@lru_cache(maxsize=1)
def schedule_doses() -> dict[str, int]:
    return {r["schedule"]: int(r["doses_per_day"]) for r in _read_table("home_schedules.csv")}


@lru_cache(maxsize=1)
def hit_categories() -> dict[int, HitCategory]:
    out = {}
    for r in _read_table("hit_codes.csv"):
        cat = int(r["category"])
        out[cat] = HitCategory(
            cat, r["initial_code"], r["subsequent_code"], tuple(r["therapy_categories"].split()), r["meaning"]
        )
    return out


@lru_cache(maxsize=1)
def hit_drugs() -> dict[str, HitDrug]:
    return {
        r["code"].upper(): HitDrug(r["code"].upper(), int(r["category"]), r["jb"] == "JB", r["drug"])
        for r in _read_table("hit_categories.csv")
    }


# --------------------------------------------------------------------------- small rules


def doses_per_day(t: Therapy) -> int:
    """Explicit ``doses_per_day``, else the schedule's default (q12h = 2 … continuous = 1).

    >>> from datetime import date as d
    >>> from decimal import Decimal as D
    >>> from coding.model import Quantity
    >>> doses_per_day(Therapy("T", "anti_infective", d(2026, 3, 1), d(2026, 3, 2), "J0696",
    ...                       Quantity(D(1), "g"), schedule="q8h"))
    3
    """
    if t.doses_per_day:
        return int(t.doses_per_day)
    return schedule_doses().get(t.schedule, 1)


def therapy_days(start: date, end: date) -> int:
    """Calendar days from ``start`` to ``end`` inclusive.

    >>> therapy_days(date(2026, 3, 2), date(2026, 3, 15))
    14
    """
    return (end - start).days + 1


def daily_volume_ml(t: Therapy) -> Decimal | None:
    """Volume per day when the dose is given in mL (hydration volume bands), else None."""
    if t.dose.unit != "mL":
        return None
    return t.dose.value * doses_per_day(t)


def per_diem_rule(category: str, schedule: str, daily_ml: Decimal | None = None) -> PerDiemRule | None:
    """The per-diem S-code row for a therapy category and schedule (and daily volume).

    >>> per_diem_rule("anti_infective", "q24h").code
    'S9500'
    >>> per_diem_rule("anti_infective", "continuous").code
    'S9494'
    >>> per_diem_rule("hydration", "q24h", Decimal(1500)).code
    'S9375'
    >>> per_diem_rule("hydration", "q24h").code
    'S9373'
    >>> per_diem_rule("chemotherapy", "continuous").code
    'S9330'
    """
    for rule in per_diem_rules():
        if rule.category != category or rule.schedule not in (schedule, "*"):
            continue
        if rule.has_band:
            if daily_ml is None:
                continue
            if rule.min_daily_ml is not None and not daily_ml > rule.min_daily_ml:
                continue
            if rule.max_daily_ml is not None and not daily_ml <= rule.max_daily_ml:
                continue
        return rule
    return None


def month_segments(start: date, end: date) -> list[tuple[date, date]]:
    """Split an inclusive date range at calendar-month boundaries.

    >>> month_segments(date(2026, 1, 20), date(2026, 3, 5))
    [(datetime.date(2026, 1, 20), datetime.date(2026, 1, 31)), (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)), (datetime.date(2026, 3, 1), datetime.date(2026, 3, 5))]
    """
    out: list[tuple[date, date]] = []
    cur = start
    while cur <= end:
        nxt = date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
        seg_end = min(end, nxt - timedelta(days=1))
        out.append((cur, seg_end))
        cur = nxt
    return out


def _tf(enc: Encounter, t: Therapy, name: str = "") -> str:
    """Field path of a therapy (``therapies[1].drug``), as the loader names fields."""
    i = next((k for k, x in enumerate(enc.therapies) if x is t), None)
    base = "therapies" if i is None else f"therapies[{i}]"
    return f"{base}.{name}" if name else base


def _overlaps(a: Therapy, b: Therapy) -> bool:
    return a.start_date <= b.end_date and b.start_date <= a.end_date


def therapy_order(therapies: Iterable[Therapy]) -> list[Therapy]:
    """Per-diem order: start date, then id."""
    return sorted(therapies, key=lambda t: (t.start_date, t.id))


def concurrency_ranks(therapies: Sequence[Therapy]) -> dict[str, int]:
    """Rank of each therapy among concurrent per diems: 1 + the largest number of earlier
    (start date, id) therapies active on any one day of its range.

    >>> from decimal import Decimal as D
    >>> from coding.model import Quantity
    >>> q = Quantity(D(1), "g")
    >>> a = Therapy("A", "anti_infective", date(2026, 3, 1), date(2026, 3, 10), "J0696", q)
    >>> b = Therapy("B", "anti_infective", date(2026, 3, 5), date(2026, 3, 20), "J3370", q)
    >>> c = Therapy("C", "hydration", date(2026, 3, 12), date(2026, 3, 14), "J7050", q)
    >>> concurrency_ranks([c, b, a])
    {'A': 1, 'B': 2, 'C': 2}
    """
    ordered = therapy_order(therapies)
    ranks: dict[str, int] = {}
    for i, t in enumerate(ordered):
        earlier = [e for e in ordered[:i] if _overlaps(e, t)]
        best = 0
        # the count of active earlier therapies can only rise at t's start or at an earlier start
        for day in {t.start_date, *(e.start_date for e in earlier if e.start_date >= t.start_date)}:
            best = max(best, sum(1 for e in earlier if e.start_date <= day <= e.end_date))
        ranks[t.id] = 1 + best
    return ranks


def concurrent_modifier(rank: int, payer: PayerProfile) -> str | None:
    """None for the first per diem, ``SH`` for the second, ``SJ`` for the third and later."""
    mods = tuple(payer.get("home_concurrent_modifiers", DEFAULT_CONCURRENT_MODIFIERS))
    if rank <= 1 or not mods:
        return None
    return mods[min(rank - 2, len(mods) - 1)]


def nursing_addon_units(minutes: int, threshold: int = DEFAULT_ADDON_MINUTES) -> int:
    """99602 units for one visit: each full hour past the first two, plus one for a remainder of
    more than ``threshold`` minutes.

    >>> [nursing_addon_units(m) for m in (90, 120, 150, 151, 180, 210, 211)]
    [0, 0, 0, 1, 1, 1, 2]
    """
    extra = minutes - NURSING_FIRST_MINUTES
    if extra <= 0:
        return 0
    full, rest = divmod(extra, 60)
    return full + (1 if rest > threshold else 0)


def visit_minutes(v: NursingVisit) -> int:
    return int((v.end - v.start).total_seconds() // 60)


def hit_day_kinds(
    days: Sequence[date],
    history: Iterable[date] = (),
    first_hit_visit: bool | None = None,
    gap_days: int = DEFAULT_HIT_GAP_DAYS,
) -> dict[date, tuple[str, str]]:
    """Initial or subsequent for each HIT visit day, with the reason.

    A day is initial when no HIT G-code was billed for the patient on any of the ``gap_days``
    days before it (history dates on or after the day are ignored: they are this claim, or a
    later one). ``first_hit_visit`` overrides the rule for the first day.

    >>> k = hit_day_kinds([date(2026, 3, 2), date(2026, 3, 9)], [date(2025, 12, 31)])
    >>> [v[0] for v in k.values()]
    ['initial', 'subsequent']
    >>> hit_day_kinds([date(2026, 3, 2)], [date(2026, 1, 1)], gap_days=60)[date(2026, 3, 2)][0]
    'subsequent'
    >>> hit_day_kinds([date(2026, 3, 1)], [date(2026, 1, 1)])[date(2026, 3, 1)][0]
    'subsequent'
    """
    prior = sorted(set(history))
    billed: list[date] = []
    out: dict[date, tuple[str, str]] = {}
    for i, day in enumerate(sorted(set(days))):
        if i == 0 and first_hit_visit is not None:
            kind = "initial" if first_hit_visit else "subsequent"
            out[day] = (kind, f"first_hit_visit is {str(first_hit_visit).lower()} in the encounter")
            billed.append(day)
            continue
        recent_hist = [p for p in prior if 0 < (day - p).days <= gap_days]
        recent_claim = [p for p in billed if 0 < (day - p).days <= gap_days]
        if recent_claim:
            out[day] = (
                "subsequent",
                f"HIT visit day {recent_claim[-1].isoformat()} on this claim is within {gap_days} days",
            )
        elif recent_hist:
            out[day] = (
                "subsequent",
                f"ledger history has a HIT G-code on {recent_hist[-1].isoformat()}, within {gap_days} days",
            )
        else:
            out[day] = ("initial", f"no HIT G-code for this patient in the previous {gap_days} days")
        billed.append(day)
    return out


def hit_units(minutes: int, rounding: str = DEFAULT_HIT_ROUNDING) -> int:
    """15-minute units of a HIT visit day's length (at least 1). A final partial increment counts
    by ``rounding``: ``up`` any part of it, ``half`` 8 minutes or more (the midpoint), ``down``
    never.

    >>> [hit_units(m) for m in (1, 7, 8, 15, 22, 23, 60, 120)]
    [1, 1, 1, 1, 1, 2, 4, 8]
    >>> [hit_units(m, "up") for m in (1, 15, 16, 61)], [hit_units(m, "down") for m in (14, 29, 30)]
    ([1, 1, 2, 5], [1, 1, 2])
    """
    full, rest = divmod(max(minutes, 0), HIT_UNIT_MINUTES)
    if rest and (rounding == "up" or (rounding == "half" and 2 * rest >= HIT_UNIT_MINUTES)):
        full += 1
    return max(full, 1)


def _day_minutes(visits: Sequence[NursingVisit], day: date) -> int:
    """Minutes of nursing visits starting on ``day`` (overlapping visits counted once)."""
    spans = sorted((v.start, v.end) for v in visits if v.start.date() == day)
    total = 0
    cur_s = cur_e = None
    for st, en in spans:
        if cur_e is None or st > cur_e:
            if cur_e is not None and cur_s is not None:
                total += int((cur_e - cur_s).total_seconds() // 60)
            cur_s, cur_e = st, en
        elif en > cur_e:
            cur_e = en
    if cur_e is not None and cur_s is not None:
        total += int((cur_e - cur_s).total_seconds() // 60)
    return total


def hit_category_of(t: Therapy) -> tuple[HitCategory | None, HitDrug | None]:
    """Payment category of a therapy's drug: the HIT drug list first, else the therapy category."""
    drug = hit_drugs().get(t.drug.upper())
    cats = hit_categories()
    if drug is not None:
        return cats.get(drug.category), drug
    for cat in cats.values():
        if t.category in cat.therapy_categories:
            return cat, None
    return None, None


# --------------------------------------------------------------------------- drug units


def _fmt(d: Decimal) -> str:
    s = format(d.normalize(), "f")
    return s


def course_drug_line(
    enc: Encounter, cfg: Config, payer: PayerProfile, t: Therapy, codesets: CodeSets = NO_CODESETS
) -> tuple[ServiceLine | None, list[Finding]]:
    """The drug of a therapy over the whole course, on one line dated the first day.

    Units = ceil(dose × doses per day × days ÷ billing unit) (:func:`coding.drugs.lines.billing_units`);
    a per-vial/dose code bills one unit per dose; an unclassified (NOC) code bills 1 unit with a
    warning. NDC quantity and unit follow the drug-line convention of :mod:`coding.drugs.lines`.
    The billing unit is the one in effect on the course's first day (``codesets``: loaded sets,
    :func:`coding.drugs.lines.drug_info_on`); the rationale names its source.
    """
    from coding.drugs import lines as drugs  # the HCPCS drug table (billing unit of each code)

    where = {"encounter_id": enc.id, "administration_id": t.id}
    dinfo = drugs.drug_info_on(t.drug, t.start_date, codesets)
    if dinfo is None:
        return None, [
            error(
                "unknown-drug",
                f"therapy {t.id}: drug {t.drug} is not in the HCPCS drug table; drug line held",
                field=_tf(enc, t, "drug"),
                **where,
            )
        ]
    findings: list[Finding] = []
    days = therapy_days(t.start_date, t.end_date)
    per_day = doses_per_day(t)
    total = t.dose.value * per_day * days
    course = (
        f"course of therapy {t.id} {t.start_date.isoformat()}..{t.end_date.isoformat()}: "
        f"{_fmt(t.dose.value)} {t.dose.unit} × {per_day} dose(s)/day × {days} day(s) = "
        f"{_fmt(total)} {t.dose.unit}"
    )
    if dinfo.parse_status == "noc":
        units = 1
        calc = f"{t.drug}: not otherwise classified drug, 1 unit ({dinfo.source}; {course})"
        findings.append(
            warning(
                "noc-drug",
                f"therapy {t.id}: {t.drug} is unclassified, billed as 1 unit; "
                "payers require the drug name, dose and NDC in the line note",
                field=_tf(enc, t, "drug"),
                **where,
            )
        )
    elif dinfo.billing_unit == "each":
        units = per_day * days
        calc = (
            f"{t.drug}: billed per vial/dose ({dinfo.source}): {per_day} dose(s)/day × {days} day(s) = {units} unit(s)"
        )
    else:
        got = drugs.billing_units(total, t.dose.unit, dinfo)
        if got is None:
            if not dinfo.codable_by_dose:
                return None, [
                    error(
                        "no-billing-unit",
                        f"therapy {t.id}: {t.drug} has no billing unit a "
                        "dose converts to; drug line held for manual coding",
                        field=_tf(enc, t, "drug"),
                        **where,
                    )
                ]
            return None, [
                error(
                    "dose-unit-mismatch",
                    f"therapy {t.id}: dose unit {t.dose.unit} cannot be "
                    f"converted to the {t.drug} billing unit ({dinfo.billing_unit}); drug line held",
                    field=_tf(enc, t, "dose"),
                    **where,
                )
            ]
        units = max(got, 1)
        calc = f"{t.drug}: {course} ÷ {dinfo.unit_label} per unit ({dinfo.source}) = {units} unit(s) (rounded up)"
    charge, f = line_charge(cfg, t.drug, units, field=_tf(enc, t, "drug"), **where)
    if f is not None:
        return None, findings + [f]
    ndc = ndc_qty = ndc_unit = None
    if t.ndc:
        try:
            ndc = ndc_id.to_11(t.ndc)
        except ValueError as exc:
            return None, findings + [error("invalid-ndc", f"therapy {t.id}: {exc}", field=_tf(enc, t, "ndc"), **where)]
        pref = str(payer.get("ndc_unit", "UN") or "UN").upper()
        ndc_qty, ndc_unit = drugs.ndc_quantity(pref, total, t.dose.unit, units)
    rationale = calc + "; home infusion drug billed separately from the per diem"
    if ndc:
        rationale += f"; NDC {ndc} quantity {ndc_qty} {ndc_unit}"
    line = ServiceLine(
        code=t.drug.upper(),
        units=units,
        service_date=t.start_date,
        charge=charge,
        rationale=rationale,
        administration_ids=[t.id],
        ndc=ndc,
        ndc_quantity=ndc_qty,
        ndc_unit=ndc_unit,
        kind="drug",
    )
    return line, findings


# --------------------------------------------------------------------------- lines


def _charged(
    cfg: Config, line: ServiceLine, findings: list[Finding], lines: list[ServiceLine], **where: object
) -> None:
    charge, f = line_charge(cfg, line.code, line.units, **where)
    if f is not None:
        findings.append(f)
        return
    line.charge = charge
    lines.append(line)


def per_diem_lines(enc: Encounter, cfg: Config, payer: PayerProfile) -> tuple[list[ServiceLine], list[Finding]]:
    """S-code per diems, one line per calendar month, SH/SJ on concurrent ones."""
    lines: list[ServiceLine] = []
    findings: list[Finding] = []
    ranks = concurrency_ranks(enc.therapies)
    split = str(payer.get("home_per_diem_split", "calendar_month"))
    for t in therapy_order(enc.therapies):
        where = {"encounter_id": enc.id, "administration_id": t.id}
        vol = daily_volume_ml(t)
        rule = per_diem_rule(t.category, t.schedule, vol)
        if rule is None:
            findings.append(
                error(
                    "no-per-diem-code",
                    f"therapy {t.id}: no per-diem code for category "
                    f"{t.category} and schedule {t.schedule}; per diem held",
                    field=_tf(enc, t, "category"),
                    **where,
                )
            )
            continue
        mod = concurrent_modifier(ranks[t.id], payer)
        segments = (
            month_segments(t.start_date, t.end_date) if split == "calendar_month" else [(t.start_date, t.end_date)]
        )
        basis = f"{t.category} {t.schedule}"
        if rule.has_band and vol is not None:
            basis += f", {_fmt(vol)} mL/day"
        for seg_start, seg_end in segments:
            days = therapy_days(seg_start, seg_end)
            why = (
                f"{rule.code} ×{days}: per diem for therapy {t.id} ({basis}: {rule.meaning}); "
                f"{seg_start.isoformat()}..{seg_end.isoformat()} = {days} therapy day(s)"
            )
            if len(segments) > 1:
                why += f" (calendar month {seg_start:%Y-%m} of a {therapy_days(t.start_date, t.end_date)}-day course; one line per month)"
            if mod:
                why += (
                    f"; per diem #{ranks[t.id]} concurrent with earlier therapies (ordered by start date, id) → {mod}"
                )
            why += "; drugs and nursing billed separately"
            _charged(
                cfg,
                ServiceLine(
                    code=rule.code,
                    units=days,
                    service_date=seg_start,
                    charge=Decimal(0),
                    rationale=why,
                    modifiers=[mod] if mod else [],
                    administration_ids=[t.id],
                    kind="home",
                ),
                findings,
                lines,
                field=_tf(enc, t),
                **where,
            )
    return lines, findings


def nursing_lines(enc: Encounter, cfg: Config, payer: PayerProfile) -> tuple[list[ServiceLine], list[Finding]]:
    """99601 per visit, 99602 per additional hour; one line per code and date."""
    lines: list[ServiceLine] = []
    findings: list[Finding] = []
    threshold = int(payer.get("home_nursing_addon_minutes", DEFAULT_ADDON_MINUTES))
    by_day: dict[date, list[tuple[int, NursingVisit]]] = {}
    for i, v in enumerate(enc.nursing_visits):
        by_day.setdefault(v.start.date(), []).append((i, v))
        if enc.therapies and not any(t.start_date <= v.start.date() <= t.end_date for t in enc.therapies):
            findings.append(
                warning(
                    "nursing-visit-outside-therapy",
                    f"nursing visit {i + 1} on {v.start.date().isoformat()} is outside every "
                    "therapy's date range; billed as recorded",
                    encounter_id=enc.id,
                    field=f"nursing_visits[{i}]",
                )
            )
    for day in sorted(by_day):
        visits = by_day[day]
        times = []
        addon = 0
        for _, v in visits:
            m = visit_minutes(v)
            a = nursing_addon_units(m, threshold)
            addon += a
            times.append(f"{v.start:%H:%M}–{v.end:%H:%M} = {m} min" + (f" → 99602 ×{a}" if a else ""))
        desc = "; ".join(times)
        _charged(
            cfg,
            ServiceLine(
                code=NURSING_FIRST,
                units=len(visits),
                service_date=day,
                charge=Decimal(0),
                rationale=(
                    f"99601 ×{len(visits)}: home infusion nursing visit(s) on {day.isoformat()} "
                    f"({desc}); 99601 covers each visit up to 2 hours"
                ),
                kind="home",
            ),
            findings,
            lines,
            encounter_id=enc.id,
            field="nursing_visits",
        )
        if addon:
            _charged(
                cfg,
                ServiceLine(
                    code=NURSING_ADDON,
                    units=addon,
                    service_date=day,
                    charge=Decimal(0),
                    rationale=(
                        f"99602 ×{addon}: each additional hour past the first 2 hours of a visit on "
                        f"{day.isoformat()} ({desc}); an hour counts when more than {threshold} "
                        "minutes of it are used"
                    ),
                    kind="home",
                ),
                findings,
                lines,
                encounter_id=enc.id,
                field="nursing_visits",
            )
    return lines, findings


def per_diem_model(
    enc: Encounter, cfg: Config, payer: PayerProfile, codesets: CodeSets = NO_CODESETS
) -> tuple[list[ServiceLine], list[Finding]]:
    lines, findings = per_diem_lines(enc, cfg, payer)
    n_lines, n_findings = nursing_lines(enc, cfg, payer)
    lines += n_lines
    findings += n_findings
    for t in therapy_order(enc.therapies):
        ln, fs = course_drug_line(enc, cfg, payer, t, codesets)
        findings += fs
        if ln is not None:
            lines.append(ln)
    return lines, findings


def medicare_hit_model(
    enc: Encounter, cfg: Config, payer: PayerProfile, hit_history: HitHistory | None = None
) -> tuple[list[ServiceLine], list[Finding]]:
    """Medicare HIT G-codes; S-codes, 99601/99602 and drugs left out with findings."""
    lines: list[ServiceLine] = []
    findings: list[Finding] = []
    gap = int(payer.get("hit_initial_gap_days", DEFAULT_HIT_GAP_DAYS))
    pump_cats: list[tuple[Therapy, HitCategory]] = []
    for t in therapy_order(enc.therapies):
        where = {"encounter_id": enc.id, "administration_id": t.id}
        rule = per_diem_rule(t.category, t.schedule, daily_volume_ml(t))
        sname = rule.code if rule else "per diem"
        findings.append(
            warning(
                "medicare-per-diem-not-billed",
                f"therapy {t.id}: {sname} not billed: Medicare does not recognize S-code per diems; "
                "the professional services are billed as home infusion therapy (HIT) G-codes",
                field=_tf(enc, t),
                **where,
            )
        )
        cat, drug = hit_category_of(t)
        if not t.pump:
            findings.append(
                warning(
                    "hit-not-pump",
                    f"therapy {t.id}: not given through a durable external pump; Medicare HIT services "
                    f"need a DME pump, so no G-code for it, and its drug {t.drug} is not billed on this claim",
                    field=_tf(enc, t, "pump"),
                    **where,
                )
            )
            continue
        jb = " with modifier JB" if drug is not None and drug.jb else ""
        findings.append(
            info(
                "medicare-drug-to-dme",
                f"therapy {t.id}: drug {t.drug}{jb}, the external infusion pump and supplies are billed to the "
                "DME MAC under the DME benefit, not on this claim",
                field=_tf(enc, t, "drug"),
                **where,
            )
        )
        if cat is None:
            findings.append(
                warning(
                    "hit-no-category",
                    f"therapy {t.id}: {t.drug} ({t.category}) is in no HIT payment category; no G-code",
                    field=_tf(enc, t, "drug"),
                    **where,
                )
            )
            continue
        if drug is None:
            findings.append(
                info(
                    "hit-category-from-therapy",
                    f"therapy {t.id}: {t.drug} is not on the HIT drug list; payment category {cat.category} "
                    f"taken from therapy category {t.category}",
                    field=_tf(enc, t, "drug"),
                    **where,
                )
            )
        pump_cats.append((t, cat))

    if enc.nursing_visits:
        findings.append(
            info(
                "medicare-nursing-not-billed",
                f"{len(enc.nursing_visits)} nursing visit(s) not billed as 99601/99602 (not payable by "
                "Medicare); visit days with pump therapy are billed as HIT G-codes",
                encounter_id=enc.id,
                field="nursing_visits",
            )
        )

    day_cats: dict[date, list[tuple[HitCategory, list[Therapy]]]] = {}
    for i, v in enumerate(enc.nursing_visits):
        day = v.start.date()
        active = [(t, c) for t, c in pump_cats if t.start_date <= day <= t.end_date]
        if not active:
            if pump_cats:
                findings.append(
                    warning(
                        "hit-visit-no-pump-therapy",
                        f"nursing visit {i + 1} on {day.isoformat()}: no pump therapy runs that day; "
                        "not an infusion drug administration calendar day, no G-code",
                        encounter_id=enc.id,
                        field=f"nursing_visits[{i}]",
                    )
                )
            continue
        entry = day_cats.setdefault(day, [])
        for t, c in active:
            for cat, ts in entry:
                if cat.category == c.category:
                    if t not in ts:
                        ts.append(t)
                    break
            else:
                entry.append((c, [t]))

    if not day_cats:
        if not lines:
            findings.append(
                warning(
                    "no-billable-home-lines",
                    "Medicare home infusion: no visit day with pump therapy, so nothing is billable on this "
                    "claim (see the other findings)",
                    encounter_id=enc.id,
                )
            )
        return lines, findings

    if enc.first_hit_visit is not None:
        history: Sequence[date] = ()
        source = "encounter first_hit_visit"
    elif hit_history is not None:
        history = list(hit_history(enc.patient.id))
        source = "ledger history"
    else:
        history = ()
        source = "no ledger history available"
        findings.append(
            info(
                "hit-no-history",
                "no ledger history of earlier HIT services was available; the first visit day is coded as initial",
                encounter_id=enc.id,
                field="first_hit_visit",
            )
        )
    kinds = hit_day_kinds(list(day_cats), history, enc.first_hit_visit, gap)
    rounding = str(payer.get("hit_unit_rounding", DEFAULT_HIT_ROUNDING))
    if rounding not in HIT_ROUNDING:
        findings.append(
            warning(
                "bad-payer-setting",
                f"payer {payer.key}: hit_unit_rounding must be one of {', '.join(HIT_ROUNDING)}; "
                f"{DEFAULT_HIT_ROUNDING} used",
                encounter_id=enc.id,
                field="payer",
            )
        )
        rounding = DEFAULT_HIT_ROUNDING
    for day in sorted(day_cats):
        kind, reason = kinds[day]
        minutes = _day_minutes(enc.nursing_visits, day)
        units = hit_units(minutes, rounding)
        for cat, ts in sorted(day_cats[day], key=lambda e: e[0].category):
            code = cat.initial_code if kind == "initial" else cat.subsequent_code
            drugs_txt = ", ".join(f"{t.id} {t.drug}" for t in ts)
            why = (
                f"{code} ×{units}: {cat.meaning}, {kind} visit on {day.isoformat()} (nursing visit, pump "
                f"therapy {drugs_txt}); {kind}: {reason} ({source}); one line per payment category "
                f"and infusion drug administration calendar day, units = the visit's {minutes} min in "
                f"15-minute increments (final partial increment: {rounding}); payment stays one per day, "
                "so the charge is the day's price"
            )
            line = ServiceLine(
                code=code,
                units=1,
                service_date=day,
                charge=Decimal(0),
                rationale=why,
                administration_ids=[t.id for t in ts],
                kind="home",
            )
            _charged(cfg, line, findings, lines, encounter_id=enc.id, field="nursing_visits")
            line.units = units  # priced as one day above; the units report the visit's length
    return lines, findings


def home_lines(
    enc: Encounter,
    cfg: Config,
    payer: PayerProfile,
    hit_history: HitHistory | None = None,
    codesets: CodeSets = NO_CODESETS,
) -> tuple[list[ServiceLine], list[Finding]]:
    """Claim lines and findings for a ``setting: home`` encounter (see the module doc); ``codesets``:
    the loaded CMS sets the course drug's billing unit comes from."""
    model = str(payer.get("home_infusion_model", "per_diem"))
    if not enc.therapies:
        return [], [
            error("missing-therapies", "home encounter has no therapies", encounter_id=enc.id, field="therapies")
        ]
    extra: list[Finding] = []
    if enc.administrations:
        extra.append(
            warning(
                "home-administrations-not-coded",
                f"{len(enc.administrations)} administration(s) on a home encounter are not coded: a home course "
                "is described by its therapies and nursing visits",
                encounter_id=enc.id,
                field="administrations",
            )
        )
    if enc.services:
        extra.append(
            warning(
                "home-services-not-coded",
                f"{len(enc.services)} other service(s) on a home encounter are not coded; bill them on their "
                "own encounter",
                encounter_id=enc.id,
                field="services",
            )
        )
    if model == "per_diem":
        lines, findings = per_diem_model(enc, cfg, payer, codesets)
        return lines, extra + findings
    if model == "medicare_hit":
        lines, findings = medicare_hit_model(enc, cfg, payer, hit_history)
        return lines, extra + findings
    return [], extra + [
        error(
            "unknown-home-infusion-model",
            f"payer {payer.key}: home_infusion_model must be one of {', '.join(MODELS)}",
            encounter_id=enc.id,
            field="payer",
        )
    ]
