"""Input and drug-line benchmark: ``coding.encounters.loader.load_encounters`` and ``coding.drugs.lines.drug_lines``.

Writes N (default 20,000) contract encounters (3-6 administrations each) as JSON Lines to a temp
file, then times reading + validating them (best of 3) and coding their drug lines on one core.
Times are CPU time of this process (time.process_time), so other load on the shared machine
does not inflate them. These parts have no target of their own; they are reported so that the coding target
(10,000 encounters/s for ``code_encounters``, see ``bench_coding.py``) can be read against the
cost of getting encounters in and of the drug lines inside it.

    python bench/bench_loader.py [N]
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coding.config import load_config
from coding.drugs.lines import drug_lines
from coding.encounters.loader import load_encounters

DRUGS = [
    ("J1745", "mg", 300, 800, "iv_infusion"),
    ("J1569", "g", 10, 60, "iv_infusion"),
    ("J9267", "mg", 100, 400, "iv_infusion"),
    ("J2405", "mg", 4, 16, "iv_push"),
    ("J1200", "mg", 25, 50, "iv_push"),
    ("J2506", "mg", 6, 6, "on_body_injector"),
    ("J0897", "mg", 60, 120, "sc"),
    ("J7030", "mL", 1000, 1000, "iv_infusion"),
    ("J9035", "mg", 300, 900, "iv_infusion"),
    ("J3380", "mg", 300, 300, "iv_infusion"),
]


def make(n: int, seed: int = 11) -> list[dict]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        adms = []
        minute = rnd.randint(0, 59)
        for j in range(rnd.randint(3, 6)):
            code, unit, lo, hi, route = rnd.choice(DRUGS)
            a = {
                "id": f"A{j + 1}",
                "drug": code,
                "route": route,
                "start": f"2026-03-02T{9 + j:02d}:{minute:02d}",
                "dose": {"value": rnd.randint(lo, hi), "unit": unit},
            }
            if route == "iv_infusion":
                a["end"] = f"2026-03-02T{9 + j:02d}:{min(59, minute + rnd.randint(16, 50)):02d}"
            if rnd.random() < 0.1:
                a["wasted"] = {"value": rnd.randint(1, 40), "unit": unit}
            if code == "J1745":
                a["ndc"] = "57894-030-01"
            adms.append(a)
        out.append(
            {
                "id": f"L{i:07d}",
                "setting": rnd.choice(("office", "infusion_center", "hospital_outpatient")),
                "payer": rnd.choice(("medicare", "commercial")),
                "patient": {
                    "id": f"P{i}",
                    "first": "BENCH",
                    "last": "PATIENT",
                    "dob": "1960-01-01",
                    "sex": "F",
                    "member_id": f"M{i}",
                    "address": {"line1": "1 MAIN ST", "city": "SPRINGFIELD", "state": "IL", "zip": "62701"},
                },
                "diagnoses": ["K50.90", "Z51.11"],
                "rendering_npi": "1234567893",
                "administrations": adms,
            }
        )
    return out


def main(argv: list[str] | None = None) -> None:
    args = [a for a in (argv if argv is not None else sys.argv[1:]) if a.isdigit()]
    n = int(args[0]) if args else 20_000
    cfg = load_config()
    encs = make(n)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "enc.jsonl"
        p.write_text("\n".join(json.dumps(e) for e in encs) + "\n", encoding="utf-8")
        best = float("inf")
        for _ in range(3):
            t = time.process_time()
            loaded, findings = load_encounters([p], cfg)
            best = min(best, time.process_time() - t)
        assert len(loaded) == n and not findings, findings[:3]
    adm_n = sum(len(e.administrations) for e in loaded)
    print(f"loader: {n} encounters ({adm_n} administrations) as JSON Lines")
    print(f"loader: read + validate best of 3 = {best:.3f} s -> {n / best:,.0f} encounters/s on one core")
    best_d = float("inf")
    lines = 0
    for _ in range(3):
        t = time.process_time()
        lines = 0
        for e in loaded:
            ls, _ = drug_lines(e, cfg, cfg.payers[e.payer])
            lines += len(ls)
        best_d = min(best_d, time.process_time() - t)
    print(
        f"drug_lines: best of 3 = {best_d:.3f} s -> {n / best_d:,.0f} encounters/s, {lines / best_d:,.0f} drug lines/s"
    )


if __name__ == "__main__":
    main()
