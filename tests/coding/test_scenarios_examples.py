"""Every worked example of shared/docs/coding-examples.md (1, 2, 3, 5, 6, 7, 9, 10, 12) as a
scenario table, in both the 837P (office) and 837I (hospital outpatient) variant.

Each row lists every expected claim line as (revenue code, code, modifiers, units); the engine's
lines must match exactly (as a multiset). The examples leave 340B out (except their Example 4),
so they run with a facility without ``program_340b``; one row checks JG on the 837I.
"""

from __future__ import annotations

import tomllib
from collections import Counter

import pytest

from coding.config import DEFAULT_CONFIG_PATH, parse_config
from coding.engine import code_encounter
from coding.model import Service
from tests.coding.builders import adm, enc, summary


def _cfg(**payer_overrides):
    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["facility"].pop("program_340b", None)
    for key, vals in payer_overrides.items():
        data["payers"][key].update(vals)
    return parse_config(data)


CFG = _cfg()


def _cfg_340b():
    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["facility"]["program_340b"] = "JG"
    return parse_config(data)


CFG_340B = _cfg_340b()
CFG_COMPLEX = _cfg(medicare={"complex_biologic_as_chemo": True})

P, I = "office", "hospital_outpatient"
N = None


def ex1():  # infliximab 400 mg, 10:00-12:05 = 125 min, no waste
    return [adm("A1", "J1745", "iv_infusion", "10:00", "12:05", "400 mg", ndc="57894-030-01", container="single_dose")]


def ex2():  # IVIG 35 g, 08:30-12:40 = 250 min
    return [adm("A1", "J1569", "iv_infusion", "08:30", "12:40", "35 g", container="single_dose")]


def ex3():  # infliximab 350 mg + 50 mg waste, 130 min
    return [
        adm(
            "A1",
            "J1745",
            "iv_infusion",
            "10:00",
            "12:10",
            "350 mg",
            wasted="50 mg",
            ndc="57894-030-01",
            container="single_dose",
        )
    ]


def ex5():
    return [
        adm("A1", "J2405", "iv_push", "09:00", dose="8 mg", container="single_dose"),
        adm("A2", "J1100", "iv_infusion", "09:05", "09:20", "12 mg", container="multi_dose"),
        adm("A3", "J1200", "iv_push", "09:22", dose="25 mg", container="single_dose"),
        adm("A4", "J9267", "iv_infusion", "09:30", "12:35", "315 mg", container="multi_dose"),
        adm("A5", "J9045", "iv_infusion", "12:40", "13:20", "600 mg", container="multi_dose"),
        adm("A6", "J2506", "on_body_injector", "13:30", dose="6 mg", container="single_dose"),
    ]


def ex6(end="10:40"):
    return [adm("A1", "J7030", "iv_infusion", "09:00", end, "1000 mL", purpose="hydration")]


def ex7():
    return [
        adm("H1", "J7030", "iv_infusion", "13:00", "14:10", "1000 mL", purpose="hydration"),
        adm("P1", "J2405", "iv_push", "13:05", dose="4 mg", container="single_dose"),
    ]


def ex9(reason_on="cef"):
    return [
        adm(
            "C1",
            "J0690",
            "iv_infusion",
            "14:00",
            "14:30",
            "2 g",
            access="L",
            separate_site_reason="incompatible at Y-site" if reason_on in ("cef", "both") else None,
        ),
        adm(
            "L1",
            "J1956",
            "iv_infusion",
            "14:00",
            "15:30",
            "750 mg",
            access="R",
            separate_site_reason="incompatible at Y-site" if reason_on in ("levo", "both") else None,
        ),
    ]


def ex10():
    return [
        adm("L1", "J1956", "iv_infusion", "09:00", "10:00", "500 mg"),
        adm("A1", "J0133", "iv_infusion", "09:15", "09:45", "400 mg"),
        adm("K1", "J7030", "iv_infusion", "09:00", "10:00", "1000 mL", purpose="hydration"),
    ]


def ex12():
    return [adm("D1", "J0897", "sc", "10:00", dose="60 mg", container="single_dose", ndc="55513-710-01")]


EM25 = [Service(code="99213", separately_identifiable=True)]

