"""EA / EB / EC on erythropoiesis-stimulating agents (ESAs), from ``data/esa_indications.csv``.

Medicare returns non-ESRD ESA claim lines without exactly one indication modifier (CMS IOM 100-04
ch. 17 §80.9): **EA** anemia due to anti-cancer chemotherapy, **EB** anemia due to anti-cancer
radiotherapy, **EC** other anemia. The modifier comes from the administration's
``esa_indication`` when given, else from the encounter's diagnoses:

* D64.81 (anemia due to antineoplastic chemotherapy) → EA;
* an anemia code (D50–D64) with Y84.2 (radiotherapy as the cause) → EB;
* both EA and EB indicated → cannot be told (``esa-indication-unknown``);
* anemia in CKD (D63.1) of a patient with ESRD (N18.6) or on dialysis (Z99.2), and nothing of
  the above → ESRD-related anemia, whose ESA the dialysis facility bills under the ESRD PPS, not
  this claim (``esa-esrd-related``);
* any other anemia code (D50–D64) → EC;
* no anemia diagnosis → cannot be told (``esa-indication-unknown``).

Which payers require it is the payer key ``esa_indication_modifier`` (default: true for Medicare
filing indicators MB/MA, false otherwise).

>>> esa_indication(("D6481", "C3490"))
('EA', 'D64.81 anemia due to antineoplastic chemotherapy', None)
>>> esa_indication(("D649", "Y842"))[0], esa_indication(("D631", "N184"))[0]
('EB', 'EC')
>>> esa_indication(("D631", "N186"))[2], esa_indication(("C509",))[2]
('esa-esrd-related', 'esa-indication-unknown')
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from coding.config import MEDICARE_FILING, PayerProfile

DATA = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True, slots=True)
class EsaTable:
    drugs: frozenset[str]
    chemo: tuple[tuple[str, str], ...]  # (code prefix, meaning)
    radiotherapy: tuple[tuple[str, str], ...]
    anemia: tuple[tuple[str, str], ...]  # (first category, last category), e.g. ("D50", "D64")
    esrd_anemia: tuple[str, ...]
    esrd: tuple[str, ...]


@lru_cache(maxsize=1)
def esa_table() -> EsaTable:
    """The rows of ``data/esa_indications.csv`` by kind."""
    rows: dict[str, list[dict[str, str]]] = {}
    with (DATA / "esa_indications.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(ln for ln in fh if not ln.startswith("#")):
            rows.setdefault(r["kind"].strip(), []).append(r)

    def vals(kind: str) -> list[str]:
        return [r["value"].strip().upper() for r in rows.get(kind, [])]

    ranges: list[tuple[str, str]] = []
    for v in vals("anemia"):
        lo, _, hi = v.partition("-")
        ranges.append((lo, hi or lo))
    return EsaTable(
        drugs=frozenset(vals("drug")),
        chemo=tuple((r["value"].strip().upper(), r["meaning"].strip()) for r in rows.get("chemo_anemia", [])),
        radiotherapy=tuple(
            (r["value"].strip().upper(), r["meaning"].strip()) for r in rows.get("radiotherapy_cause", [])
        ),
        anemia=tuple(ranges),
        esrd_anemia=tuple(vals("esrd_anemia")),
        esrd=tuple(vals("esrd")),
    )


def is_esa(code: str) -> bool:
    """Whether a HCPCS code is an ESA that takes EA/EB/EC."""
    return code.upper() in esa_table().drugs


def requires_indication(payer: PayerProfile) -> bool:
    """The payer key ``esa_indication_modifier``; default true for Medicare (MB/MA)."""
    v = payer.get("esa_indication_modifier", None)
    if v is None:
        return payer.filing_indicator in MEDICARE_FILING
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "on")
    return bool(v)


def _dotted(code: str) -> str:
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def esa_indication(diagnoses: tuple[str, ...]) -> tuple[str | None, str, str | None]:
    """(modifier, reason, None) or (None, reason, finding code) from the encounter's diagnoses
    (ICD-10-CM without the dot, upper case)."""
    t = esa_table()
    chemo = [(d, m) for d in diagnoses for p, m in t.chemo if d.startswith(p)]
    anemia = [d for d in diagnoses if any(lo <= d[:3] <= hi for lo, hi in t.anemia)]
    radio = [(d, m) for d in diagnoses for p, m in t.radiotherapy if d.startswith(p)] if anemia else []
    if chemo and radio:
        return None, "diagnoses indicate both chemotherapy- and radiotherapy-induced anemia", "esa-indication-unknown"
    if chemo:
        d, m = chemo[0]
        return "EA", f"{_dotted(d)} {m}", None
    if radio:
        return "EB", f"{_dotted(anemia[0])} with {_dotted(radio[0][0])}: anemia from radiotherapy", None
    esrd = [d for d in diagnoses if any(d.startswith(p) for p in t.esrd)]
    ckd_anemia = [d for d in anemia if any(d.startswith(p) for p in t.esrd_anemia)]
    if esrd and ckd_anemia and len(anemia) == len(ckd_anemia):
        return (
            None,
            f"{_dotted(ckd_anemia[0])} with {_dotted(esrd[0])}: ESRD-related anemia",
            "esa-esrd-related",
        )
    if anemia:
        return "EC", f"{_dotted(anemia[0])}: anemia not due to chemotherapy or radiotherapy", None
    return None, "no anemia diagnosis on the encounter", "esa-indication-unknown"
