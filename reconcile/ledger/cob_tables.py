"""Ledger schema for coordination of benefits: the ``0501_coordination_of_benefits`` migration.

Every claim records its coverage order (1 primary, 2 secondary, 3 tertiary), the payer its
encounter names after it (``next_payer``) and, for a claim to a later payer, the claim of the payer
before it (``prior_claim_id``: same encounter, same patient control number). A remittance claim the payer says it forwarded (CLP02 19/20/21 or NM1*TT, the
crossover carrier) keeps that with its posting, so the next step can tell a crossed-over claim
from one still to bill.
"""

from __future__ import annotations

COB_SCHEMA = """
ALTER TABLE claims ADD COLUMN coverage_order INTEGER NOT NULL DEFAULT 1;
ALTER TABLE claims ADD COLUMN prior_claim_id INTEGER REFERENCES claims(id);
ALTER TABLE claims ADD COLUMN next_payer TEXT;   -- payer profile billed after this claim's (NULL: none)
CREATE INDEX claims_prior ON claims(prior_claim_id);

CREATE TABLE claim_posting_forwards (
    claim_posting_id INTEGER PRIMARY KEY REFERENCES claim_postings(id),
    crossover        TEXT,                  -- NM1*TT name / id of the payer it was crossed over to
    remarks          TEXT NOT NULL DEFAULT ''  -- claim-level remark codes (MOA/MIA), comma-separated
);
"""
