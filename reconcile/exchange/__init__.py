"""Clearinghouse exchange: send recorded 837 files to each partner's mailbox and fetch the answers.

- :mod:`reconcile.exchange.config`: ``[clearinghouses.NAME]`` partners and the payer → partner map
- :mod:`reconcile.exchange.transport`: SFTP (paramiko, pinned host key) and folder mailboxes
- :mod:`reconcile.exchange.mailbox`: reconnect with bounded back-off after network errors
- :mod:`reconcile.exchange.send`, :mod:`reconcile.exchange.receive`, :mod:`reconcile.exchange.status`:
  the three jobs, recorded in the ledger tables ``exchange_sent`` and ``exchange_received``
"""

from reconcile.exchange.config import ExchangeConfig, Partner, load_exchange_config
from reconcile.exchange.receive import receive_files
from reconcile.exchange.send import send_files
from reconcile.exchange.status import exchange_status

__all__ = ["ExchangeConfig", "Partner", "exchange_status", "load_exchange_config", "receive_files", "send_files"]
