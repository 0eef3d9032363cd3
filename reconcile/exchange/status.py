"""``exchange status``: per partner, what was sent, received and applied, and what failed and why."""

from __future__ import annotations

import sqlite3
from typing import Any

from reconcile.exchange.config import ExchangeConfig
from reconcile.exchange.send import pending_interchanges


def exchange_status(conn: sqlite3.Connection, xc: ExchangeConfig) -> dict[str, Any]:
    """Counts and problems per partner (every partner in the config or in the ledger)."""
    names = set(xc.partners)
    names |= {r[0] for r in conn.execute("SELECT DISTINCT partner FROM exchange_sent")}
    names |= {r[0] for r in conn.execute("SELECT DISTINCT partner FROM exchange_received")}
    waiting: dict[str | None, int] = {}
    blocked: list[dict[str, Any]] = []
    pending = pending_interchanges(conn, xc) if xc.partners else []  # no partner: exchange not in use
    for ic, partner, found in pending:
        if found:
            blocked.append(
                {"isa13": ic["isa13"], "path": ic["path"], "partner": partner, "reasons": [f.message for f in found]}
            )
        else:
            waiting[partner] = waiting.get(partner, 0) + 1
    partners = []
    for name in sorted(names):
        sent = conn.execute(
            "SELECT COUNT(*) AS n, MAX(sent_at) AS last FROM exchange_sent WHERE partner = ? AND status = 'sent'",
            (name,),
        ).fetchone()
        interrupted = conn.execute(
            "SELECT COUNT(*) FROM exchange_sent WHERE partner = ? AND status != 'sent'", (name,)
        ).fetchone()[0]
        outcomes = {
            r["outcome"]: r["n"]
            for r in conn.execute(
                "SELECT outcome, COUNT(*) AS n FROM exchange_received WHERE partner = ? GROUP BY outcome", (name,)
            )
        }
        kinds = {
            r["kind"]: r["n"]
            for r in conn.execute(
                "SELECT kind, COUNT(*) AS n FROM exchange_received WHERE partner = ? AND outcome = 'applied' "
                "GROUP BY kind",
                (name,),
            )
        }
        last_received = conn.execute(
            "SELECT MAX(updated_at) FROM exchange_received WHERE partner = ?", (name,)
        ).fetchone()[0]
        problems = [
            {
                "remote_name": r["remote_name"],
                "outcome": r["outcome"],
                "kind": r["kind"],
                "error": r["error"],
                "attempts": r["attempts"],
                "local_path": r["local_path"],
                "updated_at": r["updated_at"],
            }
            for r in conn.execute(
                "SELECT * FROM exchange_received WHERE partner = ? AND outcome IN ('failed', 'downloaded', 'error', 'kept') "
                "ORDER BY id",
                (name,),
            )
        ]
        partners.append(
            {
                "partner": name,
                "configured": name in xc.partners,
                "where": xc.partners[name].describe() if name in xc.partners else None,
                "sent": sent["n"],
                "last_sent_at": sent["last"],
                "interrupted_uploads": interrupted,
                "waiting_to_send": waiting.get(name, 0),
                "received": sum(outcomes.values()),
                "last_received_at": last_received,
                "outcomes": outcomes,
                "applied": kinds,
                "problems": problems,
            }
        )
    return {"partners": partners, "not_sendable": blocked}
