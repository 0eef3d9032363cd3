"""Post 835 remittances to the ledger: an importer over the ledger (beancount's shape).

One database transaction per file (``BEGIN IMMEDIATE`` … ``COMMIT``): a crash or kill mid-file
leaves nothing of that file. Idempotent: a file whose sha256 was posted, or a payment (payer id +
TRN02 + BPR02) already posted from another file, is reported as a duplicate and posts nothing.
Every claim and line lands on the claim/line it pays (:mod:`reconcile.posting.matching`: only claims
sent to the payer that issued the 835) or in the unmatched queue with the reason; amounts are kept exactly as the payer sent them, so the ledger
balance per claim is charge − payments − adjustments. Reversals (CLP02 22) point at the posting
they reverse (only an earlier posting of the same payer: a reversal with none goes to the unmatched
queue). A payment for a claim the same payer already paid (a live posting with CLP04 > 0, not
undone by a reversal in the same remittance) is a ``duplicate-claim-payment`` finding and goes to
the unmatched queue, never on the claim a second time. PLB entries are provider-level adjustments linked to our claim when PLB03-2 names it.

Rows are collected per chunk of claims and written with multi-row inserts
(:mod:`reconcile.posting.writer`), and the ledger is read with two queries per chunk (the claims,
then their lines), so posting 100,000 claims costs a small multiple of reading the file.

On a PostgreSQL ledger the same transaction holds the ledger's writer lock (two processes posting
the same file post it once), the bulk rows go through COPY, the ids of every table the poster
writes follow on from its largest id as on SQLite (an identity sequence is not rolled back with a
failed posting), and tables read by lists of keys get planner statistics when they have none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from coding.findings import Finding, info, warning
from coding.money import money_str
from reconcile.denials import worklist as dn
from reconcile.ledger.db import Connection, dialect
from reconcile.ledger.store import inserted_id
from reconcile.posting.matching import (
    CHUNK,
    LedgerClaim,
    LineMatch,
    PayerDirectory,
    PayerScope,
    choose_claim,
    match_lines,
    prefetch_claims,
    sent_elsewhere,
)
from reconcile.posting.queries import posting_totals, unmatched_queue  # noqa: F401  (public here too)
from reconcile.posting.records import ZERO, Adj, RClaim, RPlb, RRemit
from reconcile.posting.remit import _ISO as _ISO_CACHE
from reconcile.posting.remit import iso
from reconcile.posting.result import FileResult, PostResult
from reconcile.posting.writer import Insert, Writer, bulk_gc

Progress = Callable[[str, int], None]  # (file path, claims posted so far in it)
_DETAIL: dict[str, str] = {}

STATUS_FIXED = {"23": "forwarded", "25": "predetermination"}
FORWARDED_STATUSES = frozenset({"19", "20", "21"})  # processed and forwarded to the next payer
STATUS_SUFFIX = {
    "2": "_secondary",
    "3": "_tertiary",
    "19": "_forwarded",
    "20": "_secondary_forwarded",
    "21": "_tertiary_forwarded",
}
# PLB03-1 adjustment reason -> kind of provider-level adjustment
PLB_KIND: dict[str, str] = {
    "L6": "interest",
    "WO": "recoupment",
    "72": "recoupment",
    "FB": "forward_balance",
    "J1": "nonreimbursable",
    "CS": "adjustment",
    "B2": "rebate",
    "BD": "bad_debt",
    "L3": "penalty",
    "IR": "tax_withholding",
    "50": "late_charge",
    "WU": "recoupment",
}


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _pos(f: Finding) -> str | None:
    where = {
        k: getattr(f, k) for k in ("file", "segment", "loop", "element", "line", "field") if getattr(f, k) is not None
    }
    return json.dumps(where) if where else None


def _codes(remarks: Iterable[Any]) -> list[str]:
    """Remark codes from the reader's LQ (qualifier, code) pairs or from plain codes."""
    return [r[1] if isinstance(r, tuple) else r for r in remarks if r]


def _billed_code(rl: Any, line_id: int | None, codes: dict[int, str]) -> str | None:
    """The procedure code we billed on a denied line (the payer's SVC06 original, or its SVC01)."""
    if rl is None:
        return None
    if line_id is not None and line_id in codes:
        return codes[line_id]
    return rl.original_code or rl.code


def _allowed(rl: Any) -> str | None:
    """The payer's allowed amount of a line (AMT*B6) as text, when the 835 states it."""
    for a in getattr(rl, "amounts", None) or ():
        if a.qualifier == "B6" and a.amount is not None:
            return str(a.amount)
    own = getattr(rl, "allowed", None)
    return None if own is None else str(own)


def _adj_rows(adjs: Sequence[Adj]) -> list[tuple[str, str, Decimal]]:
    return [(a.group, a.reason, ZERO if a.amount is None else a.amount) for a in adjs]


