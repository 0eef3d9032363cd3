"""Home infusion through the rest of the pipeline: 837P written from the home fixtures validates
with pyx12 with zero errors, is recorded in the ledger, and the ledger then drives the 60-day rule."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from coding.config import load_config
from coding.encounters.loader import load_encounters
from coding.engine import code_encounters
from reconcile.ledger.history import hit_history_from_ledger

CFG = load_config()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def built(request, tmp_path_factory, fixtures_dir):
    """One build of the home fixtures per backend, shared by this module's tests."""
    from reconcile.claims.build import build_claims

    out = tmp_path_factory.mktemp("home837")
    db = str(out / "ledger.db")
    if request.param == "postgresql":
        from tests.pgserver import database_name

        server = request.getfixturevalue("pg_server")
        db = server.create_database(template=request.getfixturevalue("pg_ledger_template"))
        request.addfinalizer(lambda: server.drop_database(database_name(db)))
    result = build_claims([fixtures_dir / "home_encounters.json"], CFG, db, out, now=datetime(2026, 4, 1, 12, 0))
    return result, out, db


def test_home_fixtures_build_valid_837p_and_are_recorded(built):
    from edi.validate.pyx12 import validate_file

    result, _out, _ = built
    assert not result.input_error and not result.refused
    assert result.files and all(f.claim_type == "837P" for f in result.files)
    for f in result.files:
        assert f.status == "recorded" and f.errors == 0
        errors = [x for x in validate_file(f.path) if x.severity == "error"]
        assert errors == []
    recorded = {c["patient_control_number"] for c in result.claims if c["recorded"]}
    assert recorded == {"HOME-001", "HOME-002", "HOME-003", "HOME-004", "HOME-005", "HOME-007"}
    # the Medicare claim that would only have had S-codes, nursing and a drug is left out, with reasons
    home6 = {x.code for x in result.findings if x.encounter_id == "HOME-006"}
    assert {"medicare-per-diem-not-billed", "hit-not-pump", "no-billable-home-lines"} <= home6


def test_home_837p_carries_pos_and_home_codes(built):
    _, out, _ = built
    text = "".join(p.read_text() for p in sorted(out.glob("837P-*.x12")))
    segs = [s.strip() for s in text.split("~")]
    clm = {s.split("*")[1]: s for s in segs if s.startswith("CLM*")}
    assert clm["HOME-001"].split("*")[5].startswith("12:B:")
    assert clm["HOME-004"].split("*")[5].startswith("49:B:")
    sv1 = [s for s in segs if s.startswith("SV1*")]
    assert any(s.startswith("SV1*HC:S9500*") and s.split("*")[4] == "14" for s in sv1)
    assert any(s.startswith("SV1*HC:S9501:SH*") or s.startswith("SV1*HC:S9374:SH*") for s in sv1)
    assert any(s.startswith("SV1*HC:G0088*") for s in sv1)
    assert not any(s.startswith("SV1*HC:J1250") for s in sv1)  # Medicare HIT drug goes to DME


def _follow_up(first_day: date):
    """Another course for the patient of HOME-005 (HP-2001), last HIT day 2026-03-16 in the ledger."""
    raw = json.loads((Path(__file__).resolve().parents[3] / "fixtures" / "home_encounters.json").read_text())
    enc = next(e for e in raw["encounters"] if e["id"] == "HOME-005")
    enc = json.loads(json.dumps(enc))
    enc["id"] = "HOME-005B"
    t = enc["therapies"][0]
    t["start_date"] = first_day.isoformat()
    t["end_date"] = (first_day + timedelta(days=13)).isoformat()
    enc["nursing_visits"] = [
        {
            "start": f"{(first_day + timedelta(days=k)).isoformat()}T10:00",
            "end": f"{(first_day + timedelta(days=k)).isoformat()}T11:00",
        }
        for k in (0, 7)
    ]
    return enc


def test_60_day_rule_from_the_ledger_after_a_real_build(built, tmp_path):
    _, _, db = built
    history = hit_history_from_ledger(db)
    assert history("HP-2001") == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    for first_day, expected in (
        (date(2026, 5, 15), ["G0068", "G0068"]),  # 60 days after 03-16
        (date(2026, 5, 16), ["G0088", "G0068"]),
    ):  # 61 days after
        src = tmp_path / f"follow-{first_day.isoformat()}.json"
        src.write_text(json.dumps({"encounters": [_follow_up(first_day)]}))
        encs, findings = load_encounters([src], CFG)
        assert not [f for f in findings if f.severity == "error"], findings
        (coded,) = code_encounters(encs, CFG, hit_history=history)
        assert [ln.code for ln in coded.lines] == expected
