"""Worklist page benchmark: ``GET /denials`` with 100,000 open denials in the ledger.

Fills a fresh ledger with N denials (default 100,000; one claim, one claim posting and one denial
each, spread over 6 payers, every category and action, denied 0-200 days ago, a few hundred with
work recorded), logs in through the real login form and times the worklist page through the
whole application (session, CSRF-free GET, SQL, template) with Starlette's TestClient:
- the first page unfiltered, a deep page (page 1,000), and filters (payer, category + age,
  state, assignee) that need the work-state join;
- each figure is the median and the worst of R requests (default 20).

With ``--postgresql`` the ledger is a PostgreSQL database on the tests' throw-away server
(``tests/pgserver.py``) instead of a SQLite file: ``dripline serve --ledger postgresql://…``, one
connection per request, as a team would run it.

Usage: ``python bench/bench_worklist.py [N] [REPEAT] [--postgresql]``.

Target: every page answers in under 200 ms.
"""

from __future__ import annotations

import http.client
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconcile.denials.worklist import ACTIONS, CATEGORIES  # noqa: E402
from reconcile.ledger import store as L  # noqa: E402
from reconcile.ledger.db import dialect  # noqa: E402
from reconcile.workqueue.users import add_user  # noqa: E402
from reconcile.workqueue.work import assign, set_state  # noqa: E402

N_DENIALS = 100_000
REPEAT = 20
PAYERS = ("ACME HEALTH PLAN", "MEDICARE PART B", "BLUE RIVER", "STATE MEDICAID", "NORTHWIND CARE", "UNITED WEST")
PASSWORD = "bench-password-1"


def fill(path: Path | str, n: int) -> None:
    """A ledger with ``n`` open denials (direct inserts: the posting engine has its own bench)."""
    rnd = random.Random(16)
    conn = L.connect(path)
    today = date.today()
    now = L.utcnow()
    cats, acts = list(CATEGORIES), list(ACTIONS)
    with L.transaction(conn):
        conn.execute(
            "INSERT INTO interchanges (id, isa13, gs06, claim_type, created_at, status) VALUES (1, 1, 1, '837P', ?, 'recorded')",
            (now,),
        )
        conn.execute("INSERT INTO transactions (id, interchange_id, st02, bht03, payer) VALUES (1, 1, 1, '1', 'x')")
        conn.execute(
            "INSERT INTO remit_files (id, path, sha256, posted_at) VALUES (1, 'bench.835', ?, ?)", ("0" * 64, now)
        )
        conn.execute("INSERT INTO payments (id, file_id, payer_id, trace, amount) VALUES (1, 1, 'P', 'T', '0')")
        conn.executemany(
            "INSERT INTO claims (id, patient_control_number, encounter_id, payer, payer_id, claim_type, frequency,"
            " total_charge, status, transaction_id, created_at, updated_at)"
            " VALUES (?, ?, ?, 'commercial', 'P', '837P', '1', ?, 'denied', 1, ?, ?)",
            ((i, f"ENC{i:07d}", f"ENC{i:07d}", "100.00", now, now) for i in range(1, n + 1)),
        )
        conn.executemany(
            "INSERT INTO claim_postings (id, payment_id, claim_id, patient_control_number, status_code, charge, paid,"
            " patient_responsibility) VALUES (?, 1, ?, ?, '4', '100.00', '0', '0')",
            ((i, i, f"ENC{i:07d}") for i in range(1, n + 1)),
        )
        conn.executemany(
            "INSERT INTO denials (id, claim_posting_id, claim_id, patient_control_number, code, group_code, carc,"
            " amount, category, action, payer, denied_on, status) VALUES (?, ?, ?, ?, 'J1745', 'CO', '16', ?, ?, ?, ?, ?, 'open')",
            (
                (
                    i,
                    i,
                    i,
                    f"ENC{i:07d}",
                    f"{rnd.randint(5, 250_000) / 100:.2f}",
                    rnd.choice(cats),
                    rnd.choice(acts),
                    rnd.choice(PAYERS),
                    (today - timedelta(days=rnd.randint(0, 200))).isoformat(),
                )
                for i in range(1, n + 1)
            ),
        )
    for name in ("alice", "bob"):
        add_user(conn, name, PASSWORD)
    for i in rnd.sample(range(1, n + 1), min(n, 300)):
        assign(conn, i, rnd.choice(("alice", "bob")), user="alice")
        set_state(conn, i, "in_progress", user="alice")
    # statistics for the planner; on PostgreSQL also the visibility map autovacuum would build
    # after such a load (index-only scans for the counts)
    conn.execute("VACUUM ANALYZE" if dialect(conn) == "postgresql" else "ANALYZE")
    conn.close()


