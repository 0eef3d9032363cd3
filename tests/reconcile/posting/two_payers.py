"""Random 835s (``bench/gen835.py``) against a ledger holding claims of two payers that share patient
control numbers and payer claim numbers, and the money checks posting them must pass.

Both payers' files are generated from claim number 1, so claim ``E00000001`` with payer claim
number ``PCN0000000001`` exists for each payer (with its own lines and amounts). A third payer we
never billed sends a set for the same claim numbers, and one set of the first payer is sent again
under another trace (every claim it pays is then already paid). Some claims are left out of the
ledger, so some payments have no claim of their payer at all.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import ModuleType

from reconcile.ledger import store as ledger
from reconcile.ledger.db import Connection

REPO = Path(__file__).resolve().parents[3]
D = Decimal
# payer profile key -> (name, payer id); the third payer has no claims in the ledger
PAYERS = {"alpha": ("ALPHA HEALTH", "ALPHA1"), "beta": ("BETA CARE", "BETA22")}
STRANGER = ("GAMMA PLAN", "GAMMA9")


@cache
def gen835() -> ModuleType:
    """``bench/gen835.py`` as a module (the bench folder is not a package); registered in
    ``sys.modules`` under a private name, as its dataclasses need."""
    name = "_dripline_bench_gen835"
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "gen835.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@dataclass
class Case:
    text: str  # the 835 file
    sets: list  # gen835.GenSet, in file order
    claims: int  # ledger claims


def _payer_sets(g: ModuleType, key: str, n: int, seed: int, per_set: int, prefix: str) -> list:
    name, pid = PAYERS.get(key, STRANGER)
    out = []
    for s in g.generate_sets(n, seed=seed, per_set=per_set):
        s.payer, s.payer_id, s.trace = name, pid, f"{prefix}{s.trace}"
        for c in s.claims:
            for ln in c.lines:
                ln.control = f"{prefix}{ln.control}"  # line control numbers are unique in the ledger
        out.append(s)
    return out


def build(db: str | Path, seed: int, n: int, per_set: int, missing: float = 0.1) -> Case:
    """Write the ledger at ``db`` (a SQLite file or a PostgreSQL URL) and return the 835 that answers (and misses) its claims."""
    g = gen835()
    rng = random.Random(seed)
    by_payer = {
        "alpha": _payer_sets(g, "alpha", n, seed, per_set, "A"),
        "beta": _payer_sets(g, "beta", n, seed + 1, per_set, "B"),
    }
    conn = ledger.connect(db)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO interchanges (id, isa13, gs06, claim_type, path, sha256, created_at, status)"
        " VALUES (1, 1, 1, '837P', 'x', '', '2026-01-01', 'recorded')"
    )
    claims = 0
    for t, key in enumerate(PAYERS, start=1):
        conn.execute(
            "INSERT INTO transactions (id, interchange_id, st02, bht03, payer) VALUES (?, 1, ?, ?, ?)",
            (t, t, str(t), key),
        )
        seen: set[str] = set()
        for s in by_payer[key]:
            for c in s.claims:
                if c.pcn in seen:
                    continue
                seen.add(c.pcn)
                if rng.random() < missing:
                    continue  # never sent to this payer
                charge = sum((abs(ln.charge) for ln in c.lines), D(0)) if c.lines else abs(c.charge)
                cid = conn.execute(
                    "INSERT INTO claims (patient_control_number, encounter_id, payer, payer_id, claim_type,"
                    " frequency, payer_claim_number, total_charge, status, transaction_id, created_at, updated_at)"
                    " VALUES (?,?,?,?,'837P','1',?,?,'sent',?,'2026-01-01','2026-01-01')",
                    # one encounter billed to both payers: one claim identity, so one CLM01
                    (c.pcn, c.pcn, key, PAYERS[key][1], c.payer_claim_number, str(charge), t),
                ).lastrowid
                claims += 1
                for k, ln in enumerate(c.lines, start=1):
                    conn.execute(
                        "INSERT INTO lines (claim_id, line_control_number, line_number, code, modifiers, units,"
                        " charge, ndc, service_date) VALUES (?,?,?,?,?,?,?,?,?)",
                        (
                            cid,
                            ln.control,
                            k,
                            ln.code,
                            ":".join(ln.modifiers),
                            str(ln.units),
                            str(abs(ln.charge)),
                            ln.code if ln.qualifier == "N4" else None,
                            f"{ln.date[:4]}-{ln.date[4:6]}-{ln.date[6:]}",
                        ),
                    )
    conn.execute("COMMIT")
    conn.close()
    sets = by_payer["alpha"] + by_payer["beta"]
    sets += _payer_sets(g, "gamma", max(1, n // 4), seed + 2, per_set, "G")[:1]
    again = by_payer["alpha"][0]
    sets.append(replace(again, trace=f"DUP{again.trace}"))  # the same claims paid again, another trace
    rng.shuffle(sets)
    text = "~\n".join(g.render_interchange(sets, payer_ids=True)) + "~\n"
    return Case(text, sets, claims)


def check_money(conn: Connection, case: Case) -> None:
    """No payment on another payer's claim; every CLP04 and SVC03 on a claim of its payer or in the
    unmatched queue; no claim paid twice by one payer."""
    # postings of a payment are only ever on claims of that payment's payer
    crossed = conn.execute(
        "SELECT COUNT(*) FROM claim_postings cp JOIN payments p ON p.id = cp.payment_id"
        " JOIN claims c ON c.id = cp.claim_id WHERE c.payer_id != p.payer_id"
    ).fetchone()[0]
    assert crossed == 0, f"{crossed} claim posting(s) on another payer's claim"
    wrong_line = conn.execute(
        "SELECT COUNT(*) FROM line_postings lp JOIN claim_postings cp ON cp.id = lp.claim_posting_id"
        " JOIN lines l ON l.id = lp.line_id WHERE cp.claim_id IS NULL OR l.claim_id != cp.claim_id"
    ).fetchone()[0]
    assert wrong_line == 0, f"{wrong_line} line posting(s) on a line of another claim"
    # every claim payment of the file, in file order, against its posting
    expected = [(s.payer_id, c.pcn, c.paid, [ln.paid for ln in c.lines]) for s in case.sets for c in s.claims]
    rows = conn.execute(
        "SELECT cp.id, p.payer_id, cp.patient_control_number, cp.paid, cp.claim_id,"
        " (SELECT COUNT(*) FROM unmatched u WHERE u.claim_posting_id = cp.id AND u.kind = 'claim'"
        "  AND u.line_posting_id IS NULL),"
        " (SELECT u.amount FROM unmatched u WHERE u.claim_posting_id = cp.id AND u.kind = 'claim'"
        "  AND u.line_posting_id IS NULL)"
        " FROM claim_postings cp JOIN payments p ON p.id = cp.payment_id ORDER BY p.id, cp.id"
    ).fetchall()
    by_payment: dict[tuple[str, str], list[tuple]] = {}
    for r in rows:
        by_payment.setdefault((r[1], r[2]), []).append(r)
    for payer_id, pcn, paid, line_paid in expected:
        r = by_payment[(payer_id, pcn)].pop(0)
        assert D(r[3]) == paid, (payer_id, pcn)
        if r[4] is None:  # not on a claim: the whole CLP04 is in the unmatched queue
            assert r[5] == 1 and D(r[6]) == paid, (payer_id, pcn)
        else:
            assert r[5] == 0, (payer_id, pcn)
            lines = conn.execute(
                "SELECT lp.paid, lp.line_id, (SELECT u.amount FROM unmatched u WHERE u.line_posting_id = lp.id)"
                " FROM line_postings lp WHERE lp.claim_posting_id = ? AND COALESCE(lp.matched_by, '') != 'reversal-mirror'"
                " ORDER BY lp.id",
                (r[0],),
            ).fetchall()
            assert [D(x[0]) for x in lines] == line_paid, (payer_id, pcn)
            for lp_paid, line_id, held in lines:
                assert line_id is not None or D(held) == D(lp_paid), (payer_id, pcn)
    assert all(not v for v in by_payment.values()), "postings the file does not hold"
    total = sum((paid for _p, _c, paid, _l in expected), D(0))
    on_claims = sum((D(r[3]) for r in rows if r[4] is not None), D(0))
    held = sum((D(r[6]) for r in rows if r[4] is None), D(0))
    assert on_claims + held == total
    # one live payment per claim and payer at most
    twice = conn.execute(
        "SELECT cp.claim_id, p.payer_id, COUNT(*) FROM claim_postings cp JOIN payments p ON p.id = cp.payment_id"
        " WHERE cp.claim_id IS NOT NULL AND cp.status_code != '22' AND cp.reversed_by IS NULL"
        " AND CAST(cp.paid AS REAL) > 0 GROUP BY 1, 2 HAVING COUNT(*) > 1"
    ).fetchall()
    assert twice == [], "claims paid twice by one payer"
