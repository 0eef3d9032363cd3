"""The fee-schedule layouts: PFS relative values, GPCIs, OPPS Addendum B (synthetic files)."""

from __future__ import annotations

from datetime import date

import pytest

from reconcile.codesets import load_path
from reconcile.codesets.fees import FeeSchedules
from reconcile.codesets.formats import parse_text
from reconcile.codesets.formats.detect import detect_kind
from reconcile.codesets.lookup import LedgerCodeSets
from reconcile.ledger.store import connect
from tests.reconcile.codesets import synth
from tests.reconcile.codesets.synth_fees import Rvu, gpci_file, opps_b_file, pfs_file


@pytest.fixture
def conn(ledger_target):
    c = connect(ledger_target)
    yield c
    c.close()


def _text(data: bytes) -> str:
    return data.decode("cp1252")


@pytest.mark.parametrize("pric_ind", [True, False])
def test_pfs_columns_by_stacked_header_names_in_both_layouts(pric_ind):
    data = pfs_file(
        [Rvu("96365", "0.21", "1.95", "NA", "0.03"), Rvu("G0463", "0.00", "1.10", "0.40", "0.00")], pric_ind=pric_ind
    )
    rows, ctx = parse_text("pfs-rvu", _text(data), "PPRRVU2026_Jan_nonQPP.csv")
    assert rows == [
        ("96365", "", "A", "0.21", "1.95", None, "0.03", "33.4009"),
        ("G0463", "", "A", "0.00", "1.10", "0.40", "0.00", "33.4009"),
    ]
    assert ctx.findings == []


def test_pfs_never_keeps_the_description_and_reports_bad_rows_with_their_line():
    data = pfs_file([Rvu("96365", "0.21", "x.x", "NA", "0.03"), Rvu("96366", "0.18", "0.52", "NA", "0.01")])
    rows, ctx = parse_text("pfs-rvu", _text(data), "f.csv")
    assert [r[0] for r in rows] == ["96366"] and all("SYNTHETIC" not in str(r) for r in rows)
    assert [(f.code, f.line) for f in ctx.findings] == [("pfs-bad-number", 11)]


def test_gpci_rows_and_the_year_of_the_header():
    rows, ctx = parse_text("gpci", _text(gpci_file([("06102", "IL", "16", "1.007", "1.005", "2.295")], year=2025)))
    assert rows == [("06102", "16", "IL", "1.007", "1.005", "2.295")]
    assert ctx.latest_date == date(2025, 1, 1)
    assert [f.code for f in ctx.findings] == ["gpci-note-row"]  # the footnote


@pytest.mark.parametrize("tabs", [False, True])
def test_opps_b_csv_and_tab_delimited(tabs):
    data = opps_b_file(
        [("J9035", "K", "9112", "$1,072.113"), ("96366", "N", "", ""), ("96360", "S", "5693", ".")], tabs
    )
    rows, ctx = parse_text("opps-b", _text(data), "Addendum B.txt")
    assert rows == [("J9035", "K", "9112", "1072.113"), ("96366", "N", "", None), ("96360", "S", "5693", None)]
    assert ctx.findings == []


def test_opps_b_bad_rate_is_a_finding_with_its_line():
    rows, ctx = parse_text(
        "opps-b", _text(opps_b_file([("J9035", "K", "9112", "$abc"), ("J1745", "K", "9041", "$18.2")]))
    )
    assert [r[0] for r in rows] == ["J1745"]
    assert [(f.code, f.line) for f in ctx.findings] == [("opps-bad-rate", 5)]


def test_detection_by_content():
    for kind, data in (
        ("pfs-rvu", pfs_file([Rvu("96365", "0.21", "1.95", "NA", "0.03")])),
        ("gpci", gpci_file([("06102", "IL", "16", "1.0", "1.0", "1.0")])),
        ("opps-b", opps_b_file([("J9035", "K", "9112", "$72.11")])),
        ("opps-b", opps_b_file([("J9035", "K", "9112", "$72.11")], tabs=True)),
    ):
        assert detect_kind(_text(data).splitlines(), "download")[0] == kind


