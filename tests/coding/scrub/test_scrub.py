"""The scrubber's edits, each on both sides of its rule: code validity (deleted / not yet
effective / CPT never judged by the HCPCS file), NCCI PTP (indicator 0/1/9, bypass modifier on
either line, effective and deletion dates, practitioner vs hospital), MUE (indicator 1 per line,
2/3 per date across lines, practitioner vs facility)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coding.codesets import NO_CODESETS
from coding.codesets.memory import MemoryCodeSets
from coding.engine import code_encounter
from coding.scrub import ScrubLine, scrub_coded, scrub_encounter, scrub_lines
from tests.coding.drugs.test_drugs import CFG, adm, enc

D1 = date(2026, 7, 15)
D2 = date(2026, 7, 16)
Q3 = (date(2026, 7, 1), date(2026, 9, 30))


def L(code: str, *mods: str, units: int = 1, on: date = D1) -> ScrubLine:
    return ScrubLine(code, tuple(mods), units, on)


def ptp_sets(indicator: str, *, eff: date = date(2020, 1, 1), deleted: date | None = None, kind="ptp-practitioner"):
    ms = MemoryCodeSets()
    ms.add(kind, *Q3, "PTP practitioner 2026Q3", [("96360", "96361", eff, deleted, indicator)], "ccipra-v322r0-f1.TXT")
    return ms


def codes(findings) -> list[str]:
    return [f.code for f in findings]


# ------------------------------------------------------------------ PTP
@pytest.mark.parametrize(
    "indicator, mods_a, mods_b, fires",
    [
        ("0", (), (), True),
        ("0", ("59",), (), True),  # indicator 0: no modifier bypasses it
        ("0", (), ("XU",), True),
        ("1", (), (), True),
        ("1", ("59",), (), False),  # on column 1
        ("1", (), ("XE",), False),  # on column 2
        ("1", (), ("RT",), False),  # anatomic modifiers are NCCI-associated too
        ("1", (), ("JZ",), True),  # not an NCCI-associated modifier
        ("1", ("25",), (), False),
        ("9", (), (), False),  # not applicable
    ],
)
def test_ptp_indicator_and_bypass_modifiers(indicator, mods_a, mods_b, fires):
    lines = [L("96360", *mods_a), L("96361", *mods_b)]
    found = scrub_lines(lines, "837P", ptp_sets(indicator))
    assert codes(found) == (["ptp-conflict"] if fires else [])
    if fires:
        f = found[0]
        assert f.severity == "error" and f.field == "lines[1]"  # the column 2 line
        assert "96361 is bundled into 96360" in f.message and "ccipra-v322r0-f1.TXT" in f.message
        assert f"modifier indicator {indicator}" in f.message


def test_ptp_finds_the_pair_in_either_line_order():
    found = scrub_lines([L("96361"), L("96360")], "837P", ptp_sets("0"))
    assert codes(found) == ["ptp-conflict"] and found[0].field == "lines[0]"


def test_ptp_only_on_the_same_date():
    assert scrub_lines([L("96360"), L("96361", on=D2)], "837P", ptp_sets("0")) == []


@pytest.mark.parametrize(
    "eff, deleted, fires",
    [
        (date(2026, 7, 15), None, True),  # first day in force
        (date(2026, 7, 16), None, False),  # not yet in force
        (date(2020, 1, 1), date(2026, 7, 15), True),  # deletion date is the last day in force
        (date(2020, 1, 1), date(2026, 7, 14), False),  # deleted
    ],
)
def test_ptp_effective_and_deletion_dates(eff, deleted, fires):
    found = scrub_lines([L("96360"), L("96361")], "837P", ptp_sets("0", eff=eff, deleted=deleted))
    assert codes(found) == (["ptp-conflict"] if fires else [])


def test_ptp_setting_follows_the_claim_kind():
    hosp = ptp_sets("0", kind="ptp-hospital")
    assert codes(scrub_lines([L("96360"), L("96361")], "837I", hosp)) == ["ptp-conflict"]
    assert scrub_lines([L("96360"), L("96361")], "837P", hosp) == []
    prac = ptp_sets("0")
    assert scrub_lines([L("96360"), L("96361")], "837I", prac) == []


def test_ptp_outside_the_loaded_period_or_without_sets_finds_nothing():
    assert (
        scrub_lines([L("96360", on=date(2026, 10, 1)), L("96361", on=date(2026, 10, 1))], "837P", ptp_sets("0")) == []
    )
    assert scrub_lines([L("96360"), L("96361")], "837P", NO_CODESETS) == []


# ------------------------------------------------------------------ MUE
def mue_sets(indicator: str, value: int = 4, kind: str = "mue-practitioner") -> MemoryCodeSets:
    ms = MemoryCodeSets()
    ms.add(kind, *Q3, "MUE practitioner 2026Q3", [("96375", value, indicator)], "MCR_MUE_PractitionerServices.csv")
    return ms


@pytest.mark.parametrize(
    "indicator, units, fires",
    [
        ("1", [4], []),
        ("1", [5], ["lines[0]"]),
        ("1", [3, 3], []),  # line edit: each line on its own
        ("1", [5, 3, 6], ["lines[0]", "lines[2]"]),
        ("2", [4], []),
        ("2", [2, 2], []),
        ("2", [3, 2], ["lines[1]"]),  # date of service edit: across lines
        ("3", [3, 2], ["lines[1]"]),
        ("3", [5], ["lines[0]"]),
    ],
)
def test_mue_line_and_date_of_service_edits(indicator, units, fires):
    lines = [L("96375", units=u) for u in units]
    found = scrub_lines(lines, "837P", mue_sets(indicator))
    assert codes(found) == ["mue-exceeded"] * len(fires)
    assert [f.field for f in found] == fires
    if found:
        assert "MCR_MUE_PractitionerServices.csv" in found[0].message and f"indicator {indicator}" in found[0].message


def test_mue_date_of_service_edit_counts_each_date_apart():
    lines = [L("96375", units=3), L("96375", units=3, on=D2)]
    assert scrub_lines(lines, "837P", mue_sets("2")) == []


def test_mue_setting_follows_the_claim_kind():
    fac = mue_sets("1", kind="mue-facility")
    assert codes(scrub_lines([L("96375", units=9)], "837I", fac)) == ["mue-exceeded"]
    assert scrub_lines([L("96375", units=9)], "837P", fac) == []


# ------------------------------------------------------------------ code validity
def hcpcs_q(q3_rows, q4_rows=None) -> MemoryCodeSets:
    ms = MemoryCodeSets()
    ms.add("hcpcs", *Q3, "HCPCS 2026 Jul", q3_rows, "HCPC2026_JUL_ANWEB.txt")
    if q4_rows is not None:
        ms.add("hcpcs", date(2026, 10, 1), date(2026, 12, 31), "HCPCS 2026 Oct", q4_rows, "HCPC2026_OCT_ANWEB.txt")
    return ms


def test_code_valid_in_one_quarter_and_deleted_in_the_next():
    ms = hcpcs_q(
        [("J1999", date(2026, 7, 1), None, "Injection, x, 5 mg")],
        [("J1999", date(2026, 7, 1), date(2026, 9, 30), "Injection, x, 5 mg")],
    )
    assert scrub_lines([L("J1999", on=date(2026, 9, 30))], "837P", ms) == []
    found = scrub_lines([L("J1999", on=date(2026, 10, 1))], "837P", ms)
    assert codes(found) == ["code-not-effective"]
    assert "deleted: last day 2026-09-30" in found[0].message and "HCPC2026_OCT_ANWEB.txt" in found[0].message
    before, after = ms.code("J1999", date(2026, 9, 30)), ms.code("J1999", date(2026, 10, 1))
    assert before is not None and before.effective_on(date(2026, 9, 30))
    assert after is not None and not after.effective_on(date(2026, 10, 1))


def test_code_not_yet_effective_and_code_absent_from_the_loaded_set():
    ms = hcpcs_q([("J1999", date(2026, 8, 1), None, "")])
    found = scrub_lines([L("J1999", on=date(2026, 7, 31))], "837P", ms)
    assert codes(found) == ["code-not-effective"] and "not yet effective: first day 2026-08-01" in found[0].message
    assert scrub_lines([L("J1999", on=date(2026, 8, 1))], "837P", ms) == []
    found = scrub_lines([L("J8888")], "837P", ms)
    assert codes(found) == ["code-not-effective"] and "not in the HCPCS set" in found[0].message


def test_cpt_codes_are_never_judged_by_the_hcpcs_file():
    ms = hcpcs_q([("J1745", None, None, "")])
    assert scrub_lines([L("96365"), L("99214"), L("0001F"), L("J1745")], "837P", ms) == []


def test_without_a_hcpcs_set_on_the_date_no_validity_finding():
    ms = hcpcs_q([("J1745", None, None, "")])
    assert scrub_lines([L("J8888", on=date(2026, 10, 1))], "837P", ms) == []


def test_terminated_modifier_on_a_line():
    ms = hcpcs_q([("J1745", None, None, ""), ("JG", date(2018, 1, 1), date(2024, 12, 31), "")])
    found = scrub_lines([L("J1745", "JG", "JZ")], "837I", ms)
    assert codes(found) == ["code-not-effective"] and "J1745-JG: modifier deleted" in found[0].message


# ------------------------------------------------------------------ on the coder's output
def test_scrub_coded_appends_findings_to_the_coded_encounter():
    ms = MemoryCodeSets()
    ms.add("mue-practitioner", *Q3, "MUE practitioner 2026Q3", [("J1745", 30, "3")], "mue.csv")
    a = adm("A1", "J1745", 400, start="2026-07-15T10:00", route="sc")
    coded = [code_encounter(enc("office", a), CFG, codesets=ms)]
    before = list(coded[0].findings)
    assert scrub_coded(coded, NO_CODESETS) == 0 and coded[0].findings == before
    assert scrub_coded(coded, ms) == 1
    f = coded[0].findings[-1]
    assert (f.code, f.severity, f.encounter_id) == ("mue-exceeded", "error", "E1")
    assert "J1745: 40 units" in f.message
    assert scrub_encounter(coded[0], ms)[0] == f


@settings(max_examples=60, deadline=None)
@given(
    units=st.lists(st.integers(1, 12), min_size=1, max_size=5),
    indicator=st.sampled_from(["1", "2", "3"]),
    value=st.integers(1, 10),
)
def test_mue_property(units, indicator, value):
    lines = [L("96375", units=u) for u in units]
    found = scrub_lines(lines, "837P", mue_sets(indicator, value))
    if indicator == "1":
        assert len(found) == sum(1 for u in units if u > value)
    else:
        assert len(found) == (1 if sum(units) > value else 0)


# ------------------------------------------------------------------ against a straightforward reference
_CODES = ["96360", "96361", "96365", "J1745", "J0171", "G0463"]
_MODS = ["59", "XU", "JZ", "JG", "25"]
_DATES = [D1, D2]


def _reference(lines, claim_type, sets) -> list[tuple[str, str, str]]:
    """Every edit asked of the sets line by line and pair by pair, with no cache."""
    from coding.modifiers import bypass_modifiers
    from coding.scrub import _mue_message, _ptp_message, _validity, is_level2

    bypass = bypass_modifiers()
    ptp_kind, mue_kind = ("practitioner", "practitioner") if claim_type == "837P" else ("hospital", "facility")
    out = []
    for on in dict.fromkeys(ln.service_date for ln in lines):
        kinds = sets.loaded_kinds(on)
        idx = [i for i, ln in enumerate(lines) if ln.service_date == on]
        by_code: dict[str, list[int]] = {}
        for i in idx:
            by_code.setdefault(lines[i].code, []).append(i)
        for code, members in by_code.items():
            if "hcpcs" in kinds and is_level2(code):
                cf = sets.code(code, on)
                if cf is None:
                    msg = f"{code} is not in the HCPCS set in effect on {on.isoformat()}"
                    out += [("code-not-effective", f"lines[{i}]", msg) for i in members]
                elif not cf.effective_on(on):
                    msg = _validity(code, "code", cf.added, cf.terminated, on, cf.source)
                    out += [("code-not-effective", f"lines[{i}]", msg) for i in members]
            mue = sets.mue(mue_kind, code, on) if f"mue-{mue_kind}" in kinds else None
            if mue is None:
                continue
            if mue.indicator == "1" or len(members) == 1:
                for i in members:
                    if lines[i].units > mue.value:
                        msg = _mue_message(code, [lines[i].units], mue, mue_kind, on)
                        out.append(("mue-exceeded", f"lines[{i}]", msg))
            elif sum(lines[i].units for i in members) > mue.value:
                msg = _mue_message(code, [lines[i].units for i in members], mue, mue_kind, on)
                out.append(("mue-exceeded", f"lines[{members[-1]}]", msg))
        for i in idx:
            for m in lines[i].modifiers if "hcpcs" in kinds else ():
                mf = sets.modifier(m, on)
                if mf is not None and not mf.effective_on(on):
                    msg = _validity(f"{lines[i].code}-{m}", "modifier", mf.added, mf.terminated, on, mf.source)
                    out.append(("code-not-effective", f"lines[{i}]", msg))
        for c1 in by_code if f"ptp-{ptp_kind}" in kinds else ():
            for c2 in by_code:
                e = sets.ptp(ptp_kind, c1, c2, on) if c1 != c2 else None
                if e is None or not e.active_on(on):
                    continue
                for k in by_code[c2]:
                    free1 = any(not bypass.intersection(lines[i].modifiers) for i in by_code[c1])
                    if e.modifier_indicator == "0" or (not bypass.intersection(lines[k].modifiers) and free1):
                        out.append(("ptp-conflict", f"lines[{k}]", _ptp_message(e, on)))
    return sorted(out)


_day = st.sampled_from([date(2026, 7, 1), D1, D2, date(2026, 7, 17), date(2026, 9, 30)])
_opt_day = st.one_of(st.none(), _day)
_ptp_rows = st.lists(
    st.tuples(st.sampled_from(_CODES), st.sampled_from(_CODES), _day, _opt_day, st.sampled_from("019")), max_size=12
)
_mue_rows = st.lists(st.tuples(st.sampled_from(_CODES), st.integers(1, 6), st.sampled_from("123")), max_size=6)
_hcpcs_rows = st.lists(
    st.tuples(st.sampled_from(["J1745", "J0171", "G0463", *_MODS]), _opt_day, _opt_day, st.just("")), max_size=8
)
_line = st.builds(
    ScrubLine,
    st.sampled_from(_CODES),
    st.lists(st.sampled_from(_MODS), max_size=2, unique=True).map(tuple),
    st.integers(1, 8),
    st.sampled_from(_DATES),
)


@settings(max_examples=150, deadline=None)
@given(
    ptp=_ptp_rows,
    mue=_mue_rows,
    hcpcs=_hcpcs_rows,
    claims=st.lists(
        st.tuples(st.lists(_line, min_size=1, max_size=7), st.sampled_from(["837P", "837I"])), min_size=1, max_size=8
    ),
    settled_max=st.sampled_from([0, 2, 64]),
)
def test_scrubber_finds_what_a_reference_asking_every_pair_finds(ptp, mue, hcpcs, claims, settled_max):
    """One scrubber over a batch of random claims (its per-date answers shared between claims,
    with few or many codes settled up front) finds, claim by claim, what the reference finds."""
    from unittest import mock

    import coding.scrub as scrub

    ms = MemoryCodeSets()
    for setting in ("practitioner", "hospital"):
        ms.add(f"ptp-{setting}", *Q3, f"PTP {setting}", ptp, f"{setting}.txt")
    ms.add("mue-practitioner", *Q3, "MUE practitioner", mue, "mue-p.csv")
    ms.add("mue-facility", *Q3, "MUE facility", [(c, v + 1, i) for c, v, i in mue], "mue-f.csv")
    ms.add("hcpcs", *Q3, "HCPCS 2026 Jul", hcpcs, "HCPC.txt")
    with mock.patch.object(scrub, "_SETTLED_MAX", settled_max):
        scrubber = scrub.Scrubber(ms)
        for lines, claim_type in claims:
            got = sorted((f.code, f.field, f.message) for f in scrubber.lines(lines, claim_type))
            assert got == _reference(lines, claim_type, ms)
