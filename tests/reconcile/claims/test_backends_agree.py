"""The same work on a SQLite ledger and on a PostgreSQL ledger gives the same files, results and
ledger content: build (one claim split in parts), a 999 and a 277CA, a correction."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from coding.config import load_config
from reconcile.claims import build as billing
from reconcile.claims.acks import apply_ack_file
from reconcile.claims.correct import correct_claim
from reconcile.ledger import store as L
from reconcile.ledger.db import Connection
from tests.reconcile.acks_x12 import write_277ca
from tests.reconcile.claims.files import segments
from tests.reconcile.claims.test_ack_apply import _999
from tests.reconcile.claims.test_build import _hospital, _office, _write

NOW = datetime(2026, 3, 3, 9, 30)

# Every table the build, acknowledgment and correction write, with its columns in a fixed order.
TABLES = {
    "interchanges": "id, isa13, gs06, claim_type, status, sha256, created_at, temp_path",
    "transactions": "id, interchange_id, st02, bht03, payer, status",
    "encounters": "id, encounter_id, source, recorded_at",
    "claims": "id, patient_control_number, encounter_id, encounter_row, payer, payer_id, claim_type, frequency,"
    " payer_claim_number, total_charge, status, status_detail, transaction_id, created_at, updated_at, part,"
    " coverage_order, prior_claim_id, next_payer",
    "lines": "id, claim_id, line_control_number, line_number, code, modifiers, units, charge, ndc, ndc_quantity,"
    " ndc_unit, revenue_code, service_date",
    "claim_status_history": "id, claim_id, status, source, detail, created_at",
    "acknowledgments": "id, kind, sha256, received_at, summary",
    "control_counters": "name, value",
}


def _dump(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: [tuple(r) for r in conn.execute(f"SELECT {cols} FROM {table} ORDER BY 1")]
        for table, cols in TABLES.items()
    }


def _run(ledger: str, work: Path) -> dict[str, Any]:
    """Build, acknowledge and correct in ``ledger``; everything it produced, paths made relative."""

    cfg = load_config()
    work.mkdir()
    batch = _write(
        work / "batch.json",
        [_office("ENC-001"), _office("ENC-002", "commercial"), _hospital("ENC-003"), _office("ENC-030")],
    )
    built = billing.build_claims([batch], cfg, ledger, work / "out", now=NOW)
    conn = L.connect(ledger)
    [p837] = [Path(f.path) for f in built.files if f.claim_type == "837P"]
    segs = segments(p837)
    gs06 = int(next(s[6] for s in segs if s[0] == "GS"))
    st02 = [int(s[2]) for s in segs if s[0] == "ST"]
    (work / "a.999").write_text(_999(gs06, [(st02[0], "A"), (st02[1], "R")], "P"))
    ack999 = apply_ack_file(conn, work / "a.999", now=NOW)
    charges = {c["patient_control_number"]: str(c["charge"]) for c in built.claims}
    (work / "a.277").write_text(
        write_277ca([("enc-001", "A2:20:PR", "ICN-1", charges["ENC-001"]), ("ENC-030-2", "A2:20", "ICN-30-2", "1")])
    )
    ack277 = apply_ack_file(conn, work / "a.277", now=NOW)
    corrected = correct_claim(conn, "ENC-030-2", cfg, work / "corr", now=NOW)
    files = {
        str(p.relative_to(work)): p.read_bytes() for p in sorted(work.rglob("*")) if p.suffix in (".x12", ".refused")
    }

    def rel(d: dict[str, Any]) -> str:
        return json.dumps(d, default=str, sort_keys=True).replace(str(work), "WORK")

    out = {
        "built": rel(built.to_dict()),
        "acks": [rel(a.to_dict()) for a in (ack999, ack277)],
        "corrected": rel(corrected.to_dict()),
        "files": files,
        "ledger": _dump(conn),
    }
    conn.close()
    return out


def test_build_acknowledge_and_correct_agree_on_both_backends(
    tmp_path: Path, pg_ledger: str, long_claims: set[str]
) -> None:
    long_claims.add("ENC-030")  # split in two parts (coded with 55 lines, the correction too)
    on_sqlite = _run(str(tmp_path / "ledger.db"), tmp_path / "sqlite")
    on_pg = _run(pg_ledger, tmp_path / "postgresql")
    assert len(on_sqlite["files"]) == 3  # 837P, 837I and the correction
    assert any(r[10] == "rejected" for r in on_sqlite["ledger"]["claims"])  # the 999 rejected a set
    assert any(r[8] == "ICN-1" for r in on_sqlite["ledger"]["claims"])  # the 277CA matched "enc-001"
    for key in ("built", "acks", "corrected", "files"):
        assert on_pg[key] == on_sqlite[key], key
    for table in TABLES:
        assert on_pg["ledger"][table] == on_sqlite["ledger"][table], table
