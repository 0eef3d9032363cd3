"""Time boundaries (fact base §2): 15/16, 30/31, 90/91, 150/151 minutes for therapeutic, chemo
and hydration infusions, as initial and as later services; missing stop times; midnight."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from coding.admin import timing as T
from coding.config import load_config
from coding.engine import code_encounter
from coding.model import ServiceLine
from tests.coding.builders import adm, admin_codes, enc

CFG = load_config()
START = datetime(2026, 3, 2, 9, 0)


def hhmm(minutes_after: int, base: datetime = START) -> str:
    return (base + timedelta(minutes=minutes_after)).isoformat(timespec="minutes")


def single(drug, minutes, purpose=None, setting="office"):
    a = adm(
        "A1", drug, "iv_infusion", hhmm(0), hhmm(minutes), "100 mg" if drug != "J7030" else "1000 mL", purpose=purpose
    )
    return admin_codes(code_encounter(enc([a], setting=setting), CFG))


THERAPEUTIC = [
    (15, {"96374": 1}),
    (16, {"96365": 1}),
    (30, {"96365": 1}),
    (31, {"96365": 1}),
    (90, {"96365": 1}),
    (91, {"96365": 1, "96366": 1}),
    (150, {"96365": 1, "96366": 1}),
    (151, {"96365": 1, "96366": 2}),
]
CHEMO = [
    (15, {"96409": 1}),
    (16, {"96413": 1}),
    (30, {"96413": 1}),
    (31, {"96413": 1}),
    (90, {"96413": 1}),
    (91, {"96413": 1, "96415": 1}),
    (150, {"96413": 1, "96415": 1}),
    (151, {"96413": 1, "96415": 2}),
]
HYDRATION = [
    (15, {}),
    (16, {}),
    (30, {}),
    (31, {"96360": 1}),
    (90, {"96360": 1}),
    (91, {"96360": 1, "96361": 1}),
    (150, {"96360": 1, "96361": 1}),
    (151, {"96360": 1, "96361": 2}),
]


@pytest.mark.parametrize("setting", ["office", "hospital_outpatient"])
@pytest.mark.parametrize("minutes,expected", THERAPEUTIC)
def test_therapeutic_initial(minutes, expected, setting):
    assert single("J1956", minutes, setting=setting) == expected


@pytest.mark.parametrize("setting", ["office", "hospital_outpatient"])
@pytest.mark.parametrize("minutes,expected", CHEMO)
def test_chemo_initial(minutes, expected, setting):
    assert single("J9267", minutes, setting=setting) == expected


@pytest.mark.parametrize("setting", ["office", "hospital_outpatient"])
@pytest.mark.parametrize("minutes,expected", HYDRATION)
def test_hydration_initial(minutes, expected, setting):
    assert single("J7030", minutes, purpose="hydration", setting=setting) == expected


# hydration after a different initial service: each full hour plus a remainder > 30 (96361)
SEQ_HYDRATION = [(15, 0), (16, 0), (30, 0), (31, 1), (90, 1), (91, 2), (150, 2), (151, 3)]


@pytest.mark.parametrize("minutes,units", SEQ_HYDRATION)
def test_hydration_after_push_initial(minutes, units):
    admins = [
        adm("P1", "J2405", "iv_push", hhmm(0), dose="4 mg"),
        adm("H1", "J7030", "iv_infusion", hhmm(5), hhmm(5 + minutes), "1000 mL", purpose="hydration"),
    ]
    got = admin_codes(code_encounter(enc(admins, setting="hospital_outpatient"), CFG))
    assert got == ({"96374": 1, "96361": units} if units else {"96374": 1})


# a therapeutic infusion after a chemo initial: 96375 (<=15), 96367 (+96366 for extra hours)
SEQ_THERAPEUTIC = [
    (15, {"96375": 1}),
    (16, {"96367": 1}),
    (30, {"96367": 1}),
    (31, {"96367": 1}),
    (90, {"96367": 1}),
    (91, {"96367": 1, "96366": 1}),
    (150, {"96367": 1, "96366": 1}),
    (151, {"96367": 1, "96366": 2}),
]


@pytest.mark.parametrize("minutes,expected", SEQ_THERAPEUTIC)
def test_therapeutic_after_chemo_initial(minutes, expected):
    admins = [
        adm("C1", "J9267", "iv_infusion", hhmm(0), hhmm(60), "100 mg"),
        adm("T1", "J1956", "iv_infusion", hhmm(60), hhmm(60 + minutes), "500 mg"),
    ]
    got = admin_codes(code_encounter(enc(admins, setting="hospital_outpatient"), CFG))
    assert got == {"96413": 1, **expected}


SEQ_CHEMO = [
    (15, {"96411": 1}),
    (16, {"96417": 1}),
    (90, {"96417": 1}),
    (91, {"96417": 1, "96415": 1}),
    (150, {"96417": 1, "96415": 1}),
    (151, {"96417": 1, "96415": 2}),
]


@pytest.mark.parametrize("minutes,expected", SEQ_CHEMO)
def test_chemo_after_chemo_initial(minutes, expected):
    admins = [
        adm("C1", "J9267", "iv_infusion", hhmm(0), hhmm(180), "100 mg"),
        adm("C2", "J9045", "iv_infusion", hhmm(180), hhmm(180 + minutes), "100 mg"),
    ]
    got = admin_codes(code_encounter(enc(admins, setting="hospital_outpatient"), CFG))
    want = {"96413": 1, "96415": 2, **expected}
    if "96415" in expected:
        want["96415"] = 2 + expected["96415"]
    assert got == want


def test_exactly_90_payer_conflict_switch():
    """[CONFLICT] §2.2: a payer may count exactly 90 min as an additional hour."""
    import tomllib

    from coding.config import DEFAULT_CONFIG_PATH, parse_config

    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["payers"]["commercial"]["additional_hour_over_minutes"] = 29
    cfg = parse_config(data)
    a = adm("A1", "J1956", "iv_infusion", hhmm(0), hhmm(90), "500 mg")
    assert admin_codes(code_encounter(enc([a], payer="commercial"), cfg)) == {"96365": 1, "96366": 1}
    assert admin_codes(code_encounter(enc([a], payer="medicare"), cfg)) == {"96365": 1}


def test_missing_stop_time_computed_from_volume_rate():
    a = adm("A1", "J1956", "iv_infusion", hhmm(0), None, "500 mg", volume_ml=250, rate_ml_per_hr=100)
    coded = code_encounter(enc([a]), CFG)
    assert admin_codes(coded) == {"96365": 1, "96366": 1}  # 150 min
    assert "computed from volume/rate" in coded.lines[0].rationale


def test_missing_stop_time_held_never_downgraded():
    a = adm("A1", "J1956", "iv_infusion", hhmm(0), None, "500 mg")
    coded = code_encounter(enc([a]), CFG)
    assert admin_codes(coded) == {}
    f = [f for f in coded.findings if f.code == "missing-stop-time"]
    assert f and f[0].severity == "error" and f[0].administration_id == "A1"


def test_missing_stop_time_push_only_by_payer_switch():
    import tomllib

    from coding.config import DEFAULT_CONFIG_PATH, parse_config

    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["payers"]["commercial"]["missing_stop_time_as_push"] = True
    cfg = parse_config(data)
    a = adm("A1", "J1956", "iv_infusion", hhmm(0), None, "500 mg")
    assert admin_codes(code_encounter(enc([a], payer="commercial"), cfg)) == {"96374": 1}


def test_crossing_midnight_units_on_line_dates():
    base = datetime(2026, 3, 2, 22, 30)
    a = adm("A1", "J1956", "iv_infusion", hhmm(0, base), hhmm(200, base), "500 mg")  # 200 min
    coded = code_encounter(enc([a], setting="hospital_outpatient"), CFG)
    by = {(ln.code, ln.service_date.isoformat()): ln.units for ln in coded.lines if ln.kind == "admin"}
    # 96365 on 03-02; additional hours start 23:30 (03-02), 00:30 and 01:30 (03-03) -> 140 min: 2 units
    assert by == {("96365", "2026-03-02"): 1, ("96366", "2026-03-02"): 1, ("96366", "2026-03-03"): 1}
    assert sum(ln.units for ln in coded.lines if ln.code == "96366") == T.addon_hour_units(200)


def test_crossing_midnight_one_initial_per_encounter():
    base = datetime(2026, 3, 2, 23, 0)
    admins = [
        adm("A1", "J1956", "iv_infusion", hhmm(0, base), hhmm(60, base), "500 mg"),
        adm("A2", "J0690", "iv_infusion", hhmm(120, base), hhmm(180, base), "1 g"),
    ]
    got = admin_codes(code_encounter(enc(admins, setting="hospital_outpatient"), CFG))
    assert got == {"96365": 1, "96367": 1}


def test_same_drug_push_837i_vs_837p():
    admins = [adm("P1", "J2405", "iv_push", hhmm(0), dose="4 mg"), adm("P2", "J2405", "iv_push", hhmm(31), dose="4 mg")]
    assert admin_codes(code_encounter(enc(admins, setting="hospital_outpatient"), CFG)) == {"96374": 1, "96376": 1}
    office = code_encounter(enc(admins, setting="office"), CFG)
    assert admin_codes(office) == {"96374": 1}
    assert any(f.code == "same-drug-push-not-reported" for f in office.findings)
    close = [adm("P1", "J2405", "iv_push", hhmm(0), dose="4 mg"), adm("P2", "J2405", "iv_push", hhmm(30), dose="4 mg")]
    assert admin_codes(code_encounter(enc(close, setting="hospital_outpatient"), CFG)) == {"96374": 1}


def test_concurrent_once_per_encounter_and_overlap_minimum():
    admins = [
        adm("A", "J1956", "iv_infusion", hhmm(0), hhmm(120), "500 mg"),
        adm("B", "J0133", "iv_infusion", hhmm(10), hhmm(40), "400 mg"),
        adm("C", "J0690", "iv_infusion", hhmm(50), hhmm(80), "1 g"),
    ]
    coded = code_encounter(enc(admins, setting="hospital_outpatient"), CFG)
    assert admin_codes(coded) == {"96365": 1, "96366": 1, "96368": 1}
    assert any(f.code == "concurrent-once" for f in coded.findings)


def test_partial_overlap_medlearn_example():
    """§2.4: A 06:00-07:30, B 07:00-16:00 -> B 96365 + 96366 x8; A 90-30 = 60 min -> 96367."""
    d = "2026-03-02T"
    admins = [
        adm("A", "J0690", "iv_infusion", d + "06:00", d + "07:30", "1 g"),
        adm("B", "J1956", "iv_infusion", d + "07:00", d + "16:00", "500 mg"),
    ]
    got = admin_codes(code_encounter(enc(admins, setting="hospital_outpatient"), CFG))
    assert got == {"96365": 1, "96366": 8, "96367": 1}


def test_same_drug_restarted_times_add():
    admins = [
        adm("A", "J1956", "iv_infusion", hhmm(0), hhmm(50), "250 mg"),
        adm("B", "J1956", "iv_infusion", hhmm(80), hhmm(130), "250 mg"),
    ]
    got = admin_codes(code_encounter(enc(admins, setting="hospital_outpatient"), CFG))
    assert got == {"96365": 1, "96366": 1}  # 50 + 50 = 100 min


def test_pure_helpers():
    assert [T.addon_hour_units(m) for m in (15, 60, 90, 91, 150, 151, 211)] == [0, 0, 0, 1, 1, 2, 3]
    assert [T.hourly_units(m) for m in (30, 31, 60, 90, 91)] == [0, 1, 1, 1, 2]
    assert T.is_push_minutes(15) and not T.is_push_minutes(16)
    assert not T.hydration_reportable(30) and T.hydration_reportable(31)
    assert isinstance(ServiceLine, type)


def _cfg_with(**kv):
    import tomllib

    from coding.config import DEFAULT_CONFIG_PATH, parse_config

    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["payers"]["commercial"].update(kv)
    return parse_config(data)


def test_units_on_start_date_payer_switch():
    base = datetime(2026, 3, 2, 22, 30)
    a = adm("A1", "J1956", "iv_infusion", hhmm(0, base), hhmm(200, base), "500 mg")
    cfg = _cfg_with(units_date_rule="start_date")
    coded = code_encounter(enc([a], setting="hospital_outpatient", payer="commercial"), cfg)
    assert {(ln.code, ln.service_date.isoformat(), ln.units) for ln in coded.lines if ln.kind == "admin"} == {
        ("96365", "2026-03-02", 1),
        ("96366", "2026-03-02", 2),
    }


def test_hierarchy_restarts_daily_payer_switch():
    base = datetime(2026, 3, 2, 23, 0)
    admins = [
        adm("A1", "J1956", "iv_infusion", hhmm(0, base), hhmm(50, base), "500 mg"),
        adm("A2", "J0690", "iv_infusion", hhmm(120, base), hhmm(180, base), "1 g"),
    ]
    cfg = _cfg_with(hierarchy_restarts_daily=True)
    coded = code_encounter(enc(admins, setting="hospital_outpatient", payer="commercial"), cfg)
    assert {
        (ln.code, ln.service_date.isoformat(), tuple(ln.modifiers)) for ln in coded.lines if ln.kind == "admin"
    } == {("96365", "2026-03-02", ()), ("96365", "2026-03-03", ())}


def test_hydration_minimum_payer_switch():
    cfg = _cfg_with(hydration_min_minutes=16)
    a = adm("A1", "J7030", "iv_infusion", hhmm(0), hhmm(20), "1000 mL", purpose="hydration")
    assert admin_codes(code_encounter(enc([a], payer="commercial"), cfg)) == {"96360": 1}
    assert admin_codes(code_encounter(enc([a], payer="medicare"), cfg)) == {}


def test_concurrent_minimum_overlap_payer_switch():
    admins = [
        adm("A", "J1956", "iv_infusion", hhmm(0), hhmm(60), "500 mg"),
        adm("B", "J0133", "iv_infusion", hhmm(50), hhmm(70), "400 mg"),
    ]  # 10 min overlap, 10 left
    default = admin_codes(code_encounter(enc(admins, setting="hospital_outpatient", payer="commercial"), CFG))
    assert default == {"96365": 1, "96375": 1}
    cfg = _cfg_with(concurrent_min_overlap_minutes=1)
    assert admin_codes(code_encounter(enc(admins, setting="hospital_outpatient", payer="commercial"), cfg)) == {
        "96365": 1,
        "96368": 1,
    }


def test_office_reason_for_visit_overrides_hierarchy_facility_does_not():
    admins = [
        adm("T1", "J1956", "iv_infusion", hhmm(0), hhmm(60), "500 mg"),
        adm("C1", "J9267", "iv_infusion", hhmm(60), hhmm(120), "100 mg"),
    ]
    office = admin_codes(code_encounter(enc(admins, reason_for_visit="T1"), CFG))
    assert office == {"96365": 1, "96367": 1}  # 96417 needs a chemo initial: falls back to 96367
    hosp = admin_codes(code_encounter(enc(admins, setting="hospital_outpatient", reason_for_visit="T1"), CFG))
    assert hosp == {"96413": 1, "96367": 1}


def test_injection_families():
    admins = [
        adm("I1", "J9217", "im", hhmm(0), dose="22.5 mg"),  # hormonal antineoplastic
        adm("I2", "J9395", "im", hhmm(5), dose="500 mg"),  # hormonal
        adm("I3", "J9000", "sc", hhmm(10), dose="10 mg", purpose="chemo"),  # non-hormonal
        adm("I4", "J0897", "sc", hhmm(15), dose="60 mg"),
        adm("I5", "J2506", "on_body_injector", hhmm(20), dose="6 mg"),
        adm("I6", "J1956", "intra_arterial", hhmm(25), dose="250 mg"),
    ]
    coded = code_encounter(enc(admins, setting="hospital_outpatient"), CFG)
    assert admin_codes(coded) == {"96402": 2, "96401": 1, "96372": 1, "96377": 1, "96373": 1}
    revs = {ln.code: ln.revenue_code for ln in coded.lines if ln.kind == "admin"}
    assert revs["96402"] == "0331" and revs["96401"] == "0331" and revs["96372"] == "0260"


def test_unpriced_primary_holds_its_add_ons():
    import tomllib

    from coding.config import DEFAULT_CONFIG_PATH, parse_config

    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    del data["chargemaster"]["96365"]
    cfg = parse_config(data)
    a = adm("A1", "J1956", "iv_infusion", hhmm(0), hhmm(125), "500 mg")
    coded = code_encounter(enc([a]), cfg)
    assert admin_codes(coded) == {}
    codes = {f.code for f in coded.findings}
    assert {"unpriced-code", "add-on-without-primary"} <= codes


def test_second_site_without_reason_shares_the_initial():
    admins = [
        adm("A", "J1956", "iv_infusion", hhmm(0), hhmm(60), "500 mg", access="L"),
        adm("B", "J0690", "iv_infusion", hhmm(0), hhmm(30), "1 g", access="R"),
    ]
    coded = code_encounter(enc(admins, setting="hospital_outpatient"), CFG)
    assert admin_codes(coded) == {"96365": 1, "96368": 1}
    assert any(f.code == "second-site-without-reason" for f in coded.findings)


def test_concurrent_once_across_separate_sites_of_one_visit():
    admins = [
        adm("A", "J1956", "iv_infusion", hhmm(0), hhmm(60), "500 mg", access="L"),
        adm("B", "J0133", "iv_infusion", hhmm(10), hhmm(40), "400 mg", access="L"),
        adm("C", "J0690", "iv_infusion", hhmm(0), hhmm(60), "1 g", access="R", separate_site_reason="x"),
        adm("D", "J2405", "iv_infusion", hhmm(10), hhmm(40), "8 mg", access="R"),
    ]
    coded = code_encounter(enc(admins, setting="hospital_outpatient"), CFG)
    got = {(ln.code, tuple(ln.modifiers)): ln.units for ln in coded.lines if ln.kind == "admin"}
    assert got == {("96365", ()): 1, ("96365", ("59",)): 1, ("96368", ()): 1}
    assert any(f.code == "concurrent-once" for f in coded.findings)


def test_short_hydration_as_push_and_sequential_hydration_modifier_payer_switches():
    cfg = _cfg_with(short_hydration_as_push=True, sequential_hydration_modifier="59")
    short = [adm("H1", "J7030", "iv_infusion", hhmm(0), hhmm(15), "1000 mL", purpose="hydration")]
    assert admin_codes(code_encounter(enc(short, payer="commercial"), cfg)) == {"96374": 1}
    assert admin_codes(code_encounter(enc(short, payer="medicare"), cfg)) == {}
    seq = [
        adm("P1", "J2405", "iv_push", hhmm(0), dose="4 mg"),
        adm("H1", "J7030", "iv_infusion", hhmm(5), hhmm(65), "1000 mL", purpose="hydration"),
    ]
    coded = code_encounter(enc(seq, setting="hospital_outpatient", payer="commercial"), cfg)
    assert [(ln.code, ln.modifiers) for ln in coded.lines if ln.kind == "admin"] == [("96374", []), ("96361", ["59"])]
