"""``dripline validate`` scrubs an 837's lines with the loaded code sets: findings point at the
line's SV1/SV2 segment; without sets nothing changes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from coding.codesets.memory import MemoryCodeSets
from coding.config import load_config
from dripline import common
from dripline.cli import app
from edi.validate.files import validate_any
from edi.x837.model import EnvelopeNumbers, plan_interchanges, write_interchange
from tests.edi.x837.factory import NOW, assign_lcns, encounter, line

Q1 = (date(2026, 1, 1), date(2026, 3, 31))


def _file(tmp_path: Path, setting: str, lines) -> Path:
    cfg = load_config()
    coded = [encounter("ENC-S-1", setting=setting, lines=lines)]
    assign_lcns(coded)
    plans, findings = plan_interchanges(coded, cfg)
    assert plans, findings
    p = tmp_path / "c.x12"
    p.write_bytes(write_interchange(plans[0], cfg, EnvelopeNumbers(1, 1, [1], ["V"]), NOW))
    return p


def _ptp(kind: str, indicator: str = "1") -> MemoryCodeSets:
    ms = MemoryCodeSets()
    ms.add(kind, *Q1, "PTP 2026Q1", [("96365", "96360", date(2020, 1, 1), None, indicator)], "ccipra-v321r0-f1.TXT")
    return ms


def test_validate_finds_a_ptp_conflict_in_an_837p(tmp_path: Path) -> None:
    p = _file(tmp_path, "office", [line("96365", "350.00"), line("96360", "150.00")])
    assert not [f for f in validate_any(p).findings if f.code == "ptp-conflict"]
    rep = validate_any(p, codesets=_ptp("ptp-practitioner"))
    found = [f for f in rep.findings if f.code == "ptp-conflict"]
    assert len(found) == 1 and rep.status == "invalid"
    f = found[0]
    assert (f.segment, f.loop, f.file, f.encounter_id) == ("SV1", "2400", str(p), "ENC-S-1")
    assert f.segment_number and "96360 is bundled into 96365" in f.message
    # the hospital table does not edit a professional claim
    assert not [f for f in validate_any(p, codesets=_ptp("ptp-hospital")).findings if f.code == "ptp-conflict"]


def test_a_bypass_modifier_in_the_file_clears_an_indicator_1_edit(tmp_path: Path) -> None:
    p = _file(tmp_path, "office", [line("96365", "350.00"), line("96360", "150.00", 1, ("59",))])
    assert not [f for f in validate_any(p, codesets=_ptp("ptp-practitioner")).findings if f.code == "ptp-conflict"]
    assert [
        f.code for f in validate_any(p, codesets=_ptp("ptp-practitioner", "0")).findings if f.code == "ptp-conflict"
    ] == ["ptp-conflict"]


def test_validate_cli_ledger_option_scrubs(tmp_path: Path, monkeypatch) -> None:
    p = _file(tmp_path, "office", [line("96365", "350.00"), line("96360", "150.00")])
    runner = CliRunner()
    r = runner.invoke(app, ["validate", str(p), "--json"])
    assert r.exit_code == 0, r.stdout
    monkeypatch.setattr(common, "open_codesets", lambda ledger: _ptp("ptp-practitioner"))
    r = runner.invoke(app, ["validate", str(p), "--ledger", str(tmp_path / "l.db"), "--json"])
    assert r.exit_code == 1 and '"ptp-conflict"' in r.stdout
