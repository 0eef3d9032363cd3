"""The tests' throw-away PostgreSQL server (tests/pgserver.py): what a session and a test pay for it.

Figures printed:
- start: ``initdb`` + ``pg_ctl start`` of a fresh server until it accepts connections (median of 3);
- create: ``CREATE DATABASE`` of a fresh empty database (from template1), median of 20;
- clone: ``CREATE DATABASE ... TEMPLATE`` of a small database (3 tables, 1,000 rows), median of 20;
- drop: ``DROP DATABASE ... WITH (FORCE)``, median of 20.
Skipped (with the reason) where the PostgreSQL programs or psycopg are missing.
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N = 20


def _median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms (min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f})"


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    try:
        import psycopg
    except ImportError:
        print("skipped: psycopg 3 is not installed")
        return
    from tests.debian import find_postgresql
    from tests.pgserver import PgServer, database_name

    bindir = find_postgresql()
    if bindir is None:
        print("skipped: the PostgreSQL server programs (initdb, pg_ctl, postgres) are not installed")
        return

    starts = []
    for _ in range(3):
        server = PgServer(bindir)
        starts.append(_timed(server.start))
        server.stop()
    print(f"start (initdb + pg_ctl start): {_median_ms(starts)}")

    with PgServer(bindir) as server:
        template = database_name(server.create_database())
        with psycopg.connect(server.url(template)) as conn:
            conn.execute("CREATE TABLE payers (id text PRIMARY KEY, name text NOT NULL)")
            conn.execute("CREATE TABLE claims (id bigserial PRIMARY KEY, payer text REFERENCES payers, charge numeric)")
            conn.execute("CREATE TABLE lines (claim bigint REFERENCES claims, code text, charge numeric)")
            conn.execute("INSERT INTO payers SELECT 'P' || n, 'payer ' || n FROM generate_series(1, 10) n")
            conn.execute(
                "INSERT INTO claims (payer, charge) SELECT 'P' || (n % 10 + 1), n FROM generate_series(1, 1000) n"
            )
        created: list[str] = []

        def create(template: str | None = None) -> None:
            created.append(database_name(server.create_database(template=template)))

        fresh = [_timed(create) for _ in range(N)]
        clones = [_timed(lambda: create(template)) for _ in range(N)]
        drops = [_timed(functools.partial(server.drop_database, name)) for name in created]
        print(f"create empty database: {_median_ms(fresh)}")
        print(f"create from a small template: {_median_ms(clones)}")
        print(f"drop database (FORCE): {_median_ms(drops)}")


if __name__ == "__main__":
    main()
