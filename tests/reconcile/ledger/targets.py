"""Fresh ledgers on either backend: the one place that makes them for the fixtures of tests/conftest.py
and for tests that need another one (per property example, a second ledger beside the first)."""

from __future__ import annotations

import pytest

from reconcile.ledger.db import is_server_url


def fresh_ledger(request: pytest.FixtureRequest, backend: str) -> str:
    """A fresh ledger: ``"sqlite"`` a path in a new temporary folder, ``"postgresql"`` the URL of a
    database cloned from the migrated template (dropped when the test ends)."""
    if backend == "sqlite":
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        return str(factory.mktemp("ledger") / "ledger.db")
    from tests.pgserver import PgServer, database_name

    server: PgServer = request.getfixturevalue("pg_server")
    url = server.create_database(template=request.getfixturevalue("pg_ledger_template"))
    request.addfinalizer(lambda: server.drop_database(database_name(url)))
    return url


def another_ledger(request: pytest.FixtureRequest, like: str) -> str:
    """A fresh ledger on the same backend as ``like`` (a SQLite path or a PostgreSQL URL)."""
    return fresh_ledger(request, "postgresql" if is_server_url(like) else "sqlite")
