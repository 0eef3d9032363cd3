"""Time rules for drug administration (fact base §2).

Small pure functions; every threshold is a parameter whose default is the CPT/CMS rule and
whose payer override is a payer-profile key (see ``docs/coding-rules.md``):

* push vs infusion: an IV infusion of ``push_max`` (15) minutes or less is a push (§2.1/§2.5);
* initial hour plus additional hours: an additional-hour unit for each full hour beyond the
  first, plus one for a remainder of MORE than ``addon_over`` (30) minutes (§2.2);
* hydration needs at least ``hydration_min`` (31) minutes (§2.3);
* a missing stop time is computed from the documented volume and rate, else the service is held
  (§2.6).

>>> addon_hour_units(60), addon_hour_units(90), addon_hour_units(91), addon_hour_units(150), addon_hour_units(151)
(0, 0, 1, 1, 2)
>>> hourly_units(31), hourly_units(90), hourly_units(91)
(1, 1, 2)
>>> is_push_minutes(15), is_push_minutes(16)
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

PUSH_MAX_MINUTES = 15  # §2.1: an infusion of 15 minutes or less is a push
ADDON_OVER_MINUTES = 30  # §2.2: an additional hour needs MORE than 30 minutes past the hour
HYDRATION_MIN_MINUTES = 31  # §2.3: hydration of 30 minutes or less is not reported
# §3.1: several syringes or vials of ONE dose get one injection code; injections of the same drug
# starting within this many minutes of the previous one are taken as that one dose, later ones
# as separate injections, each billed (payer key same_dose_window_minutes)
SAME_DOSE_WINDOW_MINUTES = 15
CONCURRENT_MIN_OVERLAP = 16  # §2.4 [CONFLICT]: default "more than 15 minutes" of overlap


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from start to end (seconds are dropped: time not documented is not billed).

    >>> minutes_between(datetime(2026, 3, 2, 23, 30), datetime(2026, 3, 3, 0, 45))
    75
    """
    return int((end - start).total_seconds() // 60)


def is_push_minutes(minutes: int, push_max: int = PUSH_MAX_MINUTES) -> bool:
    """An IV administration of ``push_max`` minutes or less counts as a push."""
    return minutes <= push_max


def addon_hour_units(total_minutes: int, addon_over: int = ADDON_OVER_MINUTES) -> int:
    """Additional-hour units after an initial (first-hour) code.

    One unit per full hour beyond the first 60 minutes, plus one for a remainder of more than
    ``addon_over`` minutes. ``floor((T-60)/60) + (1 if (T-60) % 60 > 30 else 0)`` for T > 60.
    """
    if total_minutes <= 60:
        return 0
    extra = total_minutes - 60
    return extra // 60 + (1 if extra % 60 > addon_over else 0)


def hourly_units(minutes: int, addon_over: int = ADDON_OVER_MINUTES) -> int:
    """Units of an hourly code counted from the start (hydration after a different initial
    service, 96361): each full hour, plus one for a remainder of more than ``addon_over`` minutes.
    """
    if minutes <= 0:
        return 0
    return minutes // 60 + (1 if minutes % 60 > addon_over else 0)


def hydration_reportable(minutes: int, hydration_min: int = HYDRATION_MIN_MINUTES) -> bool:
    """Hydration is reported only from ``hydration_min`` (31) minutes on."""
    return minutes >= hydration_min


def end_from_volume_rate(start: datetime, volume_ml: Decimal | None, rate_ml_per_hr: Decimal | None) -> datetime | None:
    """Stop time computed from documented volume and rate (§2.6), whole minutes rounded down.

    >>> end_from_volume_rate(datetime(2026, 3, 2, 9, 0), Decimal("250"), Decimal("100"))
    datetime.datetime(2026, 3, 2, 11, 30)
    >>> end_from_volume_rate(datetime(2026, 3, 2, 9, 0), Decimal("250"), None) is None
    True
    """
    if volume_ml is None or rate_ml_per_hr is None:
        return None
    if volume_ml <= 0 or rate_ml_per_hr <= 0:
        return None
    minutes = int((volume_ml * 60) // rate_ml_per_hr)
    return start + timedelta(minutes=minutes)


@dataclass(frozen=True, slots=True)
class Timing:
    """Resolved time of one administration: ``end`` is None only for instantaneous services."""

    start: datetime
    end: datetime | None
    minutes: int
    computed: bool = False  # end computed from volume/rate

    def text(self) -> str:
        """``14:00-15:30 = 90 min`` (dates shown when the service crosses midnight)."""
        s, e = self.start, self.end
        if e is None:
            return hm(s)
        if e.day != s.day or e.month != s.month or e.year != s.year:
            span = f"{s.date().isoformat()} {hm(s)}-{e.date().isoformat()} {hm(e)}"
        else:
            span = f"{hm(s)}-{hm(e)}"
        if self.computed:
            return f"{span} = {self.minutes} min (stop time computed from volume/rate)"
        return f"{span} = {self.minutes} min"


def hm(t: datetime) -> str:
    """``HH:MM`` (faster than strftime; rationale texts are built for every line)."""
    return f"{t.hour:02d}:{t.minute:02d}"


def overlap_minutes(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> int:
    """Minutes two intervals overlap (0 when disjoint)."""
    lo = max(a_start, b_start)
    hi = min(a_end, b_end)
    return minutes_between(lo, hi) if hi > lo else 0


def union_minutes(intervals: list[tuple[datetime, datetime]]) -> int:
    """Minutes covered by the union of intervals (same drug restarted: times add, overlaps once)."""
    total = 0
    cur_s: datetime | None = None
    cur_e: datetime | None = None
    for s, e in sorted(intervals):
        if cur_e is None or s > cur_e:
            if cur_e is not None and cur_s is not None:
                total += minutes_between(cur_s, cur_e)
            cur_s, cur_e = s, e
        elif e > cur_e:
            cur_e = e
    if cur_e is not None and cur_s is not None:
        total += minutes_between(cur_s, cur_e)
    return total


def uncovered_minutes(start: datetime, end: datetime, others: list[tuple[datetime, datetime]]) -> int:
    """Minutes of [start, end) not covered by any of ``others`` (overlap subtracted, §2.4)."""
    clipped = [(max(s, start), min(e, end)) for s, e in others if min(e, end) > max(s, start)]
    return minutes_between(start, end) - union_minutes(clipped)


def epoch_minutes(t: datetime) -> int:
    """Minutes since 0001-01-01 00:00 (seconds dropped): fast integer interval arithmetic."""
    return t.toordinal() * 1440 + t.hour * 60 + t.minute


def union_len(intervals: list[tuple[int, int]]) -> int:
    """Length of the union of integer-minute intervals.

    >>> union_len([(0, 50), (80, 130)]), union_len([(0, 60), (30, 90)]), union_len([])
    (100, 90, 0)
    """
    if not intervals:
        return 0
    if len(intervals) == 1:
        a, b = intervals[0]
        return b - a if b > a else 0
    total = 0
    ordered = iter(sorted(intervals))
    cs, ce = next(ordered)
    for s, e in ordered:
        if s > ce:
            total += ce - cs
            cs, ce = s, e
        elif e > ce:
            ce = e
    total += ce - cs
    return total


def uncovered_len(a: int, b: int, others: list[tuple[int, int]]) -> int:
    """Minutes of [a, b) not covered by ``others`` (integer minutes; overlap subtracted, §2.4).

    >>> uncovered_len(360, 450, [(420, 960)])
    60
    """
    clipped = [(x if x > a else a, y if y < b else b) for x, y in others if x < b and y > a]
    return (b - a) - union_len(clipped)


def unit_dates(start: datetime, first_minute: int, units: int, by_line_date: bool = True) -> list[date]:
    """Date of each hourly unit that begins ``first_minute`` + 60*k minutes after ``start``.

    With ``by_line_date`` (CMS: report on the day each service is given, §2.7) every unit gets
    the date its hour begins; otherwise every unit goes on the start date.

    >>> unit_dates(datetime(2026, 3, 2, 22, 30), 60, 3)
    [datetime.date(2026, 3, 2), datetime.date(2026, 3, 3), datetime.date(2026, 3, 3)]
    """
    if not by_line_date:
        return [start.date()] * units
    return [(start + timedelta(minutes=first_minute + 60 * k)).date() for k in range(units)]
