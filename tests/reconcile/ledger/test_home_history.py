"""The 60-day HIT rule with a real ledger (SQLite and PostgreSQL) holding an earlier HIT claim (reconcile.ledger.history)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

from coding.config import load_config
from coding.home.lines import home_lines
from coding.model import Address, Encounter, NursingVisit, Patient, Quantity, ServiceLine, Therapy
from reconcile.ledger import store as L
from reconcile.ledger.history import hit_history_from_ledger, hit_service_dates

CFG = load_config()
MEDICARE = CFG.payers["medicare"]
PAT = Patient(
    id="PAT-HIST",
    first="A",
    last="B",
    dob=date(1940, 5, 6),
    sex="M",
    member_id="1EG4TE5MK73",
    address=Address("1 ELM ST", "SPRINGFIELD", "IL", "62701"),
)


def _record(conn, enc_id, patient_id, lines, frequency="1", status=None, **extra):
    res = L.reserve_numbers(conn, "837P", 1, len(lines))
    for ln, lcn in zip(lines, res.line_control_numbers):
        ln.line_control_number = lcn
    claim = L.ClaimRecord(
        patient_control_number=enc_id,
        encounter_id=enc_id,
        payer="medicare",
        payer_id="00952",
        claim_type="837P",
        frequency=frequency,
        lines=lines,
        payer_claim_number="PCN1" if frequency in ("7", "8") else None,
        source={"id": enc_id, "setting": "home", "patient": {"id": patient_id}, **extra},
    )
    tx = L.TransactionRecord(st02=res.st02[0], bht03=res.bht03[0], payer="medicare", claims=[claim])
    ids = L.record_interchange(conn, res, f"/tmp/{enc_id}.x12", "0" * 64, [tx])
    if status:
        with L.transaction(conn):
            L.set_claim_status(conn, ids[0], status, "test")
    return ids[0]


def _g(code, day):
    return ServiceLine(code=code, units=1, service_date=day, charge=Decimal("190"), rationale="test")


def _encounter(first_day):
    t = Therapy(
        id="T1",
        category="anti_infective",
        start_date=first_day,
        end_date=first_day + timedelta(days=20),
        drug="J0133",
        dose=Quantity(Decimal(500), "mg"),
        schedule="q8h",
        pump=True,
    )
    visits = tuple(
        NursingVisit(datetime(d.year, d.month, d.day, 9), datetime(d.year, d.month, d.day, 10))
        for d in (first_day, first_day + timedelta(days=7), first_day + timedelta(days=14))
    )
    return Encounter(
        id="HOME-NEW",
        setting="home",
        payer="medicare",
        patient=PAT,
        diagnoses=("B259",),
        therapies=(t,),
        nursing_visits=visits,
    )


def test_60_day_rule_with_ledger_history(ledger_target):
    db = ledger_target
    conn = L.connect(db)
    # an earlier HIT claim for this patient: last G-code on 2026-02-10
    _record(
        conn,
        "HOME-OLD",
        "PAT-HIST",
        [
            _g("G0088", date(2026, 2, 3)),
            _g("G0068", date(2026, 2, 10)),
            ServiceLine(code="99601", units=1, service_date=date(2026, 3, 1), charge=Decimal(1), rationale="x"),
        ],
    )
    # another patient's HIT claim, a rejected claim and a voided encounter: none of them count
    _record(conn, "HOME-OTHER", "PAT-OTHER", [_g("G0088", date(2026, 3, 1))])
    _record(conn, "HOME-REJ", "PAT-HIST", [_g("G0088", date(2026, 3, 3))], status="rejected")
    _record(conn, "HOME-VOID", "PAT-HIST", [_g("G0088", date(2026, 3, 4))])
    _record(conn, "HOME-VOID", "PAT-HIST", [_g("G0088", date(2026, 3, 4))], frequency="8")
    assert hit_service_dates(conn, "PAT-HIST") == [date(2026, 2, 3), date(2026, 2, 10)]
    conn.close()

    history = hit_history_from_ledger(db)
    assert history("PAT-HIST") == [date(2026, 2, 3), date(2026, 2, 10)]
    assert history("NOBODY") == []

    # 2026-04-01 is 50 days after 2026-02-10: within 60 days -> every visit day is subsequent
    lines, _findings = home_lines(_encounter(date(2026, 4, 1)), CFG, MEDICARE, hit_history=history)
    assert [(ln.code, ln.service_date) for ln in lines] == [
        ("G0068", date(2026, 4, 1)),
        ("G0068", date(2026, 4, 8)),
        ("G0068", date(2026, 4, 15)),
    ]
    assert "ledger history" in lines[0].rationale and "2026-02-10" in lines[0].rationale

    # 2026-04-12 is 61 days after 2026-02-10: initial again, then subsequent
    lines, _ = home_lines(_encounter(date(2026, 4, 12)), CFG, MEDICARE, hit_history=history)
    assert [ln.code for ln in lines] == ["G0088", "G0068", "G0068"]


def test_missing_ledger_has_no_history(tmp_path):
    """SQLite only: an absent ledger file is not created by asking for history."""
    history = hit_history_from_ledger(tmp_path / "absent.db")
    assert history("PAT-HIST") == []
    assert not (tmp_path / "absent.db").exists()


def test_replacement_claim_does_not_see_itself_as_history(ledger_target):
    """Re-coding an encounter whose claim is already in the ledger: its own days are not earlier."""
    conn = L.connect(ledger_target)
    first = date(2026, 5, 4)
    _record(
        conn,
        "HOME-NEW",
        "PAT-HIST",
        [_g("G0088", first), _g("G0068", first + timedelta(days=7)), _g("G0068", first + timedelta(days=14))],
    )
    lines, _ = home_lines(_encounter(first), CFG, MEDICARE, hit_history=hit_history_from_ledger(conn))
    assert [ln.code for ln in lines] == ["G0088", "G0068", "G0068"]


def test_an_unvalidated_field_holding_nul_does_not_break_the_history(ledger_target):
    """A stored encounter keeps fields the loader does not read, as received; a NUL in one (JSON
    ``\\u0000``, which PostgreSQL's JSON functions refuse) leaves every patient's history readable."""
    conn = L.connect(ledger_target)
    _record(conn, "HOME-NUL", "PAT-NUL", [_g("G0088", date(2026, 2, 3))], note="scanned\x00form", tags=["\\u0000"])
    _record(conn, "HOME-OK", "PAT-HIST", [_g("G0088", date(2026, 2, 4))])
    assert hit_service_dates(conn, "PAT-NUL") == [date(2026, 2, 3)]
    assert hit_service_dates(conn, "PAT-HIST") == [date(2026, 2, 4)]
    assert hit_history_from_ledger(conn)("PAT-NUL") == [date(2026, 2, 3)]
    source = conn.execute("SELECT source FROM encounters WHERE encounter_id = 'HOME-NUL'").fetchone()[0]
    assert json.loads(source)["note"] == "scanned\x00form"  # stored as received
    conn.close()
