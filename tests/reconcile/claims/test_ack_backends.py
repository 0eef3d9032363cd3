"""277CA claims found by patient control number on both ledger backends: exact, then ignoring case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconcile.claims.acks import apply_ack_file
from reconcile.ledger import store as L
from tests.reconcile.acks_x12 import write_277ca
from tests.reconcile.claims.test_ack_apply import _sent, _status


def test_277ca_claim_found_exactly_then_ignoring_case(ledger_target: str, tmp_path: Path) -> None:
    conn: Any = L.connect(ledger_target)  # the helpers name sqlite3's connection type
    try:
        _sent(conn, [[("ENC-Q1", "10"), ("enc-q2", "20"), ("ENC-Q2", "30")]])
        f = tmp_path / "q.277"
        f.write_text(
            write_277ca(
                [
                    ("enc-q1", "A2:20", "ICN-Q1", "10"),  # only in another case
                    ("ENC-Q2", "A7:562", None, "30"),  # exact, though enc-q2 matches ignoring case
                ]
            )
        )
        out = apply_ack_file(conn, f)
        assert not out.unknown
        assert [_status(conn, p) for p in ("ENC-Q1", "enc-q2", "ENC-Q2")] == ["accepted", "sent", "rejected"]
    finally:
        conn.close()
