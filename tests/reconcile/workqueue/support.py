"""A ledger with a few posted denials from two payer names (one of them hostile HTML), and users."""

from __future__ import annotations

from pathlib import Path

from reconcile.posting.post import post_remittances
from reconcile.workqueue.users import add_user
from tests.reconcile.posting.support import claim, line, make_ledger, remit

HOSTILE_PAYER = "<script>alert(1)</script> & PLAN"
PASSWORD = "correct horse battery"


def denials_ledger(path: str | Path, users: tuple[str, ...] = ("alice", "bob")):
    """Ledger at ``path`` (a SQLite file or a PostgreSQL URL): ENC1 line J1745 denied 1200 (CO-16 M119), ENC2 denied whole (CO-4, 1380),
    ENC3 denied 45 (CO-ZZ9) paid by a payer whose name is HTML; returns the open connection."""
    conn, l = make_ledger(
        path,
        [
            ("ENC1", [("96365", (), 1, "350.00", None), ("J1745", ("JZ",), 40, "1200.00", "57894003001")]),
            ("ENC2", [("96413", (), 1, "480.00", None), ("J9312", ("JZ",), 10, "900.00", "50242005121")]),
            ("ENC3", [("96372", (), 1, "45.00", None)]),
        ],
    )
    first = remit(
        [
            claim(
                "ENC1",
                "1",
                "1550",
                "350",
                lines=[
                    line("96365", "350", "350", l["ENC1"][0]),
                    line(
                        "J1745",
                        "1200",
                        "0",
                        l["ENC1"][1],
                        mods=["JZ"],
                        units="40",
                        adjs=[("CO", "16", "1200")],
                        remarks=["M119"],
                    ),
                ],
            ),
            claim("ENC2", "4", "1380", "0", adjs=[("CO", "4", "1380")]),
        ],
        "350",
    )
    second = remit(
        [claim("ENC3", "4", "45", "0", adjs=[("CO", "ZZ9", "45")])], "0", trace="T2", payer_name=HOSTILE_PAYER
    )
    post_remittances(conn, [first], path="a.835", sha256="a" * 64)
    post_remittances(conn, [second], path="b.835", sha256="b" * 64)
    for name in users:
        add_user(conn, name, PASSWORD)
    return conn


def language_collation(conn, table: str, column: str) -> None:
    """On PostgreSQL, give ``table.column`` a language's collation (ICU English: case and
    punctuation weigh less than letters), as on a server initialized with such a locale; SQLite
    compares text by code point whatever the locale. Skips where the server has no ICU."""
    from reconcile.ledger.db import dialect

    if dialect(conn) != "postgresql":
        return
    if conn.execute("SELECT 1 FROM pg_collation WHERE collname = 'en-US-x-icu'").fetchone() is None:
        import pytest

        pytest.skip("this PostgreSQL has no ICU collations")
    conn.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE TEXT COLLATE "en-US-x-icu"')


def denial_ids(conn) -> dict[str, int]:
    """Open denial ids by patient control number."""
    return {r[0]: r[1] for r in conn.execute("SELECT patient_control_number, id FROM denials WHERE status = 'open'")}
