"""The poster's batched writes, and fewer garbage-collector passes during bulk posting.

Rows are collected per batch of claims and written in dependency order, inside the one transaction
the poster opened. (A background writer thread was tried and measured slower: the sqlite3 module
takes the GIL back for every row it binds, so the two threads convoy instead of overlapping.)

Bulk inserts (:meth:`Writer.insert`) bind many rows per statement (``INSERT … VALUES (…), (…), …``):
the sqlite3 module's fixed cost per executed statement (reset, step, bookkeeping) is paid once
per group of rows instead of once per row, which is most of the time of a narrow insert. Groups
have power-of-two sizes, so the few statement texts stay in the connection's statement cache.
Binding ``None`` is far slower in the sqlite3 module than binding an int or a str (it goes through
the adapter lookup), and a str is slower than an int (SQLite copies it), so a column that is usually
NULL takes the integer 0 instead, which the statement turns back into NULL: ``NULLIF(?, 0)``, for
an id that is never 0 or a text column (an integer never equals a text: ``'0'`` stays ``'0'``). The
stored rows are the same.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import chain

from reconcile.ledger.db import Connection, max_params

MAX_GROUP = 64  # rows per multi-row INSERT (and fewer when the row is wide: see _group)


class Insert:
    """One multi-row insert: ``INSERT INTO table (cols) VALUES`` + ``values`` (one row's
    ``(?, …)``, with any ``NULLIF`` sentinels) repeated for a group of rows."""

    __slots__ = ("_sql", "head", "values", "width")

    def __init__(self, head: str, values: str) -> None:
        self.head, self.values = head, values
        self.width = values.count("?")
        self._sql: dict[int, str] = {}

    def sql(self, rows: int) -> str:
        s = self._sql.get(rows)
        if s is None:
            s = self._sql[rows] = f"{self.head} VALUES {','.join([self.values] * rows)}"
        return s


class Writer:
    """Runs the poster's batches in order on the poster's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.max_params = max_params(conn)

    def _group(self, width: int) -> int:
        k = MAX_GROUP
        while k > 1 and k * width > self.max_params:
            k //= 2
        return k

    def submit(self, jobs: Sequence[tuple[str | Insert, list]]) -> None:
        """``(sql, rows)`` runs ``executemany``; ``(Insert, rows)`` binds rows in groups."""
        for stmt, rows in jobs:
            if not rows:
                continue
            if isinstance(stmt, Insert):
                self.insert(stmt, rows)
            else:
                self.conn.executemany(stmt, rows)

    def insert(self, stmt: Insert, rows: Sequence[Sequence]) -> None:
        """Insert ``rows`` (in order) with as few statements as groups of rows allow."""
        w = stmt.width
        k = self._group(w)
        n = len(rows)
        flat = list(chain.from_iterable(rows))
        if len(flat) != n * w:
            raise ValueError(f"{stmt.head}: rows must have {w} values each")
        full = n - n % k
        step = k * w
        if full:
            self.conn.executemany(stmt.sql(k), [flat[i : i + step] for i in range(0, full * w, step)])
        pos = full * w
        rest = n - full
        while rest:  # the rest in power-of-two groups (few distinct statements)
            k //= 2
            if rest >= k:
                self.conn.execute(stmt.sql(k), flat[pos : pos + k * w])
                pos += k * w
                rest -= k

    def sync(self) -> Connection:
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
