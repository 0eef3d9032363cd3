"""Reading for the worklist pages: one filtered page of denials, one denial, a claim's timeline.

The page is ranked and cut in SQL (``ORDER BY`` the ``denials_rank`` expression index, then
``LIMIT``/``OFFSET``) and counted with one ``COUNT(*)``, so its cost does not grow with the rows
it does not show. Age filters become bounds on ``denied_on`` computed here, so the SQL stays plain
and portable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from coding.config import Config
from coding.money import money_str
from reconcile.ledger.db import Connection, Row
from reconcile.ledger.store import table_exists
from reconcile.workqueue.states import load_states

NOBODY = "-"  # assignee filter value: denials assigned to nobody
PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

# age buckets offered by the filter: key -> (min days, max days or None)
AGE_BUCKETS: dict[str, tuple[int, int | None]] = {
    "0-30": (0, 30),
    "31-60": (31, 60),
    "61-90": (61, 90),
    "91-120": (91, 120),
    "121+": (121, None),
}


@dataclass
class WorklistFilter:
    """What the worklist shows: every field None or '' means no filter on it."""

    payer: str | None = None
    category: str | None = None
    action: str | None = None
    age: str | None = None  # a key of AGE_BUCKETS
    assignee: str | None = None  # a user name, or NOBODY
    state: str | None = None

    def active(self) -> dict[str, str]:
        """The filters set, as query parameters."""
        return {
            k: v
            for k, v in (
                ("payer", self.payer),
                ("category", self.category),
                ("action", self.action),
                ("age", self.age),
                ("assignee", self.assignee),
                ("state", self.state),
            )
            if v
        }


def _where(f: WorklistFilter, today: date) -> tuple[list[str], list[Any]]:
    """WHERE terms on ``denials d`` and their parameters.

    Work-state filters are written as ``d.id [NOT] IN (SELECT denial_id FROM denial_work ...)``:
    the worked denials are few, so the set is built once and the ranking index is still walked
    without a join per row.
    """
    terms = ["d.status = 'open'"]
    params: list[Any] = []
    if f.payer:
        terms.append("d.payer = ?")
        params.append(f.payer)
    if f.category:
        terms.append("d.category = ?")
        params.append(f.category)
    if f.action:
        terms.append("d.action = ?")
        params.append(f.action)
    if f.age and f.age in AGE_BUCKETS:
        lo, hi = AGE_BUCKETS[f.age]
        terms.append("d.denied_on <= ?")
        params.append((today - timedelta(days=lo)).isoformat())
        if hi is not None:
            terms.append("d.denied_on >= ?")
            params.append((today - timedelta(days=hi)).isoformat())
    if f.assignee:
        if f.assignee == NOBODY:
            terms.append("d.id NOT IN (SELECT denial_id FROM denial_work WHERE assignee IS NOT NULL)")
        else:
            terms.append("d.id IN (SELECT denial_id FROM denial_work WHERE assignee = ?)")
            params.append(f.assignee)
    if f.state:
        if f.state == load_states().initial:  # no work row reads as the initial state
            terms.append("d.id NOT IN (SELECT denial_id FROM denial_work WHERE state <> ?)")
        else:
            terms.append("d.id IN (SELECT denial_id FROM denial_work WHERE state = ?)")
        params.append(f.state)
    return terms, params


def _age(denied_on: str | None, today: date) -> int | None:
    try:
        return (today - date.fromisoformat(denied_on)).days if denied_on else None
    except ValueError:
        return None


def _money(text: str | None) -> str:
    try:
        return money_str(Decimal(text or "0"))
    except InvalidOperation:
        return str(text)


DENIAL_COLUMNS = (
    "d.id, d.claim_id, d.patient_control_number, d.line_control_number, d.code, d.group_code, d.carc,"
    " d.rarc, d.amount, d.category, d.action, d.payer, d.denied_on, d.payer_claim_number, d.remarks,"
    " d.status, w.state, w.assignee, w.last_note, w.updated_at, w.updated_by"
)


def _denial_item(r: Row | tuple[Any, ...], today: date) -> dict[str, Any]:
    return {
        "denial_id": r[0],
        "claim_id": r[1],
        "patient_control_number": r[2],
        "line_control_number": r[3],
        "code": r[4],
        "group": r[5],
        "carc": r[6],
        "rarc": r[7],
        "amount": _money(r[8]),
        "category": r[9],
        "action": r[10],
        "payer": r[11],
        "denied_on": r[12],
        "age_days": _age(r[12], today),
        "payer_claim_number": r[13],
        "remarks": [x for x in (r[14] or "").split(",") if x],
        "posting_status": r[15],
        "state": r[16] or load_states().initial,
        "assignee": r[17],
        "last_note": r[18],
        "updated_at": r[19],
        "updated_by": r[20],
    }


def worklist_page(
    conn: Connection,
    f: WorklistFilter,
    page: int = 1,
    per_page: int = PAGE_SIZE,
    as_of: date | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of open denials (largest amount first, then oldest) and how many match in all."""
    today = as_of or date.today()
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    page = max(1, page)
    terms, params = _where(f, today)
    where = " AND ".join(terms)
    total = int(conn.execute(f"SELECT COUNT(*) FROM denials d WHERE {where}", params).fetchone()[0])
    # the ids of the page first (read from the ranking index alone), then their rows and work state
    ids = [
        int(r[0])
        for r in conn.execute(
            f"SELECT d.id FROM denials d WHERE {where}"
            " ORDER BY CAST(d.amount AS NUMERIC) DESC, d.denied_on, d.id LIMIT ? OFFSET ?",
            [*params, per_page, (page - 1) * per_page],
        )
    ]
    if not ids:
        return [], total
    marks = ",".join("?" for _ in ids)
    found = {
        int(r[0]): r
        for r in conn.execute(
            f"SELECT {DENIAL_COLUMNS} FROM denials d LEFT JOIN denial_work w ON w.denial_id = d.id WHERE d.id IN ({marks})",
            ids,
        )
    }
    rows = [found[i] for i in ids if i in found]
    return [_denial_item(r, today) for r in rows], total


