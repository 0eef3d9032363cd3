"""The foundation: config loads, findings serialize, money formats for X12."""
from decimal import Decimal

from typer.testing import CliRunner

from coding.config import load_config
from coding.findings import Finding
from dripline.cli import app


def test_default_config_has_both_payer_profiles():
    cfg = load_config()
    assert cfg.payers["medicare"].filing_indicator == "MB"
    assert cfg.payers["commercial"].filing_indicator == "CI"
    assert cfg.payers["medicare"].separate_site_modifier == "59"
    assert cfg.price("96365") == Decimal("350.00")


def test_finding_to_dict_drops_empty_positions():
    f = Finding("error", "missing-stop-time", "no stop time", encounter_id="E1", administration_id="A2")
    assert f.to_dict() == {"severity": "error", "code": "missing-stop-time", "message": "no stop time",
                           "encounter_id": "E1", "administration_id": "A2"}


def test_cli_has_help():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Infusion billing" in result.output
