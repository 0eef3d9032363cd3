"""Apply acknowledgments to the ledger: TA1, 999/997 set responses and 277CA claim statuses.

- 999/997: each AK1 group is matched to one of our interchanges by GS06 (AK102), each AK2 set to
  one of its transaction sets by ST02 (AK202); every claim of an accepted set becomes
  ``accepted``, of a rejected set ``rejected`` with the IK3/IK4 errors kept in the status detail.
  Sets of a matched group that the 999 does not list take the group verdict (AK901, with AK904
  when partial) or, when that says nothing certain, are reported and left as they are.
- TA1: an interchange (TA101 = ISA13) rejected at the envelope rejects all its claims.
- 277CA: each claim is matched by patient control number (TRN02) to our most recent claim with
  that number (preferring one whose total charge equals STC04); its status follows the category
  table ``data/claim_status_categories.csv`` and the payer claim number (REF*1K) is stored.

Nothing is dropped: a group, set or claim we cannot match is reported as a finding. A status set
by a later stage is not overwritten by an earlier one (a 999 does not undo a 277CA status; no
acknowledgment overrides a posted remittance), but the answer is still kept in the history.
Each file is applied in one transaction and recorded (sha256) so applying it again is a no-op; a file
that holds no acknowledgment is an error finding and is not recorded.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from coding.findings import Finding
from edi.ack.read import AckDocument, ClaimStatus, GroupAck, SetAck, code_meaning, read_ack
from reconcile.ledger import store as L
from reconcile.ledger.db import Connection, Row

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Category:
    code: str
    ledger_status: str | None
    priority: int
    meaning: str


@dataclass
class AckResult:
    """What applying one acknowledgment file did."""

    file: str
    kind: str
    sha256: str
    duplicate: bool = False
    updates: list[dict[str, Any]] = field(default_factory=list)  # claims whose status changed
    unchanged: list[dict[str, Any]] = field(default_factory=list)  # matched, status kept
    unknown: list[dict[str, Any]] = field(default_factory=list)  # references we never sent
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "sha256": self.sha256,
            "duplicate": self.duplicate,
            "updates": self.updates,
            "unchanged": self.unchanged,
            "unknown": self.unknown,
            "findings": [f.to_dict() for f in self.findings],
        }


@lru_cache(maxsize=1)
def status_categories() -> dict[str, Category]:
    """STC01-1 category code -> :class:`Category` (ledger status, priority, meaning)."""
    with open(DATA / "claim_status_categories.csv", encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {
            r["category"]: Category(r["category"], r["ledger_status"] or None, int(r["priority"]), r["meaning"])
            for r in rows
        }


def claim_status_for(categories: list[str]) -> Category | None:
    """The category that decides a claim's status: highest priority with a ledger status."""
    table = status_categories()
    known = [table[c] for c in categories if c in table and table[c].ledger_status]
    return max(known, key=lambda c: c.priority) if known else None


def _has_postings(conn: Connection, claim_id: int) -> bool:
    if not L.table_exists(conn, "claim_postings"):
        return False
    return conn.execute("SELECT 1 FROM claim_postings WHERE claim_id = ? LIMIT 1", (claim_id,)).fetchone() is not None


def _has_status_from(conn: Connection, claim_id: int, source: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM claim_status_history WHERE claim_id = ? AND source = ? LIMIT 1", (claim_id, source)
        ).fetchone()
        is not None
    )


def _update(
    conn: Connection,
    res: AckResult,
    claim: Row,
    status: str,
    source: str,
    detail: dict[str, Any],
    now: datetime | None,
    later_source: str | None,
) -> None:
    """Set the claim status unless a later stage already spoke; record the answer either way."""
    row = {
        "patient_control_number": claim["patient_control_number"],
        "claim_id": claim["id"],
        "previous": claim["status"],
        "status": status,
    }
    blocked = _has_postings(conn, claim["id"]) or (
        later_source is not None and _has_status_from(conn, claim["id"], later_source)
    )
    if blocked:
        conn.execute(
            "INSERT INTO claim_status_history (claim_id, status, source, detail, created_at) VALUES (?, ?, ?, ?, ?)",
            (
                claim["id"],
                f"{status} (not applied)",
                source,
                json.dumps(detail, default=str, sort_keys=True),
                L.iso_time(now),
            ),
        )
        row["status"] = claim["status"]
        row["reason"] = "a later answer (277CA or remittance) already set the status"
        res.unchanged.append(row)
        return
    L.set_claim_status(conn, claim["id"], status, source, detail, now)
    res.updates.append(row)