class _Poster:
    """Writes one file's remittances inside the caller's open transaction."""

    def __init__(
        self,
        conn: Connection,
        file_id: int,
        res: FileResult,
        progress: Progress | None,
        payers: PayerDirectory | None = None,
    ) -> None:
        self.writer = Writer(conn)
        self._conn, self.file_id, self.res, self.progress = conn, file_id, res, progress
        self.payers = payers if payers is not None else PayerDirectory()
        self.scope = PayerScope("", frozenset())
        self.ids = {t: int(conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {t}").fetchone()[0]) for t in _NUMBERED}
        # PostgreSQL: claim postings (read back by lists of claim ids) are analyzed again each time
        # this file has doubled them, so the planner keeps using their index as they grow
        self.reanalyze_at = max(2 * self.ids["claim_postings"], REANALYZE_MIN) if dialect(conn) == "postgresql" else 0
        self.done = 0
        self.payment_id: int | None = None
        self.active = False
        # lines / claims with open denials: only those can be resolved by a later payment
        self.denied_lines = {
            r[0]
            for r in conn.execute("SELECT DISTINCT line_id FROM denials WHERE status = 'open' AND line_id IS NOT NULL")
        }
        self.denied_claims = {
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT claim_id FROM denials WHERE status = 'open' AND line_id IS NULL"
                " AND claim_id IS NOT NULL"
            )
        }
        self.line_codes: dict[int, str] = {}  # sent code of denied lines (the worklist names what we billed)
        self.ts = _now()
        self.reversed_ids: set[int] = set()  # postings reversed in this file (their UPDATE may be pending)
        # postings of this chunk (not reversals) by CLP07 and by claim id, and their ids: (id, claim id)
        self.chunk_icn: dict[str, list[tuple[int, int | None]]] = {}
        self.chunk_claim: dict[int, list[tuple[int, int | None]]] = {}
        self.chunk_ids: set[int] = set()
        self.orig_icn: dict[str, list[tuple[int, int | None]]] = {}
        self.orig_claim: dict[int, list[tuple[int, int | None]]] = {}
        # this payer's live paid postings (CLP04 > 0, not reversed) of the chunk's claims: claim id ->
        # posting ids; claims a reversal of this chunk answers (a correction next to it is no duplicate)
        self.paid_live: dict[int, set[int]] = {}
        self.reversing: set[int] = set()
        self.payer_payments: set[int] = set()  # ids of the current payer's payments
        self.elsewhere: set[str] = set()  # patient control numbers of the chunk sent to another payer only
        self._reset()

    @property
    def conn(self) -> Connection:
        """The connection, once every submitted batch is written."""
        return self.writer.sync()

    def _reset(self) -> None:
        self.cp: list[tuple] = []
        self.lp: list[tuple] = []
        self.adj: list[tuple] = []
        self.den: list[tuple] = []
        self.unm: list[tuple] = []
        self.status: list[tuple] = []
        self.history: list[tuple] = []
        self.resolve_lines: list[tuple] = []
        self.resolve_claims: list[tuple] = []
        self.fnd: list[tuple] = []
        self.fwd: list[tuple] = []

    def _next(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    # ------------------------------------------------------------------ remittance
    def remittance(self, rm: RRemit) -> None:
        """Post one whole remittance (its ``claims`` may be any iterable, even a lazy one)."""
        if self.begin(rm):
            claims = iter(rm.claims)
            while True:
                chunk = list(islice(claims, CHUNK))
                if not chunk:
                    break
                self.claims(chunk)
        self.end(rm.plbs, rm.findings)

    def begin(self, rm: RRemit) -> bool:
        """Start a remittance (its header: payer, trace, amount); False when the payment was
        already posted: then its claims and PLBs are skipped."""
        c = self.conn
        key = (rm.payer_id or "", rm.trace or "", money_str(rm.amount))
        self.active = False
        if c.execute("SELECT 1 FROM payments WHERE payer_id=? AND trace=? AND amount=?", key).fetchone():
            self.res.duplicate_payments += 1
            self.res.findings.append(
                info(
                    "duplicate-payment",
                    "payment (payer id, TRN02 trace, BPR02 amount) already posted: nothing posted for this remittance",
                    segment="TRN",
                    line=rm.segment,
                )
            )
            return False
        self.payment_id = inserted_id(
            c.execute(
                "INSERT INTO payments (file_id, payer_id, payer_name, trace, amount, method, payment_date, segment)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (self.file_id, key[0], rm.payer_name, key[1], key[2], rm.method, rm.payment_date, rm.segment),
            )
        )
        self.res.remittances += 1
        self.res.payment += rm.amount
        self.remit = rm
        self.payer = rm.payer_name or rm.payer_id
        self.scope = self.payers.scope(rm.payer_id)
        # the payments of this payer (this one included): the postings of this payer are theirs (a
        # set rather than a join, which PostgreSQL may plan as one scan of the postings per payment)
        paid_by, params = self.scope.payment_where("p")
        self.payer_payments = {r[0] for r in c.execute(f"SELECT p.id FROM payments p WHERE {paid_by}", params)}
        self.active = True
        return True

    def claims(self, batch: Sequence[Any]) -> None:
        """Post a batch of claims of the current remittance (ledger read once per chunk)."""
        if not self.active:
            return
        for i in range(0, len(batch), CHUNK):
            chunk = batch[i : i + CHUNK]
            pref = prefetch_claims(
                self.conn,
                (rc.patient_control_number for rc in chunk),
                {
                    rc.patient_control_number: rc.payer_claim_number
                    for rc in chunk
                    if rc.payer_claim_number and rc.status != "22"
                },
                self.scope,
            )
            missing = [rc.patient_control_number for rc in chunk if rc.patient_control_number not in pref]
            self.elsewhere = sent_elsewhere(self.conn, missing) if missing else set()
            # a claim with a segment that could not be read matches nothing: its money is not trusted
            chosen = [None if rc.unreadable else choose_claim(pref.get(rc.patient_control_number), rc) for rc in chunk]
            self._prefetch_originals(chunk, pref)
            self._prefetch_paid(chunk, chosen)
            for rc, lc in zip(chunk, chosen):
                self.claim(rc, lc)
            self.flush()
            if self.reanalyze_at and self.ids["claim_postings"] >= self.reanalyze_at:
                _analyze(self.conn, _GROWING)
                self.reanalyze_at = 2 * self.ids["claim_postings"]
            self.done += len(chunk)
            if self.progress:
                self.progress(self.res.path, self.done)

    def end(self, plbs: Sequence[RPlb], findings: Sequence[Finding]) -> None:
        """Close the current remittance: its PLB entries and the reader's findings about it."""
        if self.active:
            self._findings(findings)
            self.plbs(plbs)
        self.active = False

    def _findings(self, findings: Iterable[Finding]) -> None:
        rows = [(self.file_id, self.payment_id, f.severity, f.code, f.message, _pos(f)) for f in findings]
        if rows:
            self.fnd.extend(rows)
            self.res.findings.extend(findings)

    # ------------------------------------------------------------------ claims
    def claim(self, rc: Any, lc: LedgerClaim | None) -> None:
        """Post one remittance claim (an ``edi.x835.model.Loop2100`` or an :class:`RClaim`)."""
        res = self.res
        ids = self.ids
        ids["claim_postings"] = cp_id = ids["claim_postings"] + 1
        claim_id = lc.id if lc else None
        status = rc.status
        icn = rc.payer_claim_number or None
        charge, paid, pr = rc.charge, rc.paid, rc.patient_responsibility
        if charge is None:
            charge = ZERO
        if paid is None:
            paid = ZERO
        if pr is None:
            pr = ZERO
        reversal_of = None
        original = None
        unreadable = rc.unreadable
        unmatched_why = unreadable or (None if claim_id is not None else self._why_unmatched(rc))
        related = None
        if unreadable:
            claim_id = lc = None
        elif status == "22":
            res.reversals += 1
            original = self._original(rc, claim_id)
            if original is None:
                self._findings(
                    [
                        warning(
                            "reversal-without-original",
                            "reversal (CLP02 22) with no earlier posting of this payer to reverse:"
                            " kept in the unmatched queue",
                            segment="CLP",
                            line=rc.segment_number,
                        )
                    ]
                )
                related, claim_id, lc = claim_id, None, None
                unmatched_why = "reversal (CLP02 22) with no earlier posting of this payer to reverse"
            else:  # the reversal goes exactly where the posting it undoes went
                reversal_of = original[0]
                if original[1] != claim_id:
                    related, lc = claim_id, None
                claim_id = original[1]
                if claim_id is None:
                    unmatched_why = "reversal (CLP02 22) of a posting that is in the unmatched queue"
        if not unreadable and status != "22":
            if claim_id is not None and paid > ZERO:
                earlier = self.paid_live.get(claim_id, set()) - self.reversed_ids
                if earlier and claim_id not in self.reversing:
                    self._findings(
                        [
                            warning(
                                "duplicate-claim-payment",
                                f"payment of {money_str(paid)} for a claim this payer already paid"
                                " (not a reversal and correction): kept in the unmatched queue, not"
                                " posted to the claim a second time",
                                segment="CLP",
                                line=rc.segment_number,
                            )
                        ]
                    )
                    related, claim_id, lc = claim_id, None, None
                    unmatched_why = "claim already paid by this payer (duplicate payment)"
                else:
                    self.paid_live.setdefault(claim_id, set()).add(cp_id)
            self.chunk_ids.add(cp_id)
            if icn:
                self.chunk_icn.setdefault(icn, []).append((cp_id, claim_id))
            if claim_id is not None:
                self.chunk_claim.setdefault(claim_id, []).append((cp_id, claim_id))
        adj_from = ids["adjustments"] + 1
        res.claims += 1
        res.paid += paid
        cadjs = rc.adjustments
        if cadjs:
            claim_adjs = _adj_rows(cadjs)
            for a in cadjs:
                self._adj(cp_id, None, a.group, a.reason, ZERO if a.amount is None else a.amount, a.quantity)
        else:
            claim_adjs = []
        if claim_id is None:
            self._unmatched(
                "claim",
                cp_id,
                None,
                rc.patient_control_number,
                None,
                None,
                paid,
                unmatched_why or "no claim sent with this patient control number (CLP01)",
                rc.segment_number,
                related,
            )
        lines = rc.lines
        if lines:
            if lc is not None:
                matches = match_lines(lc, lines, rc, self._conn)
            else:
                why_lines = unreadable or "claim not matched"
                matches = [(rl, None, None, why_lines, rl.line_control_number) for rl in lines]
            self._lines(rc, cp_id, claim_id, matches, claim_adjs)
        elif original is not None and not claim_adjs:
            self._mirror(original[0], cp_id, rc)
        adj_to = ids["adjustments"]
        self.cp.append(
            (
                cp_id,
                self.payment_id,
                claim_id,
                rc.patient_control_number,
                icn,
                status,
                str(charge),
                str(paid),
                str(pr),
                reversal_of or 0,
                rc.segment_number,
                adj_from if adj_to >= adj_from else None,
                adj_to if adj_to >= adj_from else None,
            )
        )
        if status != "22" and not lines and not unreadable and dn.is_denial(status, paid, claim_adjs):
            self._denial(rc, cp_id, None, claim_id, None, None, None, claim_adjs, charge)
        if claim_id is not None:
            self._claim_status(rc, claim_id, cp_id, paid, icn)
            if status in FORWARDED_STATUSES or getattr(rc, "names", None):
                self._forward(rc, cp_id)

    def _forward(self, rc: Any, cp_id: int) -> None:
        """Keep a forwarding (CLP02 19/20/21, NM1*TT crossover carrier) for coordination of benefits."""
        tt = next((n for n in rc.names if n.entity == "TT"), None) if getattr(rc, "names", None) else None
        if rc.status in FORWARDED_STATUSES or tt is not None:
            crossover = None if tt is None else (tt.last or tt.id or "TT")
            self.fwd.append((cp_id, crossover, ",".join(_codes(rc.remark_codes))))

    def _adj(
        self, cp_id: int, lp_id: int | None, group: str, reason: str, amount: Decimal, quantity: Decimal | None
    ) -> None:
        self.adj.append(
            (
                self._next("adjustments"),
                cp_id,
                lp_id or 0,
                group,
                reason,
                str(amount),
                0 if quantity is None else str(quantity),
            )
        )
        self.res.adjusted += amount
        if group == "PR":
            self.res.patient_responsibility += amount

    def _lines(
        self,
        rc: Any,
        cp_id: int,
        claim_id: int | None,
        matches: list[LineMatch],
        claim_adjs: list[tuple[str, str, Decimal]],
    ) -> None:
        """Post the lines of one remittance claim (each with the sent line it pays, or None).

        The hot loop of posting (one pass per remittance line): row tuples are built directly,
        with the ids, totals and batches kept in locals."""
        ids, res = self.ids, self.res
        lp_append, adj_append = self.lp.append, self.adj.append
        lp_id, aid = ids["line_postings"], ids["adjustments"]
        adjusted, patient = res.adjusted, res.patient_responsibility
        reversal = rc.status == "22"
        unreadable = rc.unreadable
        denied_lines = self.denied_lines
        iso_of = _ISO_CACHE.get
        for rl, ln, matched_by, why, lcn in matches:
            lp_id += 1
            paid, charge, units, d = rl.paid, rl.charge, rl.units, rl.service_date
            if paid is None:
                paid = ZERO
            if charge is None:
                charge = ZERO
            lp_append(
                (
                    lp_id,
                    cp_id,
                    ln[0] if ln else 0,
                    lcn,
                    rl.code,
                    ":".join(rl.modifiers),
                    str(charge),
                    str(paid),
                    None if units is None else str(units),
                    (iso_of(d) or iso(d)) if d else None,
                    matched_by,
                    rl.segment_number,
                    _allowed(rl),
                )
            )
            ladjs = rl.adjustments
            if ladjs:
                for a in ladjs:
                    aid += 1
                    q, amt, group = a.quantity, a.amount, a.group
                    if amt is None:
                        amt = ZERO
                    adj_append((aid, cp_id, lp_id, group, a.reason, str(amt), 0 if q is None else str(q)))
                    adjusted += amt
                    if group == "PR":
                        patient += amt
            if ln is None and (claim_id is not None or unreadable):
                self._unmatched(
                    "line",
                    cp_id,
                    lp_id,
                    rc.patient_control_number,
                    lcn,
                    rl.code,
                    paid,
                    why or "unmatched",
                    rl.segment_number,
                )
            if paid != ZERO or reversal or unreadable:  # no denial from amounts that cannot be trusted
                if paid > ZERO and ln is not None and not reversal and ln[0] in denied_lines:
                    self.resolve_lines.append((cp_id, ln[0]))
                continue
            line_adjs = _adj_rows(ladjs)
            # a zero-paid line is denied by status 4, by its own CO/PI/OA reason, or (when it carries no
            # CAS of its own) by the claim's
            if rc.status == dn.DENIED_STATUS or dn.is_denial("", paid, line_adjs or claim_adjs):
                if ln is not None:
                    self.line_codes[ln[0]] = ln[2]
                self._denial(
                    rc,
                    cp_id,
                    lp_id,
                    claim_id,
                    ln[0] if ln else None,
                    lcn or (ln[1] if ln else None),
                    rl,
                    line_adjs or claim_adjs,
                    charge,
                )
        ids["line_postings"], ids["adjustments"] = lp_id, aid
        res.adjusted, res.patient_responsibility = adjusted, patient
        res.lines += len(matches)

    def _unmatched(
        self,
        kind: str,
        cp_id: int,
        lp_id: int | None,
        pcn: str,
        lcn: str | None,
        code: str | None,
        amount: Decimal,
        reason: str,
        segment: int | None,
        related: int | None = None,
    ) -> None:
        self.unm.append(
            (self.payment_id, cp_id, lp_id, kind, pcn, lcn, code, str(amount), reason, segment, related or 0)
        )
        self.res.unmatched += 1

    def _why_unmatched(self, rc: Any) -> str:
        """Why a remittance claim matched no claim of this payer."""
        if not self.scope.ids:
            return "the 835 names no payer id (N1*PR N104 / REF*2U): matched to no claim"
        if rc.patient_control_number in self.elsewhere:
            return "claim (CLP01) was sent to another payer, not to the payer of this 835"
        return "no claim sent to this payer with this patient control number (CLP01)"

    def _denial(
        self,
        rc: RClaim,
        cp_id: int,
        lp_id: int | None,
        claim_id: int | None,
        line_id: int | None,
        lcn: str | None,
        rl: Any,
        adjs: list[tuple[str, str, Decimal]],
        charge: Decimal,
    ) -> None:
        group, carc = dn.primary_reason(adjs)
        remarks = list(dict.fromkeys([*_codes(rl.remarks if rl is not None else ()), *rc.remark_codes]))
        rework, rarc = dn.categorize(group, carc, remarks)
        own = adjs if rl is None else _adj_rows(rl.adjustments)  # a line's own CAS, else its charge
        at_risk = sum((a for g, _r, a in own if g != "PR"), ZERO)
        amount = at_risk if at_risk > 0 else charge
        self.den.append(
            (
                cp_id,
                lp_id,
                claim_id,
                line_id,
                rc.patient_control_number,
                lcn,
                rc.payer_claim_number or None,
                _billed_code(rl, line_id, self.line_codes),
                group,
                carc,
                rarc,
                ",".join(remarks),
                str(amount),
                rework.category,
                rework.action,
                self.payer,
                self.remit.payment_date,
            )
        )
        self.res.denials += 1
        if line_id is not None:
            self.denied_lines.add(line_id)
        elif claim_id is not None:
            self.denied_claims.add(claim_id)

    def _claim_status(self, rc: Any, claim_id: int, cp_id: int, paid: Decimal, icn: str | None) -> None:
        """The ledger claim's status after this posting: paid / partially_denied / denied / processed
        (suffixed with the payer's position and a forwarding for CLP02 2, 3, 19-21), reversed,
        forwarded (23: not this payer's claim), predetermination (25)."""
        code = rc.status
        if code == "22":
            status = "reversed"
        elif code == "4":
            status = "denied"
        elif code in STATUS_FIXED:
            status = STATUS_FIXED[code]
        else:
            denied_here = bool(self.den) and self.den[-1][0] == cp_id
            if paid > 0:
                status = "partially_denied" if denied_here else "paid"
                if claim_id in self.denied_claims:
                    self.resolve_claims.append((cp_id, claim_id))
            else:
                status = "denied" if denied_here else "processed"
            status += STATUS_SUFFIX.get(code, "")
        detail = _DETAIL.get(rc.status)
        if detail is None:  # '{"clp02": .., "meaning": ..' without the closing brace
            detail = _DETAIL[rc.status] = json.dumps({"clp02": rc.status})[:-1]
        ts = self.ts
        icn = icn if rc.status != "22" else None
        text = f'{detail}, "claim_posting_id": {cp_id}}}'
        self.status.append((status, text, ts, icn, claim_id))
        self.history.append((claim_id, status, text, ts))

    # ------------------------------------------------------------------ reversals
    def _prefetch_originals(self, chunk: Sequence[RClaim], pref: dict[str, list[LedgerClaim]]) -> None:
        """Earlier postings the reversals of this chunk may undo, one query each way (right after the
        claims prefetch); postings of this chunk not written yet are kept in memory."""
        self.chunk_icn, self.chunk_claim, self.chunk_ids = {}, {}, set()
        self.orig_icn, self.orig_claim = {}, {}
        revs = [rc for rc in chunk if rc.status == "22"]
        if not revs:
            return
        conn = self.conn
        ours = self.payer_payments
        base = (
            "SELECT cp.id, cp.claim_id, cp.payer_claim_number, cp.reversed_by, cp.payment_id FROM claim_postings cp"
            " WHERE cp.status_code != '22' AND cp.{} IN ({}) ORDER BY cp.id"
        )
        icns = sorted({rc.payer_claim_number for rc in revs if rc.payer_claim_number})  # "" = none
        cids = sorted({c.id for rc in revs for c in (pref.get(rc.patient_control_number) or ())})
        for col, keys, into, k in (
            ("payer_claim_number", icns, self.orig_icn, 2),
            ("claim_id", cids, self.orig_claim, 1),
        ):
            for i in range(0, len(keys), CHUNK):
                part = keys[i : i + CHUNK]
                for r in conn.execute(base.format(col, ",".join("?" * len(part))), part):
                    if r[4] not in ours:
                        continue
                    if r[3] is not None:
                        self.reversed_ids.add(r[0])  # reversed before: never reversed twice
                    into.setdefault(r[k], []).append((r[0], r[1]))

    def _prefetch_paid(self, chunk: Sequence[Any], chosen: Sequence[LedgerClaim | None]) -> None:
        """This payer's live paid postings of the claims the chunk's payments go to (one query), and
        the claims its reversals answer."""
        self.paid_live = {}
        self.reversing = {lc.id for rc, lc in zip(chunk, chosen) if lc is not None and rc.status == "22"}
        ids = sorted({lc.id for rc, lc in zip(chunk, chosen) if lc is not None and rc.status != "22"})
        if not ids:
            return
        paid_by, params = self.scope.payment_where("p")
        if not params:  # an 835 without a payer id answers no claim
            return
        for i in range(0, len(ids), CHUNK):
            part = ids[i : i + CHUNK]
            # the payer test is a subquery per posting found, not a join: PostgreSQL would plan the
            # join from the payments (their payer test looks selective) and scan the postings once
            # per payment, a cost that grows with the ledger; the subquery keeps it to the claims'
            for pid, cid, paid in self.conn.execute(
                "SELECT cp.id, cp.claim_id, cp.paid FROM claim_postings cp"
                f" WHERE cp.claim_id IN ({','.join('?' * len(part))}) AND cp.status_code != '22'"
                f" AND cp.reversed_by IS NULL AND (SELECT {paid_by} FROM payments p WHERE p.id = cp.payment_id)",
                [*part, *params],
            ):
                if Decimal(paid) > ZERO:
                    self.paid_live.setdefault(cid, set()).add(pid)

    def _original(self, rc: Any, claim_id: int | None) -> tuple | None:
        """The earlier posting this reversal undoes: same payer claim number (the same claim's
        first, newest first); when no posting carries that number, the newest posting of the same
        claim. Never one already reversed."""
        icn = rc.payer_claim_number or None

        def pick(cands: list[tuple[int, int | None]]) -> tuple[int, int | None] | None:
            live = [c for c in cands if c[0] not in self.reversed_ids]
            same = [c for c in live if c[1] == claim_id and claim_id is not None]
            return max(same or live) if live else None

        found = None
        by_icn = (self.orig_icn.get(icn, []) + self.chunk_icn.get(icn, [])) if icn else []
        if by_icn:  # the payer names the claim it reverses: only that one (if not reversed already)
            found = pick(by_icn)
        elif claim_id is not None:
            found = pick(self.orig_claim.get(claim_id, []) + self.chunk_claim.get(claim_id, []))
        if found is not None:
            self.reversed_ids.add(found[0])
        return found

    def _mirror(self, orig_id: int, cp_id: int, rc: Any) -> None:
        """A reversal without its own detail undoes the original's lines and adjustments exactly."""
        if orig_id in self.chunk_ids:
            # the original's rows may not be written yet; this reversal's own unmatched entry waits
            # for its claim posting (written once the reversal is complete), in the same order
            own = [r for r in self.unm if r[1] == cp_id]
            self.unm = [r for r in self.unm if r[1] != cp_id]
            self.flush()
            self.unm.extend(own)
        c = self.conn
        lp_map: dict[int, int] = {}
        for r in c.execute(
            "SELECT id, line_id, line_control_number, code, modifiers, charge, paid, units,"
            " service_date, segment, allowed FROM line_postings WHERE claim_posting_id = ?",
            (orig_id,),
        ):
            new = self._next("line_postings")
            lp_map[r[0]] = new
            self.lp.append(
                (
                    new,
                    cp_id,
                    r[1] or 0,
                    r[2],
                    r[3],
                    r[4],
                    str(-Decimal(r[5])),
                    str(-Decimal(r[6])),
                    None if r[7] is None else str(-Decimal(r[7])),
                    r[8],
                    "reversal-mirror",
                    rc.segment_number,
                    None if r[10] is None else str(-Decimal(r[10])),
                )
            )
        rng = c.execute(
            "SELECT adjustments_from, adjustments_to FROM claim_postings WHERE id = ?", (orig_id,)
        ).fetchone()
        for r in (
            c.execute(
                "SELECT line_posting_id, group_code, reason, amount, quantity FROM adjustments"
                " WHERE id BETWEEN ? AND ? ORDER BY id",
                (rng[0], rng[1]),
            )
            if rng and rng[0]
            else ()
        ):
            self._adj(
                cp_id,
                lp_map.get(r[0]) if r[0] else None,
                r[1],
                r[2],
                -Decimal(r[3]),
                None if r[4] is None else -Decimal(r[4]),
            )

    # ------------------------------------------------------------------ provider level
    def plbs(self, plbs: Sequence[RPlb]) -> None:
        if not plbs:
            return
        refs = sorted({p.reference for p in plbs if p.reference})
        link = self._claims_by_reference(refs)
        rows = []
        for p in plbs:
            kind = PLB_KIND.get(p.reason, "other")
            claim_id = link.get(p.reference) if p.reference else None
            rows.append(
                (
                    self.payment_id,
                    p.provider,
                    p.fiscal_period_date,
                    p.reason,
                    p.reference,
                    str(p.amount),
                    kind,
                    claim_id,
                    p.segment,
                )
            )
            self.res.provider_adjustments += p.amount
            if kind == "interest":
                self.res.interest -= p.amount  # L6 is negative in PLB: money added to the payment
            if p.reference and claim_id is None and kind != "interest":
                self._findings(
                    [
                        info(
                            "plb-reference-not-ours",
                            f"PLB {p.reason} reference (PLB03-2) names no"
                            " claim in this ledger: kept as a provider-level adjustment",
                            segment="PLB",
                            line=p.segment,
                        )
                    ]
                )
        self.writer.submit(
            [
                (
                    "INSERT INTO provider_adjustments (payment_id, provider, fiscal_period_date, reason, reference,"
                    " amount, kind, claim_id, segment) VALUES (?,?,?,?,?,?,?,?,?)",
                    rows,
                )
            ]
        )

    def _claims_by_reference(self, refs: list[str]) -> dict[str, int]:
        """PLB03-2 may carry our patient control number or the payer's claim number (only claims of
        this payer are linked)."""
        out: dict[str, int] = {}
        if not refs:
            return out
        c = self.conn
        ours, ours_params = self.scope.where()
        ours_c, _ = self.scope.where("c")

        def marks(keys: list[str]) -> str:
            return ",".join("?" * len(keys))

        # precedence (last wins): a posting's payer claim number, a claim's payer claim number, our
        # patient control number. claims.payer_claim_number has no index (a scan of every claim), so
        # it is asked only about the references our patient control numbers do not already settle.
        by_pcn = {
            ref: cid
            for ref, cid in c.execute(
                f"SELECT patient_control_number, id FROM claims WHERE patient_control_number IN ({marks(refs)})"
                f" AND {ours} ORDER BY id",
                [*refs, *ours_params],
            )
        }
        for ref, cid in c.execute(
            f"SELECT p.payer_claim_number, p.claim_id FROM claim_postings p JOIN claims c ON c.id = p.claim_id"
            f" WHERE p.payer_claim_number IN ({marks(refs)}) AND {ours_c} ORDER BY p.id",
            [*refs, *ours_params],
        ):
            out[ref] = cid
        rest = [r for r in refs if r not in by_pcn]
        if rest:
            for ref, cid in c.execute(
                f"SELECT payer_claim_number, id FROM claims WHERE payer_claim_number IN ({marks(rest)})"
                f" AND {ours} ORDER BY id",
                [*rest, *ours_params],
            ):
                out[ref] = cid
        out.update(by_pcn)
        return out

    # ------------------------------------------------------------------ batch writes
    def flush(self) -> None:
        """Hand the pending rows to the writer (in dependency order) and start new batches."""
        jobs: list[tuple[str | Insert, list]] = []
        if self.cp:
            jobs.append((_INS_CP, self.cp))
            revs = [(r[0], r[9]) for r in self.cp if r[9]]
            if revs:
                jobs.append(("UPDATE claim_postings SET reversed_by = ? WHERE id = ?", revs))
                jobs.append(
                    (
                        "UPDATE denials SET status = 'reversed' WHERE claim_posting_id = ? AND status = 'open'",
                        [(r[1],) for r in revs],
                    )
                )
        if self.lp:
            jobs.append((_INS_LP, self.lp))
        if self.adj:
            jobs.append((_INS_ADJ, self.adj))
        if self.den:
            jobs.append((_INS_DEN, self.den))
        if self.resolve_lines:
            jobs.append(
                (
                    "UPDATE denials SET status = 'resolved' WHERE claim_posting_id < ? AND line_id = ?"
                    " AND status = 'open'",
                    self.resolve_lines,
                )
            )
        if self.resolve_claims:
            jobs.append(
                (
                    "UPDATE denials SET status = 'resolved' WHERE claim_posting_id < ? AND claim_id = ?"
                    " AND line_id IS NULL AND status = 'open'",
                    self.resolve_claims,
                )
            )
        if self.unm:
            jobs.append((_INS_UNM, self.unm))
        if self.status:
            jobs.append(
                (
                    "UPDATE claims SET status = ?, status_detail = ?, updated_at = ?,"
                    " payer_claim_number = COALESCE(?, payer_claim_number) WHERE id = ?",
                    self.status,
                )
            )
            jobs.append((_INS_HIST, self.history))
        if self.fnd:
            jobs.append((_INS_FND, self.fnd))
        if self.fwd:
            jobs.append((_INS_FWD, self.fwd))
        if jobs:
            self.writer.submit(jobs)
        self._reset()


# the tables whose ids the poster hands out itself (from MAX(id), inside its write transaction)
_NUMBERED = ("claim_postings", "line_postings", "adjustments")
# the tables it reads by lists of keys (see _analyze_unknown), and those of them it adds to
_LOOKED_UP = ("claims", "lines", "claim_postings", "payments")
_GROWING = ("claim_postings", "payments")
REANALYZE_MIN = 2_000  # claim postings before the first analysis while posting (PostgreSQL)
# the other tables it adds rows to, numbered by the database
_DRAWN = (
    "remit_files",
    "payments",
    "denials",
    "unmatched",
    "provider_adjustments",
    "posting_findings",
    "claim_status_history",
)

# the poster's bulk inserts (rows bound in groups: see reconcile.posting.writer)
_INS_CP = Insert(
    "INSERT INTO claim_postings (id, payment_id, claim_id, patient_control_number, payer_claim_number,"
    " status_code, charge, paid, patient_responsibility, reversal_of, segment, adjustments_from,"
    " adjustments_to)",
    "(?,?,?,?,?,?,?,?,?,NULLIF(?,0),?,?,?)",
)
_INS_LP = Insert(
    "INSERT INTO line_postings (id, claim_posting_id, line_id, line_control_number, code, modifiers,"
    " charge, paid, units, service_date, matched_by, segment, allowed)",
    "(?,?,NULLIF(?,0),?,?,?,?,?,?,?,?,?,?)",
)
_INS_ADJ = Insert(
    "INSERT INTO adjustments (id, claim_posting_id, line_posting_id, group_code, reason, amount, quantity)",
    "(?,?,NULLIF(?,0),?,?,?,NULLIF(?,0))",
)
_INS_DEN = Insert(
    "INSERT INTO denials (claim_posting_id, line_posting_id, claim_id, line_id, patient_control_number,"
    " line_control_number, payer_claim_number, code, group_code, carc, rarc, remarks, amount, category,"
    " action, payer, denied_on)",
    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
)
_INS_UNM = Insert(
    "INSERT INTO unmatched (payment_id, claim_posting_id, line_posting_id, kind, patient_control_number,"
    " line_control_number, code, amount, reason, segment, related_claim_id)",
    "(?,?,?,?,?,?,?,?,?,?,NULLIF(?,0))",
)
_INS_HIST = Insert("INSERT INTO claim_status_history (claim_id, status, source, detail, created_at)", "(?,?,'835',?,?)")
_INS_FWD = Insert("INSERT INTO claim_posting_forwards (claim_posting_id, crossover, remarks)", "(?,?,?)")
_INS_FND = Insert(
    "INSERT INTO posting_findings (file_id, payment_id, severity, code, message, position)", "(?,?,?,?,?,?)"
)


# ---------------------------------------------------------------------- entry points


def post_remittances(
    conn: Connection,
    remittances: Iterable[RRemit],
    *,
    path: str,
    sha256: str,
    progress: Progress | None = None,
    file_findings: list[Finding] | None = None,
    payers: PayerDirectory | None = None,
) -> FileResult:
    """Post one file's remittances (:class:`RRemit` records) in one transaction; see :func:`_post_file`."""

    def feed(poster: _Poster) -> None:
        for rm in remittances:
            poster.remittance(rm)

    return _post_file(
        conn, feed, path=path, sha256=sha256, progress=progress, file_findings=file_findings, payers=payers
    )


def post_835(
    conn: Connection,
    path: Path,
    *,
    sha256: str,
    progress: Progress | None = None,
    file_findings: list[Finding] | None = None,
    payers: PayerDirectory | None = None,
) -> FileResult:
    """Post one 835 file as the reader streams it: claims are posted in batches while the file is
    read (the reader's claim objects are posted as they are, no copy), one transaction."""
    from reconcile.posting.remit import convert, stream_835, tail

    found = file_findings if file_findings is not None else []

    def feed(poster: _Poster) -> None:
        current: list[Any] = [None]

        def on_claims(rem: Any, batch: list) -> None:
            if current[0] is not rem:
                current[0] = rem
                poster.begin(convert(rem, claims=False))
            poster.claims(batch)

        for rem in stream_835(path, found, on_claims):
            if current[0] is not rem:
                poster.begin(convert(rem, claims=False))
            current[0] = None
            poster.claims(rem.claims)
            rem.claims = []
            rest = tail(rem)
            poster.end(rest.plbs, rest.findings)

    return _post_file(conn, feed, path=str(path), sha256=sha256, progress=progress, file_findings=found, payers=payers)


def _post_file(
    conn: Connection,
    feed: Callable[[_Poster], None],
    *,
    path: str,
    sha256: str,
    progress: Progress | None = None,
    file_findings: list[Finding] | None = None,
    payers: PayerDirectory | None = None,
) -> FileResult:
    """Post one file in one transaction (all or nothing); duplicates post nothing.

    ``payers`` says which payer ids (configured aliases) answer which payer profile's claims; without
    it an 835 answers only the claims whose payer id equals its own.

    ``file_findings`` collects what the reader says about the file outside any remittance (it is
    filled while ``remittances`` is consumed); those are kept with the posting too. A file with no
    835 transaction, or whose every payment was already posted, leaves no trace in the ledger.
    """
    res = FileResult(path=path, sha256=sha256, status="posted")
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("SELECT 1 FROM remit_files WHERE sha256 = ?", (sha256,)).fetchone():
            conn.execute("ROLLBACK")
            res.status = "duplicate"
            res.findings.append(
                info("duplicate-file", "this file (same sha256) was already posted: nothing posted", file=path)
            )
            return res
        if dialect(conn) == "postgresql":
            _dense_identities(conn, _DRAWN)
            _analyze_unknown(conn, _LOOKED_UP)
        file_id = inserted_id(
            conn.execute("INSERT INTO remit_files (path, sha256, posted_at) VALUES (?,?,?)", (path, sha256, _now()))
        )
        poster = _Poster(conn, file_id, res, progress, payers)
        try:
            feed(poster)
            poster.flush()
            poster.writer.sync()
        finally:
            poster.writer.close()
        if res.remittances == 0:  # nothing posted: not an 835, or every payment a duplicate
            conn.execute("ROLLBACK")
            res.findings.extend(file_findings or [])
            if res.duplicate_payments:
                res.status = "duplicate"
            else:
                res.status = "error"
                res.findings.append(
                    Finding(
                        "error", "no-remittance", "no 835 transaction set found in the file: nothing posted", file=path
                    )
                )
            return res
        from reconcile.posting.cob import after_posting

        poster.payment_id = None
        poster._findings([*(file_findings or []), *after_posting(conn, file_id)])
        poster.flush()  # the writer is closed: written at once
        if dialect(conn) == "postgresql":
            _dense_identities(conn, _NUMBERED)
        summary = res.to_dict(findings=False)
        conn.execute("UPDATE remit_files SET summary = ? WHERE id = ?", (json.dumps(summary), file_id))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return res


def _dense_identities(conn: Connection, tables: Sequence[str]) -> None:
    """PostgreSQL, inside the write transaction: the next id of each table is its largest id + 1,
    as SQLite numbers a new row. An identity sequence is not rolled back with a transaction, so the
    ids a posting drew before it was rolled back (a crash, a killed process, a file with nothing to
    post) would otherwise be skipped; and the tables the poster numbers itself move past its rows,
    so a row inserted later without an id comes after them."""
    conn.execute(
        "SELECT "
        + ", ".join(
            f"setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT MAX(id) FROM {t}), 0) + 1, false)"
            for t in tables
        )
    )


def _analyze_unknown(conn: Connection, tables: Sequence[str]) -> None:
    """PostgreSQL: gather planner statistics of those of ``tables`` that hold rows but were never
    analyzed, or analyzed while empty (claims just loaded in bulk, before autovacuum came by). The
    poster reads them by lists of hundreds of keys; without statistics PostgreSQL guesses each key
    matches 0.5% of the rows and scans the whole table for every list instead of using the index
    (SQLite's planner assumes an index is selective)."""
    stale = [
        r[0]
        for r in conn.execute(
            f"SELECT relname FROM pg_class WHERE relname IN ({','.join('?' * len(tables))})"
            " AND relnamespace = current_schema()::regnamespace AND reltuples <= 0",
            list(tables),
        )
    ]
    _analyze(conn, [t for t in stale if conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is not None])


def _analyze(conn: Connection, tables: Sequence[str]) -> None:
    """PostgreSQL: ``ANALYZE`` the tables (inside the posting's transaction, its own rows included)."""
    for table in tables:
        conn.execute(f"ANALYZE {table}")


def post_files(
    conn: Connection,
    paths: Sequence[str | Path],
    progress: Progress | None = None,
    reader: Callable[[Path, list[Finding]], Iterable[RRemit]] | None = None,
    payers: PayerDirectory | None = None,
) -> PostResult:
    """Post each 835 file in its own transaction; an unreadable file is reported, the rest still post.

    ``payers`` (:meth:`PayerDirectory.from_config`) adds the configured payer-id aliases."""
    out = PostResult()
    with bulk_gc():
        for p in paths:
            _post_path(conn, Path(p), reader, progress, out, payers)
    return out


def _post_path(
    conn: Connection,
    path: Path,
    reader: Callable | None,
    progress: Progress | None,
    out: PostResult,
    payers: PayerDirectory | None = None,
) -> None:
    """Post one file (its own transaction) and add its result to ``out``."""
    try:
        sha = file_sha256(path)
    except OSError as exc:
        out.files.append(
            FileResult(
                str(path),
                None,
                "error",
                findings=[Finding("error", "file-unreadable", f"cannot read file: {exc.strerror}", file=str(path))],
            )
        )
        return
    read_findings: list[Finding] = []
    if reader is None:  # the 835 reader, streamed
        out.files.append(
            post_835(conn, path, sha256=sha, progress=progress, file_findings=read_findings, payers=payers)
        )
    else:
        out.files.append(
            post_remittances(
                conn,
                reader(path, read_findings),
                path=str(path),
                sha256=sha,
                progress=progress,
                file_findings=read_findings,
                payers=payers,
            )
        )
