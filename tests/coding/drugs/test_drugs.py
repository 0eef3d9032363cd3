"""Drug lines: billing units, JW/JZ/340B decision table, NDC, revenue codes, reference tables."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coding.codesets import NO_CODESETS
from coding.config import load_config
from coding.drugs.esa import is_esa
from coding.drugs.lines import (
    DrugInfo,
    billing_units,
    drug_info,
    drug_lines,
    is_separately_payable,
    known_drug_codes,
    order_modifiers,
    resolve_purpose,
)
from coding.model import Address, Administration, Encounter, Patient, Quantity

CFG = load_config()
PAT = Patient("P1", "TEST", "PATIENT", date(1960, 1, 1), "F", "M0001", Address("1 MAIN", "SPRINGFIELD", "IL", "62701"))


def cfg_with(program_340b="JG", **payer_changes):
    fac = dataclasses.replace(CFG.facility, program_340b=program_340b)
    payers = {k: dataclasses.replace(p, **payer_changes) for k, p in CFG.payers.items()}
    return dataclasses.replace(CFG, facility=fac, payers=payers)


def adm(aid, drug, value, unit="mg", start="2026-03-02T10:00", wasted=None, **kw):
    w = Quantity(D(str(wasted[0])), wasted[1]) if wasted else None
    return Administration(
        aid,
        drug,
        kw.pop("route", "iv_infusion"),
        datetime.fromisoformat(start),
        Quantity(D(str(value)), unit),
        wasted=w,
        **kw,
    )


def enc(setting, *adms, payer="medicare"):
    return Encounter("E1", setting, payer, PAT, ("K5090",), tuple(adms))


def code(setting, *adms, cfg=CFG, payer="medicare", codesets=NO_CODESETS):
    e = enc(setting, *adms, payer=payer)
    return drug_lines(e, cfg, cfg.payers[payer], codesets)


def known(code: str) -> DrugInfo:
    """The drug table's row for a code the table has."""
    info = drug_info(code)
    assert info is not None, code
    return info


def summary(lines):
    return [(ln.code, ln.modifiers, ln.units) for ln in lines]


# ------------------------------------------------------------------ units
@pytest.mark.parametrize(
    "drug,value,unit,units",
    [
        ("J1745", 400, "mg", 40),  # 10 mg
        ("J1745", 401, "mg", 41),  # rounded up
        ("J1745", 5, "mg", 1),  # below one unit bills 1
        ("J1745", "0.4", "g", 40),  # g -> mg
        ("J1569", 35, "g", 70),  # 500 mg units, example 2
        ("J9267", 315, "mg", 315),  # 1 mg
        ("J9045", 600, "mg", 12),  # 50 mg
        ("J2405", 8, "mg", 8),  # "per 1 mg"
        ("J1200", 25, "mg", 1),  # "up to 50 mg"
        ("J1200", 75, "mg", 2),  # "up to 50 mg", 75 mg -> 2
        ("J2506", 6, "mg", 12),  # 0.5 mg (2022 code, from the curated reference)
        ("J0881", 100, "mcg", 100),  # 1 microgram
        ("J0881", "0.1", "mg", 100),  # mg -> mcg
        ("J0885", 40000, "units", 40),  # 1000 units
        ("J9213", 6000000, "units", 2),  # 3 million units
        ("J7050", 1000, "mL", 4),  # 250 cc
        ("J7040", 1000, "mL", 2),  # (500 ml = 1 unit)
        ("J7030", 1000, "mL", 1),  # 1000 cc
        ("J0295", 3, "g", 2),  # per 1.5 gm
        ("J2543", "3.375", "g", 3),  # 1.125 g combination
        ("J0897", 60, "mg", 60),  # example 12
    ],
)
def test_billing_units(drug, value, unit, units):
    info = known(drug)
    assert billing_units(D(str(value)), unit, info) == units
    # an ESA on a Medicare claim needs its indication (EA/EB/EC); K50.90 alone does not tell it
    extra = {"esa_indication": "EC"} if drug in ("J0881", "J0885") else {}
    lines, findings = code("office", adm("A1", drug, value, unit, **extra))
    assert lines[0].units == units
    assert not [f for f in findings if f.is_error]