def open_denial_payers(conn: Connection) -> list[str]:
    """Payer names of the open denials, for the payer filter, in code-point order (sorted here,
    not by the database's collation, which on PostgreSQL may follow a language's rules).

    Read by skipping through the ``(status, payer)`` index one payer at a time (a recursive
    query: one index probe per payer), not by reading every open denial as ``DISTINCT`` does on
    PostgreSQL (it has no skip scan); the list is on every worklist page."""
    return sorted(str(r[0]) for r in conn.execute(_OPEN_PAYERS) if r[0] is not None)


_OPEN_PAYERS = """
WITH RECURSIVE p(payer) AS (
    SELECT MIN(payer) FROM denials WHERE status = 'open'
    UNION ALL
    SELECT (SELECT MIN(d.payer) FROM denials d WHERE d.status = 'open' AND d.payer > p.payer)
    FROM p WHERE p.payer IS NOT NULL
)
SELECT payer FROM p
"""


def denial(conn: Connection, denial_id: int, as_of: date | None = None) -> dict[str, Any] | None:
    """One denial with its work state, or None."""
    row = conn.execute(
        f"SELECT {DENIAL_COLUMNS} FROM denials d LEFT JOIN denial_work w ON w.denial_id = d.id WHERE d.id = ?",
        (denial_id,),
    ).fetchone()
    return None if row is None else _denial_item(row, as_of or date.today())


def _columns(conn: Connection, table: str) -> set[str]:
    """Column names of a ledger table (read from an empty result, which every engine describes)."""
    cur = conn.execute(f"SELECT * FROM {table} WHERE 1 = 0")
    return {d[0] for d in cur.description or ()}


def _detail(text: str | None) -> str:
    """A status detail (JSON) as short readable text."""
    if not text:
        return ""
    try:
        data = json.loads(text)
    except ValueError:
        return str(text)
    if isinstance(data, dict):
        return "; ".join(f"{k}: {v}" for k, v in data.items() if v not in (None, "", [], {}))
    return str(data)


CLAIM_KEYS = (
    "id",
    "patient_control_number",
    "encounter_id",
    "payer",
    "payer_id",
    "claim_type",
    "frequency",
    "payer_claim_number",
    "total_charge",
    "status",
    "created_at",
    "updated_at",
)


