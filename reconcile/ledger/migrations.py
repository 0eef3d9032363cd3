"""Ledger schema as named, recorded migrations (in the manner of sqlite-utils' migrations).

``MIGRATIONS`` is an ordered list of ``(name, sql)``; :func:`apply_migrations` runs every one
whose name is not yet in the ``migrations`` table, each in its own ``BEGIN IMMEDIATE``
transaction together with the row that records it, so two processes opening a fresh ledger at
the same time never apply a migration twice. Never edit or reorder a migration that has shipped:
append a new one. The list below is the one place that names them all, in the order every ledger
applies them: the core tables, acknowledgments, then the posting and denial tables (their schema
text is in :mod:`reconcile.ledger.posting_tables`), then the loaded CMS code sets
(:mod:`reconcile.ledger.codeset_tables`), then the claim identity (``claims.part``) and the
temporary file of an interchange being written, then the clearinghouse exchange tables and the
point each partner's sending starts from, then coordination of benefits
(:mod:`reconcile.ledger.cob_tables`), then the fee schedules
(:mod:`reconcile.ledger.codeset_tables`) and expected payment (:mod:`reconcile.ledger.expected_tables`),
then the denial work state, users and secrets of the worklist (:mod:`reconcile.ledger.work_tables`).

Conventions: money is TEXT holding an exact decimal string (never REAL); timestamps are ISO 8601
UTC text; control numbers are INTEGER.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from reconcile.ledger.cob_tables import COB_SCHEMA
from reconcile.ledger.codeset_tables import CODESET_SCHEMA, FEE_SCHEDULE_SCHEMA
from reconcile.ledger.db import Connection, dialect, pg_ddl, table_exists
from reconcile.ledger.expected_tables import EXPECTED_SCHEMA
from reconcile.ledger.posting_tables import POSTING_READ_INDEXES, POSTING_SCHEMA, UNMATCHED_RELATED_CLAIM
from reconcile.ledger.work_tables import WORK_SCHEMA

MigrationBody = str | Callable[[Connection], None]

CORE_SCHEMA = """
CREATE TABLE control_counters (
    name  TEXT PRIMARY KEY,              -- isa13, gs06, st02, bht03, line
    value INTEGER NOT NULL               -- last number handed out (never handed out again)
);
INSERT INTO control_counters (name, value) VALUES
    ('isa13', 0), ('gs06', 0), ('st02', 0), ('bht03', 0), ('line', 0);

CREATE TABLE interchanges (
    id          INTEGER PRIMARY KEY,
    isa13       INTEGER NOT NULL UNIQUE,
    gs06        INTEGER NOT NULL UNIQUE,
    claim_type  TEXT NOT NULL,           -- 837P / 837I
    path        TEXT,                    -- file written (NULL while only reserved)
    sha256      TEXT,                    -- of the file's bytes
    created_at  TEXT NOT NULL,
    status      TEXT NOT NULL            -- reserved / recorded / refused / accepted / rejected / partial
);

CREATE TABLE transactions (
    id             INTEGER PRIMARY KEY,
    interchange_id INTEGER NOT NULL REFERENCES interchanges(id),
    st02           INTEGER NOT NULL UNIQUE,
    bht03          TEXT NOT NULL UNIQUE,
    payer          TEXT,                 -- payer key of the profile
    status         TEXT NOT NULL DEFAULT 'sent'
);
CREATE INDEX transactions_interchange ON transactions(interchange_id);

CREATE TABLE encounters (
    id           INTEGER PRIMARY KEY,
    encounter_id TEXT NOT NULL,
    source       TEXT NOT NULL,          -- the encounter as received (JSON), for audit
    recorded_at  TEXT NOT NULL
);
CREATE INDEX encounters_encounter_id ON encounters(encounter_id);

