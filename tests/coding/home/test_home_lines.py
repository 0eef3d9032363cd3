"""Home infusion coding (coding.home.lines.home_lines): per-diem model and Medicare HIT model.

Scenarios: worked Example 14 of the coding examples exactly, a 45-day therapy crossing a month boundary, a q12h
second antibiotic with SH, a 3-hour nursing visit, Medicare pump therapy with an initial and two
subsequent visit days, the 60-day rule, a Medicare claim that would have had S-codes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coding.config import load_config
from coding.home.lines import hit_day_kinds, home_lines, nursing_addon_units
from coding.model import Address, Encounter, NursingVisit, Patient, Quantity, Therapy

CFG = load_config()
COMMERCIAL = CFG.payers["commercial"]
MEDICARE = CFG.payers["medicare"]


def price(code: str) -> Decimal:
    """The chargemaster price of a code the fixture config prices."""
    p = CFG.price(code)
    assert p is not None, code
    return p


PATIENT = Patient(
    id="PAT-H1",
    first="TEST",
    last="PATIENT",
    dob=date(1950, 1, 2),
    sex="F",
    member_id="M123",
    address=Address("1 ELM ST", "SPRINGFIELD", "IL", "62701"),
)


def therapy(
    tid="T1",
    category="anti_infective",
    start=date(2026, 3, 2),
    days=14,
    drug="J0696",
    dose=("2", "g"),
    schedule="q24h",
    **kw,
) -> Therapy:
    return Therapy(
        id=tid,
        category=category,
        start_date=start,
        end_date=start + timedelta(days=days - 1),
        drug=drug,
        dose=Quantity(Decimal(dose[0]), dose[1]),
        schedule=schedule,
        **kw,
    )


def visit(day: date, hour: int, minutes: int) -> NursingVisit:
    start = datetime(day.year, day.month, day.day, hour, 0)
    return NursingVisit(start=start, end=start + timedelta(minutes=minutes))


def encounter(therapies, visits=(), payer="commercial", **kw) -> Encounter:
    return Encounter(
        id="HOME-T",
        setting="home",
        payer=payer,
        patient=PATIENT,
        diagnoses=("A419",),
        therapies=tuple(therapies),
        nursing_visits=tuple(visits),
        **kw,
    )


def summary(lines):
    return [(ln.code, tuple(ln.modifiers), ln.units, ln.service_date.isoformat()) for ln in lines]


def codes(findings):
    return {f.code for f in findings}


# ----------------------------------------------------------------------------- per diem


def test_example_14_commercial_ceftriaxone_q24h_14_days():
    d1 = date(2026, 3, 2)
    enc = encounter(
        [therapy(ndc="0409-7332-01")],
        [visit(d1, 9, 90), visit(d1 + timedelta(days=7), 10, 60), visit(d1 + timedelta(days=13), 10, 75)],
    )
    lines, findings = home_lines(enc, CFG, COMMERCIAL)
    assert not [f for f in findings if f.severity == "error"], findings
    assert summary(lines) == [
        ("S9500", (), 14, "2026-03-02"),
        ("99601", (), 1, "2026-03-02"),
        ("99601", (), 1, "2026-03-09"),
        ("99601", (), 1, "2026-03-15"),
        ("J0696", (), 112, "2026-03-02"),
    ]
    drug = lines[-1]
    assert drug.ndc == "00409733201"
    assert drug.ndc_quantity is not None and drug.ndc_quantity > 0 and drug.ndc_unit
    assert "112" in drug.rationale and "250" in drug.rationale
    # charges from the chargemaster: per diem per day, per visit, per drug billing unit
    assert lines[0].charge == price("S9500") * 14
    assert lines[1].charge == price("99601")
    assert drug.charge == price("J0696") * 112
    assert all(ln.rationale for ln in lines)
    assert "99602" not in {ln.code for ln in lines}


def test_45_day_therapy_over_three_calendar_months():
    enc = encounter([therapy(start=date(2026, 1, 20), days=45)])
    lines, _ = home_lines(enc, CFG, COMMERCIAL)
    per_diem = [ln for ln in lines if ln.code == "S9500"]
    # 2026-01-20 + 44 days = 2026-03-05: January 12 days, February 28, March 5
    assert [ln.units for ln in per_diem] == [12, 28, 5]
    assert sum(ln.units for ln in per_diem) == 45
    drug = [ln for ln in lines if ln.code == "J0696"]
    assert drug[0].units == 2 * 1000 * 45 // 250  # the drug is one line over the whole course


def test_45_day_therapy_crossing_a_month_boundary_gives_two_per_diem_lines():
    enc = encounter([therapy(start=date(2026, 4, 10), days=45)])  # 04-10 .. 05-24
    lines, _ = home_lines(enc, CFG, COMMERCIAL)
    assert summary([ln for ln in lines if ln.code.startswith("S")]) == [
        ("S9500", (), 21, "2026-04-10"),
        ("S9500", (), 24, "2026-05-01"),
    ]


def test_course_split_payer_setting_gives_one_line():
    payer = replace(COMMERCIAL, settings={**COMMERCIAL.settings, "home_per_diem_split": "course"})
    enc = encounter([therapy(start=date(2026, 4, 10), days=45)])
    lines, _ = home_lines(enc, CFG, payer)
    assert summary([ln for ln in lines if ln.code.startswith("S")]) == [("S9500", (), 45, "2026-04-10")]


def test_q12h_second_concurrent_antibiotic_gets_sh():
    first = therapy("T1", start=date(2026, 3, 2), days=14)
    second = therapy("T2", start=date(2026, 3, 4), days=10, drug="J3370", dose=("1", "g"), schedule="q12h")
    lines, _findings = home_lines(encounter([second, first]), CFG, COMMERCIAL)
    per_diem = [ln for ln in lines if ln.code.startswith("S")]
    assert summary(per_diem) == [("S9500", (), 14, "2026-03-02"), ("S9501", ("SH",), 10, "2026-03-04")]
    assert "SH" in per_diem[1].rationale
    vanco = next(ln for ln in lines if ln.code == "J3370")
    assert vanco.units == 40  # 1 g × 2/day × 10 days = 20 g ÷ 500 mg


def test_third_concurrent_per_diem_gets_sj_and_a_later_one_none():
    ts = [
        therapy("T1", days=10),
        therapy("T2", start=date(2026, 3, 3), days=5, schedule="q8h", drug="J2185", dose=("1", "g")),
        therapy("T3", start=date(2026, 3, 4), days=3, category="hydration", drug="J7050", dose=("1000", "mL")),
        therapy("T4", start=date(2026, 3, 20), days=3, schedule="q12h", drug="J3370", dose=("1", "g")),
    ]
    lines, _ = home_lines(encounter(ts), CFG, COMMERCIAL)
    per_diem = {ln.administration_ids[0]: (ln.code, tuple(ln.modifiers)) for ln in lines if ln.kind == "home"}
    assert per_diem == {"T1": ("S9500", ()), "T2": ("S9502", ("SH",)), "T3": ("S9374", ("SJ",)), "T4": ("S9501", ())}


def test_three_hour_nursing_visit_gives_99601_and_99602():
    enc = encounter([therapy()], [visit(date(2026, 3, 2), 9, 180)])
    lines, _ = home_lines(enc, CFG, COMMERCIAL)
    nursing = [ln for ln in lines if ln.code in ("99601", "99602")]
    assert summary(nursing) == [("99601", (), 1, "2026-03-02"), ("99602", (), 1, "2026-03-02")]
    assert nursing[1].charge == price("99602")
    assert "180 min" in nursing[0].rationale


@pytest.mark.parametrize(
    "minutes,addon", [(60, 0), (120, 0), (150, 0), (151, 1), (180, 1), (210, 1), (211, 2), (240, 2), (271, 3)]
)
def test_nursing_additional_hour_boundaries(minutes, addon):
    assert nursing_addon_units(minutes) == addon
    enc = encounter([therapy()], [visit(date(2026, 3, 3), 8, minutes)])
    lines, _ = home_lines(enc, CFG, COMMERCIAL)
    got = {ln.code: ln.units for ln in lines if ln.code in ("99601", "99602")}
    assert got.get("99601") == 1
    assert got.get("99602", 0) == addon


def test_other_categories_and_schedules_map_to_their_s_codes():
    cases = [
        ("immunotherapy", "q24h", "J1559", ("10", "g"), "S9338"),
        ("chemotherapy", "continuous", "J9190", ("1000", "mg"), "S9330"),
        ("chemotherapy", "q24h", "J9190", ("1000", "mg"), "S9331"),
        ("pain_management", "continuous", "J2270", ("10", "mg"), "S9326"),
        ("inotrope", "continuous", "J1250", ("250", "mg"), "S9348"),
        ("corticosteroid", "q24h", "J1100", ("10", "mg"), "S9490"),
        ("hydration", "q24h", "J7050", ("2000", "mL"), "S9375"),
        ("other", "q24h", "J3490", ("1", "mg"), "S9379"),
        ("anti_infective", "q3h", "J0696", ("250", "mg"), "S9497"),
        ("anti_infective", "q4h", "J0696", ("250", "mg"), "S9504"),
        ("anti_infective", "q6h", "J0696", ("250", "mg"), "S9503"),
        ("anti_infective", "other", "J0696", ("250", "mg"), "S9494"),
    ]
    for category, schedule, drug, dose, code in cases:
        enc = encounter([therapy(category=category, schedule=schedule, drug=drug, dose=dose, days=3)])
        lines, findings = home_lines(enc, CFG, COMMERCIAL)
        per_diem = [ln for ln in lines if ln.kind == "home"]
        assert [ln.code for ln in per_diem] == [code], (category, schedule, findings)
        assert per_diem[0].units == 3


# ----------------------------------------------------------------------------- Medicare HIT


def medicare_pump_encounter(**kw):
    d1 = date(2026, 3, 2)
    t = therapy(
        category="inotrope", drug="J1250", dose=("250", "mg"), schedule="continuous", days=28, pump=True, start=d1
    )
    visits = [visit(d1, 9, 90), visit(d1 + timedelta(days=7), 9, 60), visit(d1 + timedelta(days=14), 9, 60)]
    return encounter([t], visits, payer="medicare", **kw)


def test_medicare_pump_therapy_initial_then_two_subsequent_visit_days():
    lines, findings = home_lines(medicare_pump_encounter(), CFG, MEDICARE, hit_history=lambda pid: [])
    # units = each day's visit length in 15-minute increments (90 min = 6, 60 min = 4)
    assert summary(lines) == [
        ("G0088", (), 6, "2026-03-02"),
        ("G0068", (), 4, "2026-03-09"),
        ("G0068", (), 4, "2026-03-16"),
    ]
    assert lines[0].charge == price("G0088")  # payment stays one per day: the day's price
    assert all("initial" in ln.rationale or "subsequent" in ln.rationale for ln in lines)
    # no S-code, no 99601/99602, no drug line; each left out with a finding
    assert not {ln.code for ln in lines} & {"S9348", "99601", "99602", "J1250"}
    assert {"medicare-per-diem-not-billed", "medicare-nursing-not-billed", "medicare-drug-to-dme"} <= codes(findings)
    assert not [f for f in findings if f.severity == "error"]


def test_medicare_60_day_rule_from_history_callable():
    seen = []

    def history(pid):
        seen.append(pid)
        return [date(2026, 1, 15)]  # 46 days before 2026-03-02: within 60 days

    lines, _ = home_lines(medicare_pump_encounter(), CFG, MEDICARE, hit_history=history)
    assert seen == ["PAT-H1"]
    assert [ln.code for ln in lines] == ["G0068", "G0068", "G0068"]
    # 61 days before: initial again
    lines, _ = home_lines(
        medicare_pump_encounter(), CFG, MEDICARE, hit_history=lambda pid: [date(2026, 3, 2) - timedelta(days=61)]
    )
    assert [ln.code for ln in lines] == ["G0088", "G0068", "G0068"]
    lines, _ = home_lines(
        medicare_pump_encounter(), CFG, MEDICARE, hit_history=lambda pid: [date(2026, 3, 2) - timedelta(days=60)]
    )
    assert [ln.code for ln in lines] == ["G0068", "G0068", "G0068"]


def test_first_hit_visit_overrides_history():
    enc = medicare_pump_encounter(first_hit_visit=True)
    lines, _ = home_lines(enc, CFG, MEDICARE, hit_history=lambda pid: [date(2026, 2, 20)])
    assert [ln.code for ln in lines] == ["G0088", "G0068", "G0068"]
    enc = medicare_pump_encounter(first_hit_visit=False)
    lines, _ = home_lines(enc, CFG, MEDICARE, hit_history=lambda pid: [])
    assert [ln.code for ln in lines] == ["G0068", "G0068", "G0068"]


def test_medicare_claim_that_would_have_had_s_codes():
    """Ceftriaxone by gravity (no pump) with nursing: commercial would bill S9500/99601/J0696."""
    enc = encounter([therapy()], [visit(date(2026, 3, 2), 9, 90), visit(date(2026, 3, 9), 9, 150)], payer="medicare")
    lines, findings = home_lines(enc, CFG, MEDICARE, hit_history=lambda pid: [])
    assert lines == []
    fc = codes(findings)
    assert {
        "medicare-per-diem-not-billed",
        "hit-not-pump",
        "medicare-nursing-not-billed",
        "no-billable-home-lines",
    } <= fc
    per_diem = next(f for f in findings if f.code == "medicare-per-diem-not-billed")
    assert "S9500" in per_diem.message and per_diem.encounter_id == "HOME-T"
    assert per_diem.administration_id == "T1"


def test_medicare_visit_days_only_and_one_line_per_category_per_day():
    d1 = date(2026, 3, 2)
    ts = [
        therapy(
            "T1",
            category="anti_infective",
            drug="J0133",
            dose=("500", "mg"),
            schedule="q8h",
            days=10,
            pump=True,
            start=d1,
        ),
        therapy(
            "T2",
            category="chemotherapy",
            drug="J9190",
            dose=("1000", "mg"),
            schedule="continuous",
            days=5,
            pump=True,
            start=d1,
        ),
        therapy(
            "T3", category="anti_infective", drug="J2185", dose=("1", "g"), schedule="q8h", days=10, pump=True, start=d1
        ),
    ]
    visits = [
        visit(d1, 9, 60),
        visit(d1, 15, 45),
        visit(d1 + timedelta(days=6), 9, 60),
        visit(d1 + timedelta(days=20), 9, 60),
    ]  # the last one: no pump therapy running
    lines, findings = home_lines(encounter(ts, visits, payer="medicare"), CFG, MEDICARE, hit_history=lambda pid: [])
    # two visits on day 1 (60 + 45 min = 7 units on each category's line), one of 60 min on day 7
    assert summary(lines) == [
        ("G0088", (), 7, "2026-03-02"),
        ("G0090", (), 7, "2026-03-02"),
        ("G0068", (), 4, "2026-03-08"),
    ]
    assert sorted(lines[0].administration_ids) == ["T1", "T3"]
    assert "hit-visit-no-pump-therapy" in codes(findings)
    assert "hit-category-from-therapy" in codes(findings)  # J2185 meropenem is not on the HIT list


def test_medicare_subcutaneous_immunoglobulin_category_2_and_jb_note():
    d1 = date(2026, 3, 2)
    t = therapy(category="immunotherapy", drug="J1559", dose=("10", "g"), schedule="other", days=1, pump=True, start=d1)
    lines, findings = home_lines(encounter([t], [visit(d1, 9, 120)], payer="medicare"), CFG, MEDICARE)
    assert summary(lines) == [("G0089", (), 8, "2026-03-02")]  # a 2-hour visit
    dme = next(f for f in findings if f.code == "medicare-drug-to-dme")
    assert "JB" in dme.message
    assert "hit-no-history" in codes(findings)


def test_unknown_model_is_an_error_finding():
    payer = replace(COMMERCIAL, home_infusion_model="capitated")
    lines, findings = home_lines(encounter([therapy()]), CFG, payer)
    assert lines == [] and "unknown-home-infusion-model" in codes(findings)


def test_hit_day_kinds_gap_inside_one_claim():
    days = [date(2026, 1, 1), date(2026, 3, 1), date(2026, 3, 3)]  # 59 days, then 2
    assert [k for k, _ in hit_day_kinds(days).values()] == ["initial", "subsequent", "subsequent"]
    days = [date(2026, 1, 1), date(2026, 3, 3)]  # 61 days: a new initial visit
    assert [k for k, _ in hit_day_kinds(days).values()] == ["initial", "initial"]


# ----------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    days=st.integers(min_value=1, max_value=400),
    schedule=st.sampled_from(["q24h", "q12h", "q8h", "q6h", "q4h", "q3h", "continuous", "other"]),
)
def test_property_per_diem_units_sum_to_therapy_days(start, days, schedule):
    enc = encounter([therapy(start=start, days=days, schedule=schedule)])
    lines, findings = home_lines(enc, CFG, COMMERCIAL)
    per_diem = [ln for ln in lines if ln.kind == "home"]
    assert sum(ln.units for ln in per_diem) == days
    # one line per calendar month touched, each inside one month, in date order
    months = {(start + timedelta(days=i)).strftime("%Y-%m") for i in range(days)}
    assert len(per_diem) == len(months)
    assert [ln.service_date for ln in per_diem] == sorted(ln.service_date for ln in per_diem)
    assert all(ln.rationale for ln in lines)
    assert not [f for f in findings if f.severity == "error"]


HIT_INITIAL = {"G0088", "G0089", "G0090"}
HIT_SUBSEQUENT = {"G0068", "G0069", "G0070"}


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=150), min_size=1, max_size=8, unique=True),
    therapies_=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    ("anti_infective", "J0133"),
                    ("chemotherapy", "J9190"),
                    ("immunotherapy", "J1559"),
                    ("inotrope", "J1250"),
                ]
            ),
            st.integers(min_value=0, max_value=100),
            st.integers(min_value=1, max_value=90),
            st.booleans(),
        ),
        min_size=1,
        max_size=3,
    ),
    history=st.lists(st.integers(min_value=1, max_value=120), max_size=3),
)
def test_property_medicare_hit_one_line_per_category_per_visit_day(offsets, therapies_, history):
    d0 = date(2026, 1, 1)
    ts = [
        therapy(
            f"T{i}",
            category=cat,
            drug=drug,
            dose=("100", "mg"),
            start=d0 + timedelta(days=s),
            days=n,
            pump=pump,
            schedule="continuous",
        )
        for i, ((cat, drug), s, n, pump) in enumerate(therapies_)
    ]
    visits = [visit(d0 + timedelta(days=o), 9, 60) for o in offsets]
    hist = [d0 - timedelta(days=h) for h in history]
    lines, findings = home_lines(encounter(ts, visits, payer="medicare"), CFG, MEDICARE, hit_history=lambda p: hist)
    visit_days = {d0 + timedelta(days=o) for o in offsets}
    assert all(ln.units == 4 and ln.rationale for ln in lines)  # every visit is 60 min: 4 units
    assert {ln.code for ln in lines} <= HIT_INITIAL | HIT_SUBSEQUENT
    assert {ln.service_date for ln in lines} <= visit_days
    # only days with a pump therapy running; one line per category per day
    for ln in lines:
        assert any(t.pump and t.start_date <= ln.service_date <= t.end_date for t in ts)
    keys = [(ln.service_date, ln.code[-1]) for ln in lines]  # last digit = category (8/9/0)
    assert len(keys) == len(set(keys))
    # the 60-day rule: initial exactly when no HIT day (history or earlier on the claim) in 60 days
    billed = sorted({ln.service_date for ln in lines})
    for ln in lines:
        earlier = hist + [d for d in billed if d < ln.service_date]
        recent = any(0 < (ln.service_date - d).days <= 60 for d in earlier)
        assert (ln.code in HIT_SUBSEQUENT) == recent
    assert not [f for f in findings if f.severity == "error"]