def test_unit_labels_from_descriptor():
    assert known("J1200").up_to and known("J1200").unit_label == "up to 50 mg"
    assert known("J2405").unit_label == "1 mg"
    assert known("J7120").up_to and known("J7120").billing_unit == "mL"
    assert known("q5121").billing_unit_value == D("10")


def test_dose_unit_that_cannot_convert_is_held():
    lines, findings = code("office", adm("A1", "J1745", 40, "mL"))
    assert lines == []
    f = [f for f in findings if f.code == "dose-unit-mismatch"]
    assert f and f[0].is_error and f[0].administration_id == "A1" and f[0].field == "administrations[0].dose.unit"


def test_same_drug_summed_on_one_line_then_rounded():
    lines, _ = code(
        "office", adm("A2", "J1745", 155, start="2026-03-02T11:00"), adm("A1", "J1745", 155, start="2026-03-02T09:00")
    )
    assert summary(lines) == [("J1745", ["JZ"], 31)]  # ceil(310/10), not 16 + 16
    assert lines[0].administration_ids == ["A1", "A2"]
    assert lines[0].service_date == date(2026, 3, 2)


def test_units_given_on_different_dates_are_billed_on_their_own_dates():
    # one line per drug and date of service (the previous rule put both doses on the first date)
    lines, _ = code(
        "office", adm("A1", "J1745", 100, start="2026-03-02T23:30"), adm("A2", "J1745", 100, start="2026-03-03T01:00")
    )
    assert [(ln.service_date, ln.units, ln.administration_ids) for ln in lines] == [
        (date(2026, 3, 2), 10, ["A1"]),
        (date(2026, 3, 3), 10, ["A2"]),
    ]


# ------------------------------------------------------------------ JW / JZ / 340B decision table
JG = cfg_with("JG")
TB = cfg_with("TB")
NO340 = cfg_with(None)


@pytest.mark.parametrize(
    "setting,cfg,a,expected",
    [
        # 837P: every drug separately payable; single-dose default
        ("office", JG, adm("A1", "J1745", 400), [("J1745", ["JZ"], 40)]),
        ("office", JG, adm("A1", "J1745", 350, wasted=(50, "mg")), [("J1745", [], 35), ("J1745", ["JW"], 5)]),
        ("office", JG, adm("A1", "J2405", 4), [("J2405", ["JZ"], 4)]),
        ("office", JG, adm("A1", "J1745", 395, wasted=(5, "mg")), [("J1745", ["JZ"], 40)]),  # rounding covers waste
        ("office", JG, adm("A1", "J1745", 400, container="multi_dose"), [("J1745", [], 40)]),
        ("office", JG, adm("A1", "J1745", 350, wasted=(50, "mg"), container="multi_dose"), [("J1745", [], 35)]),
        ("office", JG, adm("A1", "J9267", 315), [("J9267", [], 315)]),  # table: multi-dose
        ("office", JG, adm("A1", "J7030", 1000, "mL"), [("J7030", [], 1)]),  # IV solution
        ("infusion_center", TB, adm("A1", "J1745", 400), [("J1745", ["JZ"], 40)]),  # no 340B on 837P
        # 837I: SI K separately payable -> JW/JZ + 340B (a JG facility bills TB on 2026 dates: JG ended 2024-12-31)
        ("hospital_outpatient", JG, adm("A1", "J1745", 400), [("J1745", ["TB", "JZ"], 40)]),
        ("hospital_outpatient", TB, adm("A1", "J1745", 400), [("J1745", ["TB", "JZ"], 40)]),
        ("hospital_outpatient", NO340, adm("A1", "J1745", 400), [("J1745", ["JZ"], 40)]),
        (
            "hospital_outpatient",
            JG,
            adm("A1", "J1745", 350, wasted=(50, "mg")),
            [("J1745", ["TB"], 35), ("J1745", ["TB", "JW"], 5)],
        ),
        (
            "hospital_outpatient",
            NO340,
            adm("A1", "J1745", 350, wasted=(50, "mg")),
            [("J1745", [], 35), ("J1745", ["JW"], 5)],
        ),
        ("hospital_outpatient", JG, adm("A1", "J1745", 395, wasted=(5, "mg")), [("J1745", ["TB", "JZ"], 40)]),
        ("hospital_outpatient", JG, adm("A1", "J2506", 6, route="on_body_injector"), [("J2506", ["TB", "JZ"], 12)]),
        # 837I: SI N packaged -> no JW/JZ, no 340B
        ("hospital_outpatient", JG, adm("A1", "J2405", 4), [("J2405", [], 4)]),
        ("hospital_outpatient", JG, adm("A1", "J2405", 4, wasted=(4, "mg")), [("J2405", [], 4)]),
        ("hospital_outpatient", JG, adm("A1", "J7030", 1000, "mL"), [("J7030", [], 1)]),
    ],
)
def test_waste_and_340b_decision_table(setting, cfg, a, expected):
    lines, findings = code(setting, a, cfg=cfg)
    assert summary(lines) == expected
    assert not [f for f in findings if f.is_error]
    for ln in lines:
        assert ln.rationale.startswith(ln.code)