CREATE TABLE claims (
    id                     INTEGER PRIMARY KEY,
    patient_control_number TEXT NOT NULL,   -- CLM01: encounter id, or the id of a split part
    encounter_id           TEXT NOT NULL,
    encounter_row          INTEGER REFERENCES encounters(id),
    payer                  TEXT NOT NULL,   -- payer profile key
    payer_id               TEXT NOT NULL,   -- 2010BB payer identifier
    claim_type             TEXT NOT NULL,
    frequency              TEXT NOT NULL,   -- CLM05-3: 1 original, 7 replacement, 8 void
    payer_claim_number     TEXT,            -- REF*F8 sent, or ICN from a 277CA/835
    total_charge           TEXT NOT NULL,   -- exact decimal string
    status                 TEXT NOT NULL,
    status_detail          TEXT,            -- JSON: errors / reason of the last status change
    transaction_id         INTEGER NOT NULL REFERENCES transactions(id),
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX claims_pcn ON claims(patient_control_number);
CREATE INDEX claims_encounter ON claims(encounter_id);
CREATE INDEX claims_transaction ON claims(transaction_id);

CREATE TABLE lines (
    id                  INTEGER PRIMARY KEY,
    claim_id            INTEGER NOT NULL REFERENCES claims(id),
    line_control_number TEXT NOT NULL UNIQUE,   -- REF*6R
    line_number         INTEGER NOT NULL,       -- LX01
    code                TEXT NOT NULL,
    modifiers           TEXT NOT NULL DEFAULT '',  -- colon-separated, as billed
    units               TEXT NOT NULL,
    charge              TEXT NOT NULL,          -- exact decimal string
    ndc                 TEXT,
    ndc_quantity        TEXT,
    ndc_unit            TEXT,
    revenue_code        TEXT,
    service_date        TEXT NOT NULL,
    UNIQUE (claim_id, line_number)
);

CREATE TABLE claim_status_history (
    id         INTEGER PRIMARY KEY,
    claim_id   INTEGER NOT NULL REFERENCES claims(id),
    status     TEXT NOT NULL,
    source     TEXT NOT NULL,               -- build / 999 / 277CA / 835 / ...
    detail     TEXT,                        -- JSON
    created_at TEXT NOT NULL
);
CREATE INDEX claim_status_history_claim ON claim_status_history(claim_id);
"""

ACK_SCHEMA = """
CREATE TABLE acknowledgments (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,              -- 999 / 997 / 277CA
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    received_at TEXT NOT NULL,
    summary     TEXT                        -- JSON: counts applied / unknown
);
CREATE INDEX acknowledgments_sha ON acknowledgments(sha256);
"""

CLAIM_IDENTITY_TRIGGER = """
CREATE TRIGGER claims_pcn_names_one_claim BEFORE INSERT ON claims
WHEN EXISTS (
    SELECT 1 FROM claims
    WHERE patient_control_number = NEW.patient_control_number
      AND (encounter_id <> NEW.encounter_id OR part <> NEW.part)
)
BEGIN
    SELECT RAISE(ABORT, 'patient control number already names another claim (encounter or part)');
END
"""

# The same rule for PostgreSQL: a trigger function (SQLSTATE 23000, an integrity violation, as
# SQLite's RAISE(ABORT) inside a trigger is).
CLAIM_IDENTITY_TRIGGER_PG = (
    """
CREATE FUNCTION claims_pcn_names_one_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM claims
        WHERE patient_control_number = NEW.patient_control_number
          AND (encounter_id <> NEW.encounter_id OR part <> NEW.part)
    ) THEN
        RAISE EXCEPTION 'patient control number already names another claim (encounter or part)'
            USING ERRCODE = '23000';
    END IF;
    RETURN NEW;
END
$$
""",
    "CREATE TRIGGER claims_pcn_names_one_claim BEFORE INSERT ON claims"
    " FOR EACH ROW EXECUTE FUNCTION claims_pcn_names_one_claim()",
)


def _ddl(conn: Connection, stmt: str) -> str:
    """``stmt`` in the words of ``conn``'s database (the schema is written for SQLite)."""
    return pg_ddl(stmt) if dialect(conn) == "postgresql" else stmt


