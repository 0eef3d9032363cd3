"""Ledger history of Medicare home infusion therapy (HIT) services, for the 60-day rule.

The initial-visit G-codes (G0088/G0089/G0090) are payable only when the patient had no HIT
G-code in the previous 60 days (facts §5.1). The coder asks ``hit_history(patient_id)`` for the
service dates of this patient's earlier HIT G-code lines; this module answers from the ledger.

The ledger's claims carry no patient id; the patient is read from the source encounter recorded
with each claim (``encounters.source``, the encounter JSON as received: ``patient.id``). Lines
count when their claim was not rejected at the front door and its encounter was not voided
(a frequency-8 claim cancels the services of that encounter). Denied claims still count: the
services were furnished. HIT codes come from ``coding/data/hit_codes.csv``.

Known limit: encounters coded in the same run are not in the ledger yet, so two home encounters
of one patient built together see only the ledger's history, not each other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from coding.home.lines import hit_categories
from reconcile.ledger.db import Connection, dialect, is_server_url

HitHistory = Callable[[str], list[date]]

EXCLUDED_STATUSES = ("rejected",)


def hit_codes() -> tuple[str, ...]:
    """Every HIT G-code (initial and subsequent) of every payment category."""
    cats = hit_categories().values()
    return tuple(sorted({c.initial_code for c in cats} | {c.subsequent_code for c in cats}))


# The encounter's patient id inside its stored JSON, in each database's words. PostgreSQL refuses
# to read a JSON document holding the escape of NUL (``\u0000``) anywhere, and a stored encounter
# keeps fields the loader does not read as received: each such escape is read as U+FFFD first (the
# same length, a backslash, ``u`` and four hex digits, so the text stays valid JSON whatever
# precedes it; the patient id itself never holds a control character).
PATIENT_ID = {
    "sqlite": "json_extract(e.source, '$.patient.id')",
    "postgresql": "(replace(e.source, '\\u0000', '\\ufffd')::json #>> '{patient,id}')",
}


def _query(patient_filter: bool, db: str = "sqlite") -> str:
    codes = hit_codes()
    pid = PATIENT_ID[db]
    marks = ",".join("?" for _ in codes)
    st = ",".join("?" for _ in EXCLUDED_STATUSES)
    sql = (
        f"SELECT DISTINCT {pid} AS patient_id, l.service_date"
        " FROM lines l JOIN claims c ON c.id = l.claim_id"
        " JOIN encounters e ON e.id = c.encounter_row"
        f" WHERE l.code IN ({marks}) AND c.status NOT IN ({st}) AND c.frequency != '8'"
        " AND c.encounter_id NOT IN (SELECT v.encounter_id FROM claims v"
        f"   WHERE v.frequency = '8' AND v.status NOT IN ({st}))"
    )
    if patient_filter:
        sql += f" AND {pid} = ?"
    return sql + " ORDER BY l.service_date"


def _params(patient_id: str | None = None) -> list[object]:
    out: list[object] = [*hit_codes(), *EXCLUDED_STATUSES, *EXCLUDED_STATUSES]
    if patient_id is not None:
        out.append(patient_id)
    return out


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def hit_service_dates(conn: Connection, patient_id: str) -> list[date]:
    """Sorted, distinct service dates of this patient's HIT G-code lines in the ledger."""
    rows = conn.execute(_query(True, dialect(conn)), _params(patient_id)).fetchall()
    return sorted({d for d in (_date(r[1]) for r in rows) if d is not None})


def all_hit_service_dates(conn: Connection) -> dict[str, list[date]]:
    """Every patient's HIT service dates in one pass (patient id -> sorted dates)."""
    out: dict[str, set[date]] = {}
    for pid, text in conn.execute(_query(False, dialect(conn)), _params()):
        d = _date(text)
        if pid is not None and d is not None:
            out.setdefault(str(pid), set()).add(d)
    return {k: sorted(v) for k, v in out.items()}


def hit_history_from_conn(conn: Connection) -> HitHistory:
    """A ``hit_history`` callable over an open ledger; the ledger is read once, on first use."""
    cache: dict[str, list[date]] | None = None

    def history(patient_id: str) -> list[date]:
        nonlocal cache
        if cache is None:
            cache = all_hit_service_dates(conn)
        return list(cache.get(patient_id, ()))

    return history


def hit_history_from_ledger(path: str | Path | Connection) -> HitHistory:
    """A ``hit_history`` callable for the ledger at ``path`` (or an open connection).

    A ledger file that does not exist yet has no history (it is not created here).
    """
    if not isinstance(path, (str, Path)):
        return hit_history_from_conn(path)
    if not is_server_url(path) and not Path(path).exists():
        return lambda patient_id: []
    from reconcile.ledger.store import connect

    conn = connect(path)
    try:
        dates = all_hit_service_dates(conn)
    finally:
        conn.close()
    return lambda patient_id: list(dates.get(patient_id, ()))
