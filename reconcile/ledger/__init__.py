"""The ledger: connection, named migrations, what was sent and recorded, and history queries.

- :mod:`reconcile.ledger.store`: storage (interchanges, claims, lines, control numbers).
- :mod:`reconcile.ledger.migrations` and :mod:`reconcile.ledger.posting_tables`: the schema.
- :mod:`reconcile.ledger.history`: Medicare home infusion history for the 60-day rule.
"""

from reconcile.ledger.store import (
    ClaimRecord,
    LedgerError,
    TransactionRecord,
    connect,
)

__all__ = ["ClaimRecord", "LedgerError", "TransactionRecord", "connect"]
