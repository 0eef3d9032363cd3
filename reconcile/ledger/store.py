"""The SQLite ledger: every interchange, claim and line dripline sent, and what came back.

One file (default ``./dripline.db``), created with mode 0600, WAL journal, foreign keys on,
schema from the named migrations in :mod:`reconcile.ledger.migrations`. Connections are in autocommit
mode; every write goes through :func:`transaction` (``BEGIN IMMEDIATE``), so control numbers
handed out by :func:`reserve_numbers` are unique across runs and across concurrent processes,
and a recorded interchange is all there or not there at all. All SQL is parameterized; money is
stored as exact decimal TEXT.
"""

from __future__ import annotations

import errno
import json
import os
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from coding.model import ServiceLine
from reconcile.ledger.db import (
    Connection,
    Cursor,
    DatabaseError,
    PgConnection,
    Row,
    dialect,
    is_server_url,
    redact_url,
)
from reconcile.ledger.db import (
    table_exists as table_exists,
)
from reconcile.ledger.migrations import apply_migrations

COUNTERS = ("isa13", "gs06", "st02", "bht03", "line")
MAX_CONTROL = {"isa13": 999_999_999, "gs06": 999_999_999, "st02": 999_999_999}
BUSY_TIMEOUT_S = 60.0
# the encounter field naming the payer billed after a claim of this coverage order
NEXT_COVERAGE = {1: "secondary", 2: "tertiary"}
# claim statuses after which the payer does not have the claim: the encounter may be sent again
RESENDABLE_STATUSES = frozenset({"rejected"})


class LedgerError(Exception):
    """The ledger cannot be opened or used (I/O, not a SQLite database, exhausted counter)."""


def inserted_id(cur: Cursor) -> int:
    """The row id the ``INSERT`` just run on ``cur`` gave its row."""
    rowid = cur.lastrowid
    if rowid is None:  # sqlite3 sets it after every INSERT of one row
        raise LedgerError("an INSERT reported no row id")
    return rowid


class DuplicateEncounterError(Exception):
    """Recording would send an original claim for an encounter whose claim is still active."""

    def __init__(self, encounter_ids: list[str]):
        super().__init__(f"{len(encounter_ids)} encounter(s) already sent")
        self.encounter_ids = encounter_ids


class PcnConflictError(Exception):
    """Recording would give a patient control number (CLM01) to a second claim identity.

    A CLM01 names one claim: one encounter and one part of it. A replacement, void or resend of
    that same claim keeps it; any other encounter or part must have its own.
    """

    def __init__(self, pcns: list[str]):
        super().__init__(f"{len(pcns)} patient control number(s) already name another claim")
        self.pcns = pcns


@dataclass(frozen=True)
class Reservation:
    """Control numbers reserved for one interchange (already committed: never handed out again)."""

    interchange_id: int
    isa13: int
    gs06: int
    st02: list[int]
    bht03: list[str]
    line_control_numbers: list[str]
    temp_path: str | None = None  # the file being written, until it is in place under its final name


@dataclass
class ClaimRecord:
    """One claim as written into a transaction set, ready to be recorded."""

    patient_control_number: str
    encounter_id: str
    payer: str
    payer_id: str
    claim_type: str
    frequency: str
    lines: list[ServiceLine]
    payer_claim_number: str | None = None
    source: dict[str, Any] | None = None
    part: int = 0  # 0 when the encounter is one claim, else 1..n for the parts of a split claim
    coverage_order: int = 1  # 1 primary, 2 secondary, 3 tertiary
    prior_claim_id: int | None = None  # the claim of the payer before (coverage_order > 1)

    @property
    def total_charge(self) -> Decimal:
        return sum((ln.charge for ln in self.lines), Decimal("0"))


@dataclass
class TransactionRecord:
    """One ST/SE set of an interchange: its control numbers, payer and claims."""

    st02: int
    bht03: str
    payer: str
    claims: list[ClaimRecord] = field(default_factory=list)


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def iso_time(now: datetime | None) -> str:
    """``now`` as ISO 8601 seconds, or the current UTC time when ``now`` is None."""
    return now.isoformat(timespec="seconds") if now is not None else utcnow()