CASES = {
    "first page, no filter": "/denials",
    "page 1,000": "/denials?page=1000",
    "payer": "/denials?payer=BLUE+RIVER",
    "category + age 61-90": "/denials?category=authorization&age=61-90",
    "state in progress": "/denials?state=in_progress",
    "state open": "/denials?state=open",
    "assignee bob": "/denials?assignee=bob",
    "assignee nobody, page 50": "/denials?assignee=-&page=50",
}


def report(get: Callable[[str], tuple[int, str]], repeat: int) -> float:
    """Time every case ``repeat`` times with ``get(url) -> (status, body)``; return the worst ms."""
    print(f"{'page':<28} {'rows':>8} {'median ms':>10} {'worst ms':>9}")
    worst_all = 0.0
    for label, url in CASES.items():
        times = []
        body = ""
        for _ in range(repeat):
            t = time.perf_counter()
            status, body = get(url)
            times.append((time.perf_counter() - t) * 1000)
            assert status == 200, (url, status)
        m = re.search(r"\(([\d,]+) open\)", body)
        worst_all = max(worst_all, max(times))
        print(f"{label:<28} {m.group(1) if m else '?':>8} {statistics.median(times):>10.1f} {max(times):>9.1f}")
    return worst_all


def real_server(db: Path | str, repeat: int) -> float:
    """``dripline serve`` (uvicorn) on a free loopback port, driven with http.client (one keep-alive
    connection, as a browser tab would use)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "dripline", "serve", "--ledger", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("dripline serve did not start") from None
                time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        cookie = ""

        def request(method: str, url: str, body: str | None = None) -> tuple[int, str]:
            nonlocal cookie
            headers = {"Cookie": cookie} if cookie else {}
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, url, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8")
            set_cookie = resp.getheader("set-cookie")
            if set_cookie:
                cookie = set_cookie.split(";", 1)[0]
            return resp.status, text

        _, page = request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        form = urlencode({"username": "alice", "password": PASSWORD, "csrf_token": token.group(1)})
        status, _ = request("POST", "/login", form)
        assert status == 303, status
        return report(lambda url: request("GET", url), repeat)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else N_DENIALS
    repeat = int(args[1]) if len(args) > 1 else REPEAT
    if "--postgresql" in sys.argv[1:]:
        from tests.debian import find_postgresql
        from tests.pgserver import PgServer

        bindir = find_postgresql()
        if bindir is None:
            print("skipped: the PostgreSQL server programs are not installed")
            return
        with PgServer(bindir) as server:
            run(server.create_database(), n, repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp) / "worklist.db", n, repeat)


def run(db: Path | str, n: int, repeat: int) -> None:
    """Fill the ledger at ``db`` and time the pages in process and through ``dripline serve``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from dripline.web.app import create_app

    t0 = time.perf_counter()
    fill(db, n)
    print(
        f"filled {n:,} denials in {time.perf_counter() - t0:.1f} s ({'PostgreSQL' if isinstance(db, str) else 'SQLite'})"
    )
    client = TestClient(create_app(db))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    r = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token.group(1)})
    assert r.status_code == 200, r.status_code
    print("Starlette TestClient (in process):")
    worst_all = report(lambda url: (lambda r: (r.status_code, r.text))(client.get(url)), repeat)
    print("dripline serve (uvicorn) over loopback, http.client:")
    worst_all = max(worst_all, real_server(db, repeat))
    print(f"worst of all: {worst_all:.1f} ms (target < 200 ms): {'met' if worst_all < 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
