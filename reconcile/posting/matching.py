"""Matching remittance claims and lines back to the claims and lines we sent.

A remittance answers only claims sent to the payer that issued it (:class:`PayerScope`): claims whose
2010BB payer id is the 835's payer id (N1*PR N104, else REF*2U), or a payer-id alias configured
for that payer (``payer_id_aliases`` in the payer profile). A claim of another payer is never a
candidate, whatever its numbers. Among the payer's claims, claims match by CLP01 (our patient control number; when several claims share it, the one with
the payer claim number, then the charge, then the latest wins). Lines match by REF*6R (our line
control number); when a payer drops it, fallbacks in order: procedure code + modifiers + service
date + units, the original code in SVC06 when the payer restated the code, the NDC of an
N4-qualified line, then code + date (and code alone) when exactly one sent line is left.
The ledger is read in chunks (one query for many claims), never one SELECT per claim.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any, NamedTuple

from reconcile.ledger.db import Connection, Cursor
from reconcile.posting.records import RClaim, RLine
from reconcile.posting.remit import iso

CHUNK = 500  # claims per prefetch query (well under SQLite's bound-parameter limit)
# SQL conditions that hold for no row / every row, in both databases' words (PostgreSQL takes no
# integer where a condition goes)
NONE, ALL = "1 = 0", "1 = 1"


class LedgerLine(NamedTuple):
    """A line we sent, every field the fallbacks compare (loaded only for a claim that needs them)."""

    id: int
    line_control_number: str
    code: str
    modifiers: str  # colon-separated, as stored; split only when a fallback compares it
    units: str  # exact decimal text, converted only when a fallback compares it
    charge: str
    service_date: str
    ndc: str | None
    revenue_code: str | None


# A sent line as the prefetch reads it (a plain tuple, as the ledger returns it: one per sent line
# of every claim a remittance answers): (id, line_control_number, code, claim_id).
SentLine = tuple  # (int, str, str, int)
_LCN = itemgetter(1)


@dataclass(slots=True)
class LedgerClaim:
    id: int
    patient_control_number: str
    payer: str
    payer_claim_number: str | None
    charge: str
    status: str
    # sent lines by REF*6R (line control numbers are unique in the ledger): the claim's own lines,
    # in a mapping that one prefetch shares among its claims (a line is this claim's when its
    # claim_id is this claim's id)
    sent: dict[str, SentLine] = field(default_factory=dict)
    detail: list[LedgerLine] | None = None  # the claim's lines with every field, once a fallback needs them


# One remittance line with the sent line it pays: (remittance line, SentLine or None, matched_by,
# reason when unmatched, the remittance line's REF*6R read once). A plain tuple: one per line.
LineMatch = tuple

_CLAIMS = (
    "SELECT id, patient_control_number, payer, payer_claim_number, total_charge, status FROM claims"
    " WHERE {} IN ({}) AND {} ORDER BY id"
)
_LINES = "SELECT id, line_control_number, code, claim_id FROM lines WHERE claim_id IN ({})"
_DETAIL = (
    "SELECT id, line_control_number, code, modifiers, units, charge, service_date, ndc, revenue_code"
    " FROM lines WHERE claim_id = ? ORDER BY line_number"
)
_line_of = LedgerLine._make
LinePredicate = Callable[[LedgerLine], bool]  # a fallback's test of one sent line


def norm_payer_id(value: str | None) -> str:
    """A payer id as compared: surrounding blanks dropped, upper case."""
    return (value or "").strip().upper()


@dataclass(frozen=True)
class PayerScope:
    """The ledger claims one 835 payer may answer.

    ``ids``: normalized 2010BB payer ids (the 835's own and, when a payer profile accepts it, that
    profile's payer id and aliases); ``keys``: the payer-profile keys that accept the 835's payer
    id. Empty when the 835 names no payer id: then it answers no claim.
    """

    payer_id: str
    ids: frozenset[str]
    keys: frozenset[str] = frozenset()

    def where(self, table: str = "") -> tuple[str, list[str]]:
        """SQL condition (and its parameters) on a ``claims`` row: the claim is this payer's."""
        t = f"{table}." if table else ""
        ids, keys = sorted(self.ids), sorted(self.keys)
        parts = []
        if ids:
            parts.append(f"upper(trim({t}payer_id)) IN ({','.join('?' * len(ids))})")
        if keys:
            parts.append(f"{t}payer IN ({','.join('?' * len(keys))})")
        return ("(" + " OR ".join(parts) + ")" if parts else NONE), [*ids, *keys]

    def payment_where(self, table: str) -> tuple[str, list[str]]:
        """SQL condition on a ``payments`` row: the payment came from this payer (or an alias)."""
        ids = sorted(self.ids)
        if not ids:
            return NONE, []
        return f"upper(trim({table}.payer_id)) IN ({','.join('?' * len(ids))})", ids


class PayerDirectory:
    """Payer-profile key -> the payer ids an 835 of that payer may carry (its ``payer_id`` and its
    ``payer_id_aliases``). Empty: an 835 answers only claims whose payer id equals its own."""

    def __init__(self, profiles: Mapping[str, Iterable[str]] | None = None) -> None:
        self.profiles = {
            k: frozenset(norm_payer_id(i) for i in ids if norm_payer_id(i)) for k, ids in (profiles or {}).items()
        }

    @classmethod
    def from_config(cls, cfg: Any) -> PayerDirectory:
        """From a :class:`coding.config.Config`: each profile's payer id and ``payer_id_aliases``."""
        return cls({k: [p.payer_id, *(p.get("payer_id_aliases") or ())] for k, p in cfg.payers.items()})

    def scope(self, payer_id: str | None) -> PayerScope:
        pid = norm_payer_id(payer_id)
        if not pid:
            return PayerScope("", frozenset())
        keys = frozenset(k for k, ids in self.profiles.items() if pid in ids)
        ids = frozenset({pid}).union(*(self.profiles[k] for k in keys))
        return PayerScope(pid, ids, keys)


def _tuples(conn: Connection) -> Cursor:
    """A cursor returning plain tuples (whatever the connection's row factory)."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur


def prefetch_claims(
    conn: Connection, pcns: Iterable[str], icns: dict[str, str] | None = None, scope: PayerScope | None = None
) -> dict[str, list[LedgerClaim]]:
    """Claims (with their lines) for many patient control numbers, two queries per chunk.

    Only claims of ``scope`` (the 835's payer) are read; ``None`` reads every payer's (tools only).
    Keys are the patient control numbers as the payer sent them. For those with no exact match:
    the same number ignoring case and surrounding blanks, then the payer claim number (CLP07,
    ``icns``: pcn -> CLP07) when the ledger learned it from a 277CA or an earlier 835. A key's
    claims are in id order; their sent lines are in one mapping by REF*6R that they share.
    """
    wanted = sorted(set(pcns))
    out: dict[str, list[LedgerClaim]] = {}
    by_id: dict[int, LedgerClaim] = {}
    sent: dict[str, SentLine] = {}
    cur = _tuples(conn)
    payer_sql, payer_params = scope.where() if scope is not None else (ALL, [])

    def load(where: str, params: list[str], key_of: Callable[[Any], str]) -> None:
        for i in range(0, len(params), CHUNK):
            part = params[i : i + CHUNK]
            fresh: list[int] = []
            sql = _CLAIMS.format(where, ",".join("?" * len(part)), payer_sql)
            for r in cur.execute(sql, [*part, *payer_params]).fetchall():
                lc = by_id.get(r[0])
                if lc is None:  # (a claim already loaded under another key has its lines)
                    lc = by_id[r[0]] = LedgerClaim(r[0], r[1], r[2], r[3], r[4], r[5], sent)
                    fresh.append(r[0])
                out.setdefault(key_of(r), []).append(lc)
            for j in range(0, len(fresh), CHUNK):
                ids = fresh[j : j + CHUNK]
                rows = cur.execute(_LINES.format(",".join("?" * len(ids))), ids).fetchall()
                sent.update(zip(map(_LCN, rows), rows))

    load("patient_control_number", wanted, lambda r: r[1])
    missing = [p for p in wanted if p not in out]
    if missing:
        norm = {p.strip().upper(): p for p in missing if p.strip()}
        load("upper(trim(patient_control_number))", list(norm), lambda r: norm[r[1].strip().upper()])
        by_icn = {icns[p]: p for p in missing if p not in out and icns and icns.get(p)}
        load("payer_claim_number", list(by_icn), lambda r: by_icn[r[3]])
    return out


def sent_elsewhere(conn: Connection, pcns: Iterable[str]) -> set[str]:
    """Those of ``pcns`` that some claim in the ledger carries (whatever its payer)."""
    wanted = sorted(set(pcns))
    found: set[str] = set()
    cur = _tuples(conn)
    for i in range(0, len(wanted), CHUNK):
        part = wanted[i : i + CHUNK]
        sql = f"SELECT DISTINCT patient_control_number FROM claims WHERE patient_control_number IN ({','.join('?' * len(part))})"
        found.update(r[0] for r in cur.execute(sql, part))
    return found


def sent_lines(conn: Connection, claim: LedgerClaim) -> list[LedgerLine]:
    """Every field of the claim's sent lines (read once, when a fallback compares them)."""
    if claim.detail is None:
        claim.detail = [_line_of(r) for r in _tuples(conn).execute(_DETAIL, (claim.id,))]
    return claim.detail


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


def _fallbacks(rl: RLine, claim_date: str | None) -> Iterator[tuple[str, LinePredicate]]:
    """(name, predicate) pairs tried in order on the sent lines not yet taken."""
    code, mods = rl.code, _mods(rl.modifiers)
    if rl.qualifier == "N4":
        yield "ndc", lambda ln: ln.ndc is not None and ln.ndc == code
        return
    if rl.qualifier == "NU":
        yield (
            "revenue-date-units",
            lambda ln: ln.revenue_code == code and _date_ok(rl, ln, claim_date) and _units_ok(rl, ln),
        )
        return
    yield (
        "code-modifiers-date-units",
        lambda ln: (
            ln.code == code and _mods(ln.modifiers) == mods and _date_ok(rl, ln, claim_date) and _units_ok(rl, ln)
        ),
    )
    if rl.original_code:
        omods = _mods(rl.original_modifiers)
        yield (
            "svc06",
            lambda ln: (
                ln.code == rl.original_code
                and (not omods or _mods(ln.modifiers) == omods)
                and _date_ok(rl, ln, claim_date)
            ),
        )
    yield (
        "code-modifiers-date",
        lambda ln: ln.code == code and _mods(ln.modifiers) == mods and _date_ok(rl, ln, claim_date),
    )


def _relaxed(rl: RLine, claim_date: str | None) -> Iterator[tuple[str, LinePredicate]]:
    code = rl.original_code or rl.code
    yield "code-date-unique", lambda ln: ln.code == code and _date_ok(rl, ln, claim_date)
    if rl.original_code:
        yield "code-date-unique", lambda ln: ln.code == rl.code and _date_ok(rl, ln, claim_date)


def match_lines(
    claim: LedgerClaim, rlines: Sequence[RLine], rclaim: Any = None, conn: Connection | None = None
) -> list[LineMatch]:
    """Pair every remittance line with at most one sent line of ``claim`` (each sent line once).

    ``rclaim`` (the remittance claim) gives the statement date (DTM*232) for lines without a date;
    ``conn`` reads the sent lines' other fields when a line needs the fallbacks (unless
    ``claim.detail`` holds them already).
    """
    sent, cid = claim.sent, claim.id
    taken: set[int] = set()
    result: list = []
    append = result.append
    missing = False
    for rl in rlines:
        lcn = rl.line_control_number
        ln = sent.get(lcn) if lcn else None
        if ln is not None and ln[3] == cid and ln[0] not in taken:
            taken.add(ln[0])
            append((rl, ln, "ref6r", None, lcn))
        else:
            missing = True
            append(None)
    if not missing:
        return result
    lcns = [rl.line_control_number for rl in rlines]
    detail = claim.detail if claim.detail is not None or conn is None else sent_lines(conn, claim)
    if detail is None:
        raise ValueError("match_lines: the claim's sent lines are needed (pass conn)")
    claim_date = iso(rclaim.date("232")) if rclaim is not None else None
    for strict in (True, False):
        for i, rl in enumerate(rlines):
            if result[i] is not None:
                continue
            for name, pred in _fallbacks(rl, claim_date) if strict else _relaxed(rl, claim_date):
                hits = [ln for ln in detail if ln.id not in taken and pred(ln)]
                if hits and (strict or len(hits) == 1):
                    taken.add(hits[0].id)
                    hit = hits[0]
                    result[i] = (rl, (hit.id, hit.line_control_number, hit.code, cid), name, None, lcns[i])
                    break
    for i, rl in enumerate(rlines):
        if result[i] is None:
            why = (
                "line control number (REF*6R) not on this claim"
                if lcns[i]
                else "no sent line with this code, modifiers, date and units"
            )
            result[i] = (rl, None, None, why, lcns[i])
    return result