def test_waste_not_billed_is_explained():
    _, findings = code("hospital_outpatient", adm("A1", "J2405", 4, wasted=(4, "mg")), cfg=JG)
    assert [f.code for f in findings] == ["waste-not-billed"]
    _, findings = code("office", adm("A1", "J1745", 350, wasted=(50, "mg"), container="multi_dose"))
    assert [f.code for f in findings] == ["waste-not-billed"]


def test_waste_in_grams_and_summed_waste():
    lines, _ = code(
        "office",
        adm("A1", "J1569", 9, "g", wasted=("0.5", "g")),
        adm("A2", "J1569", 1, "g", start="2026-03-02T12:00", wasted=(500, "mg")),
    )
    assert summary(lines) == [("J1569", [], 20), ("J1569", ["JW"], 2)]
    assert lines[1].administration_ids == ["A1", "A2"]


def test_revenue_codes_on_837i_only():
    lines, _ = code(
        "hospital_outpatient", adm("A1", "J1745", 400), adm("A2", "J7030", 1000, "mL"), adm("A3", "J2405", 4)
    )
    assert {ln.code: ln.revenue_code for ln in lines} == {"J1745": "0636", "J7030": "0258", "J2405": "0636"}
    lines, _ = code("office", adm("A1", "J1745", 400))
    assert lines[0].revenue_code is None


def test_modifier_order_constant():
    lines, _ = code("hospital_outpatient", adm("A1", "J1745", 350, wasted=(50, "mg")), adm("A2", "J0897", 60))
    for ln in lines:
        assert ln.modifiers == order_modifiers(ln.modifiers)
    assert order_modifiers(["JZ", "JG"]) == ["JG", "JZ"]
    assert order_modifiers(["JW", "TB"]) == ["TB", "JW"]


@settings(max_examples=150, deadline=None)
@given(
    setting=st.sampled_from(["office", "hospital_outpatient"]),
    drug=st.sampled_from(["J1745", "J2405", "J9267", "J0897", "J1569", "J2506", "J1200", "J7030"]),
    doses=st.lists(
        st.tuples(st.integers(1, 2000), st.integers(0, 300), st.sampled_from([None, "single_dose", "multi_dose"])),
        min_size=1,
        max_size=3,
    ),
    program=st.sampled_from([None, "JG", "TB"]),
)
def test_never_jw_and_jz_on_one_drug_and_units_cover_dose(setting, drug, doses, program):
    cfg = cfg_with(program)
    unit = "mL" if drug == "J7030" else "mg"
    adms = [
        adm(f"A{i}", drug, d, unit, start=f"2026-03-02T{10 + i}:00", wasted=(w, unit) if w else None, container=c)
        for i, (d, w, c) in enumerate(doses)
    ]
    lines, _findings = code(setting, *adms, cfg=cfg)
    mods = [m for ln in lines for m in ln.modifiers]
    assert not ("JW" in mods and "JZ" in mods)
    assert lines and all(ln.units > 0 and ln.charge > 0 and ln.rationale for ln in lines)
    info = known(drug)
    administered = [ln for ln in lines if "JW" not in ln.modifiers]
    assert len(administered) == 1
    total = sum(D(d) for d, _, _ in doses)
    assert administered[0].units * info.billing_unit_value >= total
    assert (administered[0].units - 1) * info.billing_unit_value < total
    if setting == "office" or program is None or not is_separately_payable(info, "837I"):
        assert not {"JG", "TB"} & set(mods)
    else:
        assert all(ln.modifiers[0] == "TB" for ln in lines)  # 2026 dates: TB for every 340B drug


