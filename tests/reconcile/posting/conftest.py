"""Fixtures of the posting tests: new empty ledgers on demand, on the backend ``ledger_target`` names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconcile.ledger.db import is_server_url
from tests.reconcile.posting.support import Ledgers


@pytest.fixture
def ledgers(
    request: pytest.FixtureRequest, ledger_target: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledgers]:
    """New empty ledgers on the backend of ``ledger_target`` (so a test using it runs on both)."""
    if not is_server_url(ledger_target):
        yield Ledgers(tmp_path_factory, None, None)
        return
    made = Ledgers(
        tmp_path_factory, request.getfixturevalue("pg_server"), request.getfixturevalue("pg_ledger_template")
    )
    try:
        yield made
    finally:
        made.close()
