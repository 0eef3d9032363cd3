"""``exchange status``: per partner, what was sent, received and applied, and what failed and why.

Files built before a partner was set up (before its first send, or for a partner never sent
through yet, every file recorded so far) are counted apart from those waiting: ``send`` holds
them back unless asked to include them.
"""

from __future__ import annotations

from typing import Any

from reconcile.exchange.config import ExchangeConfig
from reconcile.exchange.send import built_before_setup, cutoffs_now, pending_interchanges
from reconcile.ledger.db import Connection


def exchange_status(conn: Connection, xc: ExchangeConfig) -> dict[str, Any]:
    """Counts and problems per partner (every partner in the config or in the ledger)."""
    names = set(xc.partners)
    names |= {r[0] for r in conn.execute("SELECT DISTINCT partner FROM exchange_sent")}
    names |= {r[0] for r in conn.execute("SELECT DISTINCT partner FROM exchange_received")}
    waiting: dict[str | None, int] = {}
    held: dict[str | None, int] = {}
    blocked: list[dict[str, Any]] = []
    pending = pending_interchanges(conn, xc) if xc.partners else []  # no partner: exchange not in use
    cutoffs = cutoffs_now(conn, sorted(xc.partners))
    for ic, partner, found in pending:
        if found:
            blocked.append(
                {"isa13": ic["isa13"], "path": ic["path"], "partner": partner, "reasons": [f.message for f in found]}
            )
        elif partner is not None and built_before_setup(conn, ic, cutoffs.get(partner)):
            held[partner] = held.get(partner, 0) + 1
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
        first = conn.execute("SELECT first_send_at FROM exchange_partners WHERE partner = ?", (name,)).fetchone()
        partners.append(
            {
                "partner": name,
                "first_send_at": first[0] if first else None,
                "built_before_setup": held.get(name, 0),
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
