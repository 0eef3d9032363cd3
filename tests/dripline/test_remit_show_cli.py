"""`dripline remit show`: JSON shape, CSV rows, summary line, clean errors."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dripline.cli import app
from tests.edi.x835.test_cases import REVERSAL_PAIR, interchange, st_set, text

runner = CliRunner()


@pytest.fixture()
def remit_file(tmp_path: Path) -> Path:
    body = [
        *REVERSAL_PAIR,
        "CLP*ENC2*4*80*0**12*PAYER333*11*1",
        "CAS*CO*16*80",
        "MOA***M119",
        "CLP*ENC3*1*120*100*20*12*PAYER444*11*7",
        "SVC*N4:00002775001:JW*120*100**3",
        "DTM*472*20260107",
        "CAS*PR*2*20*1",
        "REF*6R*L0003",
        "LQ*HE*N519",
        "PLB*1234567893*20261231*WO:PAYER111*15*L6*-1.25",
    ]
    p = tmp_path / "era.835"
    p.write_text(text(interchange([st_set(body, "106.25")])))
    return p


def test_json_shape(remit_file: Path) -> None:
    res = runner.invoke(app, ["remit", "show", str(remit_file), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data) == {"remittances", "findings"} and data["findings"] == []
    (r,) = data["remittances"]
    assert r["payer"] == "ACME HEALTH" and r["payee"] == "CLINIC"
    assert r["payment"] == {"amount": "106.25", "method": "ACH", "date": "2026-01-15", "trace": "TRACE001"}
    assert [c["patient_control_number"] for c in r["claims"]] == ["ENC1", "ENC1", "ENC2", "ENC3"]
    rev, corr, denied, drug = r["claims"]
    assert {k: rev[k] for k in ("status", "charge", "paid", "payer_claim_number", "frequency")} == {
        "status": "22",
        "charge": "-200.00",
        "paid": "-150.00",
        "payer_claim_number": "PAYER111",
        "frequency": "1",
    }
    assert corr["patient_responsibility"] == "10.00" and denied["lines"] == []
    assert denied["adjustments"] == [{"group": "CO", "reason": "16", "amount": "80.00", "quantity": None}]
    (ln,) = drug["lines"]
    assert {
        k: ln[k]
        for k in ("code", "modifiers", "charge", "paid", "units", "line_control_number", "service_date", "remarks")
    } == {
        "code": "00002775001",
        "modifiers": ["JW"],
        "charge": "120.00",
        "paid": "100.00",
        "units": "3",
        "line_control_number": "L0003",
        "service_date": "2026-01-07",
        "remarks": ["N519"],
    }
    assert ln["adjustments"] == [{"group": "PR", "reason": "2", "amount": "20.00", "quantity": "1"}]
    assert r["provider_adjustments"] == [
        {
            "provider": "1234567893",
            "fiscal_period_date": "2026-12-31",
            "reason": "WO",
            "reference": "PAYER111",
            "amount": "15.00",
        },
        {
            "provider": "1234567893",
            "fiscal_period_date": "2026-12-31",
            "reason": "L6",
            "reference": None,
            "amount": "-1.25",
        },
    ]
    paid = sum(Decimal(c["paid"]) for c in r["claims"]) - sum(Decimal(a["amount"]) for a in r["provider_adjustments"])
    assert paid == Decimal(r["payment"]["amount"])


def test_json_findings_from_several_files(remit_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.835"
    bad.write_text(text(interchange([st_set(["CLP*ENC9*1*100*90**12*P9"], "90")])))
    res = runner.invoke(app, ["remit", "show", str(remit_file), str(bad), "--json"])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert len(data["remittances"]) == 2
    (f,) = data["findings"]
    assert f["code"] == "claim-out-of-balance" and f["file"] == str(bad) and f["element"] == "CLP04"
    assert f["segment_number"] == 14 and f["loop"] == "2100"


def test_csv_one_row_per_line_and_claims_without_lines(remit_file: Path) -> None:
    res = runner.invoke(app, ["remit", "show", str(remit_file), "--csv"])
    assert res.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [(r["patient_control_number"], r["claim_status"], r["code"]) for r in rows] == [
        ("ENC1", "22", "96413"),
        ("ENC1", "1", "96413"),
        ("ENC2", "4", ""),
        ("ENC3", "1", "00002775001"),
    ]
    assert rows[2]["claim_adjustments"] == "CO-16:80.00" and rows[3]["line_control_number"] == "L0003"
    assert rows[0]["payer"] == "ACME HEALTH" and rows[0]["trace"] == "TRACE001"


def test_summary_line(remit_file: Path) -> None:
    res = runner.invoke(app, ["remit", "show", str(remit_file), "--summary"])
    assert res.exit_code == 0
    (line,) = res.stdout.strip().splitlines()
    for part in (
        "ACME HEALTH",
        "TRACE001",
        "106.25",
        "2026-01-15",
        "4 claims",
        "3 lines",
        "120.00",
        "13.75",
        "balanced",
    ):
        assert part in line
    res = runner.invoke(app, ["remit", "show", str(remit_file), "--summary", "--json"])
    (s,) = json.loads(res.stdout)["remittances"]
    assert (s["claims"], s["lines"], s["total_paid"], s["plb_total"], s["balancing_findings"]) == (
        4,
        3,
        "120.00",
        "13.75",
        0,
    )


def test_readable_table(remit_file: Path) -> None:
    res = runner.invoke(app, ["remit", "show", str(remit_file)])
    assert res.exit_code == 0 and "ENC3" in res.stdout and "WO" in res.stdout


@pytest.mark.parametrize("content", [None, "hello, not X12", "ISA*00*  *00*"])
def test_unreadable_or_not_835_exits_2_naming_the_file(tmp_path: Path, content: str | None) -> None:
    p = tmp_path / "x.835"
    if content is not None:
        p.write_text(content)
    res = runner.invoke(app, ["remit", "show", str(p), "--json"])
    assert res.exit_code == 2
    assert "x.835" in res.output and "Traceback" not in res.output


def test_837_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "claims.837"
    p.write_text(
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *260101*1200*^*00501*"
        "000000001*0*P*:~GS*HC*A*B*20260101*1200*1*X*005010X222A1~ST*837*0001~SE*2*0001~GE*1*1~IEA*1*000000001~"
    )
    res = runner.invoke(app, ["remit", "show", str(p)])
    assert res.exit_code == 2 and "837" in res.output


def test_help() -> None:
    res = runner.invoke(app, ["remit", "show", "--help"])
    assert res.exit_code == 0 and "--summary" in res.output and "--csv" in res.output
