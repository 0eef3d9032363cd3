"""Ledger benchmark: recording claims, control-number reservation and a whole ``claims build``.

Figures printed:
- record: 10,000 claims of 5 lines recorded in one interchange transaction (claims/s);
- reserve: ``reserve_numbers`` calls per second (each its own BEGIN IMMEDIATE commit, WAL);
- screen: duplicate-encounter screening against a ledger holding those 10,000 claims (per s);
- build: ``build_claims`` end to end (load, code, plan, write, pyx12 + edits, record) for 2,000
  office/hospital encounters, jobs=1, and the share of that time spent in the ledger.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coding.model import ServiceLine  # noqa: E402
from reconcile.ledger import store as L  # noqa: E402

N_CLAIMS = 10_000
N_BUILD = 2_000


def _claims(n: int, lcns: list[str]) -> list[L.ClaimRecord]:
    it = iter(lcns)
    out = []
    for i in range(n):
        lines = [
            ServiceLine("96365", 1, date(2026, 3, 2), Decimal("350.00") + k, "bench", line_control_number=next(it))
            for k in range(5)
        ]
        out.append(
            L.ClaimRecord(
                f"B{i:07d}",
                f"B{i:07d}",
                "medicare",
                "00952",
                "837P",
                "1",
                lines,
                source={"id": f"B{i:07d}", "setting": "office"},
            )
        )
    return out


def bench_record(tmp: Path) -> tuple[float, float, float]:
    conn = L.connect(tmp / "rec.db")
    res = L.reserve_numbers(conn, "837P", 1, N_CLAIMS * 5)
    claims = _claims(N_CLAIMS, res.line_control_numbers)
    t = time.perf_counter()
    L.record_interchange(
        conn, res, "bench.x12", "0" * 64, [L.TransactionRecord(res.st02[0], res.bht03[0], "medicare", claims)]
    )
    record_s = time.perf_counter() - t
    t = time.perf_counter()
    n_res = 500
    for _ in range(n_res):
        L.reserve_numbers(conn, "837P", 1, 5)
    reserve_rate = n_res / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(0, N_CLAIMS, 2):
        L.encounter_sent(conn, f"B{i:07d}")
        L.encounter_sent(conn, f"X{i:07d}")
    screen_rate = N_CLAIMS / (time.perf_counter() - t)
    return N_CLAIMS / record_s, reserve_rate, screen_rate


def _encounters(n: int) -> list[dict]:
    def patient(pid: str) -> dict:
        return {
            "id": pid,
            "first": "JANE",
            "last": "DOE",
            "dob": "1960-05-17",
            "sex": "F",
            "member_id": "M" + pid,
            "address": {"line1": "12 OAK ST", "city": "SPRINGFIELD", "state": "IL", "zip": "62704"},
        }

    out = []
    for i in range(n):
        if i % 3 == 2:
            out.append(
                {
                    "id": f"BH{i:06d}",
                    "setting": "hospital_outpatient",
                    "payer": "commercial",
                    "patient": patient(f"H{i}"),
                    "diagnoses": ["C50.911"],
                    "administrations": [
                        {
                            "id": "A1",
                            "drug": "J9355",
                            "ndc": "50242-0134-01",
                            "route": "iv_infusion",
                            "start": "2026-03-02T09:00",
                            "end": "2026-03-02T10:30",
                            "dose": {"value": 420, "unit": "mg"},
                        }
                    ],
                }
            )
        else:
            out.append(
                {
                    "id": f"BO{i:06d}",
                    "setting": "office",
                    "payer": "medicare" if i % 2 else "commercial",
                    "patient": patient(f"O{i}"),
                    "diagnoses": ["K50.90"],
                    "administrations": [
                        {
                            "id": "A1",
                            "drug": "J1745",
                            "ndc": "57894-030-01",
                            "route": "iv_infusion",
                            "start": "2026-03-02T09:00",
                            "end": "2026-03-02T11:10",
                            "dose": {"value": 350, "unit": "mg"},
                        },
                        {
                            "id": "A2",
                            "drug": "J2405",
                            "route": "iv_push",
                            "start": "2026-03-02T08:50",
                            "end": "2026-03-02T08:52",
                            "dose": {"value": 4, "unit": "mg"},
                        },
                    ],
                }
            )
    return out


def bench_build(tmp: Path) -> tuple[float, float, float]:
    from coding.config import load_config
    from reconcile.claims import build as billing

    src = tmp / "enc.json"
    src.write_text(json.dumps({"encounters": _encounters(N_BUILD)}))
    cfg = load_config()
    spent = {"ledger": 0.0}
    orig_reserve, orig_record = L.reserve_numbers, L.record_interchange

    def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent["ledger"] += time.perf_counter() - t0

        return wrapper

    L.reserve_numbers, L.record_interchange = timed(orig_reserve), timed(orig_record)
    try:
        t = time.perf_counter()
        res = billing.build_claims([src], cfg, tmp / "build.db", tmp / "out", now=datetime(2026, 3, 3, 9, 30))
        total = time.perf_counter() - t
    finally:
        L.reserve_numbers, L.record_interchange = orig_reserve, orig_record
    assert not res.refused and len(res.claims) == N_BUILD
    return N_BUILD / total, total, spent["ledger"] / total


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rec, reserve, screen = bench_record(tmp)
        print(f"record: {rec:,.0f} claims/s ({N_CLAIMS:,} claims x 5 lines, one transaction)")
        print(f"reserve: {reserve:,.0f} reservations/s (each committed, WAL)")
        print(f"screen: {screen:,.0f} duplicate checks/s against {N_CLAIMS:,} claims")
        rate, total, share = bench_build(tmp)
        print(
            f"build: {rate:,.0f} encounters/s end to end ({N_BUILD:,} encounters in {total:.2f} s, jobs=1); "
            f"ledger share {share:.1%}"
        )


if __name__ == "__main__":
    main()
