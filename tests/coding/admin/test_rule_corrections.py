"""Coding rules corrected against published guidance (fact base §2.2, §2.3, §2.7, §3.1):
separate injections of one drug, separate short infusions, the ``bag`` label, drug units by date.

Each scenario names the administrations and the administration codes (code -> units) expected;
its name says what the earlier rule produced."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from coding.config import DEFAULT_CONFIG_PATH, Config, load_config, parse_config
from coding.engine import code_encounter
from coding.model import Administration
from tests.coding.builders import adm, admin_codes, enc

CFG = load_config()
D2 = "2026-03-02T"


def _cfg(**payer: Any) -> Config:
    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["payers"]["medicare"].update(payer)
    return parse_config(data)


# (name with what the earlier rule gave, administrations, setting, expected admin codes)
SCENARIOS: list[tuple[str, list[Administration], str, dict[str, int]]] = [
    (
        "same drug injected at 09:00 and again at 15:00: two injections, each billed (earlier rule: 96372 x1)",
        [
            adm("I1", "J1030", "im", D2 + "09:00", dose="40 mg"),
            adm("I2", "J1030", "im", D2 + "15:00", dose="40 mg"),
        ],
        "office",
        {"96372": 2},
    ),
    (
        "one dose in two syringes given together (09:00, 09:02): one injection code (earlier rule: 96372 x1)",
        [
            adm("I1", "J1030", "im", D2 + "09:00", dose="40 mg"),
            adm("I2", "J1030", "im", D2 + "09:02", dose="40 mg"),
        ],
        "office",
        {"96372": 1},
    ),
    (
        "two 20-min hydrations an hour apart: neither reportable, not added into a 40-min 96360 (earlier rule: 96360 x1)",
        [
            adm("H1", "J7030", "iv_infusion", D2 + "09:00", D2 + "09:20", "500 mL", purpose="hydration"),
            adm("H2", "J7030", "iv_infusion", D2 + "10:20", D2 + "10:40", "500 mL", purpose="hydration"),
        ],
        "hospital_outpatient",
        {},
    ),
    (
        "two 20-min hydrations back to back (a bag change): one continuous 40-min hydration (earlier rule: 96360 x1)",
        [
            adm("H1", "J7030", "iv_infusion", D2 + "09:00", D2 + "09:20", "500 mL", purpose="hydration"),
            adm("H2", "J7030", "iv_infusion", D2 + "09:20", D2 + "09:40", "500 mL", purpose="hydration"),
        ],
        "hospital_outpatient",
        {"96360": 1},
    ),
    (
        "two 50-min infusions of one drug with a gap: each reportable alone, times still add (earlier rule: 96365 x1, 96366 x1)",
        [
            adm("A", "J1956", "iv_infusion", D2 + "09:00", D2 + "09:50", "250 mg"),
            adm("B", "J1956", "iv_infusion", D2 + "10:20", D2 + "11:10", "250 mg"),
        ],
        "hospital_outpatient",
        {"96365": 1, "96366": 1},
    ),
    (
        "two drugs mixed in one bag (bag label): one infusion, no sequential 96367 (earlier rule: 96365 x1, 96368 x1)",
        [
            adm("M1", "J1956", "iv_infusion", D2 + "09:00", D2 + "10:00", "500 mg", bag="BAG1"),
            adm("M2", "J0690", "iv_infusion", D2 + "09:00", D2 + "10:00", "1 g", bag="BAG1"),
        ],
        "hospital_outpatient",
        {"96365": 1},
    ),
    (
        "two drugs pushed from one syringe (bag label): one push, no 96375 (earlier rule: 96374 x1, 96375 x1)",
        [
            adm("P1", "J1100", "iv_push", D2 + "09:00", dose="4 mg", bag="S1"),
            adm("P2", "J2405", "iv_push", D2 + "09:00", dose="4 mg", bag="S1"),
        ],
        "office",
        {"96374": 1},
    ),
    (
        "a bag of chemo and a therapeutic drug is coded as chemo (earlier rule: 96413 x1, 96368 x1)",
        [
            adm("M1", "J2405", "iv_infusion", D2 + "09:00", D2 + "10:00", "8 mg", bag="B"),
            adm("M2", "J9045", "iv_infusion", D2 + "09:00", D2 + "10:00", "100 mg", bag="B"),
        ],
        "hospital_outpatient",
        {"96413": 1},
    ),
]


@pytest.mark.parametrize(("name", "admins", "setting", "want"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_admin_codes(name: str, admins: list[Administration], setting: str, want: dict) -> None:
    coded = code_encounter(enc(admins, setting=setting), CFG)
    assert admin_codes(coded) == want, name
    assert not [f for f in coded.findings if f.is_error]


def test_the_payer_switch_adds_separate_short_infusions():
    admins = SCENARIOS[2][1]
    coded = code_encounter(enc(admins, setting="hospital_outpatient"), _cfg(add_separate_short_infusions=True))
    assert admin_codes(coded) == {"96360": 1}


def test_a_separate_injection_says_why_it_is_billed_again():
    coded = code_encounter(enc(SCENARIOS[0][1]), CFG)
    line = next(ln for ln in coded.lines if ln.code == "96372")
    assert line.administration_ids == ["I1", "I2"] and "separate injection of the same drug 360 min" in line.rationale


def test_same_dose_window_is_a_payer_setting():
    admins = SCENARIOS[1][1]  # 2 minutes apart
    coded = code_encounter(enc(admins), _cfg(same_dose_window_minutes=1))
    assert admin_codes(coded) == {"96372": 2}


def test_each_drug_of_a_bag_keeps_its_own_hcpcs_line():
    coded = code_encounter(enc(SCENARIOS[5][1], setting="hospital_outpatient"), CFG)
    drugs = [(ln.code, ln.administration_ids) for ln in coded.lines if ln.kind == "drug"]
    assert drugs == [("J1956", ["M1"]), ("J0690", ["M2"])]
    admin = [ln for ln in coded.lines if ln.kind == "admin"]
    assert admin[0].administration_ids == ["M1", "M2"]
    assert "M1+M2 mixed in bag BAG1" in admin[0].rationale


def test_drug_units_of_a_multi_day_encounter_are_dated_per_day():
    admins = [
        adm("A1", "J1956", "iv_infusion", D2 + "22:00", D2 + "23:00", "500 mg"),
        adm("A2", "J1956", "iv_infusion", "2026-03-03T09:00", "2026-03-03T10:00", "500 mg"),
    ]
    coded = code_encounter(enc(admins, setting="hospital_outpatient"), CFG)
    drugs = [(ln.code, ln.service_date.isoformat(), ln.administration_ids) for ln in coded.lines if ln.kind == "drug"]
    assert drugs == [("J1956", "2026-03-02", ["A1"]), ("J1956", "2026-03-03", ["A2"])]


def test_the_loader_reads_the_bag_label_and_checks_its_members(tmp_path):
    import json

    from coding.encounters.loader import load_encounters
    from tests.coding.encounters.test_loader import good

    e = good("ENC-BAG")
    a0 = dict(e["administrations"][0], bag="B-1")
    a1 = dict(a0, id="A2", drug="J1956", ndc=None, dose={"value": 500, "unit": "mg"})
    e["administrations"] = [a0, a1]
    p = tmp_path / "bag.json"
    p.write_text(json.dumps({"encounters": [e]}))
    encs, findings = load_encounters([p], CFG)
    assert findings == [] and [a.bag for a in encs[0].administrations] == ["B-1", "B-1"]
    a1["start"] = "2026-03-02T10:30"
    a0["bag"] = a1["bag"] = "B-1"
    e["administrations"] = [a0, a1, dict(a0, id="A3", bag="[x]")]
    p.write_text(json.dumps({"encounters": [e]}))
    encs, findings = load_encounters([p], CFG)
    assert encs == []
    assert {(f.code, f.field) for f in findings} == {
        ("bag-mismatch", "administrations[1].start"),
        ("bad-id", "administrations[2].bag"),
    }
