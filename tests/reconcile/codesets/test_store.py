"""Loading code-set files into the ledger: kinds, periods, zips, re-loads, bad files."""

from __future__ import annotations

from datetime import date

import pytest

from reconcile.codesets import KINDS, UnreadableInput, list_sets, load_path, stale_kinds
from reconcile.ledger.store import connect
from tests.reconcile.codesets import synth


@pytest.fixture
def conn(ledger_target):
    c = connect(ledger_target)
    yield c
    c.close()


def _hcpcs(*recs: synth.Hcpcs) -> bytes:
    return synth.hcpcs_file(recs or [synth.Hcpcs("J1000", "Injection, x, 1 mg")])


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_load_hcpcs_records_sha_kind_and_quarter_from_name(conn, tmp_path):
    f = synth.write(tmp_path / "HCPC2026_APR_ANWEB.txt", _hcpcs())
    (res,) = load_path(conn, f)
    assert (res.status, res.kind, res.rows, res.effective_from, res.label) == (
        "loaded",
        "hcpcs",
        1,
        date(2026, 4, 1),
        "HCPCS 2026Q2",
    )
    row = conn.execute("SELECT kind, row_count, source_file, sha256, loaded_at FROM codesets").fetchone()
    assert row[0:3] == ("hcpcs", 1, "HCPC2026_APR_ANWEB.txt") and len(row[3]) == 64 and row[4]


def test_same_file_again_changes_nothing(conn, tmp_path):
    f = synth.write(tmp_path / "HCPC2026_APR_ANWEB.txt", _hcpcs())
    load_path(conn, f)
    before = conn.execute("SELECT * FROM codesets").fetchall()
    (again,) = load_path(conn, f)
    assert again.status == "already-loaded" and again.rows == 1 and not again.has_errors
    assert [tuple(r) for r in conn.execute("SELECT * FROM codesets").fetchall()] == [tuple(r) for r in before]
    assert _count(conn, "codeset_hcpcs") == 1


def test_zip_member_chosen_by_content_and_extracted_member_is_the_same_file(conn, tmp_path):
    data = _hcpcs()
    z = synth.write(
        tmp_path / "april-2026-alpha-numeric-hcpcs-file.zip",
        synth.zip_of(
            {
                "HCPC2026_recordlayout.txt": b"HCPCS record layout\r\nField  Position\r\n",
                "HCPC2026_APR_ANWEB.xlsx": b"PK\x03\x04 not really a spreadsheet",
                "proc_notes_2026.txt": b"Processing notes\r\n",
                "HCPC2026_APR_ANWEB.txt": data,
            }
        ),
    )
    results = load_path(conn, z)
    loaded = [r for r in results if r.status == "loaded"]
    assert [r.file for r in loaded] == ["april-2026-alpha-numeric-hcpcs-file.zip!HCPC2026_APR_ANWEB.txt"]
    assert {r.status for r in results} == {"loaded", "skipped"}
    assert not any(r.has_errors for r in results)
    (again,) = load_path(conn, synth.write(tmp_path / "HCPC2026_APR_ANWEB.txt", data))
    assert again.status == "already-loaded"


def test_asp_period_comes_from_the_preamble(conn, tmp_path):
    f = synth.write(
        tmp_path / "Section 508 version of payment limit file.csv", synth.asp_file([("J9035", "x", "10 MG", "75.492")])
    )
    (res,) = load_path(conn, f)
    assert (res.kind, res.effective_from, res.effective_to, res.label) == (
        "asp",
        date(2026, 7, 1),
        date(2026, 9, 30),
        "ASP 2026Q3",
    )
    assert conn.execute("SELECT quantity, unit, payment_limit FROM codeset_asp").fetchone()[:] == ("10", "mg", "75.492")


def test_effective_option_wins(conn, tmp_path):
    f = synth.write(tmp_path / "HCPC2026_APR_ANWEB.txt", _hcpcs())
    (res,) = load_path(conn, f, effective=date(2026, 5, 15))
    assert res.effective_from == date(2026, 5, 15) and res.label == "HCPCS 2026-05-15"


def test_bad_rows_are_findings_and_the_good_rows_load(conn, tmp_path):
    text = synth.ptp_file([("96365", "96360", "20100101", "*", "1")]).decode("cp1252")
    text += "96365\t96372\t\t20261340\t*\t1\tx\r\nnot a row\r\n"
    f = synth.write(tmp_path / "ccipra-v322r0-f1.TXT", text.encode("cp1252"))
    (res,) = load_path(conn, f)
    assert res.status == "loaded" and res.rows == 1 and res.has_errors
    assert {(x.code, x.line) for x in res.findings} == {("ptp-bad-date", 8), ("ptp-bad-row", 9)}
    assert conn.execute("SELECT errors FROM codesets").fetchone()[0] == 2


