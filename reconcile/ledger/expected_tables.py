"""Ledger tables of expected payment (migration ``0602_expected_payment``).

``expected_allowed`` holds, for each line a build recorded, the amount the payer should allow and
its basis: the fee schedule or contract term, the quarter of the file it came from, the formula
(``amount`` NULL: no basis, the formula says why). ``prior_amount`` is what the previous quarter's
file gives, ``alternates`` (JSON) what other schedules give: they name the likely cause of an
underpayment. ``line_postings.allowed`` keeps the payer's allowed amount (AMT*B6) when the 835
states it.
"""

from __future__ import annotations

EXPECTED_SCHEMA = """
CREATE TABLE expected_allowed (
    line_id        INTEGER PRIMARY KEY REFERENCES lines(id),
    amount         TEXT,                    -- exact decimal, to the cent; NULL: no basis
    basis          TEXT NOT NULL,           -- asp / pfs / opps / contract-* / per-diem / none
    schedule       TEXT NOT NULL,           -- "ASP 2026Q3", "PFS 2026Q3 + GPCI 2026Q1", "fees.csv"
    formula        TEXT NOT NULL,
    prior_amount   TEXT,                    -- the previous quarter's file's amount
    prior_schedule TEXT,
    alternates     TEXT,                    -- JSON [{"basis": ..., "amount": ...}]
    computed_at    TEXT NOT NULL
);

ALTER TABLE line_postings ADD COLUMN allowed TEXT;   -- AMT*B6 of the line (NULL: not stated)
"""