# --- 999 / 997 --------------------------------------------------------------------------------


def _set_detail(kind: str, group: GroupAck, s: SetAck | None) -> dict[str, Any]:
    if s is None:
        return {"ack": kind, "group_code": group.code, "group_meaning": code_meaning("AK901", group.code or "")}
    return {
        "ack": kind,
        "set_code": s.code,
        "meaning": code_meaning("IK501", s.code or ""),
        "set_errors": [{"code": c, "message": code_meaning("IK502", c)} for c in s.set_errors],
        "errors": [e.to_dict() for e in s.errors],
    }


def _apply_set(
    conn: Connection,
    res: AckResult,
    kind: str,
    group: GroupAck,
    tx: Row,
    s: SetAck | None,
    accepted: bool | None,
    now: datetime | None,
) -> None:
    if accepted is None:
        res.findings.append(
            Finding(
                "warning",
                "ack-set-status-unknown",
                f"set {tx['st02']} of group {group.group_control_number}: the acknowledgment "
                "gives no clear accepted/rejected answer; claims left as they are",
                file=res.file,
                segment="AK2",
            )
        )
        return
    status = "accepted" if accepted else "rejected"
    conn.execute("UPDATE transactions SET status = ? WHERE id = ?", (status, tx["id"]))
    detail = _set_detail(kind, group, s)
    for claim in conn.execute("SELECT * FROM claims WHERE transaction_id = ? ORDER BY id", (tx["id"],)).fetchall():
        _update(conn, res, claim, status, kind, detail, now, later_source="277CA")


CLAIM_GROUP_ID = "HC"  # GS01/AK101 of health care claims (837)


def _apply_group(conn: Connection, res: AckResult, group: GroupAck, now: datetime | None) -> None:
    if group.functional_id.upper() != CLAIM_GROUP_ID:
        res.unknown.append({"group_control_number": group.group_control_number, "functional_id": group.functional_id})
        res.findings.append(
            Finding(
                "warning",
                "ack-not-for-claims",
                f"{group.kind} answers a functional group of type {group.functional_id or '(blank)'}, "
                "not health care claims (HC); not applied",
                file=res.file,
                segment="AK1",
                line=group.line,
            )
        )
        return
    gs06 = _control_int(group.group_control_number)
    ic = (
        None
        if gs06 is None
        else conn.execute(
            "SELECT * FROM interchanges WHERE gs06 = ? AND status NOT IN ('reserved', 'refused')", (gs06,)
        ).fetchone()
    )
    if ic is None:
        res.unknown.append({"group_control_number": group.group_control_number, "functional_id": group.functional_id})
        res.findings.append(
            Finding(
                "warning",
                "ack-unknown-group",
                f"{group.kind} answers functional group {group.group_control_number!s} "
                f"({group.functional_id or 'no id'}), which this ledger never sent",
                file=res.file,
                segment="AK1",
                line=group.line,
            )
        )
        return
    listed: set[int] = set()
    for s in group.sets:
        st02 = _control_int(s.control_number) if s.set_id in ("837", "") else None
        tx = (
            None
            if st02 is None
            else conn.execute(
                "SELECT * FROM transactions WHERE interchange_id = ? AND st02 = ?", (ic["id"], st02)
            ).fetchone()
        )
        if tx is None:
            res.unknown.append(
                {"group_control_number": group.group_control_number, "set_control_number": s.control_number}
            )
            res.findings.append(
                Finding(
                    "warning",
                    "ack-unknown-set",
                    f"{group.kind} answers set {s.control_number} of group "
                    f"{group.group_control_number}, which this ledger never sent",
                    file=res.file,
                    segment="AK2",
                    line=s.line,
                )
            )
            continue
        listed.add(tx["id"])
        _apply_set(conn, res, group.kind, group, tx, s, s.accepted, now)
    unlisted = [
        tx
        for tx in conn.execute(
            "SELECT * FROM transactions WHERE interchange_id = ? ORDER BY st02", (ic["id"],)
        ).fetchall()
        if tx["id"] not in listed
    ]
    verdict = _unlisted_verdict(group, len(unlisted))
    for tx in unlisted:
        _apply_set(conn, res, group.kind, group, tx, None, verdict, now)
    states = {r[0] for r in conn.execute("SELECT status FROM transactions WHERE interchange_id = ?", (ic["id"],))}
    ic_status = (
        "accepted"
        if states == {"accepted"}
        else "rejected"
        if states == {"rejected"}
        else "partial"
        if {"accepted", "rejected"} <= states
        else ic["status"]
    )
    conn.execute("UPDATE interchanges SET status = ? WHERE id = ?", (ic_status, ic["id"]))