def test_unknown_content_is_refused_and_stores_nothing(conn, tmp_path):
    f = synth.write(tmp_path / "notes.txt", b"hello\r\nworld\r\n")
    (res,) = load_path(conn, f)
    assert res.status == "refused" and res.findings[0].code == "codeset-unknown-kind"
    assert _count(conn, "codesets") == 0


def test_binary_and_truncated_files_never_raise(conn, tmp_path):
    f = synth.write(tmp_path / "x.bin", bytes(range(256)) * 50)
    (res,) = load_path(conn, f)
    assert res.status == "refused"
    broken = synth.write(tmp_path / "broken.zip", synth.zip_of({"a.txt": _hcpcs()})[:-30])
    with pytest.raises(UnreadableInput):
        load_path(conn, broken)
    with pytest.raises(UnreadableInput):
        load_path(conn, tmp_path / "missing.txt")


def test_ptp_setting_from_name_or_kind(conn, tmp_path):
    data = synth.ptp_file([("96365", "96360", "20100101", "*", "1")])
    (res,) = load_path(conn, synth.write(tmp_path / "edits.txt", data))
    assert res.status == "refused" and "--kind" in res.findings[0].message
    (res,) = load_path(conn, synth.write(tmp_path / "edits.txt", data), kind="ptp-hospital")
    assert res.status == "loaded" and res.kind == "ptp-hospital"
    assert res.effective_from == date(2010, 1, 1)  # quarter of the newest effective date


def test_mue_kind_mismatch_and_missing_date(conn, tmp_path):
    data = synth.mue_file([("J9035", 160, "3 Date of Service Edit: Clinical")], "facility")
    (res,) = load_path(conn, synth.write(tmp_path / "mue.csv", data), kind="mue-practitioner")
    assert res.status == "refused" and res.findings[0].code == "codeset-kind-mismatch"
    (res,) = load_path(conn, synth.write(tmp_path / "mue.csv", data))
    assert res.status == "refused" and res.findings[-1].code == "codeset-no-effective-date"
    (res,) = load_path(conn, synth.write(tmp_path / "mue.csv", data), effective=date(2026, 10, 1))
    assert res.status == "loaded" and res.kind == "mue-facility"
    assert _count(conn, "codesets") == 1


def test_list_resolves_period_ends_and_marks_replaced_files(conn, tmp_path):
    load_path(conn, synth.write(tmp_path / "HCPC2026_JAN_ANWEB.txt", _hcpcs()))
    load_path(
        conn, synth.write(tmp_path / "HCPC2026_APR_ANWEB.txt", _hcpcs(synth.Hcpcs("J1001", "Injection, y, 2 mg")))
    )
    load_path(
        conn, synth.write(tmp_path / "HCPC2026_APR_ANWEB_v2.txt", _hcpcs(synth.Hcpcs("J1002", "Injection, z, 2 mg")))
    )
    sets = list_sets(conn)
    assert [(s.label, s.effective_to, s.superseded) for s in sets] == [
        ("HCPCS 2026Q1", date(2026, 3, 31), False),
        ("HCPCS 2026Q2", None, True),
        ("HCPCS 2026Q2", None, False),
    ]
    assert stale_kinds(sets, date(2026, 5, 1)) == {}
    assert "hcpcs" in stale_kinds(sets, date(2026, 7, 1))


def test_full_loop_of_kinds_in_one_zip(conn, tmp_path):
    z = synth.write(
        tmp_path / "bundle.zip",
        synth.zip_of(
            {
                "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv": synth.mue_file(
                    [("J9035", 160, "2 Date of Service Edit: Policy")]
                ),
                "ccipra-v322r0-f1.TXT": synth.ptp_file([("96413", "96365", "20100101", "*", "1")]),
                "readme.pdf": b"%PDF-1.4",
            }
        ),
    )
    results = load_path(conn, z)
    assert sorted((r.kind, r.status, str(r.effective_from)) for r in results if r.status == "loaded") == [
        ("mue-practitioner", "loaded", "2026-07-01"),
        ("ptp-practitioner", "loaded", "2026-07-01"),
    ]


def test_ledger_schema_migration_is_named(conn):
    c = conn
    assert "0201_codesets" in [r[0] for r in c.execute("SELECT name FROM migrations")]


