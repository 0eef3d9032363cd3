"""dripline.reconcile: the ledger (SQLite), 835 matching and posting, denials, reports.

Depends on ``coding`` and ``edi``. The package itself exports nothing: import from its subpackages
(``reconcile.ledger``, ``reconcile.claims``, ``reconcile.posting``, ``reconcile.denials``,
``reconcile.demo``).
"""
