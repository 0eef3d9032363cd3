"""``claims build`` end to end: coded encounters -> validated 837 files recorded in the ledger."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coding.config import load_config
from coding.findings import Finding
from dripline.cli import app
from reconcile.claims import build as billing
from reconcile.ledger import store as L
from tests.reconcile.claims.files import control_numbers, segments

REPO = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 3, 3, 9, 30)


def _patient(pid: str) -> dict:
    return {
        "id": pid,
        "first": "JANE",
        "last": "DOE",
        "dob": "1960-05-17",
        "sex": "F",
        "member_id": f"M{pid}X",
        "address": {"line1": "12 OAK ST", "city": "SPRINGFIELD", "state": "IL", "zip": "62704"},
    }


def _office(eid: str, payer: str = "medicare", **extra) -> dict:
    return {
        "id": eid,
        "setting": "office",
        "payer": payer,
        "patient": _patient("P" + eid[-3:]),
        "diagnoses": ["K50.90"],
        "administrations": [
            {
                "id": "A1",
                "drug": "J1745",
                "ndc": "57894-030-01",
                "route": "iv_infusion",
                "start": "2026-03-02T09:00",
                "end": "2026-03-02T11:10",
                "dose": {"value": 350, "unit": "mg"},
            },
            {
                "id": "A2",
                "drug": "J2405",
                "route": "iv_push",
                "start": "2026-03-02T08:50",
                "end": "2026-03-02T08:52",
                "dose": {"value": 4, "unit": "mg"},
            },
        ],
        **extra,
    }


def _hospital(eid: str, payer: str = "commercial") -> dict:
    return {
        "id": eid,
        "setting": "hospital_outpatient",
        "payer": payer,
        "patient": _patient("H" + eid[-3:]),
        "diagnoses": ["C50.911"],
        "administrations": [
            {
                "id": "A1",
                "drug": "J9355",
                "ndc": "50242-0134-01",
                "route": "iv_infusion",
                "start": "2026-03-02T09:00",
                "end": "2026-03-02T10:30",
                "dose": {"value": 420, "unit": "mg"},
            },
            {
                "id": "A2",
                "drug": "J7050",
                "route": "iv_infusion",
                "start": "2026-03-02T10:30",
                "end": "2026-03-02T11:45",
                "dose": {"value": 500, "unit": "mL"},
            },
        ],
    }


def _write(path: Path, encounters: list[dict]) -> Path:
    path.write_text(json.dumps({"encounters": encounters}))
    return path


@pytest.fixture()
def cfg():
    return load_config()


@pytest.fixture()
def batch(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "batch1.json",
        [_office("ENC-001"), _office("ENC-002", "commercial"), _hospital("ENC-003"), _hospital("ENC-004", "medicare")],
    )


def test_build_writes_valid_private_files_and_records_them(
    tmp_path: Path, batch: Path, cfg, ledger_target: str
) -> None:
    from edi.validate.pyx12 import validate_path

    conn = L.connect(ledger_target)
    res = billing.build_claims([batch], cfg, conn, tmp_path / "out", now=NOW)
    assert not res.input_error and not res.refused
    assert sorted(f.claim_type for f in res.files) == ["837I", "837P"]
    for bf in res.files:
        p = Path(bf.path)
        assert p.name == f"{bf.claim_type}-{bf.isa13:09d}.x12"
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
        assert [f for f in validate_path(p) if f.severity == "error"] == []
        row = conn.execute("SELECT * FROM interchanges WHERE isa13 = ?", (bf.isa13,)).fetchone()
        assert row["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest() == bf.sha256
        assert row["status"] == "recorded" and row["gs06"] == bf.gs06
        segs = segments(p)
        assert int(segs[0][13]) == bf.isa13
        # two payers -> two ST sets per file
        assert sum(1 for s in segs if s[0] == "ST") == 2
        # every service line carries a REF*6R recorded in the ledger with the same code and charge
        lines = [s for s in segs if s[0] in ("SV1", "SV2")]
        refs = [s[2] for s in segs if s[0] == "REF" and s[1] == "6R"]
        assert len(refs) == len(lines) == bf.lines
        for sv, lcn in zip(lines, refs):
            db = conn.execute("SELECT code, charge FROM lines WHERE line_control_number = ?", (lcn,)).fetchone()
            code = (sv[1] if sv[0] == "SV1" else sv[2]).split(":")[1]
            assert db["code"] == code
            assert Decimal(db["charge"]) == Decimal(sv[2] if sv[0] == "SV1" else sv[3])
        # CLM02 = sum of its lines, as in the ledger
        for clm in (s for s in segs if s[0] == "CLM"):
            total = conn.execute(
                "SELECT total_charge FROM claims WHERE patient_control_number = ?", (clm[1],)
            ).fetchone()[0]
            assert Decimal(clm[2]) == Decimal(total)
        # NDCs are 11 digits with a positive CTP quantity
        for i, s in enumerate(segs):
            if s[0] == "LIN":
                assert s[2] == "N4" and re.fullmatch(r"\d{11}", s[3])
                assert segs[i + 1][0] == "CTP" and Decimal(segs[i + 1][4]) > 0
    assert conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 4
    src = conn.execute("SELECT source FROM encounters WHERE encounter_id = 'ENC-003'").fetchone()[0]
    assert json.loads(src)["setting"] == "hospital_outpatient"


def test_building_twice_never_reuses_a_control_number(tmp_path: Path, batch: Path, cfg, ledger_target: str) -> None:
    db = ledger_target
    first = billing.build_claims([batch], cfg, db, tmp_path / "out", now=NOW)
    second_in = _write(
        tmp_path / "batch2.json", [_office("ENC-011"), _hospital("ENC-013"), _office("ENC-014", "commercial")]
    )
    second = billing.build_claims([second_in], cfg, L.connect(db), tmp_path / "out", now=NOW)
    files = [Path(f.path) for f in first.files + second.files]
    assert len(files) == 4 and len({f.name for f in files}) == 4
    numbers = control_numbers(files)
    for name, values in numbers.items():
        assert len(values) == len(set(values)), f"{name} reused: {values}"
    assert len(numbers["6R"]) == L.connect(db).execute("SELECT COUNT(*) FROM lines").fetchone()[0]


def test_duplicate_encounter_refused_and_replacement_accepted(tmp_path: Path, cfg, ledger_target: str) -> None:
    db = ledger_target
    billing.build_claims([_write(tmp_path / "a.json", [_office("ENC-020")])], cfg, db, tmp_path / "out", now=NOW)
    again = billing.build_claims(
        [_write(tmp_path / "b.json", [_office("ENC-020")])], cfg, db, tmp_path / "out", now=NOW
    )
    assert again.files == [] and any(f.code == "already-sent" and f.encounter_id == "ENC-020" for f in again.findings)
    # a replacement without payer claim number: none given and none in the ledger
    no_ref = billing.build_claims(
        [_write(tmp_path / "c.json", [_office("ENC-020", frequency="7")])], cfg, db, tmp_path / "out", now=NOW
    )
    assert no_ref.files == [] and any(
        f.field == "payer_claim_number" and f.severity == "error" for f in no_ref.findings
    )
    repl = billing.build_claims(
        [_write(tmp_path / "d.json", [_office("ENC-020", frequency="7", payer_claim_number="ICN20260301")])],
        cfg,
        db,
        tmp_path / "out",
        now=NOW,
    )
    assert [f.status for f in repl.files] == ["recorded"]
    segs = segments(Path(repl.files[0].path))
    clm = next(s for s in segs if s[0] == "CLM")
    assert clm[5].split(":")[2] == "7"
    assert ["REF", "F8", "ICN20260301"] in segs
    conn = L.connect(db)
    rows = conn.execute(
        "SELECT frequency, payer_claim_number FROM claims WHERE encounter_id='ENC-020' ORDER BY id"
    ).fetchall()
    assert [tuple(r) for r in rows] == [("1", None), ("7", "ICN20260301")]


def test_screen_takes_payer_claim_number_from_ledger(tmp_path: Path, cfg, ledger_target: str) -> None:
    from dataclasses import replace as dc_replace

    db = ledger_target
    first = billing.build_claims(
        [_write(tmp_path / "a.json", [_office("ENC-021")])], cfg, db, tmp_path / "out", now=NOW
    )
    conn = L.connect(db)
    conn.execute("UPDATE claims SET payer_claim_number = 'ICN-FROM-277' WHERE encounter_id = 'ENC-021'")
    from coding.encounters.loader import load_encounters
    from coding.engine import code_encounters

    [enc], _ = load_encounters([tmp_path / "a.json"], cfg)
    [coded] = code_encounters([dc_replace(enc, frequency="8")], cfg)
    kept, findings = billing.screen_already_sent(conn, [coded])
    assert kept == [coded] and findings == []
    [orig] = code_encounters([enc], cfg)
    kept, findings = billing.screen_already_sent(conn, [orig, orig])
    assert kept == [] and [f.code for f in findings] == ["already-sent", "duplicate-encounter"]
    assert first.files


def test_refused_invalid_file_is_not_recorded(
    tmp_path: Path, batch: Path, cfg, monkeypatch, ledger_target: str
) -> None:
    def failing(path: Path, jobs: int = 1) -> list[Finding]:
        return [Finding("error", "test-error", "injected validation error", file=str(path), segment="CLM")]

    monkeypatch.setattr(billing, "validate_written", failing)
    conn = L.connect(ledger_target)
    res = billing.build_claims([batch], cfg, conn, tmp_path / "out", now=NOW)
    assert res.refused and all(f.status == "refused" for f in res.files)
    assert all(f.path.endswith(".refused") and Path(f.path).exists() for f in res.files)
    assert not list((tmp_path / "out").glob("*.x12"))
    for table in ("claims", "lines", "transactions", "encounters"):
        assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
    statuses = {r[0] for r in conn.execute("SELECT status FROM interchanges")}
    assert statuses == {"refused"}
    assert all(r[0] for r in conn.execute("SELECT sha256 FROM interchanges"))
    # the same encounters can be built (they were never sent), with fresh control numbers
    monkeypatch.undo()
    again = billing.build_claims([batch], cfg, conn, tmp_path / "out", now=NOW)
    assert not again.refused
    assert min(f.isa13 for f in again.files) > max(f.isa13 for f in res.files)
    # --allow-invalid records despite errors
    monkeypatch.setattr(billing, "validate_written", failing)
    forced = billing.build_claims(
        [_write(tmp_path / "x.json", [_office("ENC-099")])], cfg, conn, tmp_path / "out", allow_invalid=True, now=NOW
    )
    assert [f.status for f in forced.files] == ["recorded-invalid"]
    assert conn.execute("SELECT COUNT(*) FROM claims WHERE encounter_id = 'ENC-099'").fetchone()[0] == 1


def test_claim_over_50_lines_is_split_with_part_pcns(tmp_path: Path, cfg, monkeypatch, ledger_target: str) -> None:
    import dataclasses
    from datetime import timedelta

    import coding.engine
    from edi.validate.pyx12 import validate_path

    real = coding.engine.code_encounters

    def many_lines(encs, cfg, **kw):
        out = real(encs, cfg, **kw)
        for ce in out:
            base = ce.lines[0]
            ce.lines = [
                dataclasses.replace(
                    base, service_date=base.service_date + timedelta(days=i % 28), charge=Decimal("10.00") + i
                )
                for i in range(55)
            ]
        return out

    monkeypatch.setattr(coding.engine, "code_encounters", many_lines)
    res = billing.build_claims(
        [_write(tmp_path / "a.json", [_office("ENC-030")])], cfg, ledger_target, tmp_path / "out", now=NOW
    )
    assert [f.status for f in res.files] == ["recorded"]
    assert [f for f in validate_path(Path(res.files[0].path)) if f.severity == "error"] == []
    conn = L.connect(ledger_target)
    rows = conn.execute(
        "SELECT c.patient_control_number, c.encounter_id, COUNT(l.id) FROM claims c"
        " JOIN lines l ON l.claim_id = c.id GROUP BY c.id ORDER BY c.id"
    ).fetchall()
    assert [tuple(r) for r in rows] == [("ENC-030-1", "ENC-030", 50), ("ENC-030-2", "ENC-030", 5)]
    assert any(f.code == "claim-split" for f in res.findings)
    # the encounter as a whole counts as sent
    assert L.encounter_sent(conn, "ENC-030")


def test_bad_input_builds_nothing(tmp_path: Path, cfg, ledger_target: str) -> None:
    bad = _office("ENC-040")
    del bad["diagnoses"]
    res = billing.build_claims(
        [_write(tmp_path / "a.json", [bad, _office("ENC-041")])], cfg, ledger_target, tmp_path / "out", now=NOW
    )
    assert res.input_error and res.files == []
    assert any(f.encounter_id == "ENC-040" and f.severity == "error" for f in res.findings)


def test_cli_build_json_exit_codes_and_list(tmp_path: Path, batch: Path, ledger_target: str) -> None:
    runner = CliRunner()
    db = ledger_target
    r = runner.invoke(
        app, ["claims", "build", str(batch), "--out", str(tmp_path / "out"), "--ledger", str(db), "--json"]
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert {f["claim_type"] for f in data["files"]} == {"837P", "837I"}
    assert len(data["claims"]) == 4 and all(isinstance(c["charge"], str) for c in data["claims"])
    r = runner.invoke(app, ["claims", "build", str(batch), "--out", str(tmp_path / "out"), "--ledger", str(db)])
    assert r.exit_code == 1 and "already" in r.output
    bad = _write(tmp_path / "bad.json", [{"id": "ENC-X", "setting": "office"}])
    r = runner.invoke(app, ["claims", "build", str(bad), "--out", str(tmp_path / "out"), "--ledger", str(db)])
    assert r.exit_code == 2 and "ENC-X" in r.output and "Traceback" not in r.output
    r = runner.invoke(
        app, ["claims", "build", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o"), "--ledger", str(db)]
    )
    assert r.exit_code == 2
    r = runner.invoke(app, ["claims", "list", "--ledger", str(db), "--json"])
    assert r.exit_code == 0
    claims = json.loads(r.stdout)["claims"]
    assert len(claims) == 4
    for c in claims:
        assert {
            "patient_control_number",
            "payer",
            "charge",
            "paid",
            "adjusted",
            "patient_responsibility",
            "balance",
            "status",
        } <= set(c)
        assert c["status"] == "sent" and c["paid"] == "0.00" and c["balance"] == c["charge"]
    r = runner.invoke(app, ["claims", "list", "--ledger", str(tmp_path / "nodir" / "x.db")])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_ledger_env_variable_is_honoured(tmp_path: Path, batch: Path, monkeypatch, ledger_target: str) -> None:
    db = ledger_target
    monkeypatch.setenv("DRIPLINE_DB", str(db))
    r = CliRunner().invoke(app, ["claims", "build", str(batch), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert L.connect(db).execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 4


def test_concurrent_builds_never_sharecontrol_numbers(tmp_path: Path, ledger_target: str) -> None:
    db = ledger_target
    inputs = [
        _write(
            tmp_path / f"in{k}.json",
            [_office(f"ENC-{k}{i:02d}") for i in range(6)] + [_hospital(f"ENC-{k}9{i}") for i in range(3)],
        )
        for k in (5, 6)
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dripline",
                "claims",
                "build",
                str(p),
                "--out",
                str(tmp_path / f"out{k}"),
                "--ledger",
                str(db),
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=str(tmp_path),
        )
        for k, p in enumerate(inputs)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    files = sorted(tmp_path.glob("out*/*.x12"))
    assert len(files) == 4
    numbers = control_numbers(files)
    for name, values in numbers.items():
        assert len(values) == len(set(values)), f"{name} reused across concurrent builds"
    conn = L.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 18
    assert conn.execute("SELECT COUNT(DISTINCT line_control_number) FROM lines").fetchone()[0] == len(numbers["6R"])


def test_writer_failure_leaves_no_claims_and_spent_numbers(
    tmp_path: Path, batch: Path, cfg, monkeypatch, ledger_target: str
) -> None:
    import edi.x837.model

    def broken(*a, **kw):
        raise RuntimeError("writer bug")

    monkeypatch.setattr(edi.x837.model, "write_interchange", broken)
    conn = L.connect(ledger_target)
    with pytest.raises(RuntimeError):
        billing.build_claims([batch], cfg, conn, tmp_path / "out", now=NOW)
    assert [r[0] for r in conn.execute("SELECT status FROM interchanges")] == ["failed"]
    assert conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    monkeypatch.undo()
    ok = billing.build_claims([batch], cfg, conn, tmp_path / "out", now=NOW)
    assert min(f.isa13 for f in ok.files) == 2  # ISA13 1 stays spent


def test_existing_output_file_is_never_overwritten(tmp_path: Path, batch: Path, cfg, ledger_target: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "837P-000000001.x12").write_text("someone else's file")
    res = billing.build_claims([batch], cfg, ledger_target, out, now=NOW)
    assert (out / "837P-000000001.x12").read_text() == "someone else's file"
    assert any(f.code == "output-exists" for f in res.findings)


@pytest.mark.parametrize("argv", [["claims", "build", "--help"], ["claims", "list", "--help"], ["ack", "--help"]])
def test_commands_have_help(argv: list[str]) -> None:
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0 and "--ledger" in r.output and "--json" in r.output


def test_concurrent_builds_of_the_same_encounters_record_each_once(tmp_path: Path, ledger_target: str) -> None:
    db = ledger_target
    L.connect(db).close()
    src = _write(tmp_path / "same.json", [_office(f"ENC-7{i:02d}") for i in range(8)])
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dripline",
                "claims",
                "build",
                str(src),
                "--out",
                str(tmp_path / f"out{k}"),
                "--ledger",
                str(db),
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=str(tmp_path),
        )
        for k in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 1], [o[1][-2000:] for o in outs]
    conn = L.connect(db)
    per_encounter = conn.execute("SELECT encounter_id, COUNT(*) FROM claims GROUP BY encounter_id").fetchall()
    assert len(per_encounter) == 8 and all(n == 1 for _, n in per_encounter)
    recorded = [r[0] for r in conn.execute("SELECT status FROM interchanges WHERE status = 'recorded'")]
    assert len(recorded) == 1


def test_encounter_recorded_by_another_build_meanwhile_refuses_the_file(
    tmp_path: Path, cfg, monkeypatch, ledger_target: str
) -> None:
    from datetime import date as _date

    from coding.model import ServiceLine

    db = ledger_target
    real_validate = billing.validate_written

    def validate_while_another_build_records(path: Path, jobs: int = 1) -> list[Finding]:
        other = L.connect(db)  # a second process would do this between our screen and our record
        res = L.reserve_numbers(other, "837P", 1, 1)
        ln = ServiceLine(
            "96365", 1, _date(2026, 3, 2), Decimal("1"), "t", line_control_number=res.line_control_numbers[0]
        )
        claim = L.ClaimRecord("ENC-800", "ENC-800", "medicare", "00952", "837P", "1", [ln])
        L.record_interchange(
            other, res, "other.x12", "1" * 64, [L.TransactionRecord(res.st02[0], res.bht03[0], "medicare", [claim])]
        )
        return real_validate(path, jobs)

    monkeypatch.setattr(billing, "validate_written", validate_while_another_build_records)
    src = _write(tmp_path / "a.json", [_office("ENC-800"), _office("ENC-801")])
    res = billing.build_claims([src], cfg, db, tmp_path / "out", now=NOW)
    assert [f.status for f in res.files] == ["refused"]
    assert any(f.code == "file-refused" and "ENC-800" in f.message for f in res.findings)
    conn = L.connect(db)
    assert [r[0] for r in conn.execute("SELECT encounter_id FROM claims")] == ["ENC-800"]  # only the other build's


def test_bundled_fixtures_build_clean_and_nothing_is_dropped(
    tmp_path: Path, fixtures_dir: Path, cfg, ledger_target: str
) -> None:
    from edi.validate.pyx12 import validate_path

    inputs = sorted(fixtures_dir.glob("*encounters*.json"))
    if not inputs:
        pytest.skip("no encounter fixtures bundled")
    res = billing.build_claims(inputs, cfg, ledger_target, tmp_path / "out", now=NOW)
    assert not res.input_error and not res.refused
    for bf in res.files:
        assert [f for f in validate_path(Path(bf.path)) if f.severity == "error"] == [], bf.path
    ids = [e["id"] for p in inputs for e in json.loads(p.read_text())["encounters"]]
    recorded = {c["encounter_id"] for c in res.claims if c["recorded"]}
    explained = {f.encounter_id for f in res.findings if f.severity == "error"}
    assert set(ids) <= recorded | explained  # every encounter is billed or has an error saying why
    assert len(recorded) >= 25
