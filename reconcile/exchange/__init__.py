"""Clearinghouse exchange: send recorded 837 files to each partner's mailbox and fetch the answers.

- :mod:`reconcile.exchange.config`: ``[clearinghouses.NAME]`` partners and the payer → partner map
- :mod:`reconcile.exchange.transport`: SFTP (paramiko, pinned host key) and folder mailboxes
- :mod:`reconcile.exchange.session`: reconnect with bounded back-off after network errors
- :mod:`reconcile.exchange.send`, :mod:`reconcile.exchange.receive`, :mod:`reconcile.exchange.status`:
  the three jobs, recorded in the ledger tables ``exchange_sent`` and ``exchange_received``
"""