def test_companion_tables_in_an_asp_zip_are_skipped_by_name(conn, tmp_path):
    main = synth.asp_file([("J9035", "x", "10 MG", "75.492")])
    other = synth.asp_file([("J9035", "x", "10 MG", "1.000")])
    z = synth.write(
        tmp_path / "july-2026-medicare-part-b-payment-limit-files.zip",
        synth.zip_of(
            {
                "Section 508 version of July 2026 Payment Limit File.csv": main,
                "Drugs Not Payable July 2026 Payment Limit File.csv": other,
                "July 2026 OPPS Pricing File.csv": other + b" ",
            }
        ),
    )
    results = load_path(conn, z)
    assert [r.file.split("!")[1] for r in results if r.status == "loaded"] == [
        "Section 508 version of July 2026 Payment Limit File.csv"
    ]
    assert conn.execute("SELECT payment_limit FROM codeset_asp").fetchall()[0][0] == "75.492"


def test_the_sample_generator_writes_one_loadable_file_of_every_kind(conn, tmp_path):
    assert set(SAMPLE_OF_KIND) == set(KINDS)
    results = [r for p in synth.write_samples(tmp_path / "samples") for r in load_path(conn, p)]
    assert sorted(str(r.kind) for r in results if r.status == "loaded") == sorted(KINDS)
    # the GPCI file is annual: its header's year dates it
    assert {r.label.split()[-1] for r in results if r.label and r.kind != "gpci"} == {"2026Q3"}
    assert [r.label for r in results if r.kind == "gpci"] == ["GPCI 2026Q1"]
    assert not any(r.has_errors for r in results)


SAMPLE_OF_KIND = {
    "hcpcs": "HCPC2026_JUL_ANWEB.txt",
    "asp": "Section 508 version of July 2026 Payment Limit File.csv",
    "asp-ndc": "Section 508 version of July 2026 ASP NDC-HCPCS Crosswalk.csv",
    "ptp-practitioner": "ccipra-v322r0-f1.TXT",
    "ptp-hospital": "ccioph-v322r0-f1.TXT",
    "mue-practitioner": "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv",
    "mue-facility": "MCR_MUE_OutpatientHospitalServices_Eff_07-01-2026.csv",
    "pfs-rvu": "PPRRVU2026_Jul_nonQPP.csv",
    "gpci": "GPCI2026.csv",
    "opps-b": "2026_July_Web_Addendum_B.csv",
}


@pytest.mark.parametrize("kind", sorted(SAMPLE_OF_KIND))
def test_every_kind_loads_from_a_zip_with_its_twins_and_again_is_a_no_op(conn, tmp_path, kind):
    synth.write_samples(tmp_path / "s")
    member = tmp_path / "s" / SAMPLE_OF_KIND[kind]
    z = synth.write(
        tmp_path / "download.zip",
        synth.zip_of(
            {
                f"{member.stem}.xlsx": b"PK\x03\x04 spreadsheet twin",
                "readme.pdf": b"%PDF-1.4",
                "record_layout.txt": b"Field  Position  Length\r\n",
                member.name: member.read_bytes(),
            }
        ),
    )
    loaded = [r for r in load_path(conn, z) if r.status == "loaded"]
    assert [(r.kind, r.file) for r in loaded] == [(kind, f"download.zip!{member.name}")]
    start = date(2026, 1, 1) if kind == "gpci" else date(2026, 7, 1)  # the GPCI file is annual
    assert loaded[0].rows > 0 and loaded[0].effective_from == start
    counts = conn.execute("SELECT count(*), sum(row_count) FROM codesets").fetchone()[:]
    again = [r for r in load_path(conn, z) if r.status not in ("skipped",)]
    assert [r.status for r in again] == ["already-loaded"]
    assert [r.status for r in load_path(conn, member)] == ["already-loaded"]
    assert conn.execute("SELECT count(*), sum(row_count) FROM codesets").fetchone()[:] == counts


def test_kind_option_on_a_zip_skips_its_documents(conn, tmp_path):
    z = synth.write(
        tmp_path / "edits.zip",
        synth.zip_of(
            {
                "readme.txt": b"About these edits\r\n",
                "edits.txt": synth.ptp_file([("96365", "96360", "20100101", "*", "1")]),
            }
        ),
    )
    results = load_path(conn, z, kind="ptp-hospital", effective=date(2026, 7, 1))
    assert sorted((r.status, r.kind) for r in results) == [("loaded", "ptp-hospital"), ("skipped", None)]
    assert not any(r.has_errors for r in results)
