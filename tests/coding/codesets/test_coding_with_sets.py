"""Coding with loaded code sets: the sets in effect on each line's date of service give the drug's
billing unit (ASP dosage, then HCPCS descriptor, then the bundled table), the NDC quantity (ASP
NDC-HCPCS crosswalk) and the modifiers' dates; every rationale names its source."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from coding.codesets import NO_CODESETS
from coding.codesets.memory import MemoryCodeSets
from coding.drugs.lines import drug_info, drug_info_on, known_drug_codes
from coding.encounters.loader import load_encounters
from coding.engine import code_encounter
from tests.coding.drugs.test_drugs import CFG, adm, cfg_with, code, enc, summary

Q2 = (date(2026, 4, 1), date(2026, 6, 30))
Q3 = (date(2026, 7, 1), date(2026, 9, 30))
NEW = "J1999"  # absent from the bundled tables


def sets() -> MemoryCodeSets:
    ms = MemoryCodeSets()
    ms.add("asp", *Q3, "ASP 2026Q3", [("J0174", "1 MG", "12.5"), ("J1745", "10 MG", "75.492")], "asp_q3.csv")
    ms.add(
        "hcpcs",
        *Q3,
        "HCPCS 2026 Jul",
        [
            (NEW, date(2026, 7, 1), None, "Injection, examplemab-abcd, 5 mg"),
            ("J1745", date(2000, 1, 1), None, "Injection, infliximab, excludes biosimilar, 10 mg"),
        ],
        "HCPC2026_JUL_ANWEB.txt",
    )
    return ms


def test_new_code_absent_from_bundled_tables_is_billable_once_a_set_gives_its_unit():
    assert NEW not in known_drug_codes() and drug_info(NEW) is None
    a = adm("A1", NEW, 12, start="2026-07-15T10:00")
    lines, findings = code("office", a)
    assert lines == [] and findings[0].code == "unknown-drug"
    lines, findings = code("office", a, codesets=sets())
    assert summary(lines) == [(NEW, ["JZ"], 3)]  # ceil(12 / 5 mg)
    assert not [f for f in findings if f.is_error]
    assert lines[0].rationale.startswith(f"{NEW}: 5 mg per unit (HCPCS 2026 Jul); 12 mg ÷ 5 mg = 3 units")


def test_no_descriptor_code_gets_units_from_the_asp_dosage():
    a = adm("A1", "J0174", 7, start="2026-08-03T10:00")
    held, findings = code("office", a)
    assert held == [] and findings[-1].code == "no-billing-unit"
    lines, _ = code("office", a, codesets=sets())
    assert summary(lines) == [("J0174", ["JZ"], 7)]
    assert lines[0].rationale.startswith("J0174: 1 mg per unit (ASP 2026Q3); 7 mg ÷ 1 mg = 7 units")


def test_asp_dosage_wins_over_the_hcpcs_descriptor_and_the_bundled_table():
    ms = MemoryCodeSets()
    ms.add("asp", *Q3, "ASP 2026Q3", [("J1745", "5 MG", None)])
    ms.add("hcpcs", *Q3, "HCPCS 2026 Jul", [("J1745", None, None, "Injection, infliximab, 20 mg")])
    lines, _ = code("office", adm("A1", "J1745", 400, start="2026-07-02T10:00"), codesets=ms)
    assert lines[0].units == 80 and "(ASP 2026Q3)" in lines[0].rationale
    only_hcpcs = MemoryCodeSets()
    only_hcpcs.add("hcpcs", *Q3, "HCPCS 2026 Jul", [("J1745", None, None, "Injection, infliximab, 20 mg")])
    lines, _ = code("office", adm("A1", "J1745", 400, start="2026-07-02T10:00"), codesets=only_hcpcs)
    assert lines[0].units == 20 and "(HCPCS 2026 Jul)" in lines[0].rationale


def test_unparseable_loaded_dosage_falls_back_to_the_next_source():
    ms = MemoryCodeSets()
    ms.add("asp", *Q3, "ASP 2026Q3", [("J1745", "per dose", None)])
    info = drug_info_on("J1745", date(2026, 7, 2), ms)
    assert info is not None and info.billing_unit_value == D(10) and info.source == "bundled HCPCS 2020"


def test_a_dosage_that_changes_between_quarters_bills_by_the_date_of_service():
    ms = MemoryCodeSets()
    ms.add("asp", *Q2, "ASP 2026Q2", [(NEW, "10 MG", None)])
    ms.add("asp", *Q3, "ASP 2026Q3", [(NEW, "1 MG", None)])
    june, _ = code("office", adm("A1", NEW, 25, start="2026-06-30T10:00"), codesets=ms)
    july, _ = code("office", adm("A1", NEW, 25, start="2026-07-01T10:00"), codesets=ms)
    assert june[0].units == 3 and "(ASP 2026Q2)" in june[0].rationale
    assert july[0].units == 25 and "(ASP 2026Q3)" in july[0].rationale
    # outside every loaded period: the bundled table (which lacks the code) answers
    gone, findings = code("office", adm("A1", NEW, 25, start="2026-10-01T10:00"), codesets=ms)
    assert gone == [] and findings[0].code == "unknown-drug"


def test_without_sets_the_rationale_names_the_bundled_source():
    lines, _ = code("office", adm("A1", "J1745", 400))
    assert lines[0].rationale.startswith("J1745: 10 mg per unit (bundled HCPCS 2020); 400 mg ÷ 10 mg = 40 units")
    lines, _ = code("office", adm("A1", "J1200", 25))
    assert lines[0].rationale.startswith("J1200: up to 50 mg per unit (bundled HCPCS 2020)")
    lines, _ = code("office", adm("A1", "J2506", 6, route="on_body_injector"))
    assert "(bundled drug reference 2026Q2)" in lines[0].rationale


def test_ndc_quantity_from_the_crosswalk_billable_units():
    ms = MemoryCodeSets()
    ms.add("asp-ndc", *Q3, "ASP NDC-HCPCS 2026Q3", [("50242006001", "J9035", "40", "40")], "xwalk.csv")
    a = adm("A1", "J9035", 400, start="2026-07-06T10:00", ndc="50242-0060-01")
    bare, _ = code("office", a)
    assert (bare[0].ndc_quantity, bare[0].ndc_unit) == (D(40), "UN")  # one NDC unit per billing unit
    lines, _ = code("office", a, codesets=ms)
    assert (lines[0].ndc, lines[0].ndc_quantity, lines[0].ndc_unit) == ("50242006001", D(1), "UN")
    assert "NDC 50242006001: 40 HCPCS units per item (ASP NDC-HCPCS 2026Q3)" in lines[0].rationale
    # waste: the JW line's share in vials
    w = adm("A1", "J9035", 300, start="2026-07-06T10:00", ndc="50242-0060-01", wasted=(100, "mg"))
    lines, _ = code("office", w, codesets=ms)
    assert [(ln.units, ln.ndc_quantity) for ln in lines] == [(30, D("0.75")), (10, D("0.25"))]
    # containers given in the encounter win over the crosswalk
    c = adm("A1", "J9035", 400, start="2026-07-06T10:00", ndc="50242-0060-01", containers=2)
    lines, _ = code("office", c, codesets=ms)
    assert lines[0].ndc_quantity == D(2)


def test_no_sets_gives_the_same_lines_as_before():
    a = adm("A1", "J1745", 350, wasted=(50, "mg"), ndc="57894-0030-01")
    for setting in ("office", "hospital_outpatient"):
        e = enc(setting, a)
        plain = code_encounter(e, cfg_with("TB"))
        explicit = code_encounter(e, cfg_with("TB"), codesets=NO_CODESETS)
        assert [ln.to_dict() for ln in plain.lines] == [ln.to_dict() for ln in explicit.lines]
        assert plain.findings == explicit.findings


def _enc_json(drug: str, start: str) -> dict:
    return {
        "id": "E1",
        "setting": "office",
        "payer": "medicare",
        "patient": {
            "id": "P1",
            "first": "A",
            "last": "B",
            "dob": "1960-01-01",
            "sex": "F",
            "member_id": "M1",
            "address": {"line1": "1 MAIN", "city": "X", "state": "IL", "zip": "62701"},
        },
        "diagnoses": ["K50.90"],
        "administrations": [
            {"id": "A1", "drug": drug, "route": "sc", "start": start, "dose": {"value": 12, "unit": "mg"}}
        ],
    }


@pytest.mark.parametrize(
    "start, known",
    [("2026-07-15T10:00:00", True), ("2026-06-30T10:00:00", False)],
)
def test_loader_accepts_a_new_code_only_when_a_set_in_effect_knows_it(tmp_path: Path, start: str, known: bool):
    f = tmp_path / "e.json"
    f.write_text(json.dumps({"encounters": [_enc_json(NEW, start)]}))
    encs, findings = load_encounters([f], CFG)
    assert encs == [] and [x.code for x in findings] == ["unknown-drug"]
    encs, findings = load_encounters([f], CFG, sets())
    if known:
        assert len(encs) == 1 and not findings
        coded = code_encounter(encs[0], CFG, codesets=sets())
        assert [(ln.code, ln.units) for ln in coded.lines if ln.kind == "drug"] == [(NEW, 3)]
    else:
        assert encs == [] and [x.code for x in findings] == ["unknown-drug"]


def test_home_course_drug_units_come_from_the_sets_of_its_first_day():
    from coding.home.lines import home_lines
    from tests.coding.home.test_home_lines import COMMERCIAL, encounter, therapy

    t = therapy(drug=NEW, dose=("12", "mg"), start=date(2026, 7, 6), days=3)
    plain, findings = home_lines(encounter([t]), CFG, COMMERCIAL)
    assert not [ln for ln in plain if ln.code == NEW] and "unknown-drug" in {f.code for f in findings}
    lines, _ = home_lines(encounter([t]), CFG, COMMERCIAL, codesets=sets())
    drug = [ln for ln in lines if ln.code == NEW]
    assert [ln.units for ln in drug] == [8]  # 12 mg × 3 days = 36 mg ÷ 5 mg, rounded up
    assert "5 mg per unit (HCPCS 2026 Jul)" in drug[0].rationale
    bundled, _ = home_lines(encounter([therapy()]), CFG, COMMERCIAL)
    assert "per unit (bundled HCPCS 2020)" in next(ln for ln in bundled if ln.code == "J0696").rationale
