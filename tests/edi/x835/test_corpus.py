"""Every public 835 in the corpus reads without an exception and agrees with an independent count.

The independent count below does not use the tokenizer or the reader: it splits the raw text on
the separators found at the fixed ISA positions (or the obvious ones for files without ISA) and
adds up CLP04 and the PLB amounts of the ST*835 sets, counting CLP and SVC segments.
"""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from edi.x835.reader import read_835_with_findings
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow  # every public 835 of the corpus


def corpus_835_files(corpus: Path) -> list[Path]:
    """835 files named by PROVENANCE.tsv (835/ and other/), plus any file in 835/."""
    out = {p for p in (corpus / "835").iterdir() if p.is_file()}
    with open(corpus / "PROVENANCE.tsv", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row.get("transaction") == "835":
                out.add(corpus / row["file"])
    return sorted(p for p in out if p.exists())


def _dec(s: str) -> Decimal | None:
    try:
        d = Decimal(s)
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def independent_count(raw: bytes) -> dict[str, object]:
    """Segment-level sums by plain string splitting (one separator set per file)."""
    t = raw.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if t.startswith("ISA"):
        elem = t[3]
        parts = t.split(elem, 16)
        tail = parts[16]
        term = tail[1]
    else:  # files that start at ST
        elem, term = t[2], ("~" if "~" in t else "\n")
    if term in "\r\n":
        segs = [s.strip() for s in t.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    else:
        segs = [s.replace("\r", "").replace("\n", "").strip() for s in t.split(term)]
    paid = plb = Decimal(0)
    claims = lines = 0
    in_835 = False
    for s in segs:
        e = s.split(elem)
        if e[0] == "ST":
            in_835 = len(e) > 1 and e[1] == "835"
        if not in_835:
            continue
        if e[0] == "CLP":
            claims += 1
            d = _dec(e[4]) if len(e) > 4 else None
            paid += d or 0
        elif e[0] == "SVC":
            lines += 1
        elif e[0] == "PLB":
            for j in range(4, len(e), 2):
                d = _dec(e[j])
                plb += d or 0
    return {"paid": paid, "plb": plb, "claims": claims, "lines": lines}


def test_corpus_has_835_files(corpus_dir: Path) -> None:
    assert len(corpus_835_files(corpus_dir)) >= 20


FILES = corpus_835_files(CORPUS) if CORPUS.is_dir() else []  # empty: the test below is skipped


@pytest.mark.parametrize("corpus_file", FILES, ids=[p.name for p in FILES])
def test_corpus_file_reads_and_matches_independent_count(corpus_file: Path) -> None:
    raw = corpus_file.read_bytes()
    rems, findings = read_835_with_findings(corpus_file)
    want = independent_count(raw)
    claims = [c for r in rems for c in r.claims]
    assert len(claims) == want["claims"] == sum(r.claim_count for r in rems)
    assert sum(len(c.lines) for c in claims) == want["lines"]
    assert sum((c.paid for c in claims if c.paid is not None), Decimal(0)) == want["paid"]
    plb = sum((a.amount for r in rems for a in r.provider_adjustments if a.amount is not None), Decimal(0))
    assert plb == want["plb"] == sum((r.plb_total for r in rems), Decimal(0))
    for f in findings:  # findings carry a position and never patient names from NM1
        assert f.file == str(corpus_file)
        assert f.code and f.message


def test_known_shapes(corpus_dir: Path) -> None:
    """Spot checks against values read by eye from the files."""
    c = corpus_dir / "835"
    rems, _ = read_835_with_findings(c / "Inteligenz_X12Parser__835_WithMultipleInterchanges.txt")
    assert len(rems) == 3  # BOM, 3 ISA, indented segments
    rems, _ = read_835_with_findings(c / "affect-therapeutics_edi-835-parser__nevada_medicaid.txt")
    assert len(rems) == 3 and rems[0].payment.handling == "H"  # 72-char ISA
    rems, _ = read_835_with_findings(c / "tastypackets_x12-parser__profee-multiple.edi")
    assert len(rems) == 156
    rems, f = read_835_with_findings(c / "LinuxForHealth_x12__demo.835")
    assert f == [] and [(a.reason, a.reference, a.amount) for a in rems[0].provider_adjustments] == [
        ("CV", "CP", Decimal("-1.27"))
    ]
    other = corpus_dir / "other"
    rems, _ = read_835_with_findings(other / "Inteligenz_X12Parser__835_DeIdent_02.dat")
    statuses = {c.status for r in rems for c in r.claims}
    assert {"22", "4", "19"} <= statuses
    rev = [c for r in rems for c in r.claims if c.status == "22"]
    assert rev and all(c.charge is not None and c.charge <= 0 for c in rev)
