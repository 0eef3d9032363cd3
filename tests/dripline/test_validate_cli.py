"""``dripline validate``: readable and --json output, exit codes, 837/835 detection, --jobs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coding.config import load_config
from dripline.cli import app
from edi.validate.files import detect_transaction, validate_any
from edi.x837.model import EnvelopeNumbers, plan_interchanges, write_interchange
from tests.edi.x837.factory import NOW, assign_lcns, hospital_set, office_set

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_837 import make_coded, write_file

runner = CliRunner()


@pytest.fixture()
def files(tmp_path):
    cfg = load_config()
    coded = office_set() + hospital_set()
    assign_lcns(coded)
    plans, _ = plan_interchanges(coded, cfg)
    out = {}
    for k, plan in enumerate(plans):
        n = len(plan.transactions)
        p = tmp_path / f"{plan.claim_type}.x12"
        p.write_bytes(
            write_interchange(plan, cfg, EnvelopeNumbers(k + 1, k + 1, list(range(1, n + 1)), ["V"] * n), NOW)
        )
        out[plan.claim_type] = p
    return out


def _json(args):
    r = runner.invoke(app, ["validate", "--json", *map(str, args)])
    return r.exit_code, json.loads(r.stdout)


def test_valid_837p_and_837i_exit_zero(files):
    code, doc = _json([files["837P"], files["837I"]])
    assert code == 0 and doc["valid"] is True and doc["errors"] == 0
    assert [f["transaction"] for f in doc["files"]] == ["837P", "837I"]
    assert all(f["findings"] == [] for f in doc["files"])


def test_error_finding_exits_one_with_position(files):
    bad = files["837P"].parent / "bad.x12"
    bad.write_text(
        files["837P"]
        .read_text()
        .replace("CLM*ENC-P-001*810.41*", "CLM*ENC-P-001*810*", 1)
        .replace("DMG*D8*19600517*F", "DMG*D8*19600517*X", 1)
    )
    code, doc = _json([bad])
    assert code == 1 and doc["valid"] is False
    found = {f["code"]: f for f in doc["files"][0]["findings"]}
    assert found["claim-charge-mismatch"]["segment"] == "CLM" and found["claim-charge-mismatch"]["line"] == 21
    pyx = [f for f in doc["files"][0]["findings"] if f["code"].startswith("x12-")]
    assert (
        pyx and pyx[0]["segment"] == "DMG" and pyx[0]["loop"] == "2000A/2000B/2010BA" and pyx[0]["element"] == "DMG03"
    )
    assert pyx[0]["line"] == 19 and pyx[0]["segment_number"] == 19 and "X" not in pyx[0]["message"].split("(")[0]


def test_readable_output_names_file_and_status(files):
    r = runner.invoke(app, ["validate", str(files["837I"])])
    assert r.exit_code == 0 and "837I" in r.stdout and "valid" in r.stdout


def test_unreadable_file_exits_two(tmp_path):
    r = runner.invoke(app, ["validate", str(tmp_path / "missing.x12")])
    assert r.exit_code == 2 and "Traceback" not in (r.stdout + (r.stderr or ""))


def test_not_x12_is_an_error_finding(tmp_path):
    p = tmp_path / "junk.x12"
    p.write_text("hello, this is not X12\n")
    code, doc = _json([p])
    assert code == 1 and doc["files"][0]["errors"] >= 1


def test_835_is_detected_and_validated(corpus_dir):
    p = corpus_dir / "835" / "kputnam_stupidedi__X221A1_era-sample.edi"
    assert detect_transaction(p) == "835"
    code, doc = _json([p])
    assert code == 0 and doc["files"][0]["transaction"] == "835"


def test_835_balancing_findings_are_reported(corpus_dir, tmp_path):
    src = (corpus_dir / "835" / "kputnam_stupidedi__X221A1_era-sample.edi").read_text()
    clp = next(s for s in src.split("~") if s.strip().startswith("CLP*"))
    els = clp.strip().split("*")
    els[4] = str(float(els[4]) + 1)  # paid amount no longer balances
    p = tmp_path / "unbalanced.835"
    p.write_text(src.replace(clp.strip(), "*".join(els), 1))
    rep = validate_any(p)
    assert any("balance" in f.code for f in rep.findings)


@pytest.mark.slow
def test_jobs_two_gives_the_same_findings_as_one(tmp_path):
    p = tmp_path / "batch.837"
    write_file(make_coded(300, seed=9), p)
    text = p.read_text().replace("DTP*472*D8*20260105", "DTP*472*D8*20261340", 2)
    p.write_text(text.replace("NM1*IL*1*KIM*ALEX", "NM1*IL**KIM*ALEX", 1))
    one = validate_any(p, jobs=1)
    two = validate_any(p, jobs=2)
    key = lambda r: sorted((f.line, f.code, f.segment, f.element, f.loop, f.message) for f in r.findings)  # noqa: E731
    assert one.errors >= 2 and key(one) == key(two)


def _with_bad_genders(path: Path) -> str:
    """The file with every DMG03 (gender) made invalid: one pyx12 finding per DMG segment."""
    text = path.read_text()
    bad = text.replace("DMG*D8*", "DMG*D8*X")
    assert bad.count("DMG*D8*X") >= 2
    return bad


@pytest.mark.parametrize(
    ("layout", "transform"),
    [
        ("one line per segment", lambda t: t),
        ("one line", lambda t: t.replace("\n", "")),
        ("CR line ends", lambda t: t.replace("\n", "\r")),
        ("CRLF line ends", lambda t: t.replace("\n", "\r\n")),
    ],
)
def test_findings_of_different_segments_are_never_merged(files, tmp_path, layout, transform):
    text = _with_bad_genders(files["837P"])
    reference = tmp_path / "lf.x12"
    reference.write_text(text)
    p = tmp_path / "layout.x12"
    p.write_bytes(transform(text).encode("ascii"))
    expected = [(f.code, f.segment, f.segment_number) for f in validate_any(reference).findings]
    got = [(f.code, f.segment, f.segment_number) for f in validate_any(p).findings]
    assert got == expected, layout
    dmg = [n for code, seg, n in got if seg == "DMG"]
    assert len(dmg) == text.count("DMG*D8*X") and len(set(dmg)) == len(dmg)


@pytest.mark.parametrize("line_end", ["", "\r"])
def test_our_own_edits_on_different_segments_are_never_merged(files, tmp_path, line_end):
    text = files["837P"].read_text().replace("XX*1987654328", "XX*1987654320")  # NPI check digit, twice
    assert text.count("NM1*82*1*MORGAN*ALEX****XX*1987654320") == 2
    p = tmp_path / "npi.x12"
    p.write_bytes(text.replace("\n", line_end).encode("ascii"))
    bad = [f for f in validate_any(p).findings if f.code == "bad-npi"]
    assert len(bad) == 2 and len({f.segment_number for f in bad}) == 2


def test_byte_order_mark_is_read_like_the_other_readers(files, tmp_path):
    p = tmp_path / "bom.x12"
    p.write_bytes(b"\xef\xbb\xbf" + files["837P"].read_bytes())
    code, doc = _json([p])
    assert code == 0 and doc["valid"] is True and doc["files"][0]["findings"] == []


@pytest.mark.parametrize("version", ["005010X299", "004010X098A1"])
def test_version_without_a_pyx12_map_cannot_be_validated(files, tmp_path, version):
    p = tmp_path / "other-version.x12"
    p.write_text(files["837P"].read_text().replace("005010X222A1", version))
    code, doc = _json([p])
    assert code == 3 and doc["valid"] is False
    (rep,) = doc["files"]
    assert rep["status"] == "cannot-validate" and rep["valid"] is False and rep["errors"] == 0
    assert [f["code"] for f in rep["findings"]] == ["x12-cannot-validate"]
    r = runner.invoke(app, ["validate", str(p)])
    assert r.exit_code == 3 and "cannot validate" in r.stdout


def test_invalid_file_wins_over_a_file_that_cannot_be_validated(files, tmp_path):
    other = tmp_path / "other-version.x12"
    other.write_text(files["837P"].read_text().replace("005010X222A1", "005010X299"))
    bad = tmp_path / "bad.x12"
    bad.write_text(_with_bad_genders(files["837P"]))
    code, doc = _json([other, bad])
    assert code == 1 and [f["status"] for f in doc["files"]] == ["cannot-validate", "invalid"]