def claim_page(conn: Connection, claim_id: int, as_of: date | None = None) -> dict[str, Any] | None:
    """A claim with its lines, denials, related claims (corrections, secondary) and timeline."""
    row = conn.execute(
        "SELECT c.id, c.patient_control_number, c.encounter_id, c.payer, c.payer_id, c.claim_type, c.frequency,"
        " c.payer_claim_number, c.total_charge, c.status, c.created_at, c.updated_at, i.isa13, i.path, t.st02"
        " FROM claims c JOIN transactions t ON t.id = c.transaction_id JOIN interchanges i ON i.id = t.interchange_id"
        " WHERE c.id = ?",
        (claim_id,),
    ).fetchone()
    if row is None:
        return None
    claim = dict(zip(CLAIM_KEYS, row[:12]))
    claim["total_charge"] = _money(claim["total_charge"])
    claim.update(isa13=row[12], file=row[13], st02=row[14])
    lines = [
        {
            "line_number": r[0],
            "line_control_number": r[1],
            "code": r[2],
            "modifiers": r[3],
            "units": r[4],
            "charge": _money(r[5]),
            "ndc": r[6],
            "service_date": r[7],
        }
        for r in conn.execute(
            "SELECT l.line_number, l.line_control_number, l.code, l.modifiers, l.units, l.charge, l.ndc,"
            " l.service_date FROM lines l WHERE l.claim_id = ? ORDER BY l.line_number",
            (claim_id,),
        )
    ]
    paid_by_line: dict[str, Decimal] = {}
    for lcn, paid in conn.execute(
        "SELECT l.line_control_number, lp.paid FROM line_postings lp JOIN lines l ON l.id = lp.line_id"
        " WHERE l.claim_id = ?",
        (claim_id,),
    ):
        paid_by_line[lcn] = paid_by_line.get(lcn, Decimal("0")) + Decimal(paid)
    for ln in lines:
        ln["paid"] = money_str(paid_by_line.get(ln["line_control_number"], Decimal("0")))
    today = as_of or date.today()
    denials = [
        _denial_item(r, today)
        for r in conn.execute(
            f"SELECT {DENIAL_COLUMNS} FROM denials d LEFT JOIN denial_work w ON w.denial_id = d.id"
            " WHERE d.claim_id = ? ORDER BY d.id",
            (claim_id,),
        )
    ]
    related = _related_claims(conn, claim_id, str(claim["encounter_id"]))
    return {
        "claim": claim,
        "lines": lines,
        "denials": denials,
        "related": related,
        "timeline": claim_timeline(conn, claim_id, related),
    }


def _related_claims(conn: Connection, claim_id: int, encounter_id: str) -> list[dict[str, Any]]:
    """Other claims of the same encounter (replacements, voids) and, where the ledger records
    coverage order, the claims billed after this one to a later payer (secondary claims)."""
    cols = _columns(conn, "claims")
    extra = ", c.coverage_order, c.prior_claim_id" if {"coverage_order", "prior_claim_id"} <= cols else ""
    sql = (
        "SELECT c.id, c.patient_control_number, c.payer, c.frequency, c.status, c.total_charge, c.created_at"
        f"{extra} FROM claims c WHERE c.encounter_id = ? AND c.id <> ?"
    )
    params: list[Any] = [encounter_id, claim_id]
    if extra:
        sql += " OR c.prior_claim_id = ?"
        params.append(claim_id)
    out = []
    for r in conn.execute(sql + " ORDER BY c.id", params):
        kind = {"7": "replacement", "8": "void"}.get(str(r[3]), "original")
        if extra and r[7] is not None and int(r[7] or 1) > 1:
            kind = "secondary" if int(r[7]) == 2 else "tertiary"
        out.append(
            {
                "id": r[0],
                "patient_control_number": r[1],
                "payer": r[2],
                "frequency": r[3],
                "status": r[4],
                "total_charge": _money(r[5]),
                "created_at": r[6],
                "kind": kind,
            }
        )
    return out


