"""Our pyx12 driver (maps cached, memoized hot spots, GC off, parallel pieces) reports exactly the
errors pyx12's own ``x12n_document`` reports, at the same segments."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from edi.validate.pyx12 import plain_pyx12_errors, validate_file

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from bench_837 import make_coded, write_file

pytestmark = pytest.mark.slow  # plain pyx12 validation is the slow side of every comparison


def _ours(path, jobs=1):
    return sorted(
        (f.code.removeprefix("x12-"), f.segment_number)
        for f in validate_file(path, jobs)
        if f.code.startswith("x12-") and f.segment_number
    )


def test_same_errors_as_plain_pyx12_on_rejected_corpus_files(corpus_dir):
    with open(corpus_dir / "PROVENANCE.tsv", newline="", encoding="utf-8") as fh:
        rows = [
            r
            for r in csv.DictReader(fh, delimiter="\t")
            if r["file"].startswith(("837P/imsweb", "837P/kputnam", "837I/kputnam", "837I/imsweb"))
            and r["file"] != "837P/imsweb_x12-parser__x12_many_claims.txt"
        ]
    compared = 0
    for row in rows:
        plain = plain_pyx12_errors(corpus_dir / row["file"])
        if not plain:  # pyx12 could not even start (only logged): nothing to compare
            continue
        assert _ours(corpus_dir / row["file"]) == plain, row["file"]
        compared += 1
    assert compared >= 10


def test_parallel_pieces_report_the_same_errors_as_plain_pyx12(tmp_path):
    p = tmp_path / "batch.837"
    write_file(make_coded(400, seed=4), p)
    text = p.read_text()
    text = text.replace("DTP*472*D8*20260110", "DTP*472*D8*20261310", 3).replace("*UN*1***1:2~", "*ZZ*1***1:2~", 2)
    p.write_text(text.replace("N4*SPRINGFIELD*IL*62704", "N4*S*IL*62704", 2))
    plain = plain_pyx12_errors(p)
    assert len(plain) >= 5
    assert _ours(p, 1) == plain
    assert _ours(p, 2) == plain
