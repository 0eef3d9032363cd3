"""A PostgreSQL ledger that cannot be reached is a clean error (``LedgerError``, CLI exit 2) that
never shows the password: a malformed URL, a server that is down, a database that does not exist,
a wrong password."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dripline.cli import app
from reconcile.ledger import store as L
from tests.pgserver import PgServer

REPO = Path(__file__).resolve().parents[3]
SECRET = "Sup3r-Secret_pw"
ROLE = "dripline_pw_test"


def _with_password(url: str, password: str, user: str | None = None) -> str:
    """``url`` (``postgresql://USER@/…``) with ``password`` (and another user) in its user part."""
    scheme, _, rest = url.partition("://")
    old_user, _, tail = rest.partition("@")
    return f"{scheme}://{user or old_user}:{password}@{tail}"


def _assert_clean(message: str, *, secret: str = SECRET) -> None:
    assert "Traceback" not in message
    assert secret not in message, message
    assert "cannot open ledger" in message or "cannot use ledger" in message, message


# Malformed URLs: libpq quotes the URL, or the part it could not read, in its message.
MALFORMED = [
    f"postgresql://billing:{SECRET}@db.example:notaport/ledger",
    f"postgresql://billing:{SECRET}%ZZ@/ledger?host=/tmp",
    f"postgresql://billing:{SECRET}@[::1/ledger",
    f"postgresql://billing:pa/{SECRET}@db.example/ledger",
    f"postgresql://billing:{SECRET}@/ledger?host=/tmp&port=5432&no_such_option=1",
    f"postgresql:///ledger?host=/tmp&password={SECRET}%ZZ&port=5432",
    f"postgresql://billing:{SECRET}@/ledger?host=/tmp&sslmode=bogus",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_url_is_a_ledger_error_without_the_password(url: str) -> None:
    with pytest.raises(L.LedgerError) as info:
        L.connect(url)
    _assert_clean(str(info.value))


def test_a_server_that_is_down_is_a_ledger_error_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://billing:{SECRET}@/ledger?host={tmp_path}&port=5432"  # no server listens there
    with pytest.raises(L.LedgerError) as info:
        L.connect(url)
    _assert_clean(str(info.value))
    assert "socket" in str(info.value)


def test_a_database_that_does_not_exist_is_a_ledger_error(pg_server: PgServer) -> None:
    url = _with_password(pg_server.url("no_such_ledger"), SECRET)
    with pytest.raises(L.LedgerError) as info:
        L.connect(url)
    _assert_clean(str(info.value))
    assert "no_such_ledger" in str(info.value) and "does not exist" in str(info.value)


@pytest.fixture()
def password_role(pg_server: PgServer) -> Iterator[str]:
    """A login role that must give its password (SCRAM) over the socket; the URL of a ledger it owns.

    The test server trusts local connections; one line for this role only goes first in its
    pg_hba.conf while the test runs.
    """
    import psycopg
    from psycopg import sql

    from tests.pgserver import database_name

    hba = pg_server.data_dir / "pg_hba.conf"
    before = hba.read_text()
    admin = psycopg.connect(pg_server.url("postgres"), autocommit=True)
    url = pg_server.create_database()
    try:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(ROLE), sql.Literal(SECRET)))
        admin.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database_name(url)), sql.Identifier(ROLE))
        )
        hba.write_text(f"local all {ROLE} scram-sha-256\n" + before)
        admin.execute("SELECT pg_reload_conf()")
        yield url
    finally:
        hba.write_text(before)
        admin.execute("SELECT pg_reload_conf()")
        pg_server.drop_database(database_name(url))
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(ROLE)))
        admin.close()


def test_a_wrong_password_is_a_ledger_error_without_either_password(password_role: str) -> None:
    right = _with_password(password_role, SECRET, ROLE)
    L.connect(right).close()  # the right password opens (and migrates) the ledger
    wrong = "Wr0ng-Guess_pw"
    with pytest.raises(L.LedgerError) as info:
        L.connect(_with_password(password_role, wrong, ROLE))
    _assert_clean(str(info.value), secret=wrong)
    assert SECRET not in str(info.value) and "password authentication failed" in str(info.value)


def _cli_failures(pg_server: PgServer, tmp_path: Path) -> list[str]:
    return [
        _with_password(pg_server.url("no_such_ledger"), SECRET),
        f"postgresql://billing:{SECRET}@/ledger?host={tmp_path}&port=5432",
        MALFORMED[1],
        MALFORMED[2],
    ]


def test_cli_commands_exit_2_with_a_message_and_no_password(pg_server: PgServer, tmp_path: Path) -> None:
    runner = CliRunner()
    batch = tmp_path / "b.json"
    batch.write_text('{"encounters": []}')
    ack = tmp_path / "a.999"
    ack.write_text("ISA~")
    for url in _cli_failures(pg_server, tmp_path):
        for argv in (
            ["claims", "list", "--ledger", url],
            ["claims", "list", "--ledger", url, "--json"],
            ["claims", "build", str(batch), "--out", str(tmp_path / "out"), "--ledger", url],
            ["claims", "secondary", "--out", str(tmp_path / "out"), "--ledger", url],
            ["ack", str(ack), "--ledger", url],
        ):
            r = runner.invoke(app, argv)
            assert r.exit_code == 2, (argv, r.output)
            _assert_clean(r.output)


def test_wrong_password_through_the_environment_exits_2(password_role: str) -> None:
    r = CliRunner().invoke(
        app, ["claims", "list"], env={"DRIPLINE_DB": _with_password(password_role, "Wr0ng-Guess_pw", ROLE)}
    )
    assert r.exit_code == 2
    _assert_clean(r.output, secret="Wr0ng-Guess_pw")


def test_the_cli_process_prints_one_line_and_no_traceback(pg_server: PgServer) -> None:
    url = _with_password(pg_server.url("no_such_ledger"), SECRET)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("DRIPLINE_DB", None)
    proc = subprocess.run(
        [sys.executable, "-m", "dripline", "claims", "list", "--ledger", url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    _assert_clean(proc.stderr + proc.stdout)
    assert proc.stderr.strip().startswith("error:") and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
