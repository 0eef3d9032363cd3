"""A process that opens its SQLite ledger twice keeps the locks of its first connection.

SQLite's locks are POSIX record locks, which belong to the process and the file: closing any
descriptor of the file drops every lock the process holds on it, the locks SQLite holds for
another open connection included. With those gone, another process closing its connection to a
WAL ledger takes itself for the last one and checkpoints and deletes the write-ahead log under
the first connection, which then writes into a log nobody reads: a malformed database (seen with
``claims build``, which opens the ledger for the build and again for the code sets, running beside
``remit post``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reconcile.ledger import store as L

OTHER_PROCESS = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT COUNT(*) FROM claims').fetchone(); c.close()"


def _another_process_opens_and_closes(db: Path) -> None:
    subprocess.run([sys.executable, "-c", OTHER_PROCESS, str(db)], check=True, timeout=60)


def test_opening_the_ledger_again_keeps_the_first_connections_locks(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    first = L.connect(db)
    first.execute("SELECT COUNT(*) FROM claims").fetchone()
    wal = db.with_name(db.name + "-wal")
    _another_process_opens_and_closes(db)
    assert wal.exists()  # our connection is open: the other process is not the last one
    second = L.connect(db)
    _another_process_opens_and_closes(db)
    assert wal.exists(), "the write-ahead log was removed under an open connection"
    with L.transaction(first):
        L._take(first, "isa13", 1)
    second.close()
    first.close()
    check = L.connect(db)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert check.execute("SELECT value FROM control_counters WHERE name = 'isa13'").fetchone()[0] == 1
