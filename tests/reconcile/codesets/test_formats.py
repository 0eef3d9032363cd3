"""Each CMS layout parser on small synthetic files: layout, preamble, quirks, bad rows."""

from __future__ import annotations

from datetime import date

import pytest

from reconcile.codesets.formats import parse_text
from reconcile.codesets.formats.detect import detect_kind, quarter_from_name
from reconcile.codesets.formats.dosage import parse_descriptor_unit, parse_dosage
from tests.reconcile.codesets import synth

LONG = "Injection, synthetic monoclonal antibody for testing the continuation records of the fixed width layout, 10 mg"


def _text(data: bytes) -> str:
    return data.decode("cp1252")


def test_hcpcs_records_continuations_modifiers_and_dates():
    data = synth.hcpcs_file(
        [
            synth.Hcpcs("J9999", LONG, added="20260101", action="A"),
            synth.Hcpcs(
                "JG", "Drug acquired with 340b discount", added="20180101", terminated="20241231", modifier=True
            ),
            synth.Hcpcs("TB", "Drug acquired with 340b, tracking only", added="20230101", modifier=True),
            synth.Hcpcs("J0001", "Injection, old drug, 5 mg", added="20100101", terminated="20260331", action="D"),
            synth.Hcpcs(
                "J0002", "Injection, back again, 1 mg", added="20100101", action_effective="20260401", action="R"
            ),
        ]
    )
    rows, ctx = parse_text("hcpcs", _text(data), "HCPC2026_APR_ANWEB.txt")
    assert not ctx.findings
    by = {(r[0], r[1]): r for r in rows}
    assert by[("J9999", 0)][5] == LONG  # continuation joined with a space
    assert by[("JG", 1)][2:4] == ("2018-01-01", "2024-12-31")
    assert by[("TB", 1)][3] is None
    assert by[("J0001", 0)][3] == "2026-03-31"
    assert by[("J0002", 0)][2] == "2026-04-01"  # reactivated: valid from the action effective date
    assert ctx.latest_date == date(2026, 4, 1)


def test_hcpcs_numeric_codes_are_skipped_and_never_stored():
    rec = synth.hcpcs_record_lines(synth.Hcpcs("J1000", "Injection, x, 1 mg"))
    cpt = synth.hcpcs_record_lines(synth.Hcpcs("99999", "numeric code text " * 6))
    text = "\r\n".join(rec + cpt) + "\r\n"
    rows, ctx = parse_text("hcpcs", text)
    assert [r[0] for r in rows] == ["J1000"]
    assert "numeric code text" not in repr(rows)
    assert [f.code for f in ctx.findings] == ["hcpcs-numeric-skipped"]


def test_hcpcs_bad_records_are_findings_with_line_numbers():
    good = synth.hcpcs_record_lines(synth.Hcpcs("J1000", "Injection, x, 1 mg"))[0]
    bad_date = good[:268] + "20261399" + good[276:]
    text = "\r\n".join([good, "garbage line that is not a record", bad_date.replace("J1000", "J1001")]) + "\r\n"
    rows, ctx = parse_text("hcpcs", text, "f.txt")
    assert [r[0] for r in rows] == ["J1000"]
    got = {(f.code, f.line, f.file) for f in ctx.findings}
    assert ("hcpcs-bad-record", 2, "f.txt") in got
    assert ("hcpcs-bad-date", 3, "f.txt") in got


def test_asp_preamble_period_dosage_limits_and_notes():
    data = synth.asp_file(
        [
            ("J9035", "Bevacizumab injection", "10 MG", "75.492"),
            ("J1745", "Infliximab", "10 mg ", "N/A"),
            ("J0174", "Synthetic", "1\u00a0MG", "12.5"),
            ("J7999", "Odd", "per dose", "3.1"),
            ("J9998", "Combo", "200 mg/300 mg", "1.00"),
        ]
    )
    rows, ctx = parse_text("asp", _text(data), "asp.csv")
    by = {r[0]: r for r in rows}
    assert by["J9035"][2:] == ("10", "mg", "75.492")
    assert by["J1745"][2:] == ("10", "mg", None)
    assert by["J0174"][2:4] == ("1", "mg")
    assert by["J7999"][2:4] == (None, None)  # never guessed
    assert (ctx.period_from, ctx.period_to) == (date(2026, 7, 1), date(2026, 9, 30))
    unparsed = [f for f in ctx.findings if f.code == "asp-dosage-unparsed"]
    assert {f.line for f in unparsed} == {12, 13}  # the note cell spans two lines of the preamble
    assert all(f.severity == "warning" for f in unparsed)
    assert not [f for f in ctx.findings if f.is_error]