# ------------------------------------------------------------------ NDC
def test_ndc_normalized_with_quantity_and_unit():
    lines, _ = code("office", adm("A1", "J1745", 400, ndc="57894-030-01"))
    ln = lines[0]
    assert (ln.ndc, ln.ndc_quantity, ln.ndc_unit) == ("57894003001", D(40), "UN")
    lines, _ = code("office", adm("A1", "J1745", 350, wasted=(50, "mg"), ndc="57894-030-01"))
    assert [(ln.ndc, ln.ndc_quantity, ln.ndc_unit) for ln in lines] == [
        ("57894003001", D(35), "UN"),
        ("57894003001", D(5), "UN"),
    ]


def test_ndc_unit_from_payer_profile():
    ml = cfg_with("JG", ndc_unit="ML")
    lines, _ = code("office", adm("A1", "J7030", 1000, "mL", ndc="0338-0049-04"), cfg=ml)
    assert (lines[0].ndc, lines[0].ndc_quantity, lines[0].ndc_unit) == ("00338004904", D(1000), "ML")
    # dose in mg cannot be counted in mL: falls back to UN with the billed units
    lines, _ = code("office", adm("A1", "J1745", 400, ndc="57894-030-01"), cfg=ml)
    assert (lines[0].ndc_quantity, lines[0].ndc_unit) == (D(40), "UN")
    me = cfg_with("JG", ndc_unit="ME")
    lines, _ = code("office", adm("A1", "J1569", "2.5", "g", ndc="0944-2700-03"), cfg=me)
    assert (lines[0].ndc_quantity, lines[0].ndc_unit) == (D(2500), "ME")


def test_two_ndcs_for_one_drug_warns_and_keeps_first():
    lines, findings = code(
        "office",
        adm("A1", "J1745", 200, ndc="57894-030-01"),
        adm("A2", "J1745", 200, start="2026-03-02T11:00", ndc="0069-0809-01"),
    )
    assert lines[0].ndc == "57894003001"
    assert [f.code for f in findings] == ["multiple-ndc"]


# ------------------------------------------------------------------ charges
def test_charge_is_price_per_billing_unit_times_units():
    lines, _ = code("office", adm("A1", "J1745", 350, wasted=(50, "mg")))
    price = CFG.price("J1745")
    assert price is not None
    assert [ln.charge for ln in lines] == [price * 35, price * 5]


def test_unpriced_drug_is_held_with_error():
    cm = {k: v for k, v in CFG.chargemaster.items() if k not in ("J1745", "J*", "Q*")}
    cfg = dataclasses.replace(CFG, chargemaster=cm)
    lines, findings = code("office", adm("A1", "J1745", 400), cfg=cfg)
    assert lines == []
    assert findings[0].code == "unpriced-code" and findings[0].is_error and findings[0].encounter_id == "E1"


# ------------------------------------------------------------------ tables
def test_every_jq_code_is_codable_or_held_with_a_clear_finding():
    seen = {"ok": 0, "held": 0}
    for codev in sorted(known_drug_codes()):
        info = known(codev)
        unit = info.billing_unit if info.billing_unit in ("mg", "g", "mcg", "units", "mL") else "mg"
        value = (info.billing_unit_value or D(1)) * 3
        esa_ind = {"esa_indication": "EA"} if is_esa(codev) else {}  # ESAs need EA/EB/EC on Medicare
        lines, findings = code("office", adm("A1", codev, value, unit, **esa_ind))
        if lines:
            seen["ok"] += 1
            assert lines[0].code == codev and lines[0].units >= 1 and lines[0].charge > 0
            if info.parse_status == "ok":
                assert lines[0].units == 3
        else:
            seen["held"] += 1
            errs = [f.code for f in findings if f.is_error]
            assert errs in (["no-billing-unit"], ["deleted-code"])
            if errs == ["no-billing-unit"]:
                assert info.parse_status in ("unparseable", "no_descriptor")
    assert seen["ok"] > 850


