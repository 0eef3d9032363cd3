"""Medicare HIT G-codes ("each 15 minutes"): one line per payment category and visit day whose
units are the visit's length in 15-minute increments (CMS change request of 2021-08-09), the final
partial increment rounded by the payer key ``hit_unit_rounding``; the earlier rule sent 1 unit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from coding.home.lines import home_lines
from coding.model import NursingVisit
from tests.coding.home.test_home_lines import CFG, MEDICARE, encounter, price, therapy

D1 = date(2026, 3, 2)


def _pump_encounter(visits: list[NursingVisit]):
    t = therapy(
        category="inotrope", drug="J1250", dose=("250", "mg"), schedule="continuous", days=5, pump=True, start=D1
    )
    return encounter([t], visits, payer="medicare")


def _visit(minutes: int, hour: int = 9, day: date = D1) -> NursingVisit:
    start = datetime.combine(day, datetime.min.time()) + timedelta(hours=hour)
    return NursingVisit(start, start + timedelta(minutes=minutes))


# (visit minutes, rounding, units)
SCENARIOS = [
    (60, "half", 4),
    (67, "half", 4),  # 7 min left over: under the midpoint
    (68, "half", 5),  # 8 min: the midpoint counts
    (5, "half", 1),  # a visit always bills at least one unit
    (61, "up", 5),
    (74, "down", 4),
    (120, "down", 8),
    (10, "down", 1),
]


@pytest.mark.parametrize(("minutes", "rounding", "units"), SCENARIOS)
def test_units_are_the_visit_length_in_15_minute_increments(minutes, rounding, units):
    payer = replace(MEDICARE, settings={**MEDICARE.settings, "hit_unit_rounding": rounding})
    lines, findings = home_lines(_pump_encounter([_visit(minutes)]), CFG, payer, hit_history=lambda pid: [])
    assert [(ln.code, ln.units) for ln in lines] == [("G0088", units)]
    assert lines[0].charge == price("G0088")  # one payment per day: the day's price, not × units
    assert not [f for f in findings if f.is_error]


def test_default_rounding_is_the_midpoint_and_overlapping_visits_count_once():
    visits = [_visit(60, 9), _visit(60, 9), _visit(23, 14)]  # 60 + 23 min (the repeat overlaps)
    lines, _ = home_lines(_pump_encounter(visits), CFG, MEDICARE, hit_history=lambda pid: [])
    assert [(ln.code, ln.units) for ln in lines] == [("G0088", 6)]


def test_an_unknown_rounding_setting_is_a_warning_and_the_default_is_used():
    payer = replace(MEDICARE, settings={**MEDICARE.settings, "hit_unit_rounding": "nearest"})
    lines, findings = home_lines(_pump_encounter([_visit(68)]), CFG, payer, hit_history=lambda pid: [])
    assert [ln.units for ln in lines] == [5]
    assert "bad-payer-setting" in {f.code for f in findings}
