"""Code-set loading benchmark: a generated NCCI PTP file of 1.5 million rows into a fresh ledger.

Figures printed:
- generate: writing the synthetic PTP file (tests/reconcile/codesets/synth.py layout);
- load: ``reconcile.codesets.load_path`` in a child process (parse, sha256, streamed
  ``executemany`` in chunks, one transaction): wall time, rows/s, the child's CPU time (a figure
  less dependent on other jobs on a shared machine) and its peak RSS
  (``resource.getrusage(RUSAGE_SELF)`` in the child); a load of a fifth of the rows shows that
  memory does not grow with the file;
- reload: the same file again (sha256 match, nothing written);
- lookup: ``LedgerCodeSets.ptp`` for random pairs on one date of service, cold (distinct pairs)
  and warm (the same 2,000 pairs again, as a claim mix repeats its codes).

With ``--postgresql`` the loads run a second time into a PostgreSQL ledger (a fresh database on
the tests' throw-away server, ``tests/pgserver.py``; ``COPY`` instead of ``executemany``); the
child's CPU time is then the client's only, the server's is not in it.

Usage: ``python bench/bench_codesets.py [ROWS] [--postgresql]`` (default 1,500,000 rows).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reconcile.codesets.synth import write_ptp  # noqa: E402

N_ROWS = 1_500_000

CHILD = r"""
import json, random, resource, sys, time
from datetime import date
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from reconcile.codesets import LedgerCodeSets, load_path
from reconcile.ledger.store import connect

src, db, lookups = Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
conn = connect(db)
t0 = time.perf_counter()
(res,) = load_path(conn, src)
load_s = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
cpu_s = ru.ru_utime + ru.ru_stime
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
(again,) = load_path(conn, src)
reload_s = time.perf_counter() - t0
out = {"status": res.status, "rows": res.rows, "errors": sum(f.is_error for f in res.findings),
       "load_s": load_s, "cpu_s": cpu_s, "peak_rss_mib": peak_kib / 1024, "reload_status": again.status, "reload_s": reload_s}
if lookups:
    sets = LedgerCodeSets(conn)
    rng = random.Random(7)
    pairs = conn.execute("SELECT column1, column2 FROM codeset_ptp LIMIT 200000").fetchall()
    sample = [tuple(rng.choice(pairs)) for _ in range(lookups)]
    on = date(2026, 8, 1)
    t0 = time.perf_counter()
    hits = sum(sets.ptp("practitioner", a, b, on) is not None for a, b in sample)
    out["lookup_per_s"] = lookups / (time.perf_counter() - t0)
    out["lookup_hits"] = hits
    common = sample[:2000]  # a claim mix repeats a small vocabulary of codes: warm LRU cache
    for a, b in common:
        sets.ptp("practitioner", a, b, on)
    t0 = time.perf_counter()
    for _ in range(10):
        for a, b in common:
            sets.ptp("practitioner", a, b, on)
    out["lookup_warm_per_s"] = 10 * len(common) / (time.perf_counter() - t0)
if db.startswith("postgresql"):
    out["db_mib"] = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20
else:
    out["db_mib"] = Path(db).stat().st_size / 2**20
print(json.dumps(out))
"""


def _child(src: Path, db: Path | str, lookups: int) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), str(src), str(db), str(lookups)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _report(backend: str, r: dict[str, float], s: dict[str, float]) -> None:
    print(
        f"load ({backend}): {r['rows']:,.0f} rows in {r['load_s']:.1f} s wall = {r['rows'] / r['load_s']:,.0f} rows/s "
        f"(child CPU {r['cpu_s']:.1f} s incl. start-up = {r['rows'] / r['cpu_s']:,.0f} rows/s); "
        f"peak RSS {r['peak_rss_mib']:.0f} MiB (status {r['status']}, {r['errors']:.0f} errors); "
        f"ledger {r['db_mib']:.0f} MiB"
    )
    print(
        f"load ({backend}, a fifth): {s['rows']:,.0f} rows in {s['load_s']:.1f} s; peak RSS {s['peak_rss_mib']:.0f} MiB "
        f"(memory flat: {r['peak_rss_mib'] - s['peak_rss_mib']:+.0f} MiB for 5x the rows)"
    )
    print(f"reload ({backend}): {r['reload_status']} in {r['reload_s']:.2f} s (sha256 only)")
    print(
        f"lookup ({backend}): {r['lookup_per_s']:,.0f} ptp look-ups/s cold (random pairs; "
        f"{r['lookup_hits']:,.0f} found), {r['lookup_warm_per_s']:,.0f} /s warm (cached pairs)"
    )


def _postgresql(small: Path, big: Path) -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        print("postgresql: skipped, psycopg 3 is not installed")
        return
    from tests.debian import find_postgresql
    from tests.pgserver import PgServer

    bindir = find_postgresql()
    if bindir is None:
        print("postgresql: skipped, the PostgreSQL server programs are not installed")
        return
    with PgServer(bindir) as server:
        s = _child(small, server.create_database(), 0)
        r = _child(big, server.create_database(), 50_000)
    _report("postgresql", r, s)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else N_ROWS
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        small, big = d / "small" / "ccipra-v322r0-f1.TXT", d / "big" / "ccipra-v322r0-f1.TXT"
        small.parent.mkdir()
        big.parent.mkdir()
        t0 = time.perf_counter()
        with big.open("wb") as f:
            write_ptp(f, n)
        gen_s = time.perf_counter() - t0
        with small.open("wb") as f:
            write_ptp(f, n // 5)
        print(f"generate: {n:,} PTP rows, {big.stat().st_size / 2**20:.1f} MiB in {gen_s:.1f} s")
        s = _child(small, d / "small.db", 0)
        r = _child(big, d / "big.db", 50_000)
        _report("sqlite", r, s)
        if "--postgresql" in sys.argv[1:]:
            _postgresql(small, big)


if __name__ == "__main__":
    main()
