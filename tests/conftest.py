"""Shared pytest fixtures: repository paths, the public corpus (skipped when absent), a real PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.pgserver import PgServer

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
CORPUS = Path(os.environ.get("DRIPLINE_CORPUS", REPO.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """../shared/corpus; tests that need it skip cleanly where it is not laid out."""
    if not CORPUS.is_dir():
        pytest.skip("public corpus not present (../shared/corpus)")
    return CORPUS


@pytest.fixture(scope="session")
def pg_server(request: pytest.FixtureRequest) -> PgServer:
    """A throw-away PostgreSQL server for the whole session, started when a test first asks for it.

    Installs Debian's ``postgresql`` when the programs are missing and this process may; skips when
    they cannot be had or psycopg is not installed. Stopped and removed at session end (and at exit,
    should the session be interrupted). Under pytest-xdist each worker starts its own.
    """
    pytest.importorskip("psycopg", reason="psycopg 3 is not installed (pip install -e '.[test]')")
    from tests import debian
    from tests.pgserver import PgServer

    server = PgServer(debian.postgresql())
    request.addfinalizer(server.stop)
    return server.start()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """libpq URL of a fresh, empty database for one test; dropped afterwards (sessions still open are ended)."""
    from tests.pgserver import database_name

    url = pg_server.create_database()
    yield url
    pg_server.drop_database(database_name(url))


@pytest.fixture(scope="session")
def pg_ledger_template(pg_server: PgServer) -> str:
    """Name of a database holding an empty, fully migrated ledger: fresh ledgers are cloned from it."""
    from reconcile.ledger.store import connect
    from tests.pgserver import database_name

    url = pg_server.create_database()
    connect(url).close()
    return database_name(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's ledger lives, once per backend: a SQLite file path, then a PostgreSQL URL.

    What ``--ledger`` and :func:`reconcile.ledger.store.connect` take. The PostgreSQL ledger is a
    fresh database cloned from a migrated template (it is dropped after the test).
    """
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    from tests.reconcile.ledger.targets import fresh_ledger

    return fresh_ledger(request, "postgresql")


@pytest.fixture
def another_ledger_target(request: pytest.FixtureRequest, ledger_target: str) -> str:
    """A second, separate ledger on the same backend as ``ledger_target``."""
    from tests.reconcile.ledger.targets import another_ledger

    return another_ledger(request, ledger_target)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_ledger_target(request: pytest.FixtureRequest) -> str:
    """``ledger_target`` shared by the tests of one module (a ledger built once, then only read)."""
    from tests.reconcile.ledger.targets import fresh_ledger

    return fresh_ledger(request, request.param)


@pytest.fixture
def pg_ledger(request: pytest.FixtureRequest) -> str:
    """URL of a fresh, migrated PostgreSQL ledger for one test (PostgreSQL-only tests)."""
    from tests.reconcile.ledger.targets import fresh_ledger

    return fresh_ledger(request, "postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that reads the public corpus is ``slow`` (``make test-fast`` leaves them out)."""
    for item in items:
        if "corpus_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
