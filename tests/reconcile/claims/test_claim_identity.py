"""Claim identity: a CLM01 names exactly one claim (encounter and part) in the whole ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from coding.config import load_config
from reconcile.claims import build as billing
from reconcile.claims.correct import correct_claim
from reconcile.ledger import store as L
from reconcile.ledger.db import IntegrityError
from tests.reconcile.claims.files import segments
from tests.reconcile.claims.test_build import _office, _write

NOW = datetime(2026, 3, 3, 9, 30)


@pytest.fixture()
def cfg():
    return load_config()


def _claims(conn) -> list[tuple[str, str]]:
    return [tuple(r) for r in conn.execute("SELECT patient_control_number, encounter_id FROM claims ORDER BY id")]


def _assert_pcns_name_one_identity(conn) -> None:
    rows = conn.execute("SELECT patient_control_number, encounter_id, part FROM claims").fetchall()
    owner: dict[str, tuple[str, int]] = {}
    for pcn, enc, part in rows:
        assert owner.setdefault(pcn, (enc, part)) == (enc, part), f"{pcn} names two claims"


def test_part_of_a_split_claim_never_takes_another_encounters_id_in_one_run(
    tmp_path: Path, cfg, long_claims, ledger_target: str
) -> None:
    long_claims.add("ENC-050")
    batch = _write(tmp_path / "a.json", [_office("ENC-050"), _office("ENC-050-1")])
    res = billing.build_claims([batch], cfg, ledger_target, tmp_path / "out", now=NOW)
    conn = L.connect(ledger_target)
    _assert_pcns_name_one_identity(conn)
    assert ("ENC-050-1", "ENC-050-1") in _claims(conn)  # a real encounter keeps its id as CLM01
    assert {e for _, e in _claims(conn)} == {"ENC-050", "ENC-050-1"}
    assert any(f.code == "pcn-renumbered" and f.encounter_id == "ENC-050" for f in res.findings)
    clm01 = [s[1] for f in res.files for s in segments(Path(f.path)) if s[0] == "CLM"]
    assert len(clm01) == len(set(clm01)) == 3


def test_truncated_part_ids_of_two_long_encounters_do_not_collide(
    tmp_path: Path, cfg, long_claims, ledger_target: str
) -> None:
    a, b = "X" * 19 + "A", "X" * 19 + "B"
    long_claims.update({a, b})
    res = billing.build_claims(
        [_write(tmp_path / "a.json", [_office(a), _office(b)])], cfg, ledger_target, tmp_path / "out", now=NOW
    )
    conn = L.connect(ledger_target)
    _assert_pcns_name_one_identity(conn)
    assert len(_claims(conn)) == 4 and len({p for p, _ in _claims(conn)}) == 4
    assert all(len(p) <= 20 for p, _ in _claims(conn))
    assert not res.refused_anything


def test_part_id_already_in_the_ledger_for_another_encounter_is_renumbered(
    tmp_path: Path, cfg, long_claims, ledger_target: str
) -> None:
    db = ledger_target
    billing.build_claims([_write(tmp_path / "a.json", [_office("ENC-060-2")])], cfg, db, tmp_path / "out", now=NOW)
    long_claims.add("ENC-060")
    res = billing.build_claims([_write(tmp_path / "b.json", [_office("ENC-060")])], cfg, db, tmp_path / "out", now=NOW)
    conn = L.connect(db)
    _assert_pcns_name_one_identity(conn)
    assert [c for c in _claims(conn) if c[1] == "ENC-060"] and not res.refused_anything


def test_part_id_that_is_a_split_encounters_id_in_the_ledger_is_renumbered(
    tmp_path: Path, cfg, long_claims, ledger_target: str
) -> None:
    """ENC-065-1 was sent split (as ENC-065-1-1, -2): its id stays reserved for it, not for part 1 of ENC-065."""
    db = ledger_target
    long_claims.update({"ENC-065-1", "ENC-065"})
    billing.build_claims([_write(tmp_path / "a.json", [_office("ENC-065-1")])], cfg, db, tmp_path / "out", now=NOW)
    res = billing.build_claims([_write(tmp_path / "b.json", [_office("ENC-065")])], cfg, db, tmp_path / "out", now=NOW)
    conn = L.connect(db)
    _assert_pcns_name_one_identity(conn)
    assert "ENC-065-1" not in {p for p, _ in _claims(conn)}
    assert any(f.code == "pcn-renumbered" for f in res.findings) and not res.refused_anything


def test_encounter_whose_id_is_an_earlier_part_is_held_with_a_finding(
    tmp_path: Path, cfg, long_claims, ledger_target: str
) -> None:
    db = ledger_target
    long_claims.add("ENC-070")
    billing.build_claims([_write(tmp_path / "a.json", [_office("ENC-070")])], cfg, db, tmp_path / "out", now=NOW)
    res = billing.build_claims(
        [_write(tmp_path / "b.json", [_office("ENC-070-1"), _office("ENC-071")])], cfg, db, tmp_path / "out", now=NOW
    )
    conn = L.connect(db)
    _assert_pcns_name_one_identity(conn)
    assert any(f.code == "pcn-in-use" and f.encounter_id == "ENC-070-1" and f.is_error for f in res.findings)
    assert "ENC-070-1" not in {e for _, e in _claims(conn)}
    assert "ENC-071" in {e for _, e in _claims(conn)}  # one held claim does not take the file down
    assert res.refused_anything


def test_ledger_refuses_a_pcn_owned_by_another_claim(tmp_path: Path, cfg, ledger_target: str) -> None:
    db = ledger_target
    billing.build_claims([_write(tmp_path / "a.json", [_office("ENC-080")])], cfg, db, tmp_path / "out", now=NOW)
    conn = L.connect(db)
    res = L.reserve_numbers(conn, "837P", 1, 1, NOW)
    from coding.model import ServiceLine

    sl = ServiceLine("96365", 1, NOW.date(), Decimal("1"), "test", line_control_number=res.line_control_numbers[0])
    claim = L.ClaimRecord("ENC-080", "ENC-999", "medicare", "X", "837P", "1", [sl])
    tx = L.TransactionRecord(res.st02[0], res.bht03[0], "medicare", [claim])
    with pytest.raises(L.PcnConflictError):
        L.record_interchange(conn, res, "x.x12", "0" * 64, [tx])
    assert len(_claims(conn)) == 1
    status = conn.execute("SELECT status FROM interchanges WHERE id = ?", (res.interchange_id,)).fetchone()[0]
    assert status == "reserved"
    # the schema itself refuses it too, whatever writes the row
    with pytest.raises(IntegrityError, match="patient control number"):
        conn.execute(
            "INSERT INTO claims (patient_control_number, encounter_id, payer, payer_id, claim_type, frequency,"
            " total_charge, status, transaction_id, created_at, updated_at, part) SELECT patient_control_number,"
            " 'ENC-999', payer, payer_id, claim_type, frequency, total_charge, status, transaction_id,"
            " created_at, updated_at, part FROM claims LIMIT 1"
        )


def test_correcting_one_part_sends_only_that_part_with_its_own_payer_claim_number(
    tmp_path: Path, cfg, long_claims, ledger_target: str
) -> None:
    db = ledger_target
    long_claims.add("ENC-090")
    billing.build_claims([_write(tmp_path / "a.json", [_office("ENC-090")])], cfg, db, tmp_path / "out", now=NOW)
    conn = L.connect(db)
    conn.execute("UPDATE claims SET payer_claim_number = 'ICN-P1' WHERE patient_control_number = 'ENC-090-1'")
    conn.execute("UPDATE claims SET payer_claim_number = 'ICN-P2' WHERE patient_control_number = 'ENC-090-2'")
    res = correct_claim(conn, "ENC-090-2", cfg, tmp_path / "corr", now=NOW)
    assert [f.status for f in res.files] == ["recorded"], res.findings
    segs = segments(Path(res.files[0].path))
    clms = [s for s in segs if s[0] == "CLM"]
    assert [c[1] for c in clms] == ["ENC-090-2"] and clms[0][5].endswith(":7")
    assert [s[2] for s in segs if s[0] == "REF" and s[1] == "F8"] == ["ICN-P2"]
    assert sum(1 for s in segs if s[0] == "LX") == 5  # the lines of part 2, not the whole encounter
    rows = conn.execute(
        "SELECT patient_control_number, frequency, payer_claim_number FROM claims WHERE frequency = '7'"
    ).fetchall()
    assert [tuple(r) for r in rows] == [("ENC-090-2", "7", "ICN-P2")]
    _assert_pcns_name_one_identity(conn)
