"""`dripline code --json` on home infusion encounters (the contract's output shape)."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from dripline.cli import app

runner = CliRunner()


def _code(*args: str) -> dict:
    res = runner.invoke(app, ["code", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _lines(enc: dict) -> list[tuple]:
    return [(ln["code"], tuple(ln["modifiers"]), ln["units"], ln["service_date"]) for ln in enc["lines"]]


def test_code_json_home_fixtures(fixtures_dir):
    out = _code(str(fixtures_dir / "home_encounters.json"))
    by_id = {e["id"]: e for e in out["encounters"]}
    assert all(e["claim_type"] == "837P" for e in by_id.values())

    # Example 14
    e1 = by_id["HOME-001"]
    assert _lines(e1) == [("S9500", (), 14, "2026-03-02"), ("99601", (), 1, "2026-03-02"),
                          ("99601", (), 1, "2026-03-09"), ("99601", (), 1, "2026-03-15"),
                          ("J0696", (), 112, "2026-03-02")]
    drug = e1["lines"][-1]
    assert drug["ndc"] == "00409733201" and drug["ndc_unit"] and float(drug["ndc_quantity"]) > 0
    assert drug["charge"] == "392.00" and drug["revenue_code"] is None
    assert all(ln["rationale"] for e in by_id.values() for ln in e["lines"])

    # 45 days across a month boundary, q12h vancomycin
    assert [x for x in _lines(by_id["HOME-002"]) if x[0] == "S9501"] == [
        ("S9501", (), 21, "2026-04-10"), ("S9501", (), 24, "2026-05-01")]

    # concurrent per diems: second SH, third SJ; a 3-hour visit: 99601 + 99602
    e3 = _lines(by_id["HOME-003"])
    assert ("S9500", (), 14, "2026-03-05") in e3
    assert ("S9374", ("SH",), 5, "2026-03-05") in e3
    assert ("S9501", ("SJ",), 13, "2026-03-06") in e3
    assert ("99601", (), 1, "2026-03-05") in e3 and ("99602", (), 1, "2026-03-05") in e3

    # Medicare pump therapy: initial then subsequent G-codes, nothing else
    assert _lines(by_id["HOME-005"]) == [("G0088", (), 1, "2026-03-02"), ("G0068", (), 1, "2026-03-09"),
                                         ("G0068", (), 1, "2026-03-16")]
    # Medicare claim that would have had S-codes: no lines, findings say why
    e6 = by_id["HOME-006"]
    assert e6["lines"] == []
    assert {"medicare-per-diem-not-billed", "hit-not-pump"} <= {f["code"] for f in e6["findings"]}
    assert all(f["encounter_id"] == "HOME-006" for f in e6["findings"])


def test_code_json_home_input_error_names_encounter_and_field(tmp_path, fixtures_dir):
    raw = json.loads((fixtures_dir / "home_encounters.json").read_text())
    enc = raw["encounters"][0]
    enc["therapies"][0]["category"] = "parenteral_nutrition"
    del enc["therapies"][0]["start_date"]
    src = tmp_path / "bad.json"
    src.write_text(json.dumps({"encounters": [enc]}))
    res = runner.invoke(app, ["code", str(src), "--json"])
    assert res.exit_code == 2
    text = res.output
    assert "HOME-001" in text and "therapies[0].category" in text and "therapies[0].start_date" in text
    assert "Traceback" not in text
