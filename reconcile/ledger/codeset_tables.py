"""Ledger tables for loaded CMS code sets (migration ``0201_codesets`` in :mod:`reconcile.ledger.migrations`).

``codesets`` has one row per loaded file (sha256 unique: the same bytes never load twice) with its
kind, effective period and row count; the rows live in one table per kind keyed by the file's id.
A set's period ends at ``effective_to`` when the file states it (ASP), otherwise where the next set
of its kind starts. Dates are ISO text, money and units exact decimal TEXT. No descriptor of a
CPT code is stored (the loaders skip those columns and numeric HCPCS records).
"""

from __future__ import annotations

CODESET_SCHEMA = """
CREATE TABLE codesets (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,            -- hcpcs, asp, asp-ndc, ptp-practitioner, ...
    sha256         TEXT NOT NULL UNIQUE,     -- of the data member's bytes
    source_file    TEXT NOT NULL,            -- file name (zip name!member name)
    part           TEXT NOT NULL DEFAULT '', -- PTP code-range part (f1..f4) of one quarter's set
    effective_from TEXT NOT NULL,            -- first day in effect
    effective_to   TEXT,                     -- last day when the file states it, else NULL
    label          TEXT NOT NULL,            -- e.g. "ASP 2026Q3"
    row_count      INTEGER NOT NULL,
    errors         INTEGER NOT NULL DEFAULT 0,
    warnings       INTEGER NOT NULL DEFAULT 0,
    loaded_at      TEXT NOT NULL
);
CREATE INDEX codesets_kind ON codesets(kind, effective_from);

CREATE TABLE codeset_hcpcs (
    set_id            INTEGER NOT NULL REFERENCES codesets(id),
    is_modifier       INTEGER NOT NULL,      -- 1: modifier record (7/8)
    code              TEXT NOT NULL,
    added             TEXT,                  -- first usable day
    terminated        TEXT,                  -- last usable day; NULL = active
    action            TEXT NOT NULL,
    description       TEXT NOT NULL,         -- long description (Level II, public domain)
    short_description TEXT NOT NULL,
    PRIMARY KEY (set_id, is_modifier, code)
) WITHOUT ROWID;

CREATE TABLE codeset_asp (
    set_id        INTEGER NOT NULL REFERENCES codesets(id),
    code          TEXT NOT NULL,
    dosage_text   TEXT NOT NULL,
    quantity      TEXT,                      -- NULL: dosage not a number and a unit
    unit          TEXT,
    payment_limit TEXT,                      -- NULL: N/A
    PRIMARY KEY (set_id, code)
) WITHOUT ROWID;

CREATE TABLE codeset_asp_ndc (
    set_id            INTEGER NOT NULL REFERENCES codesets(id),
    ndc               TEXT NOT NULL,         -- 11 digits
    code              TEXT NOT NULL,
    units_per_item    TEXT,
    units_per_package TEXT,
    PRIMARY KEY (set_id, ndc, code)
) WITHOUT ROWID;

CREATE TABLE codeset_ptp (
    set_id     INTEGER NOT NULL REFERENCES codesets(id),
    column1    TEXT NOT NULL,
    column2    TEXT NOT NULL,
    line       INTEGER NOT NULL,             -- line in the file (a pair may repeat)
    effective  TEXT NOT NULL,
    deleted    TEXT,                         -- last day in force; NULL = active
    indicator  TEXT NOT NULL,                -- 0 / 1 / 9
    PRIMARY KEY (set_id, column1, column2, line)
) WITHOUT ROWID;

CREATE TABLE codeset_mue (
    set_id    INTEGER NOT NULL REFERENCES codesets(id),
    code      TEXT NOT NULL,
    value     INTEGER NOT NULL,
    indicator TEXT NOT NULL,                 -- 1 line, 2 date (policy), 3 date (clinical)
    rationale TEXT NOT NULL,
    PRIMARY KEY (set_id, code)
) WITHOUT ROWID;
"""

# Fee schedules (migration ``0601_fee_schedules``): the PFS relative values (code + modifier; the
# DESCRIPTION column is not kept), the GPCIs by MAC and locality, and OPPS Addendum B rates by
# HCPCS code (the short descriptor is not kept). RVUs, indices and rates are exact decimal TEXT.
FEE_SCHEDULE_SCHEMA = """
CREATE TABLE codeset_pfs_rvu (
    set_id             INTEGER NOT NULL REFERENCES codesets(id),
    code               TEXT NOT NULL,
    modifier           TEXT NOT NULL,        -- '' global, 26, TC, 53, ...
    status             TEXT NOT NULL,        -- PFS status code (A, R, T paid; B bundled; ...)
    work_rvu           TEXT NOT NULL,
    pe_nonfacility_rvu TEXT,                 -- NULL: not applicable (NA) in a non-facility setting
    pe_facility_rvu    TEXT,
    mp_rvu             TEXT NOT NULL,
    conversion_factor  TEXT NOT NULL,
    PRIMARY KEY (set_id, code, modifier)
) WITHOUT ROWID;

CREATE TABLE codeset_gpci (
    set_id    INTEGER NOT NULL REFERENCES codesets(id),
    mac       TEXT NOT NULL,                 -- Medicare administrative contractor, 5 digits
    locality  TEXT NOT NULL,                 -- 2 digits
    state     TEXT NOT NULL,
    work_gpci TEXT NOT NULL,
    pe_gpci   TEXT NOT NULL,
    mp_gpci   TEXT NOT NULL,
    PRIMARY KEY (set_id, mac, locality)
) WITHOUT ROWID;

CREATE TABLE codeset_opps_b (
    set_id           INTEGER NOT NULL REFERENCES codesets(id),
    code             TEXT NOT NULL,
    status_indicator TEXT NOT NULL,
    apc              TEXT NOT NULL,
    payment_rate     TEXT,                   -- NULL: none (packaged, not paid under OPPS)
    PRIMARY KEY (set_id, code)
) WITHOUT ROWID;
"""
