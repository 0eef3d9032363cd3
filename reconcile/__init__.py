"""dripline.reconcile: the ledger (SQLite), 835 matching and posting, denials, reports.

Depends on ``coding`` and ``edi``.
"""
