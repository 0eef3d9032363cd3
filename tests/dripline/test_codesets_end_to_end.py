"""End to end with the ledger's loaded sets: files loaded by ``dripline codesets load`` change what
``dripline code --ledger``, ``claims build --ledger`` and ``validate --ledger`` do, exactly as the
files say (synthetic files in CMS's layouts, 2026 Q3)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dripline.cli import app
from tests.reconcile.codesets.synth import write_samples

runner = CliRunner()


def patient(pid: str) -> dict:
    return {
        "id": pid,
        "first": "JANE",
        "last": "DOE",
        "dob": "1960-05-17",
        "sex": "F",
        "member_id": f"M{pid}X",
        "address": {"line1": "12 OAK ST", "city": "SPRINGFIELD", "state": "IL", "zip": "62704"},
    }


def _encounter(eid: str, start: str, drug: str = "J0174", dose: int = 7) -> dict:
    return {
        "id": eid,
        "setting": "office",
        "payer": "medicare",
        "patient": patient("P" + eid[-3:]),
        "diagnoses": ["K50.90"],
        "administrations": [
            {
                "id": "A1",
                "drug": drug,
                "route": "iv_infusion",
                "start": f"{start}T09:00",
                "end": f"{start}T10:00",
                "dose": {"value": dose, "unit": "mg"},
            },
            {
                "id": "A2",
                "drug": "J2405",
                "route": "im",
                "start": f"{start}T10:05",
                "dose": {"value": 4, "unit": "mg"},
            },
        ],
    }


def _ledger(tmp_path: Path, target: str) -> str:
    db = target
    files = write_samples(tmp_path / "cms")
    r = runner.invoke(app, ["codesets", "load", *map(str, files), "--ledger", str(db), "--json"])
    assert r.exit_code == 0, r.stdout
    return db


def test_code_uses_the_loaded_sets_by_date_of_service(tmp_path: Path, ledger_target: str) -> None:
    db = _ledger(tmp_path, ledger_target)
    f = tmp_path / "e.json"
    f.write_text(json.dumps({"encounters": [_encounter("E-001", "2026-07-15"), _encounter("E-002", "2026-06-15")]}))
    r = runner.invoke(app, ["code", str(f), "--ledger", str(db), "--json"])
    assert r.exit_code == 0, r.stdout
    by_id = {e["id"]: e for e in json.loads(r.stdout)["encounters"]}
    drug = [ln for ln in by_id["E-001"]["lines"] if ln["code"] == "J0174"]
    assert drug and drug[0]["units"] == 7 and "1 mg per unit (ASP 2026Q3" in drug[0]["rationale"]
    # the practitioner PTP file bundles 96372 into 96365 with indicator 0
    ptp = [x for x in by_id["E-001"]["findings"] if x["code"] == "ptp-conflict"]
    assert len(ptp) == 1 and "96372 is bundled into 96365" in ptp[0]["message"]
    assert "ccipra-v322r0-f1.TXT" in ptp[0]["message"]
    # June: no loaded set is in effect; J0174 has no bundled unit, so it is held
    june = by_id["E-002"]
    assert not [ln for ln in june["lines"] if ln["code"] == "J0174"]
    assert "no-billing-unit" in {x["code"] for x in june["findings"]}
    assert not [x for x in june["findings"] if x["code"] == "ptp-conflict"]


def test_code_without_a_ledger_is_unchanged(tmp_path: Path) -> None:
    f = tmp_path / "e.json"
    f.write_text(json.dumps({"encounters": [_encounter("E-003", "2026-07-15", "J1745", 400)]}))
    missing = tmp_path / "none.db"
    r = runner.invoke(app, ["code", str(f), "--ledger", str(missing), "--json"])
    assert r.exit_code == 0, r.stdout
    assert not missing.exists()  # not created by coding
    lines = json.loads(r.stdout)["encounters"][0]["lines"]
    assert "(bundled HCPCS 2020)" in next(ln for ln in lines if ln["code"] == "J1745")["rationale"]


def test_claims_build_holds_and_validate_scrubs(tmp_path: Path, ledger_target: str) -> None:
    db = _ledger(tmp_path, ledger_target)
    f = tmp_path / "e.json"
    f.write_text(json.dumps({"encounters": [_encounter("E-004", "2026-07-15")]}))
    out = tmp_path / "out"
    r = runner.invoke(app, ["claims", "build", str(f), "--out", str(out), "--ledger", str(db), "--json"])
    doc = json.loads(r.stdout)
    codes = {x["code"] for x in doc["findings"]}
    assert {"ptp-conflict", "claim-held"} <= codes and not list(out.glob("*.x12"))
    r = runner.invoke(
        app, ["claims", "build", str(f), "--out", str(out), "--ledger", str(db), "--allow-invalid", "--json"]
    )
    written = list(out.glob("837P-*.x12"))
    assert len(written) == 1, r.stdout
    r = runner.invoke(app, ["validate", str(written[0]), "--json"])
    assert r.exit_code == 0, r.stdout
    r = runner.invoke(app, ["validate", str(written[0]), "--ledger", str(db), "--json"])
    assert r.exit_code == 1 and '"ptp-conflict"' in r.stdout
