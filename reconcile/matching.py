"""Matching remittance claims and lines back to the claims and lines we sent.

Claims match by CLP01 (our patient control number; when several claims share it, the one with
the payer claim number, then the charge, then the latest wins). Lines match by REF*6R (our line
control number); when a payer drops it, fallbacks in order: procedure code + modifiers + service
date + units, the original code in SVC06 when the payer restated the code, the NDC of an
N4-qualified line, then code + date (and code alone) when exactly one sent line is left.
The ledger is read in chunks (one query for many claims), never one SELECT per claim.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, NamedTuple, Sequence

from reconcile.remit_adapter import iso
from reconcile.remit_input import RClaim, RLine

CHUNK = 500  # claims per prefetch query (well under SQLite's bound-parameter limit)


class LedgerLine(NamedTuple):
    """A line we sent (a tuple: one is built per sent line of every claim a remittance answers)."""

    id: int
    line_control_number: str
    code: str
    modifiers: str  # colon-separated, as stored; split only when a fallback compares it
    units: str  # exact decimal text, converted only when a fallback compares it
    charge: str
    service_date: str
    ndc: str | None
    revenue_code: str | None


@dataclass(slots=True)
class LedgerClaim:
    id: int
    patient_control_number: str
    payer: str
    payer_claim_number: str | None
    charge: str
    status: str
    lines: list[LedgerLine] = field(default_factory=list)


@dataclass(slots=True)
class LineMatch:
    """One remittance line with the sent line it pays (None: unmatched, with the reason)."""

    rline: RLine
    line: LedgerLine | None
    matched_by: str | None
    reason: str | None = None
    lcn: str | None = None  # the remittance line's REF*6R (read once)


_line_of = LedgerLine._make
_CLAIM_COLS = ("SELECT c.id, c.patient_control_number, c.payer, c.payer_claim_number, c.total_charge, c.status,"
               " l.id, l.line_control_number, l.code, l.modifiers, l.units, l.charge, l.service_date, l.ndc,"
               " l.revenue_code FROM claims c LEFT JOIN lines l ON l.claim_id = c.id")
_ORDER = " ORDER BY c.id, l.line_number"


def prefetch_claims(conn: sqlite3.Connection, pcns: Iterable[str],
                    icns: dict[str, str] | None = None) -> dict[str, list[LedgerClaim]]:
    """Claims (with their lines) for many patient control numbers, one query per chunk.

    Keys are the patient control numbers as the payer sent them. For those with no exact match:
    the same number ignoring case and surrounding blanks, then the payer claim number (CLP07,
    ``icns``: pcn -> CLP07) when the ledger learned it from a 277CA or an earlier 835.
    """
    wanted = sorted(set(pcns))
    out: dict[str, list[LedgerClaim]] = {}
    by_id: dict[int, LedgerClaim] = {}

    def load(where: str, params: list[str], key_of) -> None:
        for i in range(0, len(params), CHUNK):
            part = params[i:i + CHUNK]
            marks = ",".join("?" * len(part))
            cur = None
            for r in conn.execute(f"{_CLAIM_COLS} WHERE {where} IN ({marks}){_ORDER}", part):
                if cur is None or cur.id != r[0]:
                    cur = by_id.get(r[0])
                    if cur is None:
                        cur = by_id[r[0]] = LedgerClaim(r[0], r[1], r[2], r[3], r[4], r[5])
                        if r[6] is not None:
                            cur.lines = []
                        keyed = True
                    else:
                        keyed = False  # already loaded under another key: lines are complete
                    out.setdefault(key_of(r), []).append(cur)
                if r[6] is not None and keyed:
                    cur.lines.append(_line_of(r[6:]))

    load("c.patient_control_number", wanted, lambda r: r[1])
    missing = [p for p in wanted if p not in out]
    if missing:
        norm = {p.strip().upper(): p for p in missing if p.strip()}
        load("upper(trim(c.patient_control_number))", list(norm), lambda r: norm[r[1].strip().upper()])
        by_icn = {icns[p]: p for p in missing if p not in out and icns and icns.get(p)}
        load("c.payer_claim_number", list(by_icn), lambda r: by_icn[r[3]])
    return out


def choose_claim(candidates: Sequence[LedgerClaim] | None, rc: RClaim) -> LedgerClaim | None:
    """The sent claim a remittance claim answers, among those with its patient control number."""
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    if rc.payer_claim_number:  # the reader gives "" when CLP07 is absent
        same = [c for c in candidates if c.payer_claim_number == rc.payer_claim_number]
        if same:
            return same[-1]
    live = [c for c in candidates if c.status not in ("rejected", "void")] or list(candidates)
    charge = abs(rc.charge) if rc.charge is not None else None
    same_charge = [c for c in live if Decimal(c.charge) == charge]
    return (same_charge or live)[-1]


def _mods(m: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(m, str):
        m = m.split(":")
    return tuple(sorted(x for x in m if x))


def _units_ok(rl: RLine, ln: LedgerLine) -> bool:
    return rl.units is None or abs(rl.units) == Decimal(ln.units)


def _date_ok(rl: RLine, ln: LedgerLine, claim_date: str | None) -> bool:
    d = iso(rl.service_date) or claim_date
    return d is None or d == ln.service_date


def _fallbacks(rl: RLine, claim_date: str | None):
    """(name, predicate) pairs tried in order on the sent lines not yet taken."""
    code, mods = rl.code, _mods(rl.modifiers)
    if rl.qualifier == "N4":
        yield "ndc", lambda ln: ln.ndc is not None and ln.ndc == code
        return
    if rl.qualifier == "NU":
        yield "revenue-date-units", lambda ln: (ln.revenue_code == code and _date_ok(rl, ln, claim_date)
                                                and _units_ok(rl, ln))
        return
    yield "code-modifiers-date-units", lambda ln: (ln.code == code and _mods(ln.modifiers) == mods
                                                   and _date_ok(rl, ln, claim_date) and _units_ok(rl, ln))
    if rl.original_code:
        omods = _mods(rl.original_modifiers)
        yield "svc06", lambda ln: (ln.code == rl.original_code and (not omods or _mods(ln.modifiers) == omods)
                                   and _date_ok(rl, ln, claim_date))
    yield "code-modifiers-date", lambda ln: (ln.code == code and _mods(ln.modifiers) == mods
                                             and _date_ok(rl, ln, claim_date))


def _relaxed(rl: RLine, claim_date: str | None):
    code = rl.original_code or rl.code
    yield "code-date-unique", lambda ln: ln.code == code and _date_ok(rl, ln, claim_date)
    if rl.original_code:
        yield "code-date-unique", lambda ln: ln.code == rl.code and _date_ok(rl, ln, claim_date)


def match_lines(claim: LedgerClaim, rlines: Sequence[RLine], rclaim: Any = None) -> list[LineMatch]:
    """Pair every remittance line with at most one sent line of ``claim`` (each sent line once).

    ``rclaim`` (the remittance claim) gives the statement date (DTM*232) for lines without a date.
    """
    by_lcn = {ln.line_control_number: ln for ln in claim.lines}
    taken: set[int] = set()
    result: list[LineMatch | None] = [None] * len(rlines)
    lcns = [rl.line_control_number for rl in rlines]
    missing = False
    for i, rl in enumerate(rlines):
        lcn = lcns[i]
        ln = by_lcn.get(lcn) if lcn else None
        if ln is not None and ln.id not in taken:
            taken.add(ln.id)
            result[i] = LineMatch(rl, ln, "ref6r", None, lcn)
        else:
            missing = True
    if not missing:
        return result  # type: ignore[return-value]
    claim_date = iso(rclaim.date("232")) if rclaim is not None else None
    for strict in (True, False):
        for i, rl in enumerate(rlines):
            if result[i] is not None:
                continue
            for name, pred in (_fallbacks(rl, claim_date) if strict else _relaxed(rl, claim_date)):
                hits = [ln for ln in claim.lines if ln.id not in taken and pred(ln)]
                if hits and (strict or len(hits) == 1):
                    taken.add(hits[0].id)
                    result[i] = LineMatch(rl, hits[0], name, None, lcns[i])
                    break
    out: list[LineMatch] = []
    for i, rl in enumerate(rlines):
        m = result[i]
        if m is None:
            why = ("line control number (REF*6R) not on this claim" if lcns[i]
                   else "no sent line with this code, modifiers, date and units")
            m = LineMatch(rl, None, None, why, lcns[i])
        out.append(m)
    return out
