"""The ledger's two backends behind one connection surface: SQLite (default) and PostgreSQL.

Every ledger module speaks the DB-API surface of Python's ``sqlite3`` (``execute`` with ``?``
placeholders, ``executemany``, rows readable by index and by column name, ``lastrowid``, explicit
``BEGIN IMMEDIATE`` / ``COMMIT`` on an autocommit connection). A SQLite ledger is a plain
``sqlite3.Connection``. A PostgreSQL ledger (``postgresql://…``) is a :class:`PgConnection`: a
psycopg 3 connection that offers that same surface, so the SQL of the ledger is written once, in
the subset both databases share, and this module bridges what differs:

- placeholders: ``?`` becomes ``%t`` (parameters travel as text of unknown type, so PostgreSQL
  takes each value's type from where it is used, the way SQLite's column affinity does: an int
  compared with a TEXT column is compared as text, a string stored into an INTEGER column is
  stored as a number);
- ``BEGIN IMMEDIATE`` (SQLite's one-writer-at-a-time transaction) becomes ``BEGIN`` plus a
  transaction-scoped advisory lock that every writing transaction of the ledger takes: writers
  are serialized exactly as on SQLite, so control numbers are never handed out twice and two
  people posting the same file post it once;
- ``x IS ?`` becomes ``x IS NOT DISTINCT FROM %t``; ``lastrowid`` is read with ``lastval()``;
- the schema's SQLite DDL is rewritten by :func:`pg_ddl` (identity keys, BIGINT integers).

Errors of both drivers are named by the tuples :data:`IntegrityError` and :data:`DatabaseError`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol

import psycopg
import psycopg.adapt
import psycopg.pq
import psycopg.rows

SERVER_SCHEMES = ("postgresql://", "postgres://")
# Key of the transaction-scoped advisory lock every writing transaction takes (any constant:
# it only has to be the same in every process that writes this database).
WRITER_LOCK_KEY = 0x6472_6970_6C69_6E65  # "dripline" in ASCII
# How long a writer waits for another's transaction before it gives up (a team's server: long).
PG_LOCK_TIMEOUT_S = 600
# PostgreSQL's limit of bound parameters in one statement.
PG_MAX_PARAMS = 65_535

IntegrityError: tuple[type[Exception], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError)
DatabaseError: tuple[type[Exception], ...] = (sqlite3.DatabaseError, psycopg.Error)


class Row(Protocol):
    """A result row: by position, by column name (case-insensitive), ``keys()``."""

    def __getitem__(self, key: int | str, /) -> Any: ...
    def keys(self) -> list[str]: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...


class Cursor(Protocol):
    """The cursor surface the ledger uses (``sqlite3.Cursor`` and :class:`PgCursor`)."""

    row_factory: Any

    @property
    def lastrowid(self) -> int | None: ...
    @property
    def rowcount(self) -> int: ...
    @property
    def description(self) -> Any: ...
    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...
    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchmany(self, size: int = ..., /) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...
    def close(self) -> None: ...


class Connection(Protocol):
    """The connection surface the ledger uses (``sqlite3.Connection`` and :class:`PgConnection`)."""

    @property
    def in_transaction(self) -> bool: ...
    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...
    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any: ...
    def cursor(self) -> Any: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


def is_server_url(target: object) -> bool:
    """True when a ledger target names a PostgreSQL server rather than a SQLite file.

    >>> is_server_url("postgresql://billing@db.example/ledger")
    True
    >>> is_server_url("postgres:///ledger?host=/run/postgresql")
    True
    >>> is_server_url("./dripline.db")
    False
    """
    return isinstance(target, str) and target.startswith(SERVER_SCHEMES)


def redact_url(url: str) -> str:
    """A server URL with any password left out, for messages.

    >>> redact_url("postgresql://billing:s3cret@db.example:5432/ledger")
    'postgresql://billing:***@db.example:5432/ledger'
    >>> redact_url("postgresql:///ledger?host=/tmp")
    'postgresql:///ledger?host=/tmp'

    A password that was not percent-encoded (holding ``/`` or ``@``) is left out whole:

    >>> redact_url("postgresql://billing:pa/ss@wd@db.example/ledger?password=x&port=5432")
    'postgresql://billing:***@db.example/ledger?password=***&port=5432'
    """
    head, sep, query = url.partition("?")
    m = re.match(r"([A-Za-z][\w+.-]*://)([^:/@]*):.*@", head)  # greedy: up to the last @
    if m:
        head = f"{m.group(1)}{m.group(2)}:***@{head[m.end() :]}"
    return head + sep + re.sub(r"(password=)[^&]*", r"\1***", query)


def dialect(conn: object) -> str:
    """``"postgresql"`` or ``"sqlite"``: which database ``conn`` speaks."""
    return "postgresql" if isinstance(conn, PgConnection) else "sqlite"


def max_params(conn: object) -> int:
    """How many parameters one statement may bind on ``conn``."""
    if isinstance(conn, PgConnection):
        return PG_MAX_PARAMS
    try:
        return max(int(conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)), 1)  # type: ignore[attr-defined]
    except (AttributeError, sqlite3.Error):  # pragma: no cover - the smallest default of old SQLite
        return 999


# --- SQL translation -------------------------------------------------------------------------

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\?|%|\bIS\s+\?", re.S | re.I)


@lru_cache(maxsize=4096)
def to_pg(sql: str, with_params: bool = True) -> str:
    """The PostgreSQL text of one ledger statement written for SQLite (see the module docstring).

    >>> to_pg("SELECT * FROM claims WHERE id = ? AND claim_type LIKE '837%'")
    "SELECT * FROM claims WHERE id = %t AND claim_type LIKE '837%%'"
    >>> to_pg("UPDATE t SET a = ? WHERE b IS ?")
    'UPDATE t SET a = %t WHERE b IS NOT DISTINCT FROM %t'
    >>> to_pg("SELECT 'what?' FROM t", with_params=False)
    "SELECT 'what?' FROM t"
    """
    if not with_params:
        return sql

    def sub(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok == "?":
            return "%t"
        if tok == "%":
            return "%%"
        if tok[0] in "'\"-/":
            return tok.replace("%", "%%")
        return "IS NOT DISTINCT FROM %t"

    return _TOKENS.sub(sub, sql)


_DDL_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"\bid\s+INTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?", re.I),
        "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    (re.compile(r"\bINTEGER\b", re.I), "BIGINT"),
    (re.compile(r"\bREAL\b", re.I), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b", re.I), "BYTEA"),
    (re.compile(r"\)\s*WITHOUT\s+ROWID", re.I), ")"),
]


def pg_ddl(stmt: str) -> str:
    """A schema statement written for SQLite, in PostgreSQL's words.

    A table's ``id INTEGER PRIMARY KEY`` (SQLite's rowid) becomes an identity column; another
    integer key (a row of another table's id) stays a plain key.

    >>> pg_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, x REAL) WITHOUT ROWID")
    'CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT NOT NULL, x DOUBLE PRECISION)'
    >>> pg_ddl("CREATE TABLE e (line_id INTEGER PRIMARY KEY REFERENCES lines(id))")
    'CREATE TABLE e (line_id BIGINT PRIMARY KEY REFERENCES lines(id))'
    """
    for pattern, repl in _DDL_RULES:
        stmt = pattern.sub(repl, stmt)
    return stmt


# --- PostgreSQL connection with the sqlite3 surface ------------------------------------------


class _UnknownTextDumper(psycopg.adapt.Dumper):
    """Numbers, booleans and dates as text of unknown type: PostgreSQL types them by context."""

    oid = 0
    format = psycopg.pq.Format.TEXT

    def dump(self, obj: Any) -> bytes:
        if isinstance(obj, bool):
            return b"1" if obj else b"0"
        if isinstance(obj, datetime):
            return obj.isoformat(" ").encode()
        if isinstance(obj, (date, time)):
            return obj.isoformat().encode()
        if isinstance(obj, float):
            return repr(obj).encode()
        return str(obj).encode()


@lru_cache(maxsize=1024)
def _row_class(names: tuple[str, ...]) -> type[tuple[Any, ...]]:
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name.lower(), i)
    keys = list(names)

    class PgRow(tuple[Any, ...]):
        """A result row like ``sqlite3.Row``: by position or by column name, ignoring case."""

        __slots__ = ()

        def __getitem__(self, key: Any) -> Any:
            if isinstance(key, str):
                try:
                    key = index[key.lower()]
                except KeyError:
                    raise IndexError(f"No item with that key: {key!r}") from None
            return tuple.__getitem__(self, key)

        def keys(self) -> list[str]:
            return list(keys)

    return PgRow


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], Any]:
    desc = cursor.description
    if desc is None:
        return tuple
    return _row_class(tuple(d.name for d in desc))


@lru_cache(maxsize=4096)
def _statement_kind(sql: str) -> str:
    """``"begin-write"`` (SQLite's writing BEGIN), ``"insert"`` or ``"other"``: read once per statement text.

    >>> _statement_kind(" begin immediate; "), _statement_kind("INSERT INTO t VALUES (?)"), _statement_kind("SELECT 1")
    ('begin-write', 'insert', 'other')
    """
    head = sql.strip().rstrip(";").strip().upper()
    if head in ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"):
        return "begin-write"
    return "insert" if head.startswith("INSERT") else "other"


class PgCursor:
    """A psycopg cursor with sqlite3's cursor surface (``?`` parameters, ``lastrowid``)."""

    def __init__(self, conn: PgConnection) -> None:
        self._conn = conn
        self._cur = conn.raw.cursor(row_factory=_row_factory)
        self._inserted = False
        self.row_factory: Any = _row_factory

    @property
    def lastrowid(self) -> int | None:
        """The id the last ``INSERT`` gave its (last) row, as ``sqlite3`` reports it."""
        if not self._inserted:
            return None
        row = self._conn.raw.execute("SELECT lastval()").fetchone()
        return None if row is None else int(row[0])

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    @property
    def description(self) -> Any:
        return self._cur.description

    def _factory(self) -> Any:
        return psycopg.rows.tuple_row if self.row_factory is None else self.row_factory

    def execute(self, sql: str, parameters: Any = (), /) -> PgCursor:
        kind = _statement_kind(sql)
        if kind == "begin-write":
            self._conn.begin_write()
            return self
        self._cur.row_factory = self._factory()
        params = tuple(parameters) if parameters else None
        self._cur.execute(to_pg(sql, params is not None), params)
        self._inserted = kind == "insert"
        return self

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> PgCursor:
        self._cur.row_factory = self._factory()
        self._cur.executemany(to_pg(sql, True), parameters)
        self._inserted = _statement_kind(sql) == "insert"
        return self

    def executescript(self, script: str) -> PgCursor:
        from reconcile.ledger.migrations import split_statements

        for stmt in split_statements(script):
            self._cur.execute(to_pg(stmt, False))
        return self

    def fetchone(self) -> Any:
        return self._cur.fetchone() if self._cur.description is not None else None

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall() if self._cur.description is not None else []

    def fetchmany(self, size: int = 1, /) -> list[Any]:
        return self._cur.fetchmany(size) if self._cur.description is not None else []

    def __iter__(self) -> Iterator[Any]:
        if self._cur.description is None:
            return iter(())
        return iter(self._cur)

    def close(self) -> None:
        self._cur.close()


class PgConnection:
    """A PostgreSQL ledger connection with the ``sqlite3.Connection`` surface the ledger uses.

    Autocommit, like the SQLite ledger's: every write runs inside an explicit ``BEGIN IMMEDIATE``
    … ``COMMIT``, which here takes the ledger's writer lock (:meth:`begin_write`).
    """

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        for cls in (int, bool, float, Decimal, date, datetime, time):
            raw.adapters.register_dumper(cls, _UnknownTextDumper)

    @classmethod
    def open(cls, url: str) -> PgConnection:
        raw = psycopg.connect(url, autocommit=True)
        raw.execute("SELECT set_config('lock_timeout', %s, false)", (f"{PG_LOCK_TIMEOUT_S}s",))
        return cls(raw)

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def begin_write(self) -> None:
        """Open a transaction that holds the ledger's single writer lock until it ends."""
        self.raw.execute("BEGIN")
        self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK_KEY,))

    def cursor(self) -> PgCursor:
        return PgCursor(self)

    def execute(self, sql: str, parameters: Any = (), /) -> PgCursor:
        return PgCursor(self).execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> PgCursor:
        return PgCursor(self).executemany(sql, parameters)

    def executescript(self, script: str) -> PgCursor:
        return PgCursor(self).executescript(script)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Insert ``rows`` into ``table`` (``columns``, in that order) with ``COPY … FROM STDIN``.

        Each value is sent as text (None as NULL) and read by its column type's input function, as
        a ``?`` parameter of an INSERT would be; ``table`` and ``columns`` are quoted identifiers.
        Integers and decimals are written by psycopg's own (compiled) text dumpers: in ``COPY`` no
        parameter type is declared, and their text is the same as the ledger's dumper writes.
        """
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        with self.raw.cursor() as cur:
            for cls in (int, Decimal):
                cur.adapters.register_dumper(cls, psycopg.adapters.get_dumper(cls, psycopg.adapt.PyFormat.TEXT))
            with cur.copy(statement) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)

    def commit(self) -> None:
        if self.in_transaction:
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def table_exists(conn: Any, name: str) -> bool:
    """Whether the ledger has a table or view called ``name`` (either backend)."""
    if isinstance(conn, PgConnection):
        row = conn.raw.execute("SELECT to_regclass(%s)", (name,)).fetchone()
        return row is not None and row[0] is not None
    return (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?", (name,)).fetchone()
        is not None
    )


def column_exists(conn: Any, table: str, column: str) -> bool:
    """Whether ``table`` of the ledger has a column called ``column`` (either backend)."""
    if isinstance(conn, PgConnection):
        row = conn.raw.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = %s AND column_name = %s",
            (table, column),
        ).fetchone()
        return row is not None
    return conn.execute("SELECT 1 FROM pragma_table_info(?) WHERE name = ?", (table, column)).fetchone() is not None
