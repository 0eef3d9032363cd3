"""``claims build`` exit status: 0 everything recorded, 1 something not billed or refused, 2 unreadable input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dripline.cli import app
from tests.reconcile.claims.test_build import _office, _write


def _build(tmp_path: Path, ledger: str, encounters: list[dict]) -> tuple[int, dict]:
    batch = _write(tmp_path / "batch.json", encounters)
    res = CliRunner().invoke(
        app,
        ["claims", "build", str(batch), "--out", str(tmp_path / "out"), "--ledger", ledger, "--json"],
    )
    return res.exit_code, json.loads(res.stdout)


def _patient_with(eid: str, **fields: str) -> dict:
    enc = _office(eid)
    enc["patient"] = {**enc["patient"], **fields}
    return enc


def _city(eid: str, city: str) -> dict:
    enc = _office(eid)
    enc["patient"]["address"] = {**enc["patient"]["address"], "city": city}
    return enc


@pytest.mark.parametrize(
    ("why", "held"),
    [
        ("last name has nothing usable for X12", _patient_with("ENC-101", last="~*:^")),
        ("member id has nothing usable for X12", _patient_with("ENC-101", member_id="**")),
        ("city has nothing usable for X12", _city("ENC-101", "~~")),
    ],
)
def test_an_encounter_not_billed_makes_the_build_exit_1(
    tmp_path: Path, ledger_target: str, why: str, held: dict
) -> None:
    code, out = _build(tmp_path, ledger_target, [_office("ENC-100"), held])
    assert code == 1, why
    assert [c["encounter_id"] for c in out["claims"] if c["recorded"]] == ["ENC-100"], why
    assert out["not_billed"] == ["ENC-101"] and out["refused"] is True


def test_everything_recorded_exits_0(tmp_path: Path, ledger_target: str) -> None:
    code, out = _build(tmp_path, ledger_target, [_office("ENC-110"), _office("ENC-111")])
    assert code == 0 and out["not_billed"] == [] and out["refused"] is False