def connect(path: str | Path) -> Connection:
    """Open the ledger at ``path`` and bring its schema up to date.

    ``path`` is a SQLite file (created with mode 0600) or a PostgreSQL URL (``postgresql://…``,
    see :mod:`reconcile.ledger.db`): the database must exist; its tables are created here.
    """
    if is_server_url(path):
        return _connect_server(str(path))
    p = Path(path)
    if str(p) != ":memory:":
        if not p.parent.is_dir():
            raise LedgerError(f"ledger directory does not exist: {p.parent}")
        # A missing ledger is created here, readable by its owner only. An existing one is not
        # opened here: SQLite's locks are POSIX locks of the process, and closing any descriptor of
        # the file drops those it holds for another connection of this process to the ledger (then
        # another process may take itself for the last user of a WAL ledger and remove its log).
        try:
            os.close(os.open(p, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
        except FileExistsError:
            if not os.access(p, os.R_OK | os.W_OK):
                raise LedgerError(f"cannot open ledger {p}: {os.strerror(errno.EACCES)}") from None
        except OSError as exc:
            raise LedgerError(f"cannot open ledger {p}: {exc.strerror}") from None
    try:
        conn = sqlite3.connect(str(p), timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        apply_migrations(conn)
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"cannot use ledger {p}: {exc}") from None
    return conn


def _connect_server(url: str) -> Connection:
    """Open a PostgreSQL ledger; any failure is a :class:`LedgerError` whose message never holds the
    URL's password (the driver's messages may quote a malformed URL, or a part of it, verbatim)."""
    try:
        conn = PgConnection.open(url)
    except DatabaseError as exc:
        raise LedgerError(_without_password(f"cannot open ledger {redact_url(url)}: {_first_line(exc)}", url)) from None
    try:
        apply_migrations(conn)
    except DatabaseError as exc:
        conn.close()
        raise LedgerError(_without_password(f"cannot use ledger {redact_url(url)}: {_first_line(exc)}", url)) from None
    return conn


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_URL_IN_TEXT = re.compile(r"postgres(?:ql)?://[^\s\"']*")


def _without_password(message: str, url: str) -> str:
    """``message`` with every URL in it redacted and every spelling of ``url``'s password left out."""
    message = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), message)
    head, _, query = url.partition("?")
    found = re.match(r"[A-Za-z][\w+.-]*://[^:/@]*:(.*)@", head)
    secrets = ([found.group(1)] if found else []) + re.findall(r"password=([^&]*)", query)
    for secret in sorted({v for s in secrets for v in (s, unquote(s))} - {""}, key=len, reverse=True):
        message = message.replace(secret, "***")
    return message


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on any exception, which is re-raised)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _take(conn: Connection, name: str, count: int) -> list[int]:
    """Advance counter ``name`` by ``count`` inside the caller's transaction; return the numbers."""
    row = conn.execute("SELECT value FROM control_counters WHERE name = ?", (name,)).fetchone()
    start = int(row[0]) + 1
    end = start + count - 1
    if name in MAX_CONTROL and end > MAX_CONTROL[name]:
        raise LedgerError(f"control number counter '{name}' is exhausted")
    conn.execute("UPDATE control_counters SET value = ? WHERE name = ?", (end, name))
    return list(range(start, end + 1))


def allocate(conn: Connection, name: str, count: int = 1) -> list[int]:
    """Hand out ``count`` fresh numbers of counter ``name`` in their own committed transaction."""
    if name not in COUNTERS:
        raise ValueError(f"unknown control counter {name!r}")
    with transaction(conn):
        return _take(conn, name, count)


def reserve_numbers(
    conn: Connection,
    claim_type: str,
    n_sets: int,
    n_lines: int,
    now: datetime | None = None,
    temp_path: str | None = None,
) -> Reservation:
    """Reserve ISA13/GS06, ``n_sets`` ST02+BHT03 and ``n_lines`` line control numbers at once.

    The reservation is committed with an ``interchanges`` row in status ``reserved``: the
    numbers are spent whatever happens to the file (a refused file never gives them back).
    ``temp_path`` (absolute) is the temporary file the interchange is written to; it stays on
    the row until :func:`file_in_place` so a killed build's leftover can be found.
    """
    with transaction(conn):
        isa13 = _take(conn, "isa13", 1)[0]
        gs06 = _take(conn, "gs06", 1)[0]
        st02 = _take(conn, "st02", n_sets) if n_sets else []
        bht = _take(conn, "bht03", n_sets) if n_sets else []
        lines = _take(conn, "line", n_lines) if n_lines else []
        cur = conn.execute(
            "INSERT INTO interchanges (isa13, gs06, claim_type, created_at, status, temp_path)"
            " VALUES (?, ?, ?, ?, 'reserved', ?)",
            (isa13, gs06, claim_type, iso_time(now), temp_path),
        )
        iid = inserted_id(cur)
    return Reservation(iid, isa13, gs06, st02, [str(b) for b in bht], [str(n) for n in lines], temp_path)


