"""``dripline code`` codes with the ledger's code sets (``--ledger``) and scrubs the result; the
seam :func:`dripline.common.open_codesets` answers no sets until the store is wired."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from coding.codesets import NO_CODESETS
from coding.codesets.memory import MemoryCodeSets
from dripline import common
from dripline.cli import app
from tests.reconcile.claims.test_build import _office, _write

runner = CliRunner()


def test_open_codesets_answers_no_sets_until_the_store_is_wired(tmp_path: Path) -> None:
    assert common.open_codesets(tmp_path / "none.db") is NO_CODESETS
    assert common.open_codesets(None) is NO_CODESETS


def test_code_json_carries_scrubber_findings_and_loaded_units(tmp_path: Path, monkeypatch) -> None:
    enc = _office("ENC-201")
    enc["administrations"][0]["drug"] = "J1999"  # newer than the bundled tables
    f = _write(tmp_path / "e.json", [enc])
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