def test_reference_drug_units_match_the_shipped_table():
    import csv
    from pathlib import Path

    ref = Path(__file__).resolve().parents[3] / "coding" / "data" / "hcpcs_drugs.csv"
    rows = {r["code"]: r for r in csv.DictReader(ln for ln in ref.open() if not ln.startswith("#"))}
    assert rows["J1745"]["billing_unit_value"] == "10" and rows["J1745"]["billing_unit"] == "mg"
    assert rows["J7040"]["billing_unit_value"] == "500" and rows["J7040"]["billing_unit"] == "mL"
    assert rows["J3490"]["parse_status"] == "noc"
    assert rows["J3480"]["parse_status"] == "unparseable"


def test_noc_and_per_item_and_unparseable():
    lines, findings = code("office", adm("A1", "J3490", 10))
    assert summary(lines) == [("J3490", ["JZ"], 1)] and [f.code for f in findings] == ["noc-drug"]
    lines, _ = code("office", adm("A1", "J9266", 1), adm("A2", "J9266", 1, start="2026-03-02T12:00"))
    assert lines[0].units == 2  # per single-dose vial: one per administration
    lines, findings = code("office", adm("A1", "J3480", 20))
    assert lines == [] and findings[0].code == "no-billing-unit"


def test_opps_status_and_separately_payable():
    assert known("J1745").opps_si == "K" and known("J1745").opps_rate == D("31.041")
    assert known("J2405").opps_si == "N"
    assert is_separately_payable(known("J2405"), "837P")
    assert not is_separately_payable(known("J2405"), "837I")
    assert is_separately_payable(known("J1745"), "837I")
    assert known("J2506").opps_si == "K"
    assert drug_info("NOPE1") is None and drug_info(None) is None  # type: ignore[arg-type]


# ------------------------------------------------------------------ purpose
@pytest.mark.parametrize(
    "drug,purpose,hormonal,biologic",
    [
        ("J9035", "chemo", False, True),
        ("J9267", "chemo", False, False),
        ("J9999", "chemo", False, False),
        ("J9217", "chemo", True, False),
        ("J9202", "chemo", True, False),
        ("J9395", "chemo", True, False),
        ("J9155", "chemo", True, False),
        ("J3315", "chemo", True, False),
        ("J1745", "therapeutic", False, True),
        ("Q5121", "therapeutic", False, True),
        ("Q5103", "therapeutic", False, True),
        ("J3262", "therapeutic", False, True),
        ("J7030", "hydration", False, False),
        ("J7050", "hydration", False, False),
        ("J2405", "therapeutic", False, False),
        ("J1569", "therapeutic", False, False),
    ],
)
def test_purpose_table(drug, purpose, hormonal, biologic):
    info = known(drug)
    assert (info.purpose, info.hormonal_antineoplastic, info.complex_biologic) == (purpose, hormonal, biologic)


def test_resolve_purpose_explicit_wins_and_payer_switch():
    medicare = CFG.payers["medicare"]
    chemo_payer = dataclasses.replace(medicare, complex_biologic_as_chemo=True)
    a = adm("A1", "J1745", 400)
    assert resolve_purpose(a, medicare) == "therapeutic"
    assert resolve_purpose(a, chemo_payer) == "chemo"
    assert resolve_purpose(dataclasses.replace(a, purpose="therapeutic"), chemo_payer) == "therapeutic"
    assert resolve_purpose(adm("A2", "J2405", 4), chemo_payer) == "therapeutic"
    assert resolve_purpose(adm("A3", "J7030", 1000, "mL"), medicare) == "hydration"
    assert isinstance(drug_info("J1745"), DrugInfo)


def test_deleted_code_is_held_after_its_last_valid_date():
    lines, findings = code("office", adm("A1", "J2505", 6, start="2026-03-02T10:00"))
    assert lines == [] and findings[0].code == "deleted-code" and "J2506" in findings[0].message
    lines, _ = code("office", adm("A1", "J2505", 6, start="2021-06-01T10:00"))
    assert summary(lines) == [("J2505", [], 1)]  # 6 mg per unit while it was valid; JZ exists from 2023