def mark_interchange(
    conn: Connection,
    interchange_id: int,
    status: str,
    path: str | None,
    sha256: str | None,
    file_done: bool = False,
) -> None:
    """Record what became of a reserved interchange that is not recorded with claims (refused).

    ``file_done``: no temporary file of it is left to move or remove (clears ``temp_path``).
    """
    with transaction(conn):
        conn.execute(
            "UPDATE interchanges SET status = ?, path = ?, sha256 = ?,"
            " temp_path = CASE WHEN ? THEN NULL ELSE temp_path END WHERE id = ?",
            (status, path, sha256, file_done, interchange_id),
        )


def file_in_place(conn: Connection, interchange_id: int) -> None:
    """The interchange's file is under its final name (or gone): forget its temporary name."""
    with transaction(conn):
        conn.execute("UPDATE interchanges SET temp_path = NULL WHERE id = ?", (interchange_id,))


def pending_files(conn: Connection) -> list[Row]:
    """Interchanges whose temporary file may still exist (a build was killed or is running)."""
    return conn.execute(
        "SELECT id, isa13, claim_type, status, path, sha256, temp_path FROM interchanges"
        " WHERE temp_path IS NOT NULL ORDER BY id"
    ).fetchall()


def pcn_owner(conn: Connection, pcn: str) -> tuple[str, int] | None:
    """The claim identity (encounter id, part) that CLM01 ``pcn`` names in the ledger, if any."""
    row = conn.execute(
        "SELECT encounter_id, part FROM claims WHERE patient_control_number = ? ORDER BY id LIMIT 1", (pcn,)
    ).fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


def encounter_known(conn: Connection, encounter_id: str) -> bool:
    """True when the ledger holds a claim of this encounter (its id is its own CLM01 when unsplit)."""
    return conn.execute("SELECT 1 FROM claims WHERE encounter_id = ? LIMIT 1", (encounter_id,)).fetchone() is not None


def recorded_pcn(conn: Connection, encounter_id: str, part: int) -> str | None:
    """The CLM01 the ledger already gave to part ``part`` of ``encounter_id`` (latest claim), if any."""
    row = conn.execute(
        "SELECT patient_control_number FROM claims WHERE encounter_id = ? AND part = ? ORDER BY id DESC LIMIT 1",
        (encounter_id, part),
    ).fetchone()
    return None if row is None else str(row[0])


def payer_claim_number_for_pcn(conn: Connection, pcn: str) -> str | None:
    """The latest payer claim number (REF*F8 / ICN) the ledger knows for the claim ``pcn`` names."""
    row = conn.execute(
        "SELECT payer_claim_number FROM claims WHERE patient_control_number = ?"
        " AND payer_claim_number IS NOT NULL AND payer_claim_number <> '' ORDER BY id DESC LIMIT 1",
        (pcn,),
    ).fetchone()
    return None if row is None else str(row[0])


def active_claims_for_encounter(conn: Connection, encounter_id: str) -> list[Row]:
    """Claims sent for this encounter that the payer may still hold (not rejected at the door)."""
    marks = ",".join("?" for _ in RESENDABLE_STATUSES)
    return conn.execute(
        f"SELECT * FROM claims WHERE encounter_id = ? AND status NOT IN ({marks}) ORDER BY id",
        (encounter_id, *sorted(RESENDABLE_STATUSES)),
    ).fetchall()


def encounter_sent(conn: Connection, encounter_id: str) -> bool:
    """True when an original claim for this encounter was already sent and not rejected."""
    return bool(active_claims_for_encounter(conn, encounter_id))


