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

On a PostgreSQL ledger the same bulk inserts are streamed with ``COPY … FROM STDIN`` instead
(:meth:`reconcile.ledger.db.PgConnection.copy_rows`): no statement is parsed or planned per group
and the rows travel in one stream, where multi-row INSERTs cost the server most of the posting's
time. Each value goes through its column type's input function exactly as a parameter of the
INSERT would, the ``NULLIF(?, 0)`` sentinels become NULL before they are sent (a number 0 only,
as in SQL: the text ``'0'`` stays) and a literal of the row template is sent as its value, so the stored rows are the same.
Plain ``INSERT INTO t (cols) VALUES (?, …)`` statements given to :meth:`Writer.submit` are copied
the same way.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any

from reconcile.ledger.db import Connection, PgConnection, max_params

MAX_GROUP = 64  # rows per multi-row INSERT (and fewer when the row is wide: see _group)


_HEAD = re.compile(r"\s*INSERT\s+INTO\s+(\w+)\s*\(([^()]*)\)\s*", re.I)
_PLAIN = re.compile(r"(\s*INSERT\s+INTO\s+\w+\s*\([^()]*\))\s*VALUES\s*(\([^()]*\))\s*;?\s*", re.I)
_ITEM = re.compile(r"\s*(?:(\?)|NULLIF\(\s*\?\s*,\s*0\s*\)|'((?:[^']|'')*)'|(-?\d+))\s*", re.I)


class CopyPlan:
    """How the rows of an :class:`Insert` are sent with ``COPY``: the table, every column named by
    the insert, and per column the position of its value in a bound row (or a constant)."""

    __slots__ = ("_convert", "columns", "plain", "table", "template")

    def __init__(self, table: str, columns: list[str], template: list[tuple[str, Any]]) -> None:
        self.table, self.columns, self.template = table, columns, template
        self.plain = all(kind == "param" for kind, _ in template)
        self._convert: Callable[[Sequence[Sequence[Any]]], list[tuple[Any, ...]]] | None = None

    @classmethod
    def parse(cls, head: str, values: str) -> CopyPlan | None:
        """The plan of ``head VALUES values``; None when a value is more than ``?``, ``NULLIF(?, 0)``
        or a string or integer literal (that insert keeps its SQL).

        >>> p = CopyPlan.parse("INSERT INTO t (a, b, c, d)", "(?, NULLIF(?,0), 'x''y', ?)")
        >>> p.table, p.columns, p.template
        ('t', ['a', 'b', 'c', 'd'], [('param', 0), ('nullif', 1), ('const', "x'y"), ('param', 2)])
        >>> p.rows([(1, 0, 3), (4, "0", 6)])
        [(1, None, "x'y", 3), (4, '0', "x'y", 6)]
        >>> CopyPlan.parse("INSERT INTO t (a)", "(COALESCE(?, 1))") is None
        True
        """
        m = _HEAD.fullmatch(head)
        inner = values.strip()
        if m is None or not (inner.startswith("(") and inner.endswith(")")):
            return None
        columns = [c.strip() for c in m.group(2).split(",")]
        template: list[tuple[str, Any]] = []
        pos = 0
        for item in _split_items(inner[1:-1]):
            im = _ITEM.fullmatch(item)
            if im is None:
                return None
            if im.group(1) is not None:
                template.append(("param", pos))
                pos += 1
            elif im.group(2) is not None:
                template.append(("const", im.group(2).replace("''", "'")))
            elif im.group(3) is not None:
                template.append(("const", int(im.group(3))))
            else:
                template.append(("nullif", pos))
                pos += 1
        if len(template) != len(columns):
            return None
        return cls(m.group(1), columns, template)

    def rows(self, rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
        """The rows as ``COPY`` takes them (a ``NULLIF(?, 0)`` value that is the number 0 is NULL)."""
        if self.plain:
            return rows
        if self._convert is None:
            self._convert = self._converter()
        return self._convert(rows)

    def _converter(self) -> Callable[[Sequence[Sequence[Any]]], list[tuple[Any, ...]]]:
        """One list comprehension over the rows, built from the template (the per-row loop of a
        general converter costs as much as the rest of the copy)."""
        names: dict[str, Any] = {"_numbers": (int, bool, float)}  # what SQL's NULLIF(?, 0) turns to NULL
        exprs = []
        for k, (kind, v) in enumerate(self.template):
            if kind == "const":
                names[f"_c{k}"] = v
                exprs.append(f"_c{k}")
            elif kind == "nullif":
                exprs.append(f"(None if r[{v:d}] == 0 and r[{v:d}].__class__ in _numbers else r[{v:d}])")
            else:
                exprs.append(f"r[{v:d}]")
        code = f"lambda rows: [({', '.join(exprs)},) for r in rows]"
        return eval(code, names)  # the text holds only integers and the names given here


def _split_items(text: str) -> list[str]:
    """Split a row template's items at the commas outside parentheses and quotes."""
    items, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == ",":
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return items


class Insert:
    """One multi-row insert: ``INSERT INTO table (cols) VALUES`` + ``values`` (one row's
    ``(?, …)``, with any ``NULLIF`` sentinels) repeated for a group of rows."""

    __slots__ = ("_copy", "_sql", "head", "values", "width")

    def __init__(self, head: str, values: str) -> None:
        self.head, self.values = head, values
        self.width = values.count("?")
        self._sql: dict[int, str] = {}
        self._copy = CopyPlan.parse(head, values)

    def copy_plan(self) -> CopyPlan | None:
        """How to send this insert's rows with ``COPY`` (None: it cannot be)."""
        return self._copy

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
        self.pg = conn if isinstance(conn, PgConnection) else None
        self._plain: dict[str, Insert | None] = {}

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
            elif self.pg is not None and (ins := self._plain_insert(stmt)) is not None:
                self.insert(ins, rows)
            else:
                self.conn.executemany(stmt, rows)

    def _plain_insert(self, sql: str) -> Insert | None:
        """A plain one-row ``INSERT … VALUES (?, …)`` as an :class:`Insert` that can be copied."""
        if sql not in self._plain:
            m = _PLAIN.fullmatch(sql)
            ins = Insert(m.group(1), m.group(2)) if m else None
            self._plain[sql] = ins if ins is not None and ins.copy_plan() is not None else None
        return self._plain[sql]

    def insert(self, stmt: Insert, rows: Sequence[Sequence]) -> None:
        """Insert ``rows`` (in order) with as few statements as groups of rows allow (one
        ``COPY`` on PostgreSQL)."""
        if self.pg is not None and (plan := stmt.copy_plan()) is not None:
            if any(len(r) != stmt.width for r in rows):
                raise ValueError(f"{stmt.head}: rows must have {stmt.width} values each")
            self.pg.copy_rows(plan.table, plan.columns, plan.rows(rows))
            return
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