@pytest.mark.parametrize(
    "setting,drug,value,unit,expected",
    [
        # worked examples (coding-examples.md): drug lines only
        ("office", "J1956", 750, "mg", [("J1956", ["JZ"], 3)]),  # ex. 9 levofloxacin 250 mg units
        ("hospital_outpatient", "J1956", 750, "mg", [("J1956", [], 3)]),  # SI N
        ("hospital_outpatient", "J0690", 2, "g", [("J0690", [], 4)]),  # ex. 9 cefazolin 500 mg units
        ("hospital_outpatient", "J0133", 400, "mg", [("J0133", [], 80)]),  # ex. 10 acyclovir 5 mg units
        ("hospital_outpatient", "J1956", 500, "mg", [("J1956", [], 2)]),  # ex. 10
        ("office", "J9045", 600, "mg", [("J9045", [], 12)]),  # ex. 5 carboplatin (multi-dose)
        ("office", "J2506", 6, "mg", [("J2506", ["JZ"], 12)]),  # ex. 5 pegfilgrastim OBI
        ("hospital_outpatient", "J0897", 60, "mg", [("J0897", ["TB", "JZ"], 60)]),  # ex. 12 (SI K, 340B; TB since 2025)
        ("hospital_outpatient", "J1569", 35, "g", [("J1569", ["TB", "JZ"], 70)]),  # ex. 2
    ],
)
def test_worked_example_drug_lines(setting, drug, value, unit, expected):
    lines, findings = code(setting, adm("A1", drug, value, unit), cfg=JG)
    assert summary(lines) == expected
    assert not [f for f in findings if f.is_error]


def test_ndc_quantity_from_containers_extension():
    # example 1: 400 mg from four 100-mg vials -> CTP 4 UN
    lines, _ = code("office", adm("A1", "J1745", 400, ndc="57894-030-01", containers=4))
    assert (lines[0].ndc_quantity, lines[0].ndc_unit) == (D(4), "UN")
    # example 3: 350 mg given + 50 mg wasted from 4 vials: quantities shared by amount
    lines, _ = code("office", adm("A1", "J1745", 350, wasted=(50, "mg"), ndc="57894-030-01", containers=4))
    assert [ln.ndc_quantity for ln in lines] == [D("3.5"), D("0.5")]
    # example 12: one prefilled syringe
    lines, _ = code("office", adm("A1", "J0897", 60, route="sc", ndc="55513-710-01", containers=1))
    assert (lines[0].ndc, lines[0].ndc_quantity, lines[0].ndc_unit) == ("55513071001", D(1), "UN")


ALL_CODES = sorted(known_drug_codes())


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    codev=st.sampled_from(ALL_CODES),
    unit=st.sampled_from(["mg", "g", "mcg", "units", "mL"]),
    value=st.decimals(min_value=D("0.000001"), max_value=D("1e9"), allow_nan=False, allow_infinity=False, places=6),
    waste=st.one_of(st.none(), st.decimals(min_value=D(0), max_value=D("1e6"), places=3)),
    container=st.sampled_from([None, "single_dose", "multi_dose"]),
    setting=st.sampled_from(["office", "infusion_center", "hospital_outpatient"]),
    ndc_value=st.sampled_from([None, "57894-030-01", "0574-4072-05"]),
    containers=st.one_of(st.none(), st.integers(1, 20)),
)
def test_any_drug_any_dose_never_raises(codev, unit, value, waste, container, setting, ndc_value, containers):
    a = adm(
        "A1",
        codev,
        value,
        unit,
        wasted=(waste, unit) if waste is not None else None,
        container=container,
        ndc=ndc_value,
        containers=containers,
    )
    lines, findings = code(setting, a, cfg=JG)
    if not lines:
        assert any(f.is_error for f in findings)
    for ln in lines:
        assert ln.units > 0 and ln.charge > 0 and ln.rationale.startswith(codev)
        if ln.ndc:
            assert len(ln.ndc) == 11 and ln.ndc_quantity > 0 and ln.ndc_unit
        assert not ({"JW", "JZ"} <= {m for x in lines for m in x.modifiers})