def claim_timeline(
    conn: Connection, claim_id: int, related: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """What happened to the claim, oldest first: built and sent, every status change (999, 277CA,
    835), each 835 posting (reversals marked), provider adjustments naming it, remittances held
    in the unmatched queue because of it, and the related claims (corrections, secondary)."""
    events: list[dict[str, Any]] = []
    for status, source, detail, at in conn.execute(
        "SELECT status, source, detail, created_at FROM claim_status_history WHERE claim_id = ? ORDER BY id",
        (claim_id,),
    ):
        rank = 0 if source == "build" else 2
        events.append({"at": at, "rank": rank, "source": source, "what": status, "detail": _detail(detail)})
    for r in conn.execute(
        "SELECT cp.id, cp.status_code, cp.charge, cp.paid, cp.patient_responsibility, cp.reversal_of, cp.reversed_by,"
        " cp.payer_claim_number, p.payer_name, p.trace, p.payment_date, f.posted_at, f.path"
        " FROM claim_postings cp JOIN payments p ON p.id = cp.payment_id JOIN remit_files f ON f.id = p.file_id"
        " WHERE cp.claim_id = ? ORDER BY cp.id",
        (claim_id,),
    ):
        what = "835 reversal" if r[5] is not None else "835 posting"
        bits = [f"CLP02 {r[1]}", f"paid {_money(r[3])}", f"patient {_money(r[4])}"]
        if r[7]:
            bits.append(f"ICN {r[7]}")
        if r[9]:
            bits.append(f"trace {r[9]}")
        if r[10]:
            bits.append(f"paid on {r[10]}")
        if r[6] is not None:
            bits.append("reversed later")
        events.append({"at": r[11], "rank": 1, "source": r[8] or "835", "what": what, "detail": ", ".join(bits)})
    for reason, amount, kind, at in conn.execute(
        "SELECT pa.reason, pa.amount, pa.kind, f.posted_at FROM provider_adjustments pa"
        " JOIN payments p ON p.id = pa.payment_id JOIN remit_files f ON f.id = p.file_id"
        " WHERE pa.claim_id = ? ORDER BY pa.id",
        (claim_id,),
    ):
        events.append({"at": at, "rank": 3, "source": "835 PLB", "what": kind, "detail": f"{reason} {_money(amount)}"})
    for kind, amount, reason, at in conn.execute(
        "SELECT u.kind, u.amount, u.reason, f.posted_at FROM unmatched u JOIN payments p ON p.id = u.payment_id"
        " JOIN remit_files f ON f.id = p.file_id WHERE u.related_claim_id = ? ORDER BY u.id",
        (claim_id,),
    ):
        events.append(
            {
                "at": at,
                "rank": 3,
                "source": "835",
                "what": f"held unmatched ({kind})",
                "detail": f"{_money(amount)}: {reason}",
            }
        )
    for rc in related or []:
        events.append(
            {
                "at": rc["created_at"],
                "rank": 4,
                "source": "build",
                "what": f"{rc['kind']} claim {rc['patient_control_number']}",
                "detail": f"to {rc['payer']}, status {rc['status']}",
                "claim_id": rc["id"],
            }
        )
    # by time; at the same second: sent, then the payment posted, then the status it set
    events.sort(key=lambda e: (str(e["at"] or ""), e["rank"]))
    return events


def unmatched_items(conn: Connection) -> list[dict[str, Any]]:
    """The open unmatched queue (as ``dripline unmatched`` lists it)."""
    from reconcile.posting.queries import unmatched_queue

    return unmatched_queue(conn)


def has_underpayments(conn: Connection) -> bool:
    """Whether the ledger records expected payment (so underpayments can be listed)."""
    return table_exists(conn, "expected_allowed") or table_exists(conn, "underpayments")


def underpayments(
    conn: Connection, cfg: Config | None = None, limit: int = 500
) -> tuple[list[str], list[dict[str, Any]]] | None:
    """Columns and rows of the underpaid lines (largest variance first), or None when the ledger
    records no expected payment. ``cfg`` gives the payers' tolerances and cost sharing."""
    if table_exists(conn, "expected_allowed"):
        from reconcile.underpay.worklist import UNDERPAYMENT_FIELDS, underpayment_worklist

        return list(UNDERPAYMENT_FIELDS), underpayment_worklist(conn, cfg)[:limit]
    if not table_exists(conn, "underpayments"):
        return None
    cur = conn.execute("SELECT * FROM underpayments ORDER BY 1 LIMIT ?", (limit,))
    cols = [d[0] for d in cur.description or ()]
    return cols, [dict(zip(cols, r)) for r in cur.fetchall()]
