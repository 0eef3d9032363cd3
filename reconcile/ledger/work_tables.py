"""Ledger tables for working denials as a team: the schema of the ``0701_denial_work`` migration.

A denial (a ``denials`` row, identified by its id, which posting never reuses or deletes) gets at
most one ``denial_work`` row: its work state, assignee and last note; no row means state ``open``,
nobody assigned. Every change (assignment, state, note) is a ``denial_events`` row with the user
and the time: the audit trail. ``users`` holds the people who may log in to the worklist (password
stored as a KDF hash with its salt and parameters, never the password), ``app_secrets`` the
ledger's own secrets (the key that signs login cookies).

Plain standard SQL (no engine-specific syntax), so the same text can create the tables on a server
database; the ranking index is an expression index both SQLite and PostgreSQL accept.
"""

from __future__ import annotations

WORK_SCHEMA = """
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,            -- kdf$params$salt$hash (see reconcile.workqueue.users)
    created_at    TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE app_secrets (
    name       TEXT PRIMARY KEY,            -- session_key
    value      TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE denial_work (
    denial_id  INTEGER PRIMARY KEY REFERENCES denials(id),
    state      TEXT NOT NULL,               -- open / in_progress / corrected / appealed / written_off / resolved
    assignee   TEXT,                        -- users.name, NULL: nobody
    last_note  TEXT,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX denial_work_state ON denial_work(state);
CREATE INDEX denial_work_assignee ON denial_work(assignee);

CREATE TABLE denial_events (
    id         INTEGER PRIMARY KEY,
    denial_id  INTEGER NOT NULL REFERENCES denials(id),
    kind       TEXT NOT NULL,               -- assign / state / note
    old_value  TEXT,
    new_value  TEXT,
    user_name  TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX denial_events_denial ON denial_events(denial_id);

-- the worklist order, with the filter columns after it: a page is ranked, filtered and cut in the index
CREATE INDEX denials_rank ON denials(status, (CAST(amount AS NUMERIC)) DESC, denied_on, id, payer, category, action);
CREATE INDEX denials_status_payer ON denials(status, payer);
"""