SCENARIOS = [
    # id, setting, admins, kwargs, expected lines
    ("ex1-837P", P, ex1, {}, [(N, "96365", (), 1), (N, "96366", (), 1), (N, "J1745", ("JZ",), 40)]),
    ("ex1-837I", I, ex1, {}, [("0260", "96365", (), 1), ("0260", "96366", (), 1), ("0636", "J1745", ("JZ",), 40)]),
    ("ex2-837P", P, ex2, {}, [(N, "96365", (), 1), (N, "96366", (), 3), (N, "J1569", ("JZ",), 70)]),
    ("ex2-837I", I, ex2, {}, [("0260", "96365", (), 1), ("0260", "96366", (), 3), ("0636", "J1569", ("JZ",), 70)]),
    (
        "ex3-837P",
        P,
        ex3,
        {},
        [(N, "96365", (), 1), (N, "96366", (), 1), (N, "J1745", (), 35), (N, "J1745", ("JW",), 5)],
    ),
    (
        "ex3-837I",
        I,
        ex3,
        {},
        [("0260", "96365", (), 1), ("0260", "96366", (), 1), ("0636", "J1745", (), 35), ("0636", "J1745", ("JW",), 5)],
    ),
    (
        "ex5-837P",
        P,
        ex5,
        {"reason_for_visit": "A4"},
        [
            (N, "96413", (), 1),
            (N, "96415", (), 2),
            (N, "96417", (), 1),
            (N, "96375", (), 3),
            (N, "96377", (), 1),
            (N, "J9267", (), 315),
            (N, "J9045", (), 12),
            (N, "J2405", ("JZ",), 8),
            (N, "J1100", (), 12),
            (N, "J1200", ("JZ",), 1),
            (N, "J2506", ("JZ",), 12),
        ],
    ),
    (
        "ex5-837P-no-reason",
        P,
        ex5,
        {},
        [
            (N, "96413", (), 1),
            (N, "96415", (), 2),
            (N, "96417", (), 1),
            (N, "96375", (), 3),
            (N, "96377", (), 1),
            (N, "J9267", (), 315),
            (N, "J9045", (), 12),
            (N, "J2405", ("JZ",), 8),
            (N, "J1100", (), 12),
            (N, "J1200", ("JZ",), 1),
            (N, "J2506", ("JZ",), 12),
        ],
    ),
    (
        "ex5-837I",
        I,
        ex5,
        {},
        [
            ("0335", "96413", (), 1),
            ("0335", "96415", (), 2),
            ("0335", "96417", (), 1),
            ("0260", "96375", (), 3),
            ("0260", "96377", (), 1),
            ("0636", "J2506", ("JZ",), 12),
            ("0636", "J9267", (), 315),
            ("0636", "J9045", (), 12),
            ("0636", "J2405", (), 8),
            ("0636", "J1100", (), 12),
            ("0636", "J1200", (), 1),
        ],
    ),
    ("ex6-837P", P, ex6, {}, [(N, "96360", (), 1), (N, "96361", (), 1), (N, "J7030", (), 1)]),
    ("ex6-837I", I, ex6, {}, [("0260", "96360", (), 1), ("0260", "96361", (), 1), ("0258", "J7030", (), 1)]),
    ("ex6-25min-837P", P, lambda: ex6("09:25"), {}, [(N, "J7030", (), 1)]),
    ("ex6-25min-837I", I, lambda: ex6("09:25"), {}, [("0258", "J7030", (), 1)]),
    (
        "ex7-837P",
        P,
        ex7,
        {"reason_for_visit": "H1"},
        [(N, "96360", (), 1), (N, "96375", (), 1), (N, "J2405", ("JZ",), 4), (N, "J7030", (), 1)],
    ),
    (
        "ex7-837I",
        I,
        ex7,
        {"reason_for_visit": "H1"},
        [("0260", "96374", (), 1), ("0260", "96361", (), 1), ("0636", "J2405", (), 4), ("0258", "J7030", (), 1)],
    ),
    (
        "ex9-837I",
        I,
        ex9,
        {},
        [("0260", "96365", (), 1), ("0260", "96365", ("59",), 1), ("0636", "J1956", (), 3), ("0636", "J0690", (), 4)],
    ),
    (
        "ex9-837I-reason-on-both",
        I,
        lambda: ex9("both"),
        {},
        [("0260", "96365", (), 1), ("0260", "96365", ("59",), 1), ("0636", "J1956", (), 3), ("0636", "J0690", (), 4)],
    ),
    (
        "ex9-837P",
        P,
        ex9,
        {},
        [(N, "96365", (), 1), (N, "96365", ("59",), 1), (N, "J1956", ("JZ",), 3), (N, "J0690", ("JZ",), 4)],
    ),
    (
        "ex10-837I",
        I,
        ex10,
        {},
        [
            ("0260", "96365", (), 1),
            ("0260", "96368", (), 1),
            ("0636", "J1956", (), 2),
            ("0636", "J0133", (), 80),
            ("0258", "J7030", (), 1),
        ],
    ),
    (
        "ex10-837P",
        P,
        ex10,
        {},
        [
            (N, "96365", (), 1),
            (N, "96368", (), 1),
            (N, "J1956", ("JZ",), 2),
            (N, "J0133", ("JZ",), 80),
            (N, "J7030", (), 1),
        ],
    ),
    (
        "ex12-837P",
        P,
        ex12,
        {"services": EM25},
        [(N, "99213", ("25",), 1), (N, "96372", (), 1), (N, "J0897", ("JZ",), 60)],
    ),
    (
        "ex12-837I",
        I,
        ex12,
        {"services": EM25},
        [("0510", "G0463", ("25",), 1), ("0260", "96372", (), 1), ("0636", "J0897", ("JZ",), 60)],
    ),
]


