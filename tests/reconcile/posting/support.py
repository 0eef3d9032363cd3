"""Helpers for the posting tests: a ledger holding hand-made claims, and remittances answering them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from coding.model import ServiceLine
from reconcile.ledger import store as ledger
from reconcile.ledger.db import Connection, PgConnection, is_server_url
from reconcile.ledger.store import ClaimRecord, TransactionRecord
from reconcile.posting.records import Adj, RClaim, RLine, RRemit

if TYPE_CHECKING:
    from tests.pgserver import PgServer

D = Decimal
PG_EXAMPLES = 8  # property-test examples on PostgreSQL (see Ledgers.examples)


def make_ledger(
    path: str | Path,
    claims: list[tuple[str, list[tuple[str, tuple[str, ...], int, str, str | None]]]],
    payer: str = "commercial",
    payer_id: str = "ACME01",
    another_payer: bool = False,
):
    """A ledger at ``path`` (a SQLite file or a PostgreSQL URL: what ``--ledger`` takes) holding
    ``claims``: [(pcn, [(code, modifiers, units, charge, ndc)])] sent to ``payer`` (profile key, 2010BB
    ``payer_id``), each for encounter ``pcn``; returns (conn, {pcn: [lcn, ...]}).

    ``another_payer``: the encounters were already billed to another payer and are billed to this
    one too (coordination of benefits): the same claims, so the same CLM01s, under this payer."""
    conn = ledger.connect(path)
    n_lines = sum(len(lines) for _pcn, lines in claims)
    res = ledger.reserve_numbers(conn, "837P", 1, n_lines)
    lcns = iter(res.line_control_numbers)
    records = []
    out: dict[str, list[str]] = {}
    for pcn, lines in claims:
        sl = []
        assigned: list[str] = []
        for code, mods, units, charge, ndc in lines:
            ln = ServiceLine(
                code=code,
                units=units,
                service_date=date(2026, 3, 2),
                charge=D(charge),
                rationale="test",
                modifiers=list(mods),
                ndc=ndc,
                ndc_quantity=D("1") if ndc else None,
                ndc_unit="UN" if ndc else None,
            )
            ln.line_control_number = lcn = next(lcns)
            sl.append(ln)
            assigned.append(lcn)
        out[pcn] = assigned
        records.append(ClaimRecord(pcn, pcn, payer, payer_id, "837P", "1", sl))
    ledger.record_interchange(
        conn,
        res,
        "x.x12",
        "0" * 64,
        [TransactionRecord(res.st02[0], res.bht03[0], payer, records)],
        refuse_duplicates=not another_payer,
    )
    return conn, out


def line(
    code: str,
    charge: str,
    paid: str,
    lcn: str | None,
    adjs=(),
    mods=(),
    units="1",
    remarks=(),
    qualifier="HC",
    original: str | None = None,
    date_: str | None = "2026-03-02",
) -> RLine:
    return RLine(
        code=code,
        charge=D(charge),
        paid=D(paid),
        qualifier=qualifier,
        modifiers=tuple(mods),
        units=None if units is None else D(units),
        original_code=original,
        original_qualifier="HC" if original else None,
        service_date=date_,
        line_control_number=lcn,
        adjustments=[Adj(g, r, D(a)) for g, r, a in adjs],
        remarks=list(remarks),
    )


def claim(
    pcn: str,
    status: str,
    charge: str,
    paid: str,
    lines=(),
    adjs=(),
    pr: str = "0",
    icn: str | None = "ICN-" + "1",
    remarks=(),
) -> RClaim:
    return RClaim(
        patient_control_number=pcn,
        status=status,
        charge=D(charge),
        paid=D(paid),
        patient_responsibility=D(pr),
        payer_claim_number=icn,
        adjustments=[Adj(g, r, D(a)) for g, r, a in adjs],
        lines=list(lines),
        remarks=list(remarks),
    )


def remit(
    claims, amount: str, trace: str = "TRACE1", plbs=(), payer_id: str = "ACME01", payer_name: str = "ACME HEALTH PLAN"
) -> RRemit:
    return RRemit(
        payer_id=payer_id,
        trace=trace,
        amount=D(amount),
        payer_name=payer_name,
        method="ACH",
        payment_date="2026-04-01",
        claims=list(claims),
        plbs=list(plbs),
    )


# What posting writes, as comparable rows: every posting table and the claims' posting state, without
# the wall-clock columns (posted_at, created_at, updated_at).
POSTING_CONTENTS = {
    "remit_files": "SELECT id, path, sha256, summary FROM remit_files",
    "payments": "SELECT * FROM payments",
    "claim_postings": "SELECT * FROM claim_postings",
    "line_postings": "SELECT * FROM line_postings",
    "adjustments": "SELECT * FROM adjustments",
    "provider_adjustments": "SELECT * FROM provider_adjustments",
    "denials": "SELECT * FROM denials",
    "unmatched": "SELECT * FROM unmatched",
    "posting_findings": "SELECT * FROM posting_findings",
    "claims": "SELECT id, status, status_detail, payer_claim_number FROM claims",
    "claim_status_history": "SELECT id, claim_id, status, source, detail FROM claim_status_history",
}


def posting_contents(target: str | Path) -> dict[str, list[tuple]]:
    """The ledger's posting state, read through a read-only connection (no migration, no write):
    a SQLite file opened read-only, or a PostgreSQL session whose transactions are read-only."""
    conn = read_only(target)
    try:
        return {t: [tuple(r) for r in conn.execute(q + " ORDER BY 1")] for t, q in POSTING_CONTENTS.items()}
    finally:
        conn.close()


def read_only(target: str | Path) -> Connection:
    """A connection to the ledger at ``target`` that can read it and never write it."""
    if is_server_url(target):
        conn = PgConnection.open(str(target))
        conn.execute("SET default_transaction_read_only = on")
        return conn
    import sqlite3

    return sqlite3.connect(f"file:{target}?mode=ro", uri=True)


class Ledgers:
    """Makes new, empty ledgers on one backend: SQLite files under a fresh directory each, or
    PostgreSQL databases cloned from the migrated template (~0.1 s each). For tests that need more
    than one ledger, and property tests (one ledger per example, dropped when the example ends)."""

    def __init__(self, tmp: pytest.TempPathFactory, server: PgServer | None, template: str | None) -> None:
        self._tmp, self._server, self._template = tmp, server, template
        self._made: list[str] = []

    @property
    def backend(self) -> str:
        return "sqlite" if self._server is None else "postgresql"

    def examples(self, on_sqlite: int) -> int:
        """How many examples a property test draws on this backend: fewer on PostgreSQL, where each
        costs a database clone and a round trip per statement."""
        return on_sqlite if self._server is None else min(on_sqlite, PG_EXAMPLES)

    def new(self) -> str:
        """The target (a path or a URL) of a new empty ledger."""
        if self._server is None:
            return str(self._tmp.mktemp("ledger") / "ledger.db")
        url = self._server.create_database(template=self._template)
        self._made.append(url)
        return url

    def drop(self, target: str) -> None:
        """Throw a ledger away now (its open sessions are ended); a SQLite file is left to tmp_path."""
        if self._server is not None and target in self._made:
            from tests.pgserver import database_name

            self._made.remove(target)
            self._server.drop_database(database_name(target))

    def close(self) -> None:
        for target in list(self._made):
            self.drop(target)
