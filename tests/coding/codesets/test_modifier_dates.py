"""Dated modifiers: JG ended 2024-12-31 (TB for every 340B drug from 2025-01-01), JZ exists from
2023-01-01; a loaded HCPCS set's modifier records answer before the bundled table."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from coding.codesets.memory import MemoryCodeSets
from coding.engine import code_encounter
from coding.model import Service
from coding.modifiers import bypass_modifiers, dated_modifier, modifier_dates
from tests.coding.drugs.test_drugs import adm, cfg_with, code, enc, summary

JG = cfg_with("JG")


@pytest.mark.parametrize(
    "start, expected",
    [
        ("2024-12-31T10:00", [("J1745", ["JG", "JZ"], 40)]),  # last day of JG
        ("2025-01-01T10:00", [("J1745", ["TB", "JZ"], 40)]),  # TB from then on
        ("2026-03-02T10:00", [("J1745", ["TB", "JZ"], 40)]),
    ],
)
def test_340b_jg_becomes_tb_after_2024(start, expected):
    lines, findings = code("hospital_outpatient", adm("A1", "J1745", 400, start=start), cfg=JG)
    assert summary(lines) == expected
    assert not [f for f in findings if f.is_error]
    if expected[0][1][0] == "TB":
        assert "JG ended 2024-12-31 (bundled modifier dates): TB instead" in lines[0].rationale
    else:
        assert "JG ended" not in lines[0].rationale


def test_340b_jw_line_follows_the_same_date_rule():
    a = adm("A1", "J1745", 350, wasted=(50, "mg"), start="2025-01-01T10:00")
    lines, _ = code("hospital_outpatient", a, cfg=JG)
    assert summary(lines) == [("J1745", ["TB"], 35), ("J1745", ["TB", "JW"], 5)]
    a = adm("A1", "J1745", 350, wasted=(50, "mg"), start="2024-12-31T10:00")
    lines, _ = code("hospital_outpatient", a, cfg=JG)
    assert summary(lines) == [("J1745", ["JG"], 35), ("J1745", ["JG", "JW"], 5)]


def test_jz_is_not_added_before_it_exists():
    before, _ = code("office", adm("A1", "J1745", 400, start="2022-12-31T10:00"))
    after, _ = code("office", adm("A1", "J1745", 400, start="2023-01-01T10:00"))
    assert summary(before) == [("J1745", [], 40)] and "JZ is effective from 2023-01-01" in before[0].rationale
    assert summary(after) == [("J1745", ["JZ"], 40)]


def test_the_rule_is_data():
    rows = modifier_dates()
    assert rows["JG"].terminated == date(2024, 12, 31) and rows["JG"].replaced_by == "TB"
    assert dated_modifier("JG", date(2025, 1, 1)).modifier == "TB"
    assert dated_modifier("59", date(2026, 1, 1)).modifier == "59"  # not in the table: unchanged
    assert {"59", "XE", "XS", "XP", "XU", "E1", "F9", "T9", "LT", "RT", "25", "91"} <= bypass_modifiers()
    assert len(bypass_modifiers()) == 44 and "JZ" not in bypass_modifiers()


def test_a_loaded_hcpcs_set_dates_the_modifier():
    ms = MemoryCodeSets()
    ms.add(
        "hcpcs",
        date(2026, 1, 1),
        None,
        "HCPCS 2026 Jan",
        [("JZ", date(2023, 1, 1), date(2026, 1, 31), ""), ("TB", date(2018, 1, 1), None, "")],
    )
    jan, _ = code("office", adm("A1", "J1745", 400, start="2026-01-31T10:00"), codesets=ms)
    feb, _ = code("office", adm("A1", "J1745", 400, start="2026-02-01T10:00"), codesets=ms)
    assert summary(jan) == [("J1745", ["JZ"], 40)]
    assert summary(feb) == [("J1745", [], 40)] and "JZ ended 2026-01-31 (HCPCS 2026 Jan): left off" in feb[0].rationale
    # a loaded set that ends TB too: JG has no successor to go to, left off
    gone = MemoryCodeSets()
    gone.add("hcpcs", date(2026, 1, 1), None, "HCPCS X", [("TB", date(2018, 1, 1), date(2025, 12, 31), "")])
    lines, _ = code("hospital_outpatient", adm("A1", "J1745", 400, start="2026-03-02T10:00"), cfg=JG, codesets=gone)
    assert summary(lines) == [("J1745", ["JZ"], 40)]


def test_admin_and_service_modifiers_are_dated_by_a_loaded_set():
    ms = MemoryCodeSets()
    ms.add("hcpcs", date(2026, 1, 1), None, "HCPCS 2026 Jan", [("25", None, date(2025, 12, 31), "")])
    e = enc("office", adm("A1", "J1745", 400, start="2026-03-02T10:00"))
    e = dataclasses.replace(e, services=(Service("99214", 1, (), True),))
    plain = code_encounter(e, JG)
    dated = code_encounter(e, JG, codesets=ms)
    em = [ln for ln in plain.lines if ln.code == "99214"]
    assert em and "25" in em[0].modifiers
    em2 = [ln for ln in dated.lines if ln.code == "99214"]
    assert em2 and "25" not in em2[0].modifiers
    assert [f.code for f in dated.findings if f.code == "modifier-not-effective"] == ["modifier-not-effective"]