def test_rvu_zip_loads_both_pfs_files_and_the_gpci_and_the_non_qpp_rates_answer(conn, tmp_path):
    z = synth.write(
        tmp_path / "rvu26a.zip",
        synth.zip_of(
            {
                "PPRRVU2026_Jan_nonQPP.csv": pfs_file([Rvu("96365", "0.21", "1.95", "NA", "0.03")]),
                "PPRRVU2026_Jan_QPP.csv": pfs_file([Rvu("96365", "0.21", "1.95", "NA", "0.03", cf="33.5675")]),
                "GPCI2026.csv": gpci_file([("06102", "IL", "16", "1.007", "1.005", "2.295")]),
                "ANES2026.csv": b"Contractor,Locality,Locality Name,Conversion Factor\r\n",
                "RVUPUF26.pdf": b"%PDF",
            }
        ),
    )
    res = load_path(conn, z)
    loaded = sorted((r.kind, r.label) for r in res if r.status == "loaded")
    assert loaded == [("gpci", "GPCI 2026Q1"), ("pfs-rvu", "PFS 2026Q1"), ("pfs-rvu", "PFS 2026Q1")]
    fees = FeeSchedules(LedgerCodeSets(conn))
    fact = fees.pfs("96365", "", date(2026, 2, 1))
    assert fact is not None and str(fact.conversion_factor) == "33.4009" and "nonQPP" in fact.source.file
    assert fees.gpci("06102", "16", date(2026, 5, 1)) is not None
    # loading the same zip again changes nothing
    assert {r.status for r in load_path(conn, z) if r.kind} <= {"already-loaded", "skipped"}
    assert conn.execute("SELECT count(*) FROM codeset_pfs_rvu").fetchone()[0] == 2


def test_opps_b_loads_with_the_quarter_of_its_name(conn, tmp_path):
    f = synth.write(tmp_path / "2026_April_Web_Addendum_B.csv", opps_b_file([("J9035", "K", "9112", "$72.113")]))
    (res,) = load_path(conn, f)
    assert (res.status, res.kind, res.effective_from, res.label) == (
        "loaded",
        "opps-b",
        date(2026, 4, 1),
        "OPPS B 2026Q2",
    )
    fees = FeeSchedules(LedgerCodeSets(conn))
    r = fees.opps("j9035", date(2026, 5, 1))
    assert r is not None and (r.status_indicator, str(r.payment_rate)) == ("K", "72.113")
    assert fees.opps("J9035", date(2026, 3, 31)) is None


def test_pfs_with_a_one_row_header_spelled_out_and_gpci_with_a_carrier_column():
    text = (
        "Synthetic relative values\r\n"
        "HCPCS,MOD,DESCRIPTION,STATUS CODE,NOT USED FOR MEDICARE PAYMENT,WORK RVU,NON-FACILITY PE RVU,"
        "NON-FAC NA INDICATOR,FACILITY PE RVU,FACILITY NA INDICATOR,MP RVU,CONVERSION FACTOR\r\n"
        "96365,,SYNTHETIC,A,,0.21,1.95,,0.70,,0.03,33.4009\r\n"
    )
    assert detect_kind(text.splitlines(), "x.csv")[0] == "pfs-rvu"
    rows, ctx = parse_text("pfs-rvu", text)
    assert rows == [("96365", "", "A", "0.21", "1.95", "0.70", "0.03", "33.4009")] and ctx.findings == []
    # an older layout: "Carrier", "Work GPCI", no state column
    gpci = "Carrier,Locality Number,Locality Name,Work GPCI,PE GPCI,MP GPCI\r\n06102,16,CHICAGO,1.007,1.005,2.295\r\n"
    g_rows, g_ctx = parse_text("gpci", gpci)
    assert g_rows == [("06102", "16", "", "1.007", "1.005", "2.295")] and g_ctx.findings == []
