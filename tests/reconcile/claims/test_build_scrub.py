"""``claims build`` runs the scrubber before writing: a claim with scrubber errors is held like a
coding error; ``--allow-invalid`` still writes it (and reports the findings)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from coding.codesets.memory import MemoryCodeSets
from coding.config import load_config
from dripline import common
from dripline.cli import app
from reconcile.claims import build as billing
from reconcile.ledger import store as L
from tests.reconcile.claims.test_build import NOW, _office, _write

Q1 = (date(2026, 1, 1), date(2026, 3, 31))


def _mue(value: int) -> MemoryCodeSets:
    ms = MemoryCodeSets()
    ms.add("mue-practitioner", *Q1, "MUE practitioner 2026Q1", [("J1745", value, "2")], "MCR_MUE_Practitioner.csv")
    return ms


def test_scrubber_error_holds_the_claim(tmp_path: Path, ledger_target: str) -> None:
    batch = _write(tmp_path / "b.json", [_office("ENC-101"), _office("ENC-102", "commercial")])
    conn = L.connect(ledger_target)
    res = billing.build_claims([batch], load_config(), conn, tmp_path / "out", now=NOW, codesets=_mue(10))
    mue = [f for f in res.findings if f.code == "mue-exceeded"]
    assert [f.encounter_id for f in mue] == ["ENC-101", "ENC-102"]
    assert "MCR_MUE_Practitioner.csv" in mue[0].message
    held = {f.encounter_id for f in res.findings if f.code == "claim-held"}
    assert held == {"ENC-101", "ENC-102"}
    assert res.files == [] and conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0


def test_within_the_edit_the_claim_is_written(tmp_path: Path, ledger_target: str) -> None:
    batch = _write(tmp_path / "b.json", [_office("ENC-103")])
    conn = L.connect(ledger_target)
    res = billing.build_claims([batch], load_config(), conn, tmp_path / "out", now=NOW, codesets=_mue(35))
    assert not [f for f in res.findings if f.code in ("mue-exceeded", "claim-held")]
    assert [f.status for f in res.files] == ["recorded"]


def test_allow_invalid_writes_a_claim_with_scrubber_errors(tmp_path: Path, ledger_target: str) -> None:
    batch = _write(tmp_path / "b.json", [_office("ENC-104")])
    conn = L.connect(ledger_target)
    res = billing.build_claims(
        [batch], load_config(), conn, tmp_path / "out", now=NOW, codesets=_mue(10), allow_invalid=True
    )
    assert [f.code for f in res.findings if f.code in ("mue-exceeded", "claim-held")] == ["mue-exceeded"]
    assert len(res.files) == 1 and res.files[0].claims == 1
    assert conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 1


def test_cli_build_uses_the_ledger_code_sets(tmp_path: Path, monkeypatch, ledger_target: str) -> None:
    seen: list[object] = []

    def fake_open(ledger: str | None) -> MemoryCodeSets:
        seen.append(ledger)
        return _mue(10)

    monkeypatch.setattr(common, "open_codesets", fake_open)
    batch = _write(tmp_path / "b.json", [_office("ENC-105")])
    db = ledger_target
    r = CliRunner().invoke(
        app, ["claims", "build", str(batch), "--out", str(tmp_path / "o"), "--ledger", str(db), "--json"]
    )
    assert seen == [str(db)]
    assert '"mue-exceeded"' in r.stdout and '"claim-held"' in r.stdout
