"""The poster's batched writes, and fewer garbage-collector passes during bulk posting.

Rows are collected per batch of claims and written with one ``executemany`` per table, in
dependency order, inside the one transaction the poster opened. (A background writer thread was
tried and measured slower: the sqlite3 module takes the GIL back for every row it binds, so the two
threads convoy instead of overlapping.)
"""
from __future__ import annotations

import gc
import sqlite3
from contextlib import contextmanager
from typing import Iterator


class Writer:
    """Runs the poster's batches of ``(sql, rows)`` in order on the poster's connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def submit(self, jobs: list[tuple[str, list]]) -> None:
        for sql, rows in jobs:
            if rows:
                self.conn.executemany(sql, rows)

    def sync(self) -> sqlite3.Connection:
        """The connection, every submitted batch written (kept as the poster's single way in)."""
        return self.conn

    def close(self) -> None:
        """Nothing pending: batches are written when submitted."""


@contextmanager
def bulk_gc() -> Iterator[None]:
    """Fewer cyclic-GC passes while posting: the many short-lived rows and records are freed by
    reference counting (no cycles), so collecting every 700 allocations is pure overhead."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 20_000), max(old[1], 20), max(old[2], 20))
    try:
        yield
    finally:
        gc.set_threshold(*old)
