"""Home infusion coding throughput: ``coding.home.lines.home_lines`` over generated home courses.

10,000 encounters, half commercial per diem (1–3 therapies, 14–60 days, weekly nursing visits),
half Medicare HIT (pump therapies, weekly visits, a ledger history callable). One core.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coding.config import load_config
from coding.home.lines import home_lines
from coding.model import Address, Encounter, NursingVisit, Patient, Quantity, Therapy

DRUGS = [
    ("anti_infective", "J0696", ("2", "g")),
    ("anti_infective", "J3370", ("1", "g")),
    ("inotrope", "J1250", ("250", "mg")),
    ("chemotherapy", "J9190", ("1000", "mg")),
    ("immunotherapy", "J1559", ("10", "g")),
    ("hydration", "J7050", ("1000", "mL")),
]
SCHEDULES = ["q24h", "q12h", "q8h", "continuous"]


def make(n: int, seed: int = 6) -> list[Encounter]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        medicare = i % 2 == 1
        start = date(2026, 1, 1) + timedelta(days=rnd.randrange(300))
        ts = []
        for k in range(rnd.randint(1, 3)):
            cat, drug, dose = rnd.choice(DRUGS)
            s = start + timedelta(days=rnd.randrange(5))
            ts.append(
                Therapy(
                    id=f"T{k + 1}",
                    category=cat,
                    start_date=s,
                    end_date=s + timedelta(days=rnd.randint(14, 60) - 1),
                    drug=drug,
                    dose=Quantity(Decimal(dose[0]), dose[1]),
                    schedule=rnd.choice(SCHEDULES),
                    ndc="0409-7332-01",
                    pump=medicare,
                )
            )
        visits = tuple(
            NursingVisit(
                datetime.combine(start + timedelta(days=7 * w), datetime.min.time()) + timedelta(hours=9),
                datetime.combine(start + timedelta(days=7 * w), datetime.min.time())
                + timedelta(hours=9, minutes=rnd.choice([60, 90, 150, 180])),
            )
            for w in range(rnd.randint(1, 6))
        )
        pat = Patient(
            id=f"P{i % 3000}",
            first="A",
            last="B",
            dob=date(1950, 1, 1),
            sex="F",
            member_id="M1",
            address=Address("1 A ST", "X", "IL", "62701"),
        )
        out.append(
            Encounter(
                id=f"H{i}",
                setting="home",
                payer="medicare" if medicare else "commercial",
                patient=pat,
                diagnoses=("A419",),
                therapies=tuple(ts),
                nursing_visits=visits,
            )
        )
    return out


def main() -> None:
    cfg = load_config()
    encs = make(10_000)
    history = {f"P{i}": [date(2026, 1, 1) + timedelta(days=i % 200)] for i in range(3000)}
    hist = lambda pid: history.get(pid, [])  # noqa: E731
    home_lines(encs[0], cfg, cfg.payers[encs[0].payer], hist)  # warm the tables
    t0 = time.perf_counter()
    n_lines = 0
    for e in encs:
        lines, _ = home_lines(e, cfg, cfg.payers[e.payer], hist)
        n_lines += len(lines)
    dt = time.perf_counter() - t0
    print(
        f"home_lines: {len(encs)} encounters, {n_lines} lines in {dt:.3f} s "
        f"= {len(encs) / dt:,.0f} encounters/s ({n_lines / dt:,.0f} lines/s), one core"
    )


if __name__ == "__main__":
    main()