def test_asp_short_description_is_not_kept():
    rows, _ = parse_text("asp", _text(synth.asp_file([("90999", "SECRET DESCRIPTOR", "1 ML", "10")])))
    assert "SECRET" not in repr(rows)


def test_asp_bad_limit_and_code_are_errors_with_lines():
    rows, ctx = parse_text("asp", _text(synth.asp_file([("J9035", "x", "10 MG", "abc"), ("J90", "x", "1 MG", "1")])))
    assert rows == []
    assert {(f.code, f.line) for f in ctx.findings if f.is_error} >= {("asp-bad-limit", 9), ("asp-bad-code", 10)}


def test_asp_ndc_crosswalk():
    data = synth.asp_ndc_file(
        [
            ("J9035", "50242-0060-01", "40", "40"),
            ("J9035", "50242-0061-01", "0.5", "7.5"),
            ("J1745", "ABC-123", "1", "1"),
            ("J1745", "57894-0030-01", "x", "1"),
        ]
    )
    rows, ctx = parse_text("asp-ndc", _text(data), "xwalk.csv")
    assert rows == [("50242006001", "J9035", "40", "40"), ("50242006101", "J9035", "0.5", "7.5")]
    assert {(f.code, f.line) for f in ctx.findings} == {("asp-ndc-not-ndc", 7), ("asp-ndc-bad-units", 8)}
    assert ctx.period_from == date(2026, 7, 1)


def test_ptp_wrapped_header_deletions_and_bad_rows():
    data = synth.ptp_file(
        [
            ("96365", "96360", "20100101", "*", "1"),
            ("96413", "J1000", "20190401", "20231231", "0"),
            ("0001T", "96365", "20260701", "20260701", "9"),
        ]
    )
    text = _text(data) + "96365\t96372\t\t2026070\t*\t1\tx\r\n96365\t96374\t\t20260101\t*\t7\tx\r\n"
    rows, ctx = parse_text("ptp-practitioner", text, "ccipra-v322r0-f1.TXT")
    assert rows[0] == ("96365", "96360", "2010-01-01", None, "1", 7)
    assert rows[1][3] == "2023-12-31"
    assert rows[2][0] == "0001T"
    assert {(f.code, f.line) for f in ctx.findings} == {("ptp-bad-date", 10), ("ptp-bad-indicator", 11)}


def test_mue_quoted_multiline_notice_and_header():
    data = synth.mue_file([("J9035", 160, "3 Date of Service Edit: Clinical"), ("96365", 1, "1 Line Edit")])
    rows, ctx = parse_text("mue-practitioner", _text(data))
    assert rows == [
        ("J9035", 160, "3", "Nature of Service/Procedure"),
        ("96365", 1, "1", "Nature of Service/Procedure"),
    ]
    assert ctx.setting == "practitioner"
    bad = _text(data) + "96366,many,1 Line Edit,x\r\n96367,2,Line Edit,x\r\n"
    _, ctx2 = parse_text("mue-practitioner", bad)
    assert {(f.code, f.line) for f in ctx2.findings} == {("mue-bad-value", 7), ("mue-bad-indicator", 8)}


@pytest.mark.parametrize(
    "data,name,kind",
    [
        (synth.hcpcs_file([synth.Hcpcs("J1000", "Injection, x, 1 mg")]), "x.txt", "hcpcs"),
        (synth.asp_file([("J9035", "x", "10 MG", "1")]), "x.csv", "asp"),
        (synth.asp_ndc_file([("J9035", "50242-0060-01", "40", "40")]), "x.csv", "asp-ndc"),
        (synth.ptp_file([("96365", "96360", "20100101", "*", "1")]), "ccioph-v322r0-f2.txt", "ptp-hospital"),
        (synth.ptp_file([("96365", "96360", "20100101", "*", "1")]), "ccipra-v322r0-f2.txt", "ptp-practitioner"),
        (synth.ptp_file([("96365", "96360", "20100101", "*", "1")]), "edits.txt", None),
        (synth.mue_file([("J9035", 1, "1 Line Edit")], "facility"), "x.csv", "mue-facility"),
        (synth.mue_file([("J9035", 1, "1 Line Edit")]), "x.csv", "mue-practitioner"),
        (b"just some text\r\n", "x.txt", None),
    ],
)
def test_kind_is_recognized_from_content(data, name, kind):
    head = _text(data).split("\n")
    assert detect_kind(head, name)[0] == kind


