"""Denials: categorize CARC/RARC codes and build the rework worklist.

A remittance claim with status 4 (denied), or a line or claim paid zero with a CO/PI/OA reason,
is a denial. Each denial gets a category (what went wrong) and a rework action (what to do) from
the shipped table ``reconcile/denials/data/carc_rarc_rework.csv``; codes the table does not know still
appear in the worklist with category ``other``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from coding.display import csv_row
from coding.money import money_str
from reconcile.ledger.db import Connection

REWORK_TABLE = Path(__file__).resolve().parent / "data" / "carc_rarc_rework.csv"

CATEGORIES: dict[str, str] = {
    "coding_modifier": "Coding / modifier",
    "missing_information": "Missing information (incl. NDC)",
    "authorization": "Authorization",
    "medical_necessity": "Medical necessity",
    "eligibility": "Eligibility",
    "bundling": "Bundling",
    "timely_filing": "Timely filing",
    "duplicate": "Duplicate",
    "other": "Other",
}
ACTIONS: dict[str, str] = {
    "corrected_claim": "Corrected claim",
    "appeal": "Appeal",
    "rebill_another_payer": "Rebill another payer",
    "write_off": "Write off",
    "bill_patient": "Bill patient",
}
DENIAL_GROUPS = frozenset({"CO", "PI", "OA"})
DENIED_STATUS = "4"


@dataclass(frozen=True, slots=True)
class Rework:
    """Category and action for one group/CARC/RARC combination."""

    category: str
    action: str
    note: str
    known: bool = True


UNKNOWN = Rework("other", "appeal", "Code not in the rework table: review the remittance advice", False)


@lru_cache(maxsize=1)
def rework_rules(path: str = str(REWORK_TABLE)) -> dict[tuple[str, str, str], Rework]:
    """The rework table keyed by (group, carc, rarc) ('*' = any, '' rarc = any); loaded once."""
    rules: dict[tuple[str, str, str], Rework] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        for row in rows:
            category, action = row["category"].strip(), row["action"].strip()
            if category not in CATEGORIES or action not in ACTIONS:
                raise ValueError(f"rework table: bad category/action in row {row!r}")  # a bug in shipped data
            key = (row["group"].strip().upper(), row["carc"].strip().upper(), row["rarc"].strip().upper())
            rules[key] = Rework(category, action, row["note"].strip())
    return rules


def categorize(group: str | None, carc: str | None, rarcs: Iterable[str] = ()) -> tuple[Rework, str | None]:
    """Most specific rule for the codes, with the remark code that selected it (if any).

    Order: group+CARC+RARC, any-group CARC+RARC, group+CARC, CARC, RARC alone; else ``other``.
    """
    rules = rework_rules()
    g, c = (group or "").upper(), (carc or "").upper()
    remarks = [r.upper() for r in rarcs if r]
    for r in remarks:
        for key in ((g, c, r), ("*", c, r)):
            if key in rules:
                return rules[key], r
    for key in ((g, c, ""), ("*", c, "")):
        if key in rules:
            return rules[key], (remarks[0] if remarks else None)
    for r in remarks:
        for key in ((g, "*", r), ("*", "*", r)):
            if key in rules:
                return rules[key], r
    return UNKNOWN, (remarks[0] if remarks else None)


def is_denial(status_code: str, paid: Decimal, adjustments: Sequence[tuple[str, str, Decimal]]) -> bool:
    """Status 4 (denied), or paid zero with at least one CO/PI/OA adjustment."""
    if status_code == DENIED_STATUS:
        return True
    return paid == 0 and any(g in DENIAL_GROUPS and a != 0 for g, _r, a in adjustments)


def primary_reason(adjustments: Sequence[tuple[str, str, Decimal]]) -> tuple[str | None, str | None]:
    """The (group, CARC) that carries the denial: the largest non-PR adjustment, else the largest."""
    ranked = sorted(adjustments, key=lambda a: (a[0] == "PR", -abs(a[2])))
    if not ranked:
        return None, None
    return ranked[0][0], ranked[0][1]


# ---------------------------------------------------------------- worklist (reads the ledger)

WORKLIST_FIELDS = (
    "patient_control_number",
    "line_control_number",
    "code",
    "group",
    "carc",
    "rarc",
    "amount",
    "category",
    "action",
    "payer",
    "age_days",
)


def denial_worklist(conn: Connection, as_of: date | None = None) -> list[dict[str, Any]]:
    """Open denials, largest amount at risk first, then oldest first.

    Each carries its work state from ``denial_work`` (``state``, ``assignee``, ``last_note``;
    ``open`` and nobody when no one has worked it yet) and its ``denial_id``.
    """
    today = as_of or date.today()
    rows = conn.execute(
        "SELECT d.patient_control_number, d.line_control_number, d.code, d.group_code, d.carc, d.rarc, d.amount,"
        " d.category, d.action, d.payer, d.denied_on, d.payer_claim_number, d.remarks, c.payer,"
        " d.id, w.state, w.assignee, w.last_note"
        " FROM denials d LEFT JOIN claims c ON c.id = d.claim_id LEFT JOIN denial_work w ON w.denial_id = d.id"
        " WHERE d.status = 'open'"
    ).fetchall()
    items = []
    for r in rows:
        try:
            age = (today - date.fromisoformat(r[10])).days if r[10] else None
        except ValueError:
            age = None
        items.append(
            {
                "patient_control_number": r[0],
                "line_control_number": r[1],
                "code": r[2],
                "group": r[3],
                "carc": r[4],
                "rarc": r[5],
                "amount": money_str(Decimal(r[6])),
                "category": r[7],
                "action": r[8],
                "payer": r[9],
                "age_days": age,
                "denied_on": r[10],
                "payer_claim_number": r[11],
                "remarks": [x for x in (r[12] or "").split(",") if x],
                "payer_key": r[13],
                "denial_id": r[14],
                "state": r[15] or "open",
                "assignee": r[16],
                "last_note": r[17],
            }
        )
    items.sort(
        key=lambda d: (
            -Decimal(d["amount"]),
            -(d["age_days"] or 0),
            d["patient_control_number"] or "",
            d["line_control_number"] or "",
        )
    )
    return items


def worklist_csv(items: Sequence[dict[str, Any]], out: Any) -> None:
    """One row per denial (the JSON fields, remarks joined by spaces).

    Cells are made safe for spreadsheets (:func:`coding.display.csv_cell`): a payer's text that
    starts like a formula gets a leading apostrophe, control characters are shown as escapes.
    """
    w = csv.writer(out)
    cols = list(WORKLIST_FIELDS) + ["denied_on", "payer_claim_number", "remarks"]
    w.writerow(cols)
    for d in items:
        w.writerow(csv_row(" ".join(d[c]) if c == "remarks" else d.get(c) for c in cols))
