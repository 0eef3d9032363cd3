"""Applying 999 and 277CA acknowledgments to the ledger (and ``dripline ack``)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coding.model import ServiceLine
from dripline.cli import app
from reconcile.claims.acks import apply_ack_file, claim_status_for
from reconcile.ledger import store as L
from reconcile.ledger.db import Connection
from tests.reconcile.acks_x12 import ISA, write_277ca


def _sent(conn: Connection, sets: list[list[tuple[str, str]]]) -> L.Reservation:
    """Record one interchange whose sets hold claims given as (pcn, charge)."""
    n_lines = sum(len(s) for s in sets)
    res = L.reserve_numbers(conn, "837P", len(sets), n_lines)
    lcn = iter(res.line_control_numbers)
    txs = []
    for st02, bht, claims in zip(res.st02, res.bht03, sets):
        recs = [
            L.ClaimRecord(
                pcn,
                pcn,
                "medicare",
                "00952",
                "837P",
                "1",
                [ServiceLine("96365", 1, date(2026, 3, 2), Decimal(charge), "t", line_control_number=next(lcn))],
                source={"id": pcn},
            )
            for pcn, charge in claims
        ]
        txs.append(L.TransactionRecord(st02, bht, "medicare", recs))
    L.record_interchange(conn, res, "/tmp/f.x12", "cd" * 32, txs)
    return res


def _status(conn: Connection, pcn: str) -> str:
    return conn.execute(
        "SELECT status FROM claims WHERE patient_control_number = ? ORDER BY id DESC", (pcn,)
    ).fetchone()[0]


def _999(gs06: int, sets: list[tuple[int, str]], ak9: str, errors: str = "", n: int = 1) -> str:
    body = "".join(
        f"AK2*837*{st02:04d}*005010X222A1~" + (errors if code == "R" else "") + f"IK5*{code}~" for st02, code in sets
    )
    segs = 2 + body.count("~") + 2
    return (
        ISA.format(n=n) + f"GS*FA*CLEARHOUSE01*DRIPLINE01*20260301*1200*{n}*X*005010X231A1~"
        f"ST*999*0001*005010X231A1~AK1*HC*{gs06}*005010X222A1~{body}AK9*{ak9}*{len(sets)}*{len(sets)}*1~"
        f"SE*{segs}*0001~GE*1*{n}~IEA*1*{n:09d}~"
    )


@pytest.fixture()
def conn(ledger_target: str) -> Connection:
    return L.connect(ledger_target)


def test_999_accepts_and_rejects_sets_by_gs06_and_st02(conn: Connection, tmp_path: Path) -> None:
    res = _sent(conn, [[("ENC-A", "100")], [("ENC-B", "200"), ("ENC-C", "50")]])
    errors = "IK3*CLM*22*2300*8~CTX*CLM01:ENC-B~IK4*2*782*1~"
    f = tmp_path / "a.999"
    f.write_text(_999(res.gs06, [(res.st02[0], "A"), (res.st02[1], "R")], "P", errors))
    out = apply_ack_file(conn, f)
    assert out.kind == "999" and not out.unknown
    assert [_status(conn, p) for p in ("ENC-A", "ENC-B", "ENC-C")] == ["accepted", "rejected", "rejected"]
    detail = json.loads(
        conn.execute("SELECT status_detail FROM claims WHERE patient_control_number='ENC-B'").fetchone()[0]
    )
    assert detail["errors"][0]["segment_id"] == "CLM" and detail["errors"][0]["claim"] == "ENC-B"
    assert (
        conn.execute("SELECT status FROM interchanges WHERE id = ?", (res.interchange_id,)).fetchone()[0] == "partial"
    )
    # a rejected encounter may be built again as an original
    assert not L.encounter_sent(conn, "ENC-B") and L.encounter_sent(conn, "ENC-A")


def test_999_group_verdict_applies_to_unlisted_sets(conn: Connection, tmp_path: Path) -> None:
    res = _sent(conn, [[("ENC-D", "10")], [("ENC-E", "20")]])
    f = tmp_path / "g.999"
    f.write_text(_999(res.gs06, [], "R"))
    apply_ack_file(conn, f)
    assert _status(conn, "ENC-D") == _status(conn, "ENC-E") == "rejected"


def test_999_unknown_group_and_set_are_reported(conn: Connection, tmp_path: Path) -> None:
    res = _sent(conn, [[("ENC-F", "10")]])
    f = tmp_path / "u.999"
    f.write_text(_999(res.gs06 + 500, [(1, "A")], "A", n=2))
    out = apply_ack_file(conn, f)
    assert out.unknown == [{"group_control_number": str(res.gs06 + 500), "functional_id": "HC"}]
    assert any(x.code == "ack-unknown-group" for x in out.findings)
    g = tmp_path / "s.999"
    g.write_text(_999(res.gs06, [(res.st02[0], "A"), (9999, "R")], "P", n=3))
    out = apply_ack_file(conn, g)
    assert any(x.code == "ack-unknown-set" for x in out.findings)
    assert out.unknown[0]["set_control_number"] == "9999"
    assert _status(conn, "ENC-F") == "accepted"


def test_277ca_updates_status_and_payer_claim_number(conn: Connection, tmp_path: Path) -> None:
    _sent(conn, [[("ENC-G", "300"), ("ENC-H", "75.5"), ("ENC-I", "10")]])
    f = tmp_path / "a.277"
    f.write_text(
        write_277ca(
            [
                ("ENC-G", "A2:20:PR", "ICN-123", "300"),
                ("ENC-H", "A7:562:85", None, "75.5"),
                ("ENC-I", "A1:19:PR", None, "10"),
                ("NOT-OURS", "A2:20", "ICN-9", "5"),
            ]
        )
    )
    out = apply_ack_file(conn, f)
    assert out.kind == "277CA"
    assert [_status(conn, p) for p in ("ENC-G", "ENC-H", "ENC-I")] == ["accepted", "rejected", "acknowledged"]
    icn = conn.execute("SELECT payer_claim_number FROM claims WHERE patient_control_number='ENC-G'").fetchone()[0]
    assert icn == "ICN-123"
    assert out.unknown == [{"patient_control_number": "NOT-OURS", "categories": ["A2"]}]
    assert any(x.code == "ack-unknown-claim" and x.loop == "2200D" for x in out.findings)


def test_999_does_not_undo_a_277ca_status(conn: Connection, tmp_path: Path) -> None:
    res = _sent(conn, [[("ENC-J", "40")]])
    f277 = tmp_path / "j.277"
    f277.write_text(write_277ca([("ENC-J", "A2:20", "ICN-J", "40")]))
    apply_ack_file(conn, f277)
    f999 = tmp_path / "j.999"
    f999.write_text(_999(res.gs06, [(res.st02[0], "A")], "A"))
    out = apply_ack_file(conn, f999)
    assert _status(conn, "ENC-J") == "accepted" and out.unchanged and not out.updates
    hist = [r[0] for r in conn.execute("SELECT source FROM claim_status_history ORDER BY id")]
    assert hist == ["build", "277CA", "999"]  # the late 999 is still on record


def test_applying_same_file_twice_is_a_no_op(conn: Connection, tmp_path: Path) -> None:
    res = _sent(conn, [[("ENC-K", "40")]])
    f = tmp_path / "k.999"
    f.write_text(_999(res.gs06, [(res.st02[0], "R")], "R"))
    first = apply_ack_file(conn, f)
    second = apply_ack_file(conn, f)
    assert first.updates and not second.updates and second.duplicate
    assert conn.execute("SELECT COUNT(*) FROM claim_status_history").fetchone()[0] == 2


def test_status_category_priorities() -> None:
    rejected, accepted = claim_status_for(["A1", "A7"]), claim_status_for(["A1", "A2"])
    assert rejected is not None and rejected.ledger_status == "rejected"
    assert accepted is not None and accepted.ledger_status == "accepted"
    assert claim_status_for(["E0"]) is None and claim_status_for(["ZZ"]) is None


def test_cli_ack_json_and_exit_codes(tmp_path: Path, ledger_target: str) -> None:
    db = ledger_target
    conn = L.connect(db)
    _sent(conn, [[("ENC-L", "40")]])
    conn.close()
    f = tmp_path / "l.277"
    f.write_text(write_277ca([("ENC-L", "A6:21:PR", None, "40"), ("ENC-ZZ", "A2:20", None, "1")]))
    runner = CliRunner()
    r = runner.invoke(app, ["ack", str(f), "--ledger", str(db), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    [res] = data["files"]
    assert res["kind"] == "277CA" and res["updates"][0]["status"] == "rejected"
    assert res["unknown"][0]["patient_control_number"] == "ENC-ZZ"
    r = runner.invoke(app, ["ack", str(tmp_path / "missing.999"), "--ledger", str(db)])
    assert r.exit_code == 2 and "not found" in r.output
    junk = tmp_path / "junk.txt"
    junk.write_text("not x12")
    r = runner.invoke(app, ["ack", str(junk), "--ledger", str(db)])
    assert r.exit_code == 1
    r = runner.invoke(app, ["claims", "list", "--ledger", str(db), "--json"])
    assert r.exit_code == 0
    [claim] = json.loads(r.stdout)["claims"]
    assert claim["status"] == "rejected"


def test_corpus_acks_apply_to_an_empty_ledger_as_unknown(conn: Connection, corpus_dir: Path) -> None:
    for f in sorted((corpus_dir / "999").glob("*")) + sorted((corpus_dir / "277CA").glob("*")):
        out = apply_ack_file(conn, f)
        assert not out.updates
        read_refs = out.unknown
        assert all("patient_control_number" in u or "group_control_number" in u for u in read_refs)


def test_round_trip_build_999_277ca_and_rebuild_rejected(tmp_path: Path, ledger_target: str) -> None:
    from datetime import datetime

    from coding.config import load_config
    from reconcile.claims import build as billing
    from tests.reconcile.claims.test_build import _office, _write

    cfg = load_config()
    db = ledger_target
    src = _write(tmp_path / "enc.json", [_office("RT-001"), _office("RT-002"), _office("RT-003", "commercial")])
    built = billing.build_claims([src], cfg, db, tmp_path / "out", now=datetime(2026, 3, 3, 9, 30))
    [f837] = [Path(f.path) for f in built.files]
    segs = [s.split("*") for s in f837.read_text().replace("\n", "").split("~") if s]
    gs06 = next(s[6] for s in segs if s[0] == "GS")
    st02s = [s[2] for s in segs if s[0] == "ST"]
    assert len(st02s) == 2  # medicare and commercial sets
    ack999 = tmp_path / "rt.999"
    ack999.write_text(_999(int(gs06), [(int(st02s[0]), "A"), (int(st02s[1]), "A")], "A"))
    out = apply_ack_file(L.connect(db), ack999)
    assert sorted(u["patient_control_number"] for u in out.updates) == ["RT-001", "RT-002", "RT-003"]
    charges = {c["patient_control_number"]: str(c["charge"]) for c in built.claims}
    ack277 = tmp_path / "rt.277"
    ack277.write_text(
        write_277ca(
            [("RT-001", "A2:20:PR", "ICN-RT-1", charges["RT-001"]), ("RT-002", "A7:562:85", None, charges["RT-002"])]
        )
    )
    apply_ack_file(L.connect(db), ack277)
    r = CliRunner().invoke(app, ["claims", "list", "--ledger", str(db), "--json"])
    rows = {c["patient_control_number"]: c for c in json.loads(r.stdout)["claims"]}
    assert {k: v["status"] for k, v in rows.items()} == {
        "RT-001": "accepted",
        "RT-002": "rejected",
        "RT-003": "accepted",
    }
    assert rows["RT-001"]["payer_claim_number"] == "ICN-RT-1"
    again = billing.build_claims(
        [_write(tmp_path / "again.json", [_office("RT-002"), _office("RT-001")])],
        cfg,
        db,
        tmp_path / "out",
        now=datetime(2026, 3, 4, 9, 30),
    )
    assert [c["patient_control_number"] for c in again.claims if c["recorded"]] == ["RT-002"]
    assert any(f.code == "already-sent" and f.encounter_id == "RT-001" for f in again.findings)


def test_999_for_other_transaction_types_is_not_applied(conn: Connection, tmp_path: Path) -> None:
    res = _sent(conn, [[("ENC-M", "10")]])
    f = tmp_path / "be.999"
    f.write_text(_999(res.gs06, [(res.st02[0], "R")], "R").replace("AK1*HC*", "AK1*BE*"))
    out = apply_ack_file(conn, f)
    assert _status(conn, "ENC-M") == "sent" and not out.updates
    assert any(x.code == "ack-not-for-claims" for x in out.findings)
    g = tmp_path / "834.999"
    g.write_text(_999(res.gs06, [(res.st02[0], "R")], "P", n=4).replace("AK2*837*", "AK2*834*"))
    out = apply_ack_file(conn, g)
    assert _status(conn, "ENC-M") == "sent" and any(x.code == "ack-unknown-set" for x in out.findings)


def test_277ca_pcn_matched_case_insensitively(conn: Connection, tmp_path: Path) -> None:
    _sent(conn, [[("ENC-N1", "10")]])
    f = tmp_path / "n.277"
    f.write_text(write_277ca([("enc-n1", "A2:20", "ICN-N", "10")]))
    out = apply_ack_file(conn, f)
    assert _status(conn, "ENC-N1") == "accepted" and not out.unknown


def test_277ca_falls_back_to_ref_ej_and_d9(conn: Connection, tmp_path: Path) -> None:
    _sent(conn, [[("ENC-O1", "10"), ("ENC-O2", "20")]])
    text = write_277ca([("UNKNOWN-TRACE", "A2:20", None, "10"), ("OTHER-TRACE", "A3:21", None, "20")])
    text = text.replace("TRN*2*UNKNOWN-TRACE~", "TRN*2*UNKNOWN-TRACE~REF*EJ*ENC-O1~")
    text = text.replace("TRN*2*OTHER-TRACE~", "TRN*2*OTHER-TRACE~REF*D9*ENC-O2~")
    f = tmp_path / "o.277"
    f.write_text(text)
    out = apply_ack_file(conn, f)
    assert _status(conn, "ENC-O1") == "accepted" and _status(conn, "ENC-O2") == "rejected" and not out.unknown


def test_ta1_rejecting_an_interchange_rejects_its_claims(conn: Connection, tmp_path: Path) -> None:
    res = _sent(conn, [[("ENC-P1", "10")], [("ENC-P2", "20")]])
    other = _sent(conn, [[("ENC-P3", "30")]])
    ta1 = (
        ISA.format(n=40) + f"TA1*{res.isa13:09d}*260301*1200*R*024~"
        f"TA1*{other.isa13:09d}*260301*1200*A*000~TA1*000000999*260301*1200*R*024~IEA*0*000000040~"
    )
    f = tmp_path / "x.ta1"
    f.write_text(ta1)
    out = apply_ack_file(conn, f)
    assert out.kind == "TA1"
    assert [_status(conn, p) for p in ("ENC-P1", "ENC-P2", "ENC-P3")] == ["rejected", "rejected", "sent"]
    assert out.unknown == [{"interchange_control_number": "000000999"}]


def test_999_listing_only_errored_sets(conn: Connection, tmp_path: Path) -> None:
    res = _sent(conn, [[("ENC-Q1", "10")], [("ENC-Q2", "20")], [("ENC-Q3", "30")]])
    text = _999(res.gs06, [(res.st02[1], "R")], "P").replace("AK9*P*1*1*1~", "AK9*P*3*3*2~")
    f = tmp_path / "p.999"
    f.write_text(text)
    apply_ack_file(conn, f)
    assert [_status(conn, p) for p in ("ENC-Q1", "ENC-Q2", "ENC-Q3")] == ["accepted", "rejected", "accepted"]
    # AK904 that does not account for the unlisted sets: they are reported and left alone
    res2 = _sent(conn, [[("ENC-Q4", "10")], [("ENC-Q5", "20")]])
    g = tmp_path / "p2.999"
    g.write_text(_999(res2.gs06, [(res2.st02[0], "R")], "P", n=7).replace("AK9*P*1*1*1~", "AK9*P*2*2*0~"))
    out = apply_ack_file(conn, g)
    assert [_status(conn, p) for p in ("ENC-Q4", "ENC-Q5")] == ["rejected", "sent"]
    assert any(x.code == "ack-set-status-unknown" for x in out.findings)


def test_a_file_that_is_not_an_acknowledgment_exits_1_and_is_not_recorded(tmp_path: Path, ledger_target: str) -> None:
    db = ledger_target
    L.connect(db).close()
    remit = Path(__file__).resolve().parents[3] / "fixtures" / "demo.835"
    junk = tmp_path / "junk.txt"
    junk.write_text("not x12")
    runner = CliRunner()
    for f in (remit, junk):
        r = runner.invoke(app, ["ack", str(f), "--ledger", str(db), "--json"])
        assert r.exit_code == 1, (f.name, r.output)
        [res] = json.loads(r.stdout)["files"]
        assert any(x["code"] == "ack-empty" and x["severity"] == "error" for x in res["findings"]), f.name
        assert not res["duplicate"]
    conn = L.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM acknowledgments").fetchone()[0] == 0
    # applied again: still not an acknowledgment (never "already applied")
    again = apply_ack_file(conn, remit)
    assert not again.duplicate and any(x.code == "ack-empty" for x in again.findings)
    assert conn.execute("SELECT COUNT(*) FROM acknowledgments").fetchone()[0] == 0


def test_the_same_file_applied_by_two_connections_at_once_is_applied_once(ledger_target: str, tmp_path: Path) -> None:
    """Two processes applying one 999 at the same time: the writers queue, the second sees it applied."""
    import threading

    conn = L.connect(ledger_target)
    res = _sent(conn, [[("ENC-R1", "10")], [("ENC-R2", "20")]])
    f = tmp_path / "r.999"
    f.write_text(_999(res.gs06, [(res.st02[0], "A"), (res.st02[1], "R")], "P"))
    start = threading.Barrier(2)
    results = []

    def apply() -> None:
        own = L.connect(ledger_target)  # a SQLite connection belongs to its thread
        start.wait()
        results.append(apply_ack_file(own, f))
        own.close()

    threads = [threading.Thread(target=apply) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.duplicate for r in results) == [False, True]
    assert [_status(conn, p) for p in ("ENC-R1", "ENC-R2")] == ["accepted", "rejected"]
    assert conn.execute("SELECT COUNT(*) FROM acknowledgments").fetchone()[0] == 1
    assert conn.execute("SELECT COUNT(*) FROM claim_status_history").fetchone()[0] == 4
    conn.close()
