"""837 writer and validation benchmark.

1. Writer: serialize N claims of 5 lines each (validation off) on one core -> claims/s.
2. Validation: a 10,000-claim 837P validated by one plain pyx12 pass (``x12n_document``: map
   loaded per call) and by ``validate_file(jobs=2)`` (split by ST set / 2000B blocks, maps
   loaded once per worker), side by side in one run -> seconds and speed-up.

Environment: BENCH_837_CLAIMS (default 10000) sets the validation file size; BENCH_837_SKIP_PLAIN=1
skips the slow baseline; BENCH_837_SERIAL=1 also times our driver in one process;
BENCH_837_REPEAT=N alternates both measurements N times and keeps the best of each (the
machine is shared, so single wall-clock runs are noisy).
"""

from __future__ import annotations

import dataclasses
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coding.config import Config, load_config
from coding.model import Address, CodedEncounter, Encounter, Patient, ServiceLine
from edi.x837.model import EnvelopeNumbers, plan_interchanges, write_interchange

NOW = datetime(2026, 3, 3, 9, 30)
DRUGS = [
    ("J1745", "57894003001", "10"),
    ("J9035", "50242006001", "16"),
    ("J0897", "55513073001", "1"),
    ("J2506", "55513019001", "0.5"),
    ("J1569", "00944270003", "5"),
]
ADMIN = ["96365", "96366", "96367", "96375", "96413", "96415", "96372", "96374"]
LAST = ["SMITH", "JOHNSON", "GARCIA", "NGUYEN", "O'BRIEN", "MÜLLER", "LÓPEZ", "KIM"]


def make_coded(
    n: int,
    seed: int = 7,
    lines_per_claim: int = 5,
    payers: tuple[str, ...] = ("medicare", "commercial"),
    setting: str = "office",
) -> list[CodedEncounter]:
    """``n`` coded encounters of ``lines_per_claim`` lines (line control numbers assigned)."""
    rnd = random.Random(seed)
    out = []
    lcn = 0
    for i in range(n):
        day = date(2026, 1, 1) + timedelta(days=i % 60)
        addr = Address(f"{rnd.randint(1, 9999)} ELM ST", "SPRINGFIELD", "IL", "62704")
        pat = Patient(
            f"P{i}", "ALEX", rnd.choice(LAST), date(1950 + i % 50, 1 + i % 12, 1 + i % 28), "F", f"M{i:09d}", addr
        )
        lines = []
        for k in range(lines_per_claim):
            lcn += 1
            if k == 2:
                code, ndc, qty = DRUGS[i % len(DRUGS)]
                ln = ServiceLine(
                    code,
                    10 + i % 7,
                    day,
                    Decimal("31.04") * (10 + i % 7),
                    "bench",
                    ["JZ"],
                    ndc=ndc,
                    ndc_quantity=Decimal(qty),
                    ndc_unit="UN",
                    kind="drug",
                )
            else:
                code = ADMIN[(i + k) % len(ADMIN)]
                ln = ServiceLine(code, 1, day, Decimal("95.00") + k, "bench")
            if setting == "hospital_outpatient":
                ln.revenue_code = "0636" if ln.ndc else "0260"
            ln.line_control_number = f"B{lcn:010d}"
            lines.append(ln)
        enc = Encounter(f"E{i:08d}", setting, payers[i % len(payers)], pat, ("K5090", "D509"))
        out.append(CodedEncounter(enc, lines, []))
    return out


def one_file_config() -> Config:
    """The bundled config without the file size limit: one interchange per batch, as measured before."""
    return dataclasses.replace(load_config(), max_file_bytes=None)


def write_file(coded: list[CodedEncounter], path: Path) -> int:
    """Write every interchange of a coded batch into one file; returns the byte count."""
    cfg = one_file_config()
    plans, _ = plan_interchanges(coded, cfg)
    data = b""
    for k, plan in enumerate(plans):
        n = len(plan.transactions)
        data += write_interchange(
            plan, cfg, EnvelopeNumbers(1 + k, 1 + k, list(range(1, n + 1)), [f"BATCH{k}{j}" for j in range(n)]), NOW
        )
    path.write_bytes(data)
    return len(data)


def bench_writer(n: int = 20000) -> float:
    cfg = one_file_config()
    coded = make_coded(n)
    plans, _ = plan_interchanges(coded, cfg)
    plan = plans[0]
    nums = EnvelopeNumbers(
        1, 1, list(range(1, len(plan.transactions) + 1)), [f"B{j}" for j in range(len(plan.transactions))]
    )
    write_interchange(plan, cfg, nums, NOW)  # warm caches
    best = best_wall = float("inf")
    for _ in range(5):
        t, w = time.process_time(), time.perf_counter()
        write_interchange(plan, cfg, nums, NOW)
        best, best_wall = min(best, time.process_time() - t), min(best_wall, time.perf_counter() - w)
    t = time.process_time()
    plan_interchanges(coded, cfg)
    plan_s = time.process_time() - t
    limited = load_config()  # with the default max_file_bytes every claim's size is bounded too
    t = time.process_time()
    plan_interchanges(coded, limited)
    plan_limited_s = time.process_time() - t
    rate = n / best
    print(
        f"writer: {n} claims x 5 lines serialized in {best:.3f}s CPU ({best_wall:.3f}s wall) = {rate:,.0f} claims/s "
        f"on one core (target 20,000; ratio {rate / 20000:.2f}); planning {n / plan_s:,.0f} claims/s, "
        f"{n / plan_limited_s:,.0f} claims/s with max_file_bytes {limited.max_file_bytes:,}"
    )
    return rate


def bench_validation(n: int, repeat: int = 1) -> None:
    """Plain pyx12 vs ``validate_file(jobs=2)``, alternating, best of ``repeat`` for each."""
    from edi.validate.pyx12 import plain_pyx12_pass, validate_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.837"
        size = write_file(make_coded(n, seed=11), path)
        print(f"validation file: {n} claims, {size / 1e6:.1f} MB")
        t_par = t_plain = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            par = validate_file(path, jobs=2)
            t_par = min(t_par, time.perf_counter() - t)
            print(f"validate_file(jobs=2): {time.perf_counter() - t:.1f}s, {len(par)} findings")
            if os.environ.get("BENCH_837_SERIAL"):  # our driver in one process: what the split adds
                t = time.perf_counter()
                one = validate_file(path, jobs=1)
                print(f"validate_file(jobs=1): {time.perf_counter() - t:.1f}s, {len(one)} findings")
            if os.environ.get("BENCH_837_SKIP_PLAIN"):
                continue
            t = time.perf_counter()
            ok = plain_pyx12_pass(path)
            t_plain = min(t_plain, time.perf_counter() - t)
            print(f"plain pyx12 x12n_document: {time.perf_counter() - t:.1f}s, valid={ok}")
        if t_plain < float("inf"):
            print(f"speed-up jobs=2 vs plain pyx12 (best of {repeat} each): {t_plain / t_par:.2f}x (target 1.7x)")


def main() -> None:
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    bench_writer()
    bench_validation(int(os.environ.get("BENCH_837_CLAIMS", "10000")), int(os.environ.get("BENCH_837_REPEAT", "1")))
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
