"""Fault injection: ``dripline remit post`` killed (SIGKILL) at random points.

The command runs in a child process through :mod:`tests.killpoint`, which kills it at its Nth
SQL statement. A clean run counts the statements; 25 seeded points are drawn among them (8 on
PostgreSQL, where the ledger is a database and the kill drops the session mid-transaction). After each kill the ledger must pass ``PRAGMA integrity_check``, hold either nothing of the
file or all of it (never half of it), and posting the file again must leave exactly what one clean
run leaves (every posting table and the claims' posting state compared row by row); the re-run goes
through the same command in this process.
"""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dripline.cli import app
from tests.killpoint import run_killed
from tests.reconcile.posting.support import posting_contents
from tests.reconcile.posting.two_payers import PAYERS, build

pytestmark = pytest.mark.slow  # 25 killed subprocesses

KILLS = 25
SEED = 20261205


def _config(tmp: Path) -> Path:
    """A config whose payer profiles are the two payers of the ledger."""
    path = tmp / "dripline.toml"
    path.write_text(
        "".join(f'[payers.{k}]\nname = "{name}"\npayer_id = "{pid}"\n' for k, (name, pid) in PAYERS.items())
    )
    return path


def _post(
    kill_at: int, f: Path, db: Path | str, cfg: Path, count: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], int]:
    """The post killed at its ``kill_at``-th SQL statement (0: never); the process and the
    number of statements it ran (-1 when killed)."""
    args = ["remit", "post", str(f), "--ledger", str(db), "--config", str(cfg), "--json"]
    return run_killed(args, count or Path(db).with_suffix(".count"), kill_at, prefix="sql:")


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(db)  # a read-write open: recovers the write-ahead log a kill left behind
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_remit_post_killed_at_random_points_leaves_all_or_nothing(tmp_path):
    base = tmp_path / "base.db"
    case = build(base, seed=3, n=500, per_set=250)
    f = tmp_path / "r.835"
    f.write_text(case.text)
    cfg = _config(tmp_path)
    empty = posting_contents(base)

    clean_db = tmp_path / "clean.db"
    shutil.copyfile(base, clean_db)
    clean, statements = _post(0, f, clean_db, cfg)
    assert clean.returncode == 0, clean.stderr
    assert statements > 0
    once = posting_contents(clean_db)
    assert once["claim_postings"] and once["unmatched"] and once != empty

    points = sorted(random.Random(SEED).sample(range(1, statements + 1), KILLS))
    outcomes = {"nothing": 0, "all": 0}
    for k in points:
        db = tmp_path / f"k{k}.db"
        shutil.copyfile(base, db)
        killed, _ = _post(k, f, db, cfg)
        assert killed.returncode == -signal.SIGKILL, (k, killed.returncode, killed.stderr[-500:])
        assert _integrity(db) == "ok", k
        after = posting_contents(db)
        assert after in (empty, once), f"killed at statement {k}/{statements}: the file is half-posted"
        outcomes["nothing" if after == empty else "all"] += 1
        again = CliRunner().invoke(app, ["remit", "post", str(f), "--ledger", str(db), "--config", str(cfg), "--json"])
        assert again.exit_code == 0, (k, again.output[-500:])
        assert posting_contents(db) == once, f"killed at statement {k}/{statements}: re-run differs"
        for p in tmp_path.glob(f"k{k}.db*"):
            p.unlink()
    assert outcomes["nothing"] > 0  # most kill points fall inside the file's transaction


PG_KILLS = 8


def test_remit_post_killed_at_random_points_on_postgresql(tmp_path, pg_server, pg_ledger_template):
    """The same on a PostgreSQL ledger: a client killed inside its write transaction leaves nothing
    of the file (the server rolls the session back), and posting the file again leaves exactly
    what one clean run leaves."""
    from tests.pgserver import database_name

    base = pg_server.create_database(template=pg_ledger_template)
    made = [base]
    try:
        case = build(base, seed=3, n=500, per_set=250)
        f = tmp_path / "r.835"
        f.write_text(case.text)
        cfg = _config(tmp_path)
        count = tmp_path / "count"
        empty = posting_contents(base)

        def copy() -> str:
            made.append(pg_server.create_database(template=database_name(base)))
            return made[-1]

        clean, statements = _post(0, f, copy(), cfg, count)
        assert clean.returncode == 0, clean.stderr
        assert statements > 0
        once = posting_contents(made[-1])
        assert once["claim_postings"] and once["unmatched"] and once != empty

        points = sorted(random.Random(SEED).sample(range(1, statements + 1), PG_KILLS))
        outcomes = {"nothing": 0, "all": 0}
        for k in points:
            db = copy()
            killed, _ = _post(k, f, db, cfg, count)
            assert killed.returncode == -signal.SIGKILL, (k, killed.returncode, killed.stderr[-500:])
            after = posting_contents(db)
            assert after in (empty, once), f"killed at statement {k}/{statements}: the file is half-posted"
            outcomes["nothing" if after == empty else "all"] += 1
            again = CliRunner().invoke(app, ["remit", "post", str(f), "--ledger", db, "--config", str(cfg), "--json"])
            assert again.exit_code == 0, (k, again.output[-500:])
            assert posting_contents(db) == once, f"killed at statement {k}/{statements}: re-run differs"
            pg_server.drop_database(database_name(made.pop()))
        assert outcomes["nothing"] > 0
    finally:
        for url in made:
            pg_server.drop_database(database_name(url))
