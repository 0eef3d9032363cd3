"""Corpus: every 837 pyx12 accepts validates clean through ``dripline validate``; every one it
rejects shows an error finding (PROVENANCE.tsv ``pyx12_accepts``)."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from dripline.cli import app
from edi.validate.files import validate_any
from edi.x837.read import read_837

pytestmark = pytest.mark.slow  # pyx12 validation of the whole public corpus

runner = CliRunner()


def _rows(corpus_dir, prefixes=("837P/", "837I/")):
    with open(corpus_dir / "PROVENANCE.tsv", newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r["file"].startswith(prefixes)]


def test_accepted_837s_validate_clean_through_the_cli(corpus_dir):
    accepted = [corpus_dir / r["file"] for r in _rows(corpus_dir) if r["pyx12_accepts"] == "yes"]
    assert len(accepted) >= 10
    r = runner.invoke(app, ["validate", "--json", *map(str, accepted)])
    doc = json.loads(r.stdout)
    bad = {f["file"]: [x for x in f["findings"] if x["severity"] == "error"] for f in doc["files"] if f["errors"]}
    assert r.exit_code == 0 and bad == {}


def test_rejected_837s_show_an_error_finding(corpus_dir):
    """Files plain pyx12 rejects are invalid for us too, or (a GS08 version pyx12 has no map for,
    once a byte-order mark no longer stops the read) explicitly not validated: never "valid"."""
    rejected = [r for r in _rows(corpus_dir) if r["pyx12_accepts"] == "no"]
    assert rejected
    for row in rejected:
        rep = validate_any(corpus_dir / row["file"])
        if rep.errors == 0:
            assert rep.status == "cannot-validate", row["file"]
            assert any(f.code == "x12-cannot-validate" for f in rep.findings), row["file"]
        else:
            assert rep.status == "invalid", row["file"]


@pytest.mark.parametrize("prefix", ["999/", "277CA/", "835/"])
def test_other_transactions_never_raise(corpus_dir, prefix):
    for row in _rows(corpus_dir, (prefix,)):
        rep = validate_any(corpus_dir / row["file"])
        assert (rep.errors == 0) == (row["pyx12_accepts"] == "yes") or prefix == "835/", row["file"]


def test_reader_reads_every_corpus_837_without_exception(corpus_dir):
    for row in _rows(corpus_dir):
        doc = read_837(corpus_dir / row["file"])
        claims = int(row["clp_or_clm_count"] or 0)
        if row["intended_invalid"] != "yes" and claims:
            assert len(doc.claims) == claims, row["file"]
