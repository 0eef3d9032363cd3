"""`dripline code`: JSON contract output, readable table, input errors -> exit 2 without traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200", PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "dripline", *args], capture_output=True, text=True, cwd=cwd or REPO, env=env, timeout=120
    )


def enc(eid="ENC-1", setting="office", **adm_over):
    a = {
        "id": "A1",
        "drug": "J1745",
        "ndc": "57894-030-01",
        "route": "iv_infusion",
        "start": "2026-03-02T10:00",
        "end": "2026-03-02T12:05",
        "dose": {"value": 400, "unit": "mg"},
    }
    a.update(adm_over)
    return {
        "id": eid,
        "setting": setting,
        "payer": "medicare",
        "patient": {
            "id": "P1",
            "first": "Ann",
            "last": "Doe",
            "dob": "1960-05-01",
            "sex": "F",
            "member_id": "1EG4TE5MK72",
            "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
        },
        "diagnoses": ["K50.90"],
        "administrations": [a],
    }


def test_json_output_is_the_contract(tmp_path):
    p = tmp_path / "in.json"
    p.write_text(json.dumps({"encounters": [enc(), enc("ENC-2", "hospital_outpatient")]}))
    r = run("code", str(p), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [e["id"] for e in out["encounters"]] == ["ENC-1", "ENC-2"]
    e1, e2 = out["encounters"]
    assert e1["claim_type"] == "837P" and e2["claim_type"] == "837I"
    keys = {
        "code",
        "modifiers",
        "units",
        "revenue_code",
        "service_date",
        "ndc",
        "ndc_quantity",
        "ndc_unit",
        "charge",
        "administration_ids",
        "rationale",
    }
    for e in out["encounters"]:
        assert set(e) == {"id", "claim_type", "lines", "findings"}
        for ln in e["lines"]:
            assert set(ln) == keys and isinstance(ln["units"], int) and ln["rationale"]
            assert isinstance(ln["charge"], str)
    drug1 = [ln for ln in e1["lines"] if ln["code"] == "J1745"]
    assert drug1 == [
        {
            **drug1[0],
            "modifiers": ["JZ"],
            "units": 40,
            "ndc": "57894003001",
            "ndc_unit": "UN",
            "revenue_code": None,
            "service_date": "2026-03-02",
            "administration_ids": ["A1"],
        }
    ]
    drug2 = [ln for ln in e2["lines"] if ln["code"] == "J1745"]
    assert drug2[0]["modifiers"] == ["JZ"] and drug2[0]["revenue_code"] == "0636"  # default config: not 340B


def test_waste_line_through_the_cli(tmp_path):
    p = tmp_path / "w.jsonl"
    p.write_text(json.dumps(enc(dose={"value": 350, "unit": "mg"}, wasted={"value": 50, "unit": "mg"})) + "\n")
    r = run("code", str(p), "--json")
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in json.loads(r.stdout)["encounters"][0]["lines"] if ln["code"] == "J1745"]
    assert [(ln["modifiers"], ln["units"]) for ln in lines] == [([], 35), (["JW"], 5)]


def test_input_errors_exit_2_listing_every_problem_without_traceback(tmp_path):
    bad = enc("ENC-BAD", drug="J0000", end="2026-03-02T09:00", ndc="12-34")
    bad["payer"] = "nobody"
    bad["diagnoses"] = ["50.9"]
    bad["rendering_npi"] = "1234567890"
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"encounters": [bad, enc("ENC-OK")]}))
    r = run("code", str(p))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr + r.stdout
    err = r.stderr
    for fld in (
        "administrations[0].drug",
        "administrations[0].end",
        "administrations[0].ndc",
        "payer",
        "diagnoses[0]",
        "rendering_npi",
    ):
        assert f"field {fld}" in err, fld
    assert err.count("encounter ENC-BAD") >= 6
    assert "Doe" not in err and "1EG4TE5MK72" not in err
    r = run("code", str(p), "--json")
    assert r.returncode == 2 and "Traceback" not in r.stderr


@pytest.mark.parametrize("content", ["not json at all", '{"encounters": [', "\x00\xff", "[1, 2, 3]", "{}"])
def test_junk_files_exit_2_cleanly(tmp_path, content):
    p = tmp_path / "junk.json"
    p.write_text(content, encoding="latin-1")
    r = run("code", str(p))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "junk.json" in r.stderr


def test_missing_file_and_bad_config(tmp_path):
    r = run("code", str(tmp_path / "nope.json"))
    assert r.returncode == 2 and "not found" in r.stderr and "Traceback" not in r.stderr
    cfg = tmp_path / "c.toml"
    cfg.write_text("this is = = not toml")
    p = tmp_path / "in.json"
    p.write_text(json.dumps({"encounters": [enc()]}))
    r = run("code", str(p), "--config", str(cfg))
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_readable_table_and_help(tmp_path):
    p = tmp_path / "in.json"
    p.write_text(json.dumps({"encounters": [enc()]}))
    r = run("code", str(p))
    assert r.returncode == 0, r.stderr
    assert "ENC-1" in r.stdout and "J1745" in r.stdout and "JZ" in r.stdout and "400 mg" in r.stdout
    h = run("code", "--help")
    assert h.returncode == 0 and "--json" in h.stdout and "--config" in h.stdout
    v = run("version")
    assert v.returncode == 0 and v.stdout.strip()


def test_bundled_fixtures_code_cleanly():
    r = run("code", "fixtures", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["encounters"]) >= 25
    for e in out["encounters"]:
        for ln in e["lines"]:
            assert ln["rationale"] and int(ln["units"]) > 0
            if ln["ndc"] is not None:
                assert len(ln["ndc"]) == 11 and ln["ndc"].isdigit() and float(ln["ndc_quantity"]) > 0
            mods = ln["modifiers"]
            assert not ("JW" in mods and "JZ" in mods)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e["administrations"][0].update(end=None, volume_ml="999999999", rate_ml_per_hr="0.000001"),
        lambda e: e["administrations"][0].update(start="9999-12-31T23:00", end=None, volume_ml=1000, rate_ml_per_hr=10),
        lambda e: e.update(id="E\udc80"),
        lambda e: e.update(id="[bold]x[/]"),
    ],
    ids=["volume-rate-overflow", "year-9999-course", "lone-surrogate", "markup-id"],
)
def test_hostile_encounter_exits_2_and_the_good_one_is_still_coded(tmp_path, mutate):
    bad = enc("ENC-BAD")
    mutate(bad)
    p = tmp_path / "in.json"
    p.write_text(json.dumps({"encounters": [bad, enc("ENC-OK")]}, ensure_ascii=True))
    r = run("code", str(p), "--json")
    assert r.returncode == 2 and "Traceback" not in r.stderr + r.stdout
    doc = json.loads(r.stdout)
    assert [e["id"] for e in doc["encounters"]] == ["ENC-OK"] and doc["encounters"][0]["lines"]
    assert doc["findings"] and all(f["severity"] == "error" for f in doc["findings"])
    r = run("code", str(p))
    assert r.returncode == 2 and "Traceback" not in r.stderr + r.stdout and "ENC-OK" in r.stdout


def test_claims_build_of_a_deeply_nested_encounter_is_a_finding_not_a_traceback(tmp_path):
    # the source encounter is recorded in the ledger; 500 levels of an unknown field used to
    # overflow the recursion of that recording
    text = json.dumps(enc("ENC-DEEP"))[:-1] + ', "extra": ' + "[" * 500 + "]" * 500 + "}"
    p = tmp_path / "deep.json"
    p.write_text('{"encounters": [' + text + "]}")
    r = run("claims", "build", str(p), "--out", str(tmp_path / "out"), "--ledger", str(tmp_path / "l.db"))
    assert r.returncode == 2 and "Traceback" not in r.stderr + r.stdout
    assert "too-deep" in r.stderr + r.stdout