def test_quarter_from_names():
    assert quarter_from_name(
        "medicare-ncci-2026-q4-facility-outpatient-hospital-services-mue-table.zip", "mue-facility"
    ) == date(2026, 10, 1)
    assert quarter_from_name("october-2026-asp-pricing-file.zip", "asp") == date(2026, 10, 1)
    assert quarter_from_name("random.txt", "asp") is None


@pytest.mark.parametrize(
    "text,expected",
    [
        ("10 MG", ("10", "mg")),
        ("2 MEQ", ("2", "meq")),
        ("1000 CC", ("1000", "mL")),
        ("1000 MCG", ("1000", "mcg")),
        ("0.1 mg", ("0.1", "mg")),
        ("up to 40 Units", ("40", "units")),
        ("1\u00a0G ", ("1", "g")),
        ("per dose", None),
        ("200 mg/300 mg", None),
        ("10 bananas", None),
        ("0 MG", None),
    ],
)
def test_dosage_texts(text, expected):
    got = parse_dosage(text)
    assert (None if got is None else (str(got[0]), got[1])) == expected


def test_descriptor_unit():
    assert parse_descriptor_unit(LONG) is not None
    assert parse_descriptor_unit("Injection, x, per 1,000 usp units")[:2] == (1000, "units")  # type: ignore[index]
    assert parse_descriptor_unit("Injection, x, per vial") is None


def test_windows_1252_bytes_and_undefined_bytes_decode(tmp_path, ledger_target):
    from reconcile.codesets import load_path
    from reconcile.ledger.store import connect

    desc = "Injection, brand\u00ae drug\u2019s salt, 10\u00a0mg"
    data = synth.hcpcs_file([synth.Hcpcs("J1000", desc)])
    assert b"\xae" in data and b"\x92" in data and b"\xa0" in data
    data = data.replace(b"brand", b"bra\x81d")  # a byte Windows-1252 leaves undefined (same width)
    conn = connect(ledger_target)
    (res,) = load_path(conn, synth.write(tmp_path / "HCPC2026_JAN_ANWEB.txt", data))
    assert res.status == "loaded" and not res.findings
    stored = conn.execute("SELECT description FROM codeset_hcpcs").fetchone()[0]
    assert stored == desc.replace("brand", "bra\x81d")


def test_asp_notes_cell_with_a_line_break_inside_quotes():
    text = _text(synth.asp_file([("J9035", "x", "10 MG", "75.492")], footnote=False))
    header_end = text.index("\r\n", text.index("HCPCS Code,")) + 2
    row = 'J1745,x,10 MG,1.5,20,,,,,,"note on\r\ntwo lines",\r\nJ1746,x,1 MG,2,20,,,,,,,\r\n'
    rows, ctx = parse_text("asp", text[:header_end] + row + text[header_end:])
    assert [r[0] for r in rows] == ["J1745", "J1746", "J9035"]
    assert not [f for f in ctx.findings if f.is_error]


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    pass
else:

    @settings(max_examples=60, deadline=None)
    @given(
        kind=st.sampled_from(["hcpcs", "asp", "asp-ndc", "ptp-practitioner", "mue-facility"]),
        junk=st.binary(max_size=600),
        cut=st.integers(min_value=0, max_value=4000),
    )
    def test_parsers_never_raise_on_damaged_files(kind, junk, cut):
        """Truncated or corrupted files give findings, never an exception."""
        base = {
            "hcpcs": synth.hcpcs_file([synth.Hcpcs("J1000", LONG), synth.Hcpcs("JW", "Discarded", modifier=True)]),
            "asp": synth.asp_file([("J9035", "x", "10 MG", "75.492")]),
            "asp-ndc": synth.asp_ndc_file([("J9035", "50242-0060-01", "40", "40")]),
            "ptp-practitioner": synth.ptp_file([("96365", "96360", "20100101", "*", "1")]),
            "mue-facility": synth.mue_file([("J9035", 1, "1 Line Edit")], "facility"),
        }[kind]
        damaged = base[:cut] + junk + base[cut:]
        rows, ctx = parse_text(kind, damaged.decode("cp1252", "replace"), "damaged")
        assert ctx.rows == len(rows)
        assert all(f.file == "damaged" for f in ctx.findings)
