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
    assert _lines(e1) == [
        ("S9500", (), 14, "2026-03-02"),
        ("99601", (), 1, "2026-03-02"),
        ("99601", (), 1, "2026-03-09"),
        ("99601", (), 1, "2026-03-15"),
        ("J0696", (), 112, "2026-03-02"),
    ]
    drug = e1["lines"][-1]
    assert drug["ndc"] == "00409733201" and drug["ndc_unit"] and float(drug["ndc_quantity"]) > 0
    assert drug["charge"] == "392.00" and drug["revenue_code"] is None
    assert all(ln["rationale"] for e in by_id.values() for ln in e["lines"])

    # 45 days across a month boundary, q12h vancomycin
    assert [x for x in _lines(by_id["HOME-002"]) if x[0] == "S9501"] == [
        ("S9501", (), 21, "2026-04-10"),
        ("S9501", (), 24, "2026-05-01"),
    ]

    # concurrent per diems: second SH, third SJ; a 3-hour visit: 99601 + 99602
    e3 = _lines(by_id["HOME-003"])
    assert ("S9500", (), 14, "2026-03-05") in e3
    assert ("S9374", ("SH",), 5, "2026-03-05") in e3
    assert ("S9501", ("SJ",), 13, "2026-03-06") in e3
    assert ("99601", (), 1, "2026-03-05") in e3 and ("99602", (), 1, "2026-03-05") in e3

    # Medicare pump therapy: initial then subsequent G-codes, nothing else; units = the visit's
    # length in 15-minute increments (2 h = 8, 1 h = 4)
    assert _lines(by_id["HOME-005"]) == [
        ("G0088", (), 8, "2026-03-02"),
        ("G0068", (), 4, "2026-03-09"),
        ("G0068", (), 4, "2026-03-16"),
    ]
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


def test_code_uses_the_ledger_history_for_the_60_day_rule(tmp_path, fixtures_dir, monkeypatch, ledger_target):
    """claims build records HOME-005's HIT days (last 2026-03-16); a later course of the same
    patient coded with --ledger is subsequent within 60 days and initial after."""
    monkeypatch.chdir(tmp_path)  # no ./dripline.db from elsewhere
    monkeypatch.delenv("DRIPLINE_DB", raising=False)
    db = ledger_target
    res = runner.invoke(
        app,
        [
            "claims",
            "build",
            str(fixtures_dir / "home_encounters.json"),
            "--out",
            str(tmp_path / "out"),
            "--ledger",
            str(db),
            "--json",
        ],
    )
    # HOME-006 (Medicare, no pump therapy) has no billable line: not billed, so the build exits 1
    assert res.exit_code == 1, res.output
    assert json.loads(res.stdout)["not_billed"] == ["HOME-006"]
    raw = json.loads((fixtures_dir / "home_encounters.json").read_text())
    enc = next(e for e in raw["encounters"] if e["id"] == "HOME-005")
    enc["id"] = "HOME-005B"
    enc["therapies"][0].update(start_date="2026-04-20", end_date="2026-05-03")
    enc["nursing_visits"] = [
        {"start": "2026-04-20T10:00", "end": "2026-04-20T11:00"},
        {"start": "2026-04-27T10:00", "end": "2026-04-27T11:00"},
    ]
    src = tmp_path / "follow.json"
    src.write_text(json.dumps({"encounters": [enc]}))
    with_ledger = _code(str(src), "--ledger", str(db))["encounters"][0]
    assert [ln["code"] for ln in with_ledger["lines"]] == ["G0068", "G0068"]
    assert "2026-03-16" in with_ledger["lines"][0]["rationale"]
    monkeypatch.setenv("DRIPLINE_DB", str(db))
    assert [ln["code"] for ln in _code(str(src))["encounters"][0]["lines"]] == ["G0068", "G0068"]
    monkeypatch.delenv("DRIPLINE_DB")
    without = _code(str(src))["encounters"][0]  # no ledger here: first visit day initial
    assert [ln["code"] for ln in without["lines"]] == ["G0088", "G0068"]
    assert "hit-no-history" in {f["code"] for f in without["findings"]}


def test_code_with_an_unusable_ledger_is_a_clean_error(tmp_path, fixtures_dir):
    bad = tmp_path / "not-a-ledger.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    res = runner.invoke(app, ["code", str(fixtures_dir / "home_encounters.json"), "--ledger", str(bad), "--json"])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