def _unlisted_verdict(group: GroupAck, n_unlisted: int) -> bool | None:
    """Accepted/rejected for sets the 999 does not list, from AK901 (and AK904 when partial).

    Some senders list only the sets with errors. With AK901 A/E every set was accepted, with
    R/M/W/X none; with P the unlisted sets were accepted when AK902 counts the listed and unlisted
    sets and AK904 (sets accepted) counts exactly the unlisted plus the listed accepted ones.
    Otherwise the answer is unknown (None).
    """
    code = group.code or ""
    if code in ("A", "E"):
        return True
    if code in ("R", "M", "W", "X"):
        return False
    if (
        code == "P"
        and group.sets_accepted is not None
        and n_unlisted
        and group.sets_included == len(group.sets) + n_unlisted
    ):
        listed_ok = sum(1 for s in group.sets if s.accepted)
        if group.sets_accepted - listed_ok == n_unlisted:
            return True
    return None


def _control_int(text: str | None) -> int | None:
    """Control numbers are compared as integers ("0001" == 1); None when not numeric."""
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


# --- TA1 --------------------------------------------------------------------------------------


def _apply_interchange_ack(conn: Connection, res: AckResult, ta1: Any, now: datetime | None) -> None:
    """A rejected interchange (TA104 R) rejects every claim in it; an accepted one changes nothing."""
    isa13 = _control_int(ta1.control_number)
    ic = (
        None
        if isa13 is None
        else conn.execute(
            "SELECT * FROM interchanges WHERE isa13 = ? AND status NOT IN ('reserved', 'refused')", (isa13,)
        ).fetchone()
    )
    if ic is None:
        res.unknown.append({"interchange_control_number": ta1.control_number})
        res.findings.append(
            Finding(
                "warning",
                "ack-unknown-interchange",
                f"TA1 answers interchange {ta1.control_number}, which this ledger never sent",
                file=res.file,
                segment="TA1",
                line=ta1.line,
            )
        )
        return
    if not ta1.rejected:
        return
    detail = {"ack": "TA1", "code": ta1.code, "note_code": ta1.note_code}
    conn.execute("UPDATE interchanges SET status = 'rejected' WHERE id = ?", (ic["id"],))
    for tx in conn.execute("SELECT id FROM transactions WHERE interchange_id = ?", (ic["id"],)).fetchall():
        conn.execute("UPDATE transactions SET status = 'rejected' WHERE id = ?", (tx["id"],))
        for claim in conn.execute("SELECT * FROM claims WHERE transaction_id = ?", (tx["id"],)).fetchall():
            _update(conn, res, claim, "rejected", "TA1", detail, now, later_source="277CA")


# --- 277CA ------------------------------------------------------------------------------------


def _find_claim(conn: Connection, cs: ClaimStatus) -> Row | None:
    """Our claim for a 277CA claim: by TRN02 (else REF*EJ / REF*D9), exact then case-insensitive.

    Of several claims with that number (an original and its replacement) the one whose total
    charge equals STC04 wins, else the most recent.
    """
    rows: list[Row] = []
    for number in cs.reference_numbers:
        # UPPER() on both sides: the case-insensitive match both ledger databases speak
        for where in ("patient_control_number = ?", "UPPER(patient_control_number) = UPPER(?)"):
            rows = conn.execute(f"SELECT * FROM claims WHERE {where} ORDER BY id DESC", (number,)).fetchall()
            if rows:
                break
        if rows:
            break
    if not rows:
        return None
    if cs.charge is not None:
        for r in rows:
            if Decimal(r["total_charge"]) == cs.charge:
                return r
    return rows[0]