def _claim_identity(conn: Connection) -> None:
    """``claims.part`` (0 unsplit, else 1..n) and a trigger: one CLM01 names one encounter and part.

    Rows recorded before the column existed get their part from the ``<id>-<n>`` form the
    planner used for split claims (a CLM01 that differs from its encounter id and ends in
    ``-<digits>``). A replacement, void or resend keeps the CLM01 of the claim it stands for, so
    the rule is an identity (encounter, part) per CLM01 rather than a UNIQUE column.
    """
    conn.execute(_ddl(conn, "ALTER TABLE claims ADD COLUMN part INTEGER NOT NULL DEFAULT 0"))
    rows = conn.execute(
        "SELECT id, patient_control_number FROM claims WHERE patient_control_number <> encounter_id"
    ).fetchall()
    for cid, pcn in rows:
        m = re.fullmatch(r".*-(\d{1,4})", pcn)
        if m:
            conn.execute("UPDATE claims SET part = ? WHERE id = ?", (int(m.group(1)), cid))
    conn.execute("CREATE INDEX claims_encounter_part ON claims(encounter_id, part)")
    if dialect(conn) == "postgresql":
        for stmt in CLAIM_IDENTITY_TRIGGER_PG:
            conn.execute(stmt)
    else:
        conn.execute(CLAIM_IDENTITY_TRIGGER)


# An 837 is written under a temporary name and renamed to its final name only after its claims
# are recorded; the temporary file's absolute path stays on the interchange row until the file
# is in place, so a build killed in between is completed or cleaned up by the next one.
INTERCHANGE_TEMP_FILE = "ALTER TABLE interchanges ADD COLUMN temp_path TEXT;"

# Clearinghouse exchange: files sent to and received from each partner's mailbox.
EXCHANGE_SCHEMA = """
CREATE TABLE exchange_sent (
    id             INTEGER PRIMARY KEY,
    interchange_id INTEGER NOT NULL REFERENCES interchanges(id),
    partner        TEXT NOT NULL,
    remote_name    TEXT NOT NULL,
    status         TEXT NOT NULL,            -- uploading / sent
    sha256         TEXT NOT NULL,
    size           INTEGER NOT NULL,
    started_at     TEXT NOT NULL,
    sent_at        TEXT,
    note           TEXT
);
CREATE UNIQUE INDEX exchange_sent_once ON exchange_sent(interchange_id, partner);

CREATE TABLE exchange_received (
    id            INTEGER PRIMARY KEY,
    partner       TEXT NOT NULL,
    remote_name   TEXT NOT NULL,
    size          INTEGER NOT NULL,
    remote_mtime  INTEGER,
    sha256        TEXT,                      -- NULL until the download finished
    local_path    TEXT,
    kind          TEXT,                      -- TA1 / 999 / 997 / 277CA / 835 / other
    outcome       TEXT NOT NULL,             -- failed / downloaded / applied / duplicate / kept / error
    error         TEXT,
    summary       TEXT,                      -- JSON: what applying it did
    attempts      INTEGER NOT NULL DEFAULT 0,
    first_seen_at TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    deleted_at    TEXT                       -- removed from the partner's mailbox
);
CREATE INDEX exchange_received_name ON exchange_received(partner, remote_name, size);
"""

# Where each partner's sending starts: the first ``exchange send`` for a partner records the last
# interchange recorded by then; files up to it were built before the partner was set up (they may
# have been uploaded by hand) and are sent only when asked for explicitly. A partner that was sent
# files before this table existed has send history, so nothing of it is held back (cut-off 0).
EXCHANGE_PARTNERS_SCHEMA = """
CREATE TABLE exchange_partners (
    partner           TEXT PRIMARY KEY,
    first_send_at     TEXT NOT NULL,         -- first exchange send for this partner (UTC)
    cutoff_interchange INTEGER NOT NULL,     -- interchanges.id up to which files predate the partner
    origin            TEXT NOT NULL          -- first-send / sent-before-cutoffs
);
INSERT INTO exchange_partners (partner, first_send_at, cutoff_interchange, origin)
    SELECT partner, MIN(started_at), 0, 'sent-before-cutoffs' FROM exchange_sent GROUP BY partner;
"""


