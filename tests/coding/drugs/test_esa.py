"""EA / EB / EC on erythropoiesis-stimulating agents (CMS IOM 100-04 ch. 17 §80.9): from the
diagnoses or ``esa_indication``; an error finding (line held) when it cannot be told. Before this
rule the ESA lines went out without an indication modifier, which Medicare returns."""

from __future__ import annotations

import dataclasses

import pytest

from coding.config import load_config
from coding.drugs.lines import drug_lines
from coding.engine import code_encounter
from tests.coding.builders import adm, enc

CFG = load_config()
ESAS = ["J0881", "J0882", "J0885", "J0887", "J0888", "Q5105", "Q5106"]
DOSE = {"J0881": "100 mcg", "J0882": "100 mcg", "J0885": "40000 units", "J0887": "100 mcg", "J0888": "100 mcg"}


def _esa(drug: str = "J0885", diagnoses: tuple[str, ...] = ("D6481",), payer: str = "medicare", **kw):
    a = adm("E1", drug, "sc", "09:00", dose=DOSE.get(drug, "40000 units"), **kw)
    e = dataclasses.replace(enc([a], payer=payer), diagnoses=diagnoses)
    return drug_lines(e, CFG, CFG.payers[payer])


# (diagnoses, modifier or the error finding's code)
SCENARIOS = [
    (("C3490", "D6481"), "EA"),  # anemia due to antineoplastic chemotherapy
    (("C509", "D649", "Y842"), "EB"),  # anemia with radiotherapy as its cause
    (("D631", "N184"), "EC"),  # anemia in CKD, not ESRD
    (("D469",), "esa-indication-unknown"),  # MDS without an anemia code: cannot be told
    (("D630", "C509"), "EC"),  # anemia in neoplastic disease (not chemo-induced) is "other anemia"
    (("D6481", "D649", "Y842"), "esa-indication-unknown"),  # both chemo and radiotherapy
    (("D631", "N186"), "esa-esrd-related"),  # ESRD-related anemia: the dialysis facility bills it
    (("D631", "Z992", "D6481"), "EA"),  # a dialysis patient's chemotherapy anemia is EA
    (("K5090",), "esa-indication-unknown"),  # no anemia at all
]


@pytest.mark.parametrize(("diagnoses", "want"), SCENARIOS)
@pytest.mark.parametrize("drug", ESAS)
def test_indication_from_the_diagnoses(drug, diagnoses, want):
    lines, findings = _esa(drug, diagnoses)
    errors = [f for f in findings if f.is_error]
    if want.startswith("esa-"):
        assert lines == [] and [f.code for f in errors] == [want]
        assert errors[0].field == "administrations[0].esa_indication"
    else:
        assert lines and all(ln.modifiers[0] == want for ln in lines) and not errors
        assert sum(m in ("EA", "EB", "EC") for m in lines[0].modifiers) == 1


def test_esa_indication_field_wins_and_splits_lines():
    a1 = adm("E1", "J0885", "sc", "09:00", dose="20000 units", esa_indication="EB")
    a2 = adm("E2", "J0885", "sc", "09:05", dose="20000 units", esa_indication="EA")
    e = dataclasses.replace(enc([a1, a2]), diagnoses=("K5090",))
    lines, findings = drug_lines(e, CFG, CFG.payers["medicare"])
    assert [(ln.modifiers[0], ln.units, ln.administration_ids) for ln in lines] == [
        ("EB", 20, ["E1"]),
        ("EA", 20, ["E2"]),
    ]
    assert not [f for f in findings if f.is_error]


def test_indication_comes_first_and_the_jw_line_carries_it_too():
    a = adm("E1", "J0881", "sc", "09:00", dose="100 mcg", wasted="60 mcg")
    e = dataclasses.replace(enc([a], setting="hospital_outpatient"), diagnoses=("D6481",))
    lines, _ = drug_lines(e, CFG, CFG.payers["medicare"])
    assert [ln.modifiers for ln in lines] == [["EA"], ["EA", "JW"]]


def test_not_required_by_a_commercial_payer_unless_the_profile_says_so():
    lines, findings = _esa("J0885", ("K5090",), payer="commercial")
    assert lines and lines[0].modifiers == ["JZ"] and not findings
    payer = dataclasses.replace(
        CFG.payers["commercial"], settings={**CFG.payers["commercial"].settings, "esa_indication_modifier": True}
    )
    e = dataclasses.replace(
        enc([adm("E1", "J0885", "sc", "09:00", dose="40000 units")], payer="commercial"), diagnoses=("D649",)
    )
    lines, _ = drug_lines(e, CFG, payer)
    assert lines[0].modifiers == ["EC", "JZ"]


def test_held_esa_keeps_the_rest_of_the_encounter():
    a = adm("E1", "J0885", "sc", "09:00", dose="40000 units")
    b = adm("I1", "J1745", "iv_infusion", "10:00", "12:05", dose="400 mg")
    coded = code_encounter(dataclasses.replace(enc([a, b]), diagnoses=("K5090",)), CFG)
    assert "J1745" in {ln.code for ln in coded.lines} and "J0885" not in {ln.code for ln in coded.lines}
    assert "esa-indication-unknown" in {f.code for f in coded.findings}