def source_json(obj: Any) -> str:
    """JSON text of a source encounter with Decimals written as exact JSON numbers.

    The loader parses numbers as Decimal; writing them as strings would change their type when
    the stored encounter is read back (a correction is rebuilt from it), and floats would round.
    """
    token = f"@dec-{uuid.uuid4().hex}@"
    numbers: list[str] = []

    def conv(o: Any) -> Any:
        if isinstance(o, Decimal) and o.is_finite():
            numbers.append(str(o))
            return f"{token}{len(numbers) - 1}"
        if isinstance(o, dict):
            return {str(k): conv(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [conv(v) for v in o]
        return o

    text = json.dumps(conv(obj), default=str, sort_keys=True)
    if numbers:
        text = re.sub(f'"{re.escape(token)}(\\d+)"', lambda m: numbers[int(m.group(1))], text)
    return text


def _insert_row(conn: Connection, sql: str, params: tuple[Any, ...]) -> int:
    """Run a one-row ``INSERT`` and return the id it gave its row.

    On PostgreSQL the id comes back with the row (``RETURNING id``): one round trip to the server
    instead of two (the ``INSERT``, then ``lastval()`` for ``lastrowid``).
    """
    if dialect(conn) == "postgresql":
        row = conn.execute(f"{sql} RETURNING id", params).fetchone()
        if row is None:  # pragma: no cover - an INSERT ... VALUES always returns its row
            raise LedgerError("an INSERT reported no row id")
        return int(row[0])
    return inserted_id(conn.execute(sql, params))


def _insert_claim(conn: Connection, tx_id: int, claim: ClaimRecord, ts: str) -> int:
    enc_row = None
    if claim.source is not None:
        enc_row = _insert_row(
            conn,
            "INSERT INTO encounters (encounter_id, source, recorded_at) VALUES (?, ?, ?)",
            (claim.encounter_id, source_json(claim.source), ts),
        )
    cid = _insert_row(
        conn,
        "INSERT INTO claims (patient_control_number, encounter_id, encounter_row, payer, payer_id,"
        " claim_type, frequency, payer_claim_number, total_charge, status, transaction_id,"
        " created_at, updated_at, part) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            claim.patient_control_number,
            claim.encounter_id,
            enc_row,
            claim.payer,
            claim.payer_id,
            claim.claim_type,
            claim.frequency,
            claim.payer_claim_number,
            str(claim.total_charge),
            "sent",
            tx_id,
            ts,
            ts,
            claim.part,
        ),
    )
    rows: list[tuple[Any, ...]] = []
    for number, ln in enumerate(claim.lines, start=1):
        if not ln.line_control_number:
            raise ValueError("every line must carry its line control number before recording")
        rows.append(
            (
                cid,
                ln.line_control_number,
                number,
                ln.code,
                ":".join(ln.modifiers),
                str(ln.units),
                str(ln.charge),
                ln.ndc,
                None if ln.ndc_quantity is None else str(ln.ndc_quantity),
                ln.ndc_unit,
                ln.revenue_code,
                ln.service_date.isoformat(),
            )
        )
    # one batch (PostgreSQL: one pipelined round trip for all the claim's lines)
    conn.executemany(
        "INSERT INTO lines (claim_id, line_control_number, line_number, code, modifiers, units,"
        " charge, ndc, ndc_quantity, ndc_unit, revenue_code, service_date)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.execute(
        "INSERT INTO claim_status_history (claim_id, status, source, detail, created_at)"
        " VALUES (?, 'sent', 'build', NULL, ?)",
        (cid, ts),
    )
    nxt = claim.source.get(NEXT_COVERAGE.get(claim.coverage_order, "")) if claim.source else None
    next_payer = nxt.get("payer") if isinstance(nxt, dict) and isinstance(nxt.get("payer"), str) else None
    if claim.coverage_order != 1 or claim.prior_claim_id is not None or next_payer:
        conn.execute(
            "UPDATE claims SET coverage_order = ?, prior_claim_id = ?, next_payer = ? WHERE id = ?",
            (claim.coverage_order, claim.prior_claim_id, next_payer, cid),
        )
    return cid


PCN_CHUNK = 500  # CLM01s looked up per query (below SQLite's bound-parameter limit)


def _with_active_claims(conn: Connection, encounter_ids: set[str]) -> set[str]:
    """Those of ``encounter_ids`` with a claim the payer may still hold (as :func:`encounter_sent`),
    asked in chunks rather than one query per encounter."""
    found: set[str] = set()
    ids = sorted(encounter_ids)
    statuses = sorted(RESENDABLE_STATUSES)
    st_marks = ",".join("?" for _ in statuses)
    for start in range(0, len(ids), PCN_CHUNK):
        chunk = ids[start : start + PCN_CHUNK]
        marks = ",".join("?" for _ in chunk)
        found.update(
            str(r[0])
            for r in conn.execute(
                f"SELECT DISTINCT encounter_id FROM claims WHERE encounter_id IN ({marks})"
                f" AND status NOT IN ({st_marks})",
                (*chunk, *statuses),
            )
        )
    return found


def _pcn_conflicts(conn: Connection, claims: list[ClaimRecord]) -> list[str]:
    """CLM01s of ``claims`` that already name another (encounter, part), in the ledger or among them."""
    taken: dict[str, tuple[str, int]] = {}
    pcns = sorted({c.patient_control_number for c in claims})
    for start in range(0, len(pcns), PCN_CHUNK):
        chunk = pcns[start : start + PCN_CHUNK]
        marks = ",".join("?" for _ in chunk)
        for pcn, enc, part in conn.execute(
            f"SELECT patient_control_number, encounter_id, part FROM claims WHERE patient_control_number IN ({marks})"
            " ORDER BY id",
            chunk,
        ):
            taken.setdefault(str(pcn), (str(enc), int(part)))
    conflicts: set[str] = set()
    for c in claims:
        me = (c.encounter_id, c.part)
        if taken.setdefault(c.patient_control_number, me) != me:
            conflicts.add(c.patient_control_number)
    return sorted(conflicts)


def record_interchange(
    conn: Connection,
    reservation: Reservation,
    path: str,
    sha256: str,
    transactions: list[TransactionRecord],
    status: str = "recorded",
    now: datetime | None = None,
    refuse_duplicates: bool = True,
) -> list[int]:
    """Record a written interchange with its sets, claims and lines in one transaction.

    Returns the new claim ids. Either everything is recorded or nothing (any error rolls back
    and the interchange stays ``reserved``). With ``refuse_duplicates``, an original claim
    (frequency other than 7/8) for an encounter with an active claim raises
    :class:`DuplicateEncounterError` — checked inside the same transaction, so two concurrent
    builds of one encounter cannot both record it. A claim whose CLM01 already names another
    claim identity (encounter, part) raises :class:`PcnConflictError` (always checked).
    """
    ts = iso_time(now)
    claim_ids: list[int] = []
    with transaction(conn):
        conflicts = _pcn_conflicts(conn, [c for tx in transactions for c in tx.claims])
        if conflicts:
            raise PcnConflictError(conflicts)
        if refuse_duplicates:
            originals = {
                c.encounter_id
                for tx in transactions
                for c in tx.claims
                if c.frequency not in ("7", "8")
                and c.coverage_order == 1  # a claim to a later payer follows an active one by design
            }
            dups = sorted(_with_active_claims(conn, originals))
            if dups:
                raise DuplicateEncounterError(dups)
        conn.execute(
            "UPDATE interchanges SET status = ?, path = ?, sha256 = ? WHERE id = ?",
            (status, path, sha256, reservation.interchange_id),
        )
        for tx in transactions:
            tx_id = _insert_row(
                conn,
                "INSERT INTO transactions (interchange_id, st02, bht03, payer) VALUES (?,?,?,?)",
                (reservation.interchange_id, tx.st02, tx.bht03, tx.payer),
            )
            claim_ids.extend(_insert_claim(conn, tx_id, c, ts) for c in tx.claims)
    return claim_ids


def set_claim_status(
    conn: Connection,
    claim_id: int,
    status: str,
    source: str,
    detail: Any = None,
    now: datetime | None = None,
) -> None:
    """Change a claim's status and keep the change in ``claim_status_history`` (caller's tx)."""
    ts = iso_time(now)
    text = None if detail is None else json.dumps(detail, default=str, sort_keys=True)
    conn.execute(
        "UPDATE claims SET status = ?, status_detail = ?, updated_at = ? WHERE id = ?",
        (status, text, ts, claim_id),
    )
    conn.execute(
        "INSERT INTO claim_status_history (claim_id, status, source, detail, created_at) VALUES (?, ?, ?, ?, ?)",
        (claim_id, status, source, text, ts),
    )
