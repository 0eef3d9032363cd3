"""The poster's bulk writer: multi-row INSERTs on SQLite, ``COPY`` on PostgreSQL, the same rows stored.

The ``COPY`` path must store exactly what the INSERT path stores (the same values through the same
column input functions, ``NULLIF(?, 0)`` sentinels as NULL, literals of the row template), so each
PostgreSQL test writes the same rows both ways and compares; a whole 835 posted with ``COPY`` must
leave the same ledger as posted with INSERTs, and as posted into SQLite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.ledger import store as L
from reconcile.ledger.db import PgConnection, dialect
from reconcile.posting import writer as W
from reconcile.posting.post import post_files
from tests.reconcile.posting.support import POSTING_CONTENTS
from tests.reconcile.posting.two_payers import build

TABLE = """
CREATE TABLE wt_parent (id INTEGER PRIMARY KEY);
CREATE TABLE wt (
    id      INTEGER PRIMARY KEY,
    parent  INTEGER REFERENCES wt_parent(id),
    label   TEXT NOT NULL,
    amount  TEXT,
    n       INTEGER,
    source  TEXT
);
"""
INS = W.Insert("INSERT INTO wt (id, parent, label, amount, n, source)", "(?, NULLIF(?,0), ?, NULLIF(?,0), ?, 'x''835')")


def _make(conn: object) -> None:
    for stmt in TABLE.strip().split(";"):
        if stmt.strip():
            conn.execute(stmt if dialect(conn) == "sqlite" else _pg(stmt))  # type: ignore[attr-defined]
    conn.execute("INSERT INTO wt_parent (id) VALUES (1), (2)")  # type: ignore[attr-defined]


def _pg(stmt: str) -> str:
    from reconcile.ledger.db import pg_ddl

    return pg_ddl(stmt)


def _contents(conn: object) -> list[tuple]:
    return [tuple(r) for r in conn.execute("SELECT * FROM wt ORDER BY id")]  # type: ignore[attr-defined]


def _write(conn: object, rows: list[tuple], copy: bool) -> list[tuple]:
    conn.execute("DELETE FROM wt")  # type: ignore[attr-defined]
    writer = W.Writer(conn)  # type: ignore[arg-type]
    if not copy:
        writer.pg = None  # the multi-row INSERT path, as on SQLite
    conn.execute("BEGIN IMMEDIATE")  # type: ignore[attr-defined]
    writer.insert(INS, rows)
    conn.execute("COMMIT")  # type: ignore[attr-defined]
    return _contents(conn)


TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
INTS = st.integers(-(2**62), 2**62)
INT4 = st.integers(-(2**31), 2**31 - 1)
# one row without its id: parent (NULLIF), label (TEXT), amount (TEXT, NULLIF), n (INTEGER)
ROWS = st.lists(
    st.tuples(
        st.sampled_from([0, 1, 2]),
        st.one_of(TEXT, INTS),
        st.one_of(st.none(), st.just(0), st.just("0"), TEXT, INTS),
        st.one_of(st.none(), INTS),
    ),
    max_size=150,
)


@pytest.fixture
def pg_conn(pg_ledger: str):
    conn = L.connect(pg_ledger)
    _make(conn)
    yield conn
    conn.close()


@pytest.fixture
def sqlite_conn(tmp_path: Path):
    conn = L.connect(tmp_path / "ledger.db")
    _make(conn)
    yield conn
    conn.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS)
def test_copy_stores_what_sqlite_stores(pg_conn: PgConnection, sqlite_conn: object, rows: list[tuple]) -> None:
    """Any values (tabs, newlines, backslashes, quotes, unicode, 0 and '0', None, numbers in text
    columns): COPY into PostgreSQL leaves the rows the multi-row INSERT leaves in SQLite (150 rows:
    full groups of 64 and the rest)."""
    numbered = [(i, *r) for i, r in enumerate(rows, start=1)]
    assert _write(pg_conn, numbered, copy=True) == _write(sqlite_conn, numbered, copy=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([0, 1, 2]),
            st.one_of(TEXT, st.decimals(allow_nan=False, places=2, min_value=-(10**9), max_value=10**9)),
            st.one_of(st.none(), st.just(0), INT4),
            st.one_of(st.none(), INTS, st.booleans()),
        ),
        max_size=150,
    )
)
def test_copy_stores_what_the_insert_stores(pg_conn: PgConnection, rows: list[tuple]) -> None:
    """On PostgreSQL, COPY and the multi-row INSERT store the same rows (Decimals and booleans too,
    which SQLite's driver does not bind). In a ``NULLIF(?, 0)`` column PostgreSQL types the INSERT's
    parameter as a 4-byte integer (text fails, and '0' becomes NULL where SQLite keeps '0'), so only
    those are compared there: COPY stores any value as SQLite does (see above)."""
    numbered = [(i, *r) for i, r in enumerate(rows, start=1)]
    assert _write(pg_conn, numbered, copy=True) == _write(pg_conn, numbered, copy=False)


def test_sentinels_and_literals_are_stored_as_on_sqlite(ledger_target: str) -> None:
    """The integer 0 of a ``NULLIF(?, 0)`` column is NULL, the text '0' stays '0'; the template's
    literal is stored: on both backends (COPY on PostgreSQL) the same rows."""
    conn = L.connect(ledger_target)
    _make(conn)
    rows = [(1, 0, "a\tb\\c\nd", 0, 0), (2, 2, "é", "0", None), (3, 1, "", "-0.50", 7), (4, 1, "1.5", "1.5", 2**40)]
    got = _write(conn, rows, copy=True)
    assert got == [
        (1, None, "a\tb\\c\nd", None, 0, "x'835"),
        (2, 2, "é", "0", None, "x'835"),
        (3, 1, "", "-0.50", 7, "x'835"),
        (4, 1, "1.5", "1.5", 2**40, "x'835"),
    ]
    conn.close()


def test_copy_keeps_foreign_keys_and_the_transaction(pg_conn: PgConnection) -> None:
    """A row naming no parent fails as the INSERT would, and the transaction's rows are rolled back."""
    from reconcile.ledger.db import IntegrityError

    writer = W.Writer(pg_conn)
    pg_conn.execute("BEGIN IMMEDIATE")
    writer.insert(INS, [(1, 1, "ok", 0, 1)])
    with pytest.raises(IntegrityError):
        writer.insert(INS, [(2, 9, "orphan", 0, 1)])
    pg_conn.execute("ROLLBACK")
    assert _contents(pg_conn) == []


def test_templates_copy_cannot_send_keep_their_insert() -> None:
    """A value that is an expression other than ``NULLIF(?, 0)`` or a literal: no COPY plan."""
    assert W.Insert("INSERT INTO t (a, b)", "(?, COALESCE(?, 1))").copy_plan() is None
    assert W.Insert("INSERT INTO t (a, b)", "(?, ?)").copy_plan() is not None
    writer = W.Writer.__new__(W.Writer)
    writer._plain = {}
    assert writer._plain_insert("INSERT INTO t (a) VALUES (?)") is not None
    assert writer._plain_insert("INSERT INTO t (a) SELECT ?") is None
    assert writer._plain_insert("INSERT INTO t (a) VALUES (?) ON CONFLICT DO NOTHING") is None


def _post(target: str, tmp: Path, copy: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple]]:
    case = build(target, seed=11, n=120, per_set=40)
    f = tmp / "r.835"
    f.write_text(case.text)
    if not copy:
        original = W.Writer.__init__

        def insert_only(self: W.Writer, conn: object) -> None:
            original(self, conn)  # type: ignore[arg-type]
            self.pg = None

        monkeypatch.setattr(W.Writer, "__init__", insert_only)
    conn = L.connect(target)
    try:
        res = post_files(conn, [f]).files[0]
        assert res.status == "posted"
        return {t: sorted(tuple(r) for r in conn.execute(q)) for t, q in POSTING_CONTENTS.items()}
    finally:
        conn.close()
        monkeypatch.undo()


def test_a_posted_835_is_the_same_with_copy_as_with_inserts(
    pg_server, pg_ledger_template: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two claims of two payers, reversals, denials, PLBs, unmatched lines: every posting table equal."""
    from tests.pgserver import database_name

    urls = [pg_server.create_database(template=pg_ledger_template) for _ in range(2)]
    try:
        with_copy = _post(urls[0], tmp_path, True, monkeypatch)
        with_inserts = _post(urls[1], tmp_path, False, monkeypatch)
    finally:
        for url in urls:
            pg_server.drop_database(database_name(url))
    assert sum(len(v) for v in with_copy.values()) > 500
    assert with_copy == with_inserts


def test_a_posted_835_is_the_same_in_postgresql_as_in_sqlite(
    pg_ledger: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same ledger and file on both backends: every posting table equal (COPY on PostgreSQL)."""
    (tmp_path / "s").mkdir()
    in_sqlite = _post(str(tmp_path / "s" / "ledger.db"), tmp_path, True, monkeypatch)
    in_postgresql = _post(pg_ledger, tmp_path, True, monkeypatch)
    assert in_postgresql == in_sqlite
