"""``dripline code`` codes with the ledger's code sets (``--ledger``) and scrubs the result;
:func:`dripline.common.open_codesets` is the one place that opens them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from coding.codesets import NO_CODESETS
from coding.codesets.memory import MemoryCodeSets
from dripline import common
from dripline.cli import app
from tests.dripline.test_codesets_end_to_end import patient

runner = CliRunner()


def office(eid: str) -> dict:
    return {
        "id": eid,
        "setting": "office",
        "payer": "medicare",
        "patient": patient("P" + eid[-3:]),
        "diagnoses": ["K50.90"],
        "administrations": [
            {
                "id": "A1",
                "drug": "J1745",
                "route": "iv_infusion",
                "start": "2026-03-02T09:00",
                "end": "2026-03-02T11:10",
                "dose": {"value": 350, "unit": "mg"},
            },
        ],
    }


def write(path: Path, encounters: list[dict]) -> Path:
    path.write_text(json.dumps({"encounters": encounters}))
    return path


def test_open_codesets_no_sets_without_a_ledger_or_without_loaded_sets(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DRIPLINE_DB", raising=False)
    assert common.open_codesets(tmp_path / "none.db") is NO_CODESETS
    assert common.open_codesets(None) is NO_CODESETS  # ./dripline.db absent
    assert not (tmp_path / "none.db").exists() and not (tmp_path / "dripline.db").exists()
    empty = tmp_path / "empty.db"
    assert runner.invoke(app, ["claims", "list", "--ledger", str(empty), "--json"]).exit_code == 0
    assert empty.exists() and common.open_codesets(empty) is NO_CODESETS
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database" * 100)
    f = write(tmp_path / "x.json", [office("ENC-209")])
    r = runner.invoke(app, ["code", str(f), "--ledger", str(bad), "--json"])
    assert r.exit_code == 2 and "ledger" in r.output and "Traceback" not in r.output


def test_open_codesets_on_a_server_ledger(tmp_path: Path, pg_ledger: str) -> None:
    """A PostgreSQL ledger without loaded sets gives no sets; one that cannot be opened exits 2
    with a message that names no password."""
    assert common.open_codesets(pg_ledger) is NO_CODESETS
    gone = pg_ledger.replace("postgresql://postgres@/", "postgresql://postgres:s3cret@/no_such_")
    f = write(tmp_path / "x.json", [office("ENC-210")])
    r = runner.invoke(app, ["code", str(f), "--ledger", gone, "--json"])
    assert r.exit_code == 2 and "ledger" in r.output and "Traceback" not in r.output
    assert "s3cret" not in r.output


def test_code_json_carries_scrubber_findings_and_loaded_units(tmp_path: Path, monkeypatch) -> None:
    enc = office("ENC-201")
    enc["administrations"][0]["drug"] = "J1999"  # newer than the bundled tables
    f = write(tmp_path / "e.json", [enc])
    r = runner.invoke(app, ["code", str(f), "--json"])
    assert r.exit_code == 2  # unknown drug without loaded sets
    ms = MemoryCodeSets()
    q1 = (date(2026, 1, 1), date(2026, 3, 31))
    ms.add("asp", *q1, "ASP 2026Q1", [("J1999", "5 MG", None)], "asp.csv")
    ms.add("mue-practitioner", *q1, "MUE practitioner 2026Q1", [("J1999", 50, "3")], "mue.csv")
    monkeypatch.setattr(common, "open_codesets", lambda ledger: ms)
    r = runner.invoke(app, ["code", str(f), "--ledger", str(tmp_path / "l.db"), "--json"])
    assert r.exit_code == 0, r.stdout
    out = json.loads(r.stdout)["encounters"][0]
    drug = [ln for ln in out["lines"] if ln["code"] == "J1999"]
    assert drug and drug[0]["units"] == 70 and "5 mg per unit (ASP 2026Q1)" in drug[0]["rationale"]
    mue = [x for x in out["findings"] if x["code"] == "mue-exceeded"]
    assert len(mue) == 1 and mue[0]["severity"] == "error" and "mue.csv" in mue[0]["message"]
