"""The throw-away PostgreSQL server the tests run against (tests/pgserver.py, fixtures in conftest)."""

from __future__ import annotations

import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("psycopg", reason="psycopg 3 is not installed (pip install -e '.[test]')")

import psycopg

from tests import debian
from tests.pgserver import PgServer, PgServerError, database_name, server_user


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {row[0] for row in rows}


def _databases(server: PgServer) -> set[str]:
    with psycopg.connect(server.url("postgres")) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database").fetchall()}


def test_server_answers_with_the_test_settings(pg_server: PgServer) -> None:
    with psycopg.connect(pg_server.url("postgres")) as conn:
        user, superuser = conn.execute(
            "SELECT current_user, usesuper FROM pg_user WHERE usename = current_user"
        ).fetchone() or ("", False)
        settings: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('listen_addresses', 'fsync', 'synchronous_commit', 'full_page_writes', 'max_connections',"
                " 'unix_socket_directories')"
            ).fetchall()
        )
    assert user == pg_server.user.name and superuser
    assert pg_server.user.uid != 0  # postgres refuses root; a root test run hands the server to another user
    assert settings["listen_addresses"] == ""
    assert settings["unix_socket_directories"] == str(pg_server.socket_dir)
    assert (settings["fsync"], settings["synchronous_commit"], settings["full_page_writes"]) == ("off", "off", "off")
    assert int(settings["max_connections"]) >= 50


def test_url_is_a_libpq_uri_over_the_socket(pg_server: PgServer) -> None:
    url = pg_server.url("ledger")
    assert url == f"postgresql://{pg_server.user.name}@/ledger?host={pg_server.socket_dir}&port=5432"
    assert database_name(url) == "ledger"
    info = psycopg.conninfo.conninfo_to_dict(url)
    assert (info["host"], info["dbname"], info["user"]) == (str(pg_server.socket_dir), "ledger", pg_server.user.name)


def test_pg_url_is_a_fresh_empty_database(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
        conn.execute("CREATE TABLE t (n integer)")
        conn.execute("INSERT INTO t VALUES (1), (2)")
        count = conn.execute("SELECT count(*) FROM t").fetchone()
    assert name == (database_name(pg_url),)
    assert count == (2,)


def test_fresh_databases_are_independent(pg_server: PgServer) -> None:
    first, second = pg_server.create_database(), pg_server.create_database()
    try:
        assert database_name(first) != database_name(second)
        with psycopg.connect(first) as conn:
            conn.execute("CREATE TABLE only_here (n integer)")
        assert _tables(first) == {"only_here"}
        assert _tables(second) == set()
    finally:
        pg_server.drop_database(database_name(first))
        pg_server.drop_database(database_name(second))


def test_template_clone_copies_tables_and_rows(pg_server: PgServer) -> None:
    template = pg_server.create_database()
    with psycopg.connect(template) as conn:
        conn.execute("CREATE TABLE payers (id text PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO payers VALUES ('P1', 'First'), ('P2', 'Second')")
    clone = pg_server.create_database(template=database_name(template))
    try:
        with psycopg.connect(clone) as conn:
            rows = conn.execute("SELECT id, name FROM payers ORDER BY id").fetchall()
            conn.execute("DELETE FROM payers")
        assert rows == [("P1", "First"), ("P2", "Second")]
        with psycopg.connect(template) as conn:  # the clone's changes stay in the clone
            assert conn.execute("SELECT count(*) FROM payers").fetchone() == (2,)
    finally:
        pg_server.drop_database(database_name(clone))
        pg_server.drop_database(database_name(template))


def test_drop_database_ends_open_sessions(pg_server: PgServer) -> None:
    url = pg_server.create_database()
    name = database_name(url)
    held = psycopg.connect(url)
    try:
        pg_server.drop_database(name)
        assert name not in _databases(pg_server)
        with pytest.raises(psycopg.OperationalError):
            held.execute("SELECT 1")
    finally:
        held.close()
    pg_server.drop_database(name)  # dropping what is gone is no error


def test_created_files_are_not_world_writable(pg_server: PgServer) -> None:
    base = pg_server.data_dir.parent
    assert stat.S_IMODE(base.stat().st_mode) == 0o755
    for directory in (pg_server.data_dir, pg_server.socket_dir):
        info = directory.stat()
        assert stat.S_IMODE(info.st_mode) == 0o700
        assert (info.st_uid, info.st_gid) == (pg_server.user.uid, pg_server.user.gid)
    entries = [base, *base.rglob("*")]
    assert any(path.is_socket() for path in entries)
    writable = [str(path) for path in entries if path.lstat().st_mode & stat.S_IWOTH]
    assert writable == []


def test_stop_stops_the_server_and_removes_its_directory() -> None:
    server = PgServer(debian.postgresql())
    with server:
        base = server.data_dir.parent
        url = server.create_database()
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert (server.data_dir / "PG_VERSION").is_file()
    assert not base.exists()
    assert not server.running
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    with pytest.raises(PgServerError):
        server.create_database()
    server.stop()  # idempotent


def _fake_bindir(path: Path) -> Path:
    path.mkdir(parents=True)
    for name in debian.POSTGRESQL_PROGRAMS:
        program = path / name
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    return path


def test_finder_prefers_path_then_the_highest_debian_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "postgresql"
    for version in ("9.6", "15", "16"):
        _fake_bindir(root / version / "bin")
    (root / "17" / "bin").mkdir(parents=True)  # a version without the server programs
    (root / "notes").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert debian.find_postgresql(str(root)) == str(root / "16" / "bin")
    on_path = _fake_bindir(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(on_path))
    assert debian.find_postgresql(str(root)) == str(on_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert debian.find_postgresql(str(tmp_path / "missing")) is None


def test_a_server_that_cannot_start_raises_and_leaves_nothing(tmp_path: Path) -> None:
    server = PgServer(tmp_path / "no-such-bindir", base_parent=str(tmp_path))
    with pytest.raises(PgServerError, match="initdb"):
        server.start()
    assert not server.running and server.base is None
    assert list(tmp_path.glob("dripline-pg-*")) == []


def test_missing_programs_skip_when_they_cannot_be_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(debian, "find_postgresql", lambda: None)
    monkeypatch.setattr(debian, "_may_install", lambda: False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL"):
        debian.postgresql()


_STARTER = """
import sys, time
from tests import debian
from tests.pgserver import PgServer
server = PgServer(debian.find_postgresql()).start()
print(server.data_dir.parent, flush=True)
time.sleep(60)
"""


def test_a_killed_test_process_leaves_no_server_behind(repo_dir: Path) -> None:
    """SIGKILL runs no atexit handler: the watcher process stops the server and removes its directory."""
    debian.postgresql()
    starter = subprocess.Popen(
        [sys.executable, "-c", _STARTER], cwd=repo_dir, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert starter.stdout is not None
        base = Path(starter.stdout.readline().strip())
        assert (base / "data" / "postmaster.pid").is_file()
        url = f"postgresql://{server_user().name}@/postgres?host={base / 'socket'}&port=5432"
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        starter.kill()
        starter.wait()
    deadline = time.monotonic() + 30
    while base.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not base.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
