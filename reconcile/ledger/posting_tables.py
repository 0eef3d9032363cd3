"""Ledger tables for posted remittances and denials: the schema of the ``0101_remittance_posting``
and ``0102_unmatched_related_claim`` migrations.

Every posted 835 file is a ``remit_files`` row (sha256 unique: the same bytes never post twice);
every ST set a ``payments`` row (payer id + TRN02 trace + BPR02 amount unique: the same payment
in another file never posts twice). Claim and line postings keep the payer's amounts exactly
(decimal TEXT); adjustments keep group, reason and amount; PLB entries are provider-level
adjustments linked to our claim when PLB03-2 names it. A reversal (CLP02 22) points at the posting
it reverses. Denials and unmatched remittance claims/lines are rows of their own, and the reader's
balancing findings are kept with the payment they belong to.
"""

from __future__ import annotations

POSTING_SCHEMA = """
CREATE TABLE remit_files (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL UNIQUE,
    posted_at   TEXT NOT NULL,
    summary     TEXT                        -- JSON: counts and totals posted
);

CREATE TABLE payments (
    id           INTEGER PRIMARY KEY,
    file_id      INTEGER NOT NULL REFERENCES remit_files(id),
    payer_id     TEXT NOT NULL,             -- N1*PR N104 / REF*2U / TRN03
    payer_name   TEXT,
    trace        TEXT NOT NULL,             -- TRN02 check or EFT trace number
    amount       TEXT NOT NULL,             -- BPR02
    method       TEXT,                      -- BPR04
    payment_date TEXT,                      -- BPR16 (ISO)
    segment      INTEGER,
    UNIQUE (payer_id, trace, amount)
);

CREATE TABLE claim_postings (
    id                     INTEGER PRIMARY KEY,
    payment_id             INTEGER NOT NULL REFERENCES payments(id),
    claim_id               INTEGER REFERENCES claims(id),   -- NULL: unmatched (see unmatched)
    patient_control_number TEXT NOT NULL,
    payer_claim_number     TEXT,
    status_code            TEXT NOT NULL,   -- CLP02
    charge                 TEXT NOT NULL,   -- CLP03
    paid                   TEXT NOT NULL,   -- CLP04
    patient_responsibility TEXT NOT NULL,   -- CLP05
    reversal_of            INTEGER REFERENCES claim_postings(id),
    reversed_by            INTEGER REFERENCES claim_postings(id),
    segment                INTEGER,
    adjustments_from       INTEGER,         -- its adjustments are the id range from..to (NULL: none)
    adjustments_to         INTEGER
);
CREATE INDEX claim_postings_claim ON claim_postings(claim_id);
CREATE INDEX claim_postings_icn ON claim_postings(payer_claim_number);

CREATE TABLE line_postings (
    id                  INTEGER PRIMARY KEY,
    claim_posting_id    INTEGER NOT NULL REFERENCES claim_postings(id),
    line_id             INTEGER REFERENCES lines(id),       -- NULL: unmatched
    line_control_number TEXT,               -- REF*6R as received
    code                TEXT,
    modifiers           TEXT NOT NULL DEFAULT '',
    charge              TEXT NOT NULL,
    paid                TEXT NOT NULL,
    units               TEXT,
    service_date        TEXT,
    matched_by          TEXT,               -- ref6r / code-modifiers-date-units / svc06 / ndc / mirror
    segment             INTEGER
);
CREATE INDEX line_postings_claim_posting ON line_postings(claim_posting_id);

CREATE TABLE adjustments (
    id               INTEGER PRIMARY KEY,
    claim_posting_id INTEGER NOT NULL REFERENCES claim_postings(id),
    line_posting_id  INTEGER REFERENCES line_postings(id),  -- NULL: claim-level CAS
    group_code       TEXT NOT NULL,         -- CO / PR / OA / PI / CR
    reason           TEXT NOT NULL,         -- CARC
    amount           TEXT NOT NULL,
    quantity         TEXT
);

CREATE TABLE provider_adjustments (
    id                     INTEGER PRIMARY KEY,
    payment_id             INTEGER NOT NULL REFERENCES payments(id),
    provider               TEXT,            -- PLB01
    fiscal_period_date     TEXT,            -- PLB02 (ISO)
    reason                 TEXT NOT NULL,   -- PLB03-1 (WO, FB, 72, L6, J1, ...)
    reference              TEXT,            -- PLB03-2
    amount                 TEXT NOT NULL,   -- positive: taken back from the payment
    kind                   TEXT NOT NULL,   -- interest / recoupment / forward_balance / other
    claim_id               INTEGER REFERENCES claims(id),   -- our claim named in PLB03-2
    segment                INTEGER
);
CREATE INDEX provider_adjustments_claim ON provider_adjustments(claim_id);

CREATE TABLE denials (
    id                     INTEGER PRIMARY KEY,
    claim_posting_id       INTEGER NOT NULL REFERENCES claim_postings(id),
    line_posting_id        INTEGER REFERENCES line_postings(id),
    claim_id               INTEGER REFERENCES claims(id),
    line_id                INTEGER REFERENCES lines(id),
    patient_control_number TEXT NOT NULL,
    line_control_number    TEXT,
    payer_claim_number     TEXT,
    code                   TEXT,            -- procedure code of the line (NULL: whole claim)
    group_code             TEXT,
    carc                   TEXT,
    rarc                   TEXT,
    remarks                TEXT,            -- every remark code, comma-separated
    amount                 TEXT NOT NULL,   -- amount at risk
    category               TEXT NOT NULL,
    action                 TEXT NOT NULL,
    payer                  TEXT,
    denied_on              TEXT,            -- payment date (ISO)
    status                 TEXT NOT NULL DEFAULT 'open'   -- open / reversed / resolved
);
CREATE INDEX denials_claim ON denials(claim_id);
CREATE INDEX denials_line ON denials(line_id);
CREATE INDEX denials_posting ON denials(claim_posting_id);

CREATE TABLE unmatched (
    id                     INTEGER PRIMARY KEY,
    payment_id             INTEGER NOT NULL REFERENCES payments(id),
    claim_posting_id       INTEGER REFERENCES claim_postings(id),
    line_posting_id        INTEGER REFERENCES line_postings(id),
    kind                   TEXT NOT NULL,   -- claim / line / provider_adjustment
    patient_control_number TEXT,
    line_control_number    TEXT,
    code                   TEXT,
    amount                 TEXT,            -- paid amount held
    reason                 TEXT NOT NULL,
    segment                INTEGER,
    status                 TEXT NOT NULL DEFAULT 'open'
);

CREATE TABLE posting_findings (
    id         INTEGER PRIMARY KEY,
    file_id    INTEGER NOT NULL REFERENCES remit_files(id),
    payment_id INTEGER REFERENCES payments(id),
    severity   TEXT NOT NULL,
    code       TEXT NOT NULL,
    message    TEXT NOT NULL,
    position   TEXT                         -- JSON: segment / loop / element / line
);
CREATE INDEX posting_findings_file ON posting_findings(file_id);
"""

# An unmatched entry may concern a claim it was deliberately not posted to: a second payment of a
# claim the same payer already paid, or a reversal of the wrong posting. That claim is kept here.
UNMATCHED_RELATED_CLAIM = """
ALTER TABLE unmatched ADD COLUMN related_claim_id INTEGER REFERENCES claims(id);
CREATE INDEX unmatched_related_claim ON unmatched(related_claim_id);
"""

# Adjustments are read per claim posting (its patient responsibility, the prior payer's claim-level
# CAS of a secondary claim) and per line posting (underpayment causes, a secondary claim's line CAS);
# the underpayment worklist finds each line's last payment and whether that payment was denied.
# Without these indexes each of those reads scans the whole table.
POSTING_READ_INDEXES = """
CREATE INDEX adjustments_claim_posting ON adjustments(claim_posting_id);
CREATE INDEX adjustments_line_posting ON adjustments(line_posting_id);
CREATE INDEX line_postings_line ON line_postings(line_id);
CREATE INDEX denials_line_posting ON denials(line_posting_id);
"""