def _denials_rank_covering(conn: Connection) -> None:
    """PostgreSQL: the worklist's ranking index also holds ``amount`` as its last key.

    A page is ranked by ``CAST(amount AS NUMERIC)``, which the index holds; PostgreSQL reads a
    page from the index alone (an index-only scan: a deep page walks tens of thousands of index
    entries) only when every column the query names is in the index, and its planner counts
    ``amount`` itself as one. SQLite already reads the page from the index: its schema is unchanged.
    """
    if dialect(conn) == "postgresql":
        conn.execute("DROP INDEX denials_rank")
        conn.execute(
            "CREATE INDEX denials_rank ON denials"
            "(status, (CAST(amount AS NUMERIC)) DESC, denied_on, id, payer, category, action, amount)"
        )


MIGRATIONS: list[tuple[str, MigrationBody]] = [
    ("0001_core_ledger", CORE_SCHEMA),
    ("0002_acknowledgments", ACK_SCHEMA),
    ("0101_remittance_posting", POSTING_SCHEMA),
    ("0102_unmatched_related_claim", UNMATCHED_RELATED_CLAIM),
    ("0201_codesets", CODESET_SCHEMA),
    ("0301_claim_identity", _claim_identity),
    ("0302_interchange_temp_file", INTERCHANGE_TEMP_FILE),
    ("0401_clearinghouse_exchange", EXCHANGE_SCHEMA),
    ("0402_exchange_partner_cutoff", EXCHANGE_PARTNERS_SCHEMA),
    ("0501_coordination_of_benefits", COB_SCHEMA),
    ("0601_fee_schedules", FEE_SCHEDULE_SCHEMA),
    ("0602_expected_payment", EXPECTED_SCHEMA),
    ("0701_denial_work", WORK_SCHEMA),
    ("0702_posting_read_indexes", POSTING_READ_INDEXES),
    ("0703_denials_rank_covering", _denials_rank_covering),
]


def split_statements(sql: str) -> list[str]:
    """Split a script into complete statements (trigger bodies with inner ``;`` stay whole)."""
    out: list[str] = []
    buf = ""
    for chunk in sql.split(";"):
        buf += chunk + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n\t;"):
                out.append(buf.strip())
            buf = ""
    if buf.strip(" \n\t;"):
        out.append(buf.strip())
    return out


def applied_migrations(conn: Connection) -> list[str]:
    """Names of the migrations recorded in this ledger, in the order they were applied."""
    if dialect(conn) == "postgresql":
        # PostgreSQL has no rowid: the order is an identity column. Created under the writer
        # lock, since two connections running CREATE TABLE IF NOT EXISTS at once can collide.
        if not table_exists(conn, "migrations"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL,"
                    " seq BIGINT GENERATED ALWAYS AS IDENTITY)"
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY seq")]
    conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    return [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY rowid")]


def apply_migrations(conn: Connection, migrations: list[tuple[str, MigrationBody]] | None = None) -> list[str]:
    """Apply the pending migrations in order; return the names applied now (idempotent).

    ``conn`` must be in autocommit mode (``isolation_level=None``): each migration runs in its
    own ``BEGIN IMMEDIATE`` so it is applied entirely or not at all.
    """
    todo = MIGRATIONS if migrations is None else migrations
    applied_now: list[str] = []
    done_before = set(applied_migrations(conn))
    for name, body in todo:
        if name in done_before:  # cheap path: no write lock when nothing is pending
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = conn.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone()
            if not done:
                if callable(body):
                    body(conn)
                else:
                    for stmt in split_statements(body):
                        conn.execute(_ddl(conn, stmt))
                conn.execute(
                    "INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
                    (name, datetime.now(UTC).isoformat(timespec="seconds")),
                )
                applied_now.append(name)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return applied_now