def _apply_claim_status(conn: Connection, res: AckResult, cs: ClaimStatus, now: datetime | None) -> None:
    claim = _find_claim(conn, cs)
    if claim is None:
        res.unknown.append({"patient_control_number": cs.patient_control_number, "categories": cs.categories})
        res.findings.append(
            Finding(
                "warning",
                "ack-unknown-claim",
                f"277CA reports on patient control number {cs.patient_control_number!r}, which this ledger never sent",
                file=res.file,
                segment="TRN",
                loop="2200D",
                line=cs.line,
                segment_number=cs.segment_number,
            )
        )
        return
    if cs.payer_claim_number:
        conn.execute("UPDATE claims SET payer_claim_number = ? WHERE id = ?", (cs.payer_claim_number, claim["id"]))
    cat = claim_status_for(cs.categories)
    table = status_categories()
    detail = {
        "ack": "277CA",
        "statuses": [
            {
                "category": s.category,
                "meaning": table[s.category].meaning if s.category in table else "unknown category",
                "status_code": s.status,
                "entity": s.entity,
            }
            for s in cs.statuses
        ],
        "payer_claim_number": cs.payer_claim_number,
        "status_date": cs.status_date,
        "lines": [
            {
                "line_control_number": ln.line_control_number,
                "code": ln.code,
                "categories": [s.category for s in ln.statuses],
                "status_codes": [s.status for s in ln.statuses],
            }
            for ln in cs.lines
        ],
    }
    if cat is None:
        res.findings.append(
            Finding(
                "warning",
                "ack-status-not-applied",
                f"277CA categories {', '.join(cs.categories) or '(none)'} for claim "
                f"{cs.patient_control_number} do not map to a claim status; status kept",
                file=res.file,
                segment="STC",
                loop="2200D",
                line=cs.line,
            )
        )
        res.unchanged.append(
            {
                "patient_control_number": claim["patient_control_number"],
                "claim_id": claim["id"],
                "previous": claim["status"],
                "status": claim["status"],
                "reason": "no claim-status category",
            }
        )
        return
    _update(conn, res, claim, cat.ledger_status or claim["status"], "277CA", detail, now, later_source=None)


# --- files ------------------------------------------------------------------------------------


ACK_SETS = frozenset({"999", "997", "277"})


def is_acknowledgment(doc: AckDocument) -> bool:
    """True when the file holds at least one TA1 or one 999/997/277CA transaction set."""
    return bool(doc.interchange_acks) or any(k in ACK_SETS for k in doc.kinds)


def apply_document(conn: Connection, doc: AckDocument, sha256: str, now: datetime | None = None) -> AckResult:
    """Apply a read acknowledgment to the ledger in one transaction (no-op if already applied).

    A file that holds no acknowledgment (an 835, an 837, anything else) is an ``ack-empty`` error
    and leaves the ledger as it was: it is not recorded as applied, so it never reads as a duplicate.
    """
    res = AckResult(doc.file or "", doc.kind, sha256, findings=list(doc.findings))
    if not is_acknowledgment(doc):
        if not any(f.code == "ack-empty" for f in res.findings):
            res.findings.append(
                Finding(
                    "error",
                    "ack-empty",
                    "no acknowledgment (TA1, 999, 997 or 277CA) in this file: nothing applied",
                    file=res.file,
                )
            )
        return res
    with L.transaction(conn):
        if conn.execute("SELECT 1 FROM acknowledgments WHERE sha256 = ?", (sha256,)).fetchone():
            res.duplicate = True
            res.findings.append(
                Finding(
                    "info",
                    "ack-already-applied",
                    "this acknowledgment file was already applied; nothing changed",
                    file=res.file,
                )
            )
            return res
        for ta1 in doc.interchange_acks:
            _apply_interchange_ack(conn, res, ta1, now)
        for group in doc.groups:
            _apply_group(conn, res, group, now)
        for cs in doc.claims:
            _apply_claim_status(conn, res, cs, now)
        summary = {"updates": len(res.updates), "unchanged": len(res.unchanged), "unknown": len(res.unknown)}
        conn.execute(
            "INSERT INTO acknowledgments (kind, path, sha256, received_at, summary) VALUES (?,?,?,?,?)",
            (doc.kind, res.file, sha256, L.iso_time(now), json.dumps(summary)),
        )
    return res


def apply_ack_file(conn: Connection, path: str | Path, now: datetime | None = None) -> AckResult:
    """Read a 999/997/277CA file and apply it to the ledger."""
    data = Path(path).read_bytes()
    doc = read_ack(data, filename=str(path))
    return apply_document(conn, doc, hashlib.sha256(data).hexdigest(), now)
