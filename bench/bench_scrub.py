"""Scrubber benchmark: coding time with and without the scrubber, against code sets of realistic size.

Generates N (default 10,000) encounters as ``bench_coding.py`` does, builds an in-memory
:class:`~coding.codesets.memory.MemoryCodeSets` of about a quarter's size (100,000 PTP pairs per
setting, 15,000 MUE codes per setting, a 7,000-code HCPCS set, an ASP file of 900 dosages, with
edits and MUEs on the codes the encounters use so the edits fire), then times (best of 7, CPU time
of the process, one core, the three runs interleaved):

* ``code_encounters`` without sets (today's path),
* ``code_encounters`` with the sets,
* the same followed by ``scrub_coded`` (the ``dripline code`` / ``claims build`` path),

and prints encounters/second and the ratio scrubbed / unscrubbed (the target: at most 1.10). Each
stage keeps its own best of 7 (coding with the sets, then ``scrub_coded`` over that output).

Then the same against the ledger's SQL-backed sets (:class:`reconcile.codesets.LedgerCodeSets`):
the synthetic files of every kind (``tests/reconcile/codesets/synth.py``, a practitioner PTP file
of 100,000 generated edits) loaded into a temporary ledger from 2026-01-01, best of 3.

    python bench/bench_scrub.py [N]
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_coding import DRUGS, make_encounters

from coding.codesets.memory import MemoryCodeSets
from coding.config import Config, load_config
from coding.engine import code_encounters
from coding.model import Encounter
from coding.scrub import scrub_coded

REPEAT = 7
TARGET_RATIO = 1.10
PTP_PAIRS = 100_000
MUE_CODES = 15_000
USED = [
    "96360", "96361", "96365", "96366", "96367", "96368", "96372", "96374", "96375", "96376",
    "96401", "96402", "96409", "96411", "96413", "96415", "96417", "99213", "G0463",
]  # fmt: skip


def make_sets(seed: int = 11) -> MemoryCodeSets:
    rnd = random.Random(seed)
    used = USED + [d[0] for d in DRUGS]
    filler = [f"{n:05d}" for n in range(10_000, 10_000 + MUE_CODES)]
    everything = used + filler
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    ms = MemoryCodeSets()
    hcpcs: list[tuple[str, date, date | None, str]] = [
        (f"J{n:04d}", date(2000, 1, 1), None, "Injection, example, 10 mg") for n in range(7000)
    ]
    hcpcs += [(c, date(2000, 1, 1), None, "Injection, example, 10 mg") for c in used if not c[0].isdigit()]
    for m in ("JW", "JZ", "TB", "JG", "59", "XE", "XS", "XU", "25"):
        hcpcs.append((m, date(2000, 1, 1), date(2024, 12, 31) if m == "JG" else None, ""))
    ms.add("hcpcs", start, end, "HCPCS 2026", hcpcs, "HCPC2026_ANWEB.txt")
    ms.add("asp", start, end, "ASP 2026", [(f"J{n:04d}", "10 MG", "1.0") for n in range(900)], "asp.csv")
    for setting in ("practitioner", "hospital"):
        rows: list[tuple[str, str, date, date | None, str]] = []
        # edits among the codes in use, as in the real files: most are deleted or not applicable
        # for a correctly coded claim; a few fire (a hydration line beside an infusion, ind. 1)
        for a in used:
            for b in used:
                if a != b and rnd.random() < 0.3:
                    rows.append((a, b, date(2010, 1, 1), date(2015, 12, 31), "1"))
                    rows.append((a, b, date(2016, 1, 1), date(2016, 1, 1), "9"))
        rows.append(("96365", "96360", date(2010, 1, 1), None, "1"))
        while len(rows) < PTP_PAIRS:
            rows.append((rnd.choice(everything), rnd.choice(filler), date(2010, 1, 1), None, "1"))
        ms.add("ptp-" + setting, start, end, f"PTP {setting} 2026", rows, f"{setting}.txt")
    for setting in ("practitioner", "facility"):
        rows2 = [(c, 1000 if c in used else rnd.randint(1, 400), rnd.choice("123")) for c in everything]
        rows2[used.index("96366")] = ("96366", 3, "3")  # fires on the longest infusions
        ms.add("mue-" + setting, start, end, f"MUE {setting} 2026", rows2, f"mue-{setting}.csv")
    return ms


def main(n: int = 10_000) -> None:
    """Time coding without sets, with sets, and with sets plus the scrubber; print the ratio; then
    the same against the ledger's sets (:func:`ledger_figures`)."""
    cfg = load_config()
    encs = make_encounters(n)
    sets = make_sets()
    findings = 0
    code_encounters(encs, cfg, codesets=sets)  # warm caches
    best = {"plain": float("inf"), "sets": float("inf"), "scrub": float("inf")}
    for _ in range(REPEAT):  # interleaved: a busy spell on the shared machine hits all alike
        c0 = time.process_time()
        code_encounters(encs, cfg)
        best["plain"] = min(best["plain"], time.process_time() - c0)
        c0 = time.process_time()
        coded = code_encounters(encs, cfg, codesets=sets)
        c1 = time.process_time()
        findings = scrub_coded(coded, sets)
        c2 = time.process_time()
        best["sets"] = min(best["sets"], c1 - c0)
        best["scrub"] = min(best["scrub"], c2 - c1)
        del coded
    plain, with_sets, scrub = best["plain"], best["sets"], best["scrub"]
    scrubbed = with_sets + scrub
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"scrub: {n} encounters; {findings} scrubber findings (load average {load:.1f})")
    print(f"scrub: coding without sets        {plain:.3f} s CPU -> {n / plain:,.0f} encounters/s")
    print(f"scrub: coding with sets           {with_sets:.3f} s CPU -> {n / with_sets:,.0f} encounters/s")
    print(f"scrub: coding with sets + scrub   {scrubbed:.3f} s CPU -> {n / scrubbed:,.0f} encounters/s")
    ratio = scrubbed / with_sets
    print(
        f"scrub: scrubber {scrub:.3f} s CPU = {1e6 * scrub / n:.1f} us per claim ({n / scrub:,.0f} claims/s); "
        f"adds {100 * (ratio - 1):.1f} % to coding time (ratio {ratio:.3f}, target <= {TARGET_RATIO})"
    )
    end_to_end(encs, cfg, sets)
    ledger_figures(n)