@pytest.mark.parametrize("name,setting,admins,kw,expected", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_worked_example(name, setting, admins, kw, expected):
    coded = code_encounter(enc(admins(), setting=setting, **kw), CFG)
    assert Counter(summary(coded)) == Counter(expected), coded.findings
    assert not [f for f in coded.findings if f.severity == "error"]
    for ln in coded.lines:
        assert ln.rationale and ln.units >= 1


def test_ex1_ndc_11_digits():
    coded = code_encounter(enc(ex1(), setting=P), CFG)
    drug = next(ln for ln in coded.lines if ln.code == "J1745")
    assert drug.ndc == "57894003001"
    assert drug.ndc_unit == "UN" and drug.ndc_quantity is not None and drug.ndc_quantity > 0


def test_ex1_payer_switch_complex_biologic_as_chemo():
    """[PAYER] Medicare may bill a monoclonal as complex administration (96413 + 96415)."""
    coded = code_encounter(enc(ex1(), setting=I), CFG_COMPLEX)
    assert Counter(summary(coded)) == Counter(
        [("0335", "96413", (), 1), ("0335", "96415", (), 1), ("0636", "J1745", ("JZ",), 40)]
    )
    other = code_encounter(enc(ex1(), setting=I, payer="commercial"), CFG_COMPLEX)
    assert {ln.code for ln in other.lines} >= {"96365", "96366"}


def test_ex5_initial_lines_first_and_rationale_names_times():
    coded = code_encounter(enc(ex5(), setting=I), CFG)
    assert [ln.code for ln in coded.lines[:2]] == ["96413", "96415"]
    assert "09:30-12:35 = 185 min" in coded.lines[0].rationale
    assert "hierarchy" in coded.lines[0].rationale


def test_ex6_short_hydration_finding():
    coded = code_encounter(enc(ex6("09:25"), setting=P), CFG)
    assert any(f.code == "hydration-not-reported" for f in coded.findings)


def test_ex9_separate_site_modifier_by_payer():
    coded = code_encounter(enc(ex9(), setting=I, payer="commercial"), _cfg(commercial={"separate_site_modifier": "XS"}))
    mods = sorted(tuple(ln.modifiers) for ln in coded.lines if ln.code == "96365")
    assert mods == [(), ("XS",)]
    default = code_encounter(enc(ex9(), setting=I, payer="commercial"), CFG)
    assert sorted(tuple(ln.modifiers) for ln in default.lines if ln.code == "96365") == [(), ("59",)]
    second = next(ln for ln in coded.lines if ln.code == "96365" and ln.modifiers)
    assert second.administration_ids == ["C1"]


def test_ex9_variant_separate_encounter_later_same_day():
    admins = [
        adm("L1", "J1956", "iv_infusion", "09:00", "10:30", "750 mg"),
        adm("L2", "J1956", "iv_infusion", "18:00", "18:45", "750 mg", visit="2"),
    ]
    coded = code_encounter(enc(admins, setting=I), CFG)
    got = Counter(summary(coded))
    assert got[("0260", "96365", (), 1)] == 1
    assert got[("0260", "96365", ("XE",), 1)] == 1


def test_ex12_99211_dropped_with_warning():
    coded = code_encounter(enc(ex12(), setting=P, services=[Service(code="99211")]), CFG)
    assert "99211" not in {ln.code for ln in coded.lines}
    assert any(f.code == "99211-with-drug-admin" and f.severity == "warning" for f in coded.findings)


def test_340b_modifier_on_837i_only():
    coded = code_encounter(enc(ex1(), setting=I), CFG_340B)
    assert ("0636", "J1745", ("TB", "JZ"), 40) in summary(coded)  # configured JG: TB since 2025-01-01
    office = code_encounter(enc(ex1(), setting=P), CFG_340B)
    assert (N, "J1745", ("JZ",), 40) in summary(office)
