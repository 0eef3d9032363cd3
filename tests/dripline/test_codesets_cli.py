"""``dripline codesets load`` and ``dripline codesets list``: outputs and exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dripline.cli import app
from tests.reconcile.codesets import synth

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def _files(tmp_path):
    hcpcs = synth.write(
        tmp_path / "HCPC2026_OCT_ANWEB.txt", synth.hcpcs_file([synth.Hcpcs("J1000", "Injection, x, 1 mg")])
    )
    asp = synth.write(
        tmp_path / "asp.csv",
        synth.asp_file(
            [("J9035", "x", "10 MG", "75.492")], period="Effective October 1, 2026 through December 31, 2026"
        ),
    )
    return hcpcs, asp


def test_load_json_then_again_is_a_no_op(tmp_path, ledger_target):
    hcpcs, asp = _files(tmp_path)
    db = ledger_target
    r = _run("codesets", "load", str(hcpcs), str(asp), "--ledger", db, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [(f["kind"], f["status"], f["rows"], f["effective_from"]) for f in out["files"]] == [
        ("hcpcs", "loaded", 1, "2026-10-01"),
        ("asp", "loaded", 1, "2026-10-01"),
    ]
    assert out["files"][1]["effective_to"] == "2026-12-31" and len(out["files"][0]["sha256"]) == 64
    r2 = _run("codesets", "load", str(hcpcs), "--ledger", db, "--json")
    assert r2.exit_code == 0 and json.loads(r2.stdout)["files"][0]["status"] == "already-loaded"


def test_list_json_and_stale_warning(tmp_path, ledger_target):
    hcpcs, asp = _files(tmp_path)
    db = ledger_target
    assert _run("codesets", "load", str(hcpcs), str(asp), "--ledger", db).exit_code == 0
    r = _run("codesets", "list", "--ledger", db, "--json", "--as-of", "2026-11-15")
    out = json.loads(r.stdout)
    assert r.exit_code == 0 and out["stale"] == []
    assert {(s["kind"], s["label"], s["row_count"], s["source_file"]) for s in out["sets"]} == {
        ("hcpcs", "HCPCS 2026Q4", 1, "HCPC2026_OCT_ANWEB.txt"),
        ("asp", "ASP 2026Q4", 1, "asp.csv"),
    }
    later = json.loads(_run("codesets", "list", "--ledger", db, "--json", "--as-of", "2027-01-05").stdout)
    assert {s["kind"] for s in later["stale"]} == {"hcpcs", "asp"}
    readable = _run("codesets", "list", "--ledger", db, "--as-of", "2027-01-05")
    assert "stale:" in readable.output and "HCPCS 2026Q4" in readable.output


def test_file_with_errors_exits_1_with_line_numbers(tmp_path, ledger_target):
    text = (
        synth.ptp_file([("96365", "96360", "20100101", "*", "1")]).decode("cp1252")
        + "96365\t96372\t\t2026\t*\t1\tx\r\n"
    )
    f = synth.write(tmp_path / "ccipra-v322r0-f1.TXT", text.encode("cp1252"))
    r = _run("codesets", "load", str(f), "--ledger", ledger_target, "--json")
    assert r.exit_code == 1
    (res,) = json.loads(r.stdout)["files"]
    assert res["status"] == "loaded" and res["findings"][0]["line"] == 8


def test_unreadable_and_usage_errors_exit_2(tmp_path, ledger_target):
    db = ledger_target
    assert _run("codesets", "load", str(tmp_path / "missing.zip"), "--ledger", db).exit_code == 2
    broken = synth.write(tmp_path / "x.zip", b"PK\x03\x04broken")
    r = _run("codesets", "load", str(broken), "--ledger", db, "--json")
    assert r.exit_code == 2 and json.loads(r.stdout)["unreadable"]
    hcpcs, _ = _files(tmp_path)
    assert _run("codesets", "load", str(hcpcs), "--kind", "cpt", "--ledger", db).exit_code == 2
    assert _run("codesets", "load", str(hcpcs), "--effective", "July", "--ledger", db).exit_code == 2


def test_unknown_content_is_refused_exit_1(tmp_path, ledger_target):
    f = synth.write(tmp_path / "notes.txt", b"hello\r\n")
    r = _run("codesets", "load", str(f), "--ledger", ledger_target)
    assert r.exit_code == 1 and "codeset-unknown-kind" in r.output


def test_list_warns_when_a_ptp_quarter_misses_parts(tmp_path, ledger_target):
    db = ledger_target
    for part in ("f1", "f3"):
        f = synth.write(
            tmp_path / f"ccipra-v322r0-{part}.TXT", synth.ptp_file([(f"9636{part[1]}", "96360", "20100101", "*", "1")])
        )
        assert _run("codesets", "load", str(f), "--ledger", db).exit_code == 0
    out = json.loads(_run("codesets", "list", "--ledger", db, "--json", "--as-of", "2026-08-01").stdout)
    assert [s["part"] for s in out["sets"]] == ["f1", "f3"]
    assert out["incomplete"] == [
        {
            "set": "PTP practitioner 2026Q3",
            "message": "PTP practitioner 2026Q3: part(s) f2, f4 not loaded; their edits are not checked",
        }
    ]