def end_to_end(encs: list[Encounter], cfg: Config, sets: MemoryCodeSets) -> None:
    """Coding with sets then whatever follows (an allocation, as writing the output does), with and
    without ``scrub_coded`` between, best of 7 interleaved: a cyclic-GC pass that coding's garbage
    triggers counts wherever it runs, inside the scrubber or after it."""
    best = {False: float("inf"), True: float("inf")}
    for _ in range(REPEAT):
        for scrub in (False, True):
            code_encounters(encs, cfg)
            c0 = time.process_time()
            coded = code_encounters(encs, cfg, codesets=sets)
            if scrub:
                scrub_coded(coded, sets)
            after: list[list[int]] = [[] for _ in range(2_000)]
            best[scrub] = min(best[scrub], time.process_time() - c0)
            del coded, after
    print(
        f"scrub: end to end (coding, scrub, next allocation) {best[True]:.3f} s CPU vs {best[False]:.3f} s "
        f"without the scrub: adds {100 * (best[True] / best[False] - 1):.1f} %"
    )


def ledger_figures(n: int, ptp_rows: int = 100_000) -> None:
    """Coding and scrubbing against the ledger's loaded sets (cold caches each run)."""
    from reconcile.codesets import LedgerCodeSets, load_path
    from reconcile.ledger.store import connect
    from tests.reconcile.codesets.synth import write_samples

    cfg = load_config()
    encs = make_encounters(n)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_samples(Path(tmp) / "cms", ptp_rows=ptp_rows)
        conn = connect(Path(tmp) / "l.db")
        for f in files:
            load_path(conn, f, effective=date(2026, 1, 1))
        best = {"sets": float("inf"), "scrub": float("inf")}
        for _ in range(3):
            sets = LedgerCodeSets(conn)
            c0 = time.process_time()
            coded = code_encounters(encs, cfg, codesets=sets)
            c1 = time.process_time()
            found = scrub_coded(coded, sets)
            c2 = time.process_time()
            best["sets"], best["scrub"] = min(best["sets"], c1 - c0), min(best["scrub"], c2 - c1)
        conn.close()
    print(
        f"scrub (ledger sets, {ptp_rows:,} PTP rows): coding {best['sets']:.3f} s CPU -> {n / best['sets']:,.0f} "
        f"encounters/s; scrubber {best['scrub']:.3f} s CPU -> {n / best['scrub']:,.0f} claims/s, adds "
        f"{100 * best['scrub'] / best['sets']:.1f} % ({found} findings)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
