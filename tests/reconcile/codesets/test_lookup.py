"""Dated look-ups over loaded sets: the set in effect on the date of service answers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from coding.codesets import CodeSets
from coding.scrub import Scrubber, ScrubLine
from reconcile.codesets import LedgerCodeSets, load_path
from reconcile.ledger.store import connect
from tests.reconcile.codesets import synth


@pytest.fixture
def conn(ledger_target):
    c = connect(ledger_target)
    yield c
    c.close()


def _load(conn, tmp_path, name: str, data: bytes, **kw) -> None:
    (res,) = [r for r in load_path(conn, synth.write(tmp_path / name, data), **kw) if r.status != "skipped"]
    assert res.status == "loaded", res.findings


def test_is_a_codesets_protocol(conn):
    sets: CodeSets = LedgerCodeSets(conn)
    assert sets.code("J9035", date(2026, 1, 1)) is None and sets.loaded_kinds(date(2026, 1, 1)) == frozenset()


def test_code_valid_in_one_quarter_and_deleted_in_the_next(conn, tmp_path):
    q1 = synth.hcpcs_file([synth.Hcpcs("J0001", "Injection, old, 5 mg", added="20100101")])
    q2 = synth.hcpcs_file(
        [
            synth.Hcpcs("J0001", "Injection, old, 5 mg", added="20100101", terminated="20260331", action="D"),
            synth.Hcpcs("J0174", "Injection, new drug, 1 mg", added="20260401", action="A"),
        ]
    )
    _load(conn, tmp_path, "HCPC2026_JAN_ANWEB.txt", q1)
    _load(conn, tmp_path, "HCPC2026_APR_ANWEB.txt", q2)
    sets = LedgerCodeSets(conn)
    feb, may = date(2026, 2, 10), date(2026, 5, 10)
    f1 = sets.code("J0001", feb)
    assert f1 is not None and f1.effective_on(feb) and f1.source.label == "HCPCS 2026Q1"
    f2 = sets.code("J0001", may)
    assert f2 is not None and not f2.effective_on(may) and f2.terminated == date(2026, 3, 31)
    assert f2.source.label == "HCPCS 2026Q2" and f2.source.file == "HCPC2026_APR_ANWEB.txt"
    assert sets.code("J0174", feb) is None  # the Q1 file does not carry it
    new = sets.code("J0174", may)
    assert new is not None and new.effective_on(may) and not new.effective_on(date(2026, 3, 31))
    assert sets.code("J0001", date(2025, 12, 31)) is None  # before the first set: the bundled tables answer
    assert sets.loaded_kinds(may) == frozenset({"hcpcs"})


def test_modifier_dates(conn, tmp_path):
    data = synth.hcpcs_file(
        [
            synth.Hcpcs("JG", "Drug acquired with 340b", added="20180101", terminated="20241231", modifier=True),
            synth.Hcpcs("TB", "Drug acquired with 340b, tracking", added="20230101", modifier=True),
        ]
    )
    _load(conn, tmp_path, "HCPC2025_JAN_ANWEB.txt", data)
    sets = LedgerCodeSets(conn)
    jg = sets.modifier("JG", date(2025, 3, 1))
    assert jg is not None and not jg.effective_on(date(2025, 1, 1)) and jg.effective_on(date(2024, 12, 31))
    assert sets.code("JG", date(2025, 3, 1)) is None
    tb = sets.modifier("tb", date(2025, 3, 1))
    assert tb is not None and tb.effective_on(date(2025, 1, 1))


def test_dosage_that_changes_between_quarters_and_the_explicit_end(conn, tmp_path):
    q3 = synth.asp_file([("J0174", "x", "1 MG", "12.50")], period="Effective July 1, 2026 through September 30, 2026")
    q4 = synth.asp_file(
        [("J0174", "x", "5 MG", "60.000")], period="Effective October 1, 2026 through December 31, 2026"
    )
    _load(conn, tmp_path, "july.csv", q3)
    _load(conn, tmp_path, "october.csv", q4)
    sets = LedgerCodeSets(conn)
    d3 = sets.dosage("J0174", date(2026, 9, 30))
    d4 = sets.dosage("J0174", date(2026, 10, 1))
    assert d3 is not None and (d3.quantity, d3.unit, d3.payment_limit, d3.source.label) == (
        Decimal("1"),
        "mg",
        Decimal("12.50"),
        "ASP 2026Q3",
    )
    assert d4 is not None and (d4.quantity, d4.unit, d4.source.label) == (Decimal("5"), "mg", "ASP 2026Q4")
    assert sets.dosage("J0174", date(2027, 1, 1)) is None  # past the stated end of the newest file


def test_dosage_falls_back_to_the_hcpcs_descriptor(conn, tmp_path):
    _load(conn, tmp_path, "asp.csv", synth.asp_file([("J9999", "x", "per dose", "1.00")]))
    _load(
        conn,
        tmp_path,
        "HCPC2026_JUL_ANWEB.txt",
        synth.hcpcs_file([synth.Hcpcs("J9999", "Injection, brand new antibody, 10 mg", added="20260701", action="A")]),
    )
    d = LedgerCodeSets(conn).dosage("J9999", date(2026, 8, 1))
    assert d is not None and (d.quantity, d.unit, d.text, d.source.kind) == (Decimal("10"), "mg", "10 mg", "hcpcs")


def test_ndc_units(conn, tmp_path):
    _load(
        conn,
        tmp_path,
        "xwalk.csv",
        synth.asp_ndc_file([("J9035", "50242-0060-01", "40", "40"), ("J9035", "50242-0061-01", "0.5", "")]),
    )
    sets = LedgerCodeSets(conn)
    f = sets.ndc_units("50242-0060-01", "J9035", date(2026, 8, 1))
    assert f is not None and (f.ndc, f.units_per_item, f.units_per_package) == (
        "50242006001",
        Decimal("40"),
        Decimal("40"),
    )
    g = sets.ndc_units("50242-061-01", "J9035", date(2026, 8, 1))  # 5-3-2 label form
    assert g is not None and g.units_per_item == Decimal("0.5") and g.units_per_package is None
    assert sets.ndc_units("50242006001", "J9036", date(2026, 8, 1)) is None


def test_ptp_deletion_date_is_the_last_day_in_force(conn, tmp_path):
    rows = [
        ("96413", "96365", "20100101", "20231231", "1"),
        ("96413", "96365", "20240401", "*", "0"),  # the pair again, later, never bypassed
        ("96365", "96360", "20100101", "*", "1"),
        ("96374", "96375", "20260701", "20260701", "9"),
    ]
    _load(conn, tmp_path, "ccipra-v322r0-f1.TXT", synth.ptp_file(rows), effective=date(2020, 1, 1))
    sets = LedgerCodeSets(conn)
    e = sets.ptp("practitioner", "96413", "96365", date(2023, 12, 31))
    assert e is not None and e.active_on(date(2023, 12, 31)) and e.modifier_indicator == "1"
    gap = sets.ptp("practitioner", "96413", "96365", date(2024, 1, 1))
    assert gap is not None and not gap.active_on(date(2024, 1, 1))
    later = sets.ptp("practitioner", "96413", "96365", date(2024, 4, 1))
    assert later is not None and later.active_on(date(2024, 4, 1)) and later.modifier_indicator == "0"
    na = sets.ptp("practitioner", "96374", "96375", date(2026, 7, 1))
    assert na is not None and not na.active_on(date(2026, 7, 1))
    assert sets.ptp("practitioner", "96365", "96413", date(2024, 4, 1)) is None  # order matters
    assert sets.ptp("hospital", "96365", "96360", date(2024, 4, 1)) is None  # other setting: not loaded
    assert later.source.kind == "ptp-practitioner" and later.source.file == "ccipra-v322r0-f1.TXT"


def test_ptp_parts_of_one_quarter_answer_together(conn, tmp_path):
    _load(conn, tmp_path, "ccioph-v322r0-f1.TXT", synth.ptp_file([("0001T", "96365", "20100101", "*", "1")]))
    _load(conn, tmp_path, "ccioph-v322r0-f2.TXT", synth.ptp_file([("J1000", "96365", "20100101", "*", "0")]))
    sets = LedgerCodeSets(conn)
    on = date(2026, 8, 1)
    assert sets.ptp("hospital", "0001T", "96365", on) is not None
    assert sets.ptp("hospital", "J1000", "96365", on) is not None


def test_mue_by_setting(conn, tmp_path):
    _load(
        conn,
        tmp_path,
        "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv",
        synth.mue_file([("J9035", 160, "3 Date of Service Edit: Clinical")]),
    )
    _load(
        conn,
        tmp_path,
        "MCR_MUE_OutpatientHospitalServices_Eff_07-01-2026.csv",
        synth.mue_file([("J9035", 200, "2 Date of Service Edit: Policy")], "facility"),
    )
    sets = LedgerCodeSets(conn)
    p = sets.mue("practitioner", "J9035", date(2026, 8, 1))
    f = sets.mue("facility", "J9035", date(2026, 8, 1))
    assert p is not None and (p.value, p.indicator) == (160, "3")
    assert f is not None and (f.value, f.indicator) == (200, "2")
    assert sets.mue("practitioner", "J9035", date(2026, 6, 30)) is None
    assert sets.loaded_kinds(date(2026, 8, 1)) == frozenset({"mue-practitioner", "mue-facility"})


def test_refresh_sees_new_loads(conn, tmp_path):
    sets = LedgerCodeSets(conn)
    _load(conn, tmp_path, "HCPC2026_JAN_ANWEB.txt", synth.hcpcs_file([synth.Hcpcs("J1000", "Injection, x, 1 mg")]))
    assert sets.code("J1000", date(2026, 2, 1)) is None
    sets.refresh()
    assert sets.code("J1000", date(2026, 2, 1)) is not None


_BULK_ROWS = [
    ("96413", "96365", "20100101", "20231231", "1"),
    ("96413", "96365", "20240401", "*", "0"),  # the pair again, later
    ("96365", "96360", "20100101", "*", "1"),
    ("96360", "96365", "20100101", "20240630", "0"),  # the reverse pair, deleted mid-year
    ("96374", "96375", "20260701", "20260701", "9"),  # indicator 9: never in force
    ("J1745", "96413", "20250101", "*", "1"),  # takes effect later
]


@pytest.mark.parametrize(
    "on", [date(2023, 12, 31), date(2024, 1, 1), date(2024, 4, 1), date(2024, 7, 1), date(2026, 7, 1)]
)
def test_ptp_in_force_answers_as_ptp_pair_by_pair(conn, tmp_path, on):
    _load(conn, tmp_path, "ccipra-v322r0-f1.TXT", synth.ptp_file(_BULK_ROWS), effective=date(2020, 1, 1))
    sets = LedgerCodeSets(conn)
    codes = ["96413", "96365", "96360", "96374", "96375", "j1745", "99999"]  # lower case and unknown too
    expected = {}
    for c1 in codes:
        for c2 in codes:
            e = sets.ptp("practitioner", c1, c2, on) if c1 != c2 else None
            if e is not None and e.active_on(on):
                expected[(c1, c2)] = e
    assert sets.ptp_in_force("practitioner", codes, codes, on) == expected
    assert sets.ptp_in_force("hospital", codes, codes, on) == {}  # other setting: not loaded
    first = codes[:2]
    assert sets.ptp_in_force("practitioner", first, codes, on) == {k: v for k, v in expected.items() if k[0] in first}


def test_scrubber_finds_the_same_with_and_without_the_bulk_query(conn, tmp_path):
    _load(conn, tmp_path, "ccipra-v322r0-f1.TXT", synth.ptp_file(_BULK_ROWS), effective=date(2020, 1, 1))
    sets = LedgerCodeSets(conn)

    class PairByPair:  # the same sets without the optional bulk query
        def __getattr__(self, name: str):
            if name == "ptp_in_force":
                raise AttributeError(name)
            return getattr(sets, name)

    claims: list[list[tuple[str, tuple[str, ...]]]] = [
        [("96413", ()), ("96365", ()), ("96360", ("59",))],
        [("96365", ()), ("96360", ())],
        [("J1745", ()), ("96413", ()), ("96374", ()), ("96375", ())],
        [("96360", ()), ("96365", ()), ("96413", ())],
    ]
    with_bulk, without = Scrubber(sets), Scrubber(PairByPair())
    assert with_bulk._bulk is not None and without._bulk is None
    found: set[str] = set()
    for on in (date(2023, 12, 31), date(2024, 4, 1), date(2025, 3, 1)):
        for claim in claims:
            lines = [ScrubLine(c, m, 1, on) for c, m in claim]
            got = with_bulk.lines(lines, "837P")
            assert got == without.lines(lines, "837P")
            found.update(f.code for f in got)
    assert found == {"ptp-conflict"}
