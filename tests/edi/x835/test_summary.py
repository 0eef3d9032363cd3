"""``remit show --summary`` reads through the one reader: the same summaries whichever driver runs,
the same as summarizing a full read, and the same bytes as the golden output.

Regenerate the golden file after an intended change with
``DRIPLINE_REGEN_GOLDEN=1 pytest tests/edi/x835/test_summary.py``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dripline.fastpath import run_fast
from edi.x835 import reader as x835
from edi.x835.reader import read_835
from edi.x835.report import summarize
from edi.x835.summary import summarize_files
from tests.edi.x835.test_cases import REVERSAL_PAIR, interchange, st_set, text
from tests.edi.x835.test_corpus import corpus_835_files
from tests.edi.x835.test_property import _doc, gen835

GOLDEN = Path(__file__).parent / "golden" / "summary.txt"
DRIVERS = [False, True] if x835.ACCELERATOR_AVAILABLE else [False]


def full(path: Path) -> list[dict]:
    """Summaries of a full read (claims kept), the pure-Python driver."""
    return [summarize(r).to_dict() for r in read_835(path, str(path), [], keep_claims=True, accelerated=False)]


def by_driver(path: Path, monkeypatch) -> dict[bool, tuple[list[dict], list[str]]]:
    out = {}
    for flag in DRIVERS:
        monkeypatch.setattr(x835, "ACCELERATED", flag)
        rows, findings = summarize_files([path])
        out[flag] = ([r.to_dict() for r in rows], [repr(f) for f in findings])
    return out


def test_corpus_summaries_equal_a_full_read_with_either_driver(corpus_dir: Path, monkeypatch) -> None:
    for p in corpus_835_files(corpus_dir):
        want = full(p)
        for flag, (rows, _) in by_driver(p, monkeypatch).items():
            assert rows == want, (p.name, flag)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10**6), unbalance=st.booleans(), mutate=st.integers(0, 3))
def test_generated_summaries_equal_a_full_read_with_either_driver(
    tmp_path_factory, monkeypatch, seed: int, unbalance: bool, mutate: int
) -> None:
    rng = random.Random(seed)
    sets = [gen835.random_set(rng, k * 50 + 1, rng.randint(1, 12), k) for k in range(rng.randint(1, 3))]
    if unbalance:
        sets[0].claims[0].paid += 1
    raw = bytearray(_doc(sets, "*", ":", "~\n"))
    for _ in range(mutate):
        pos = rng.randrange(len(raw))
        raw[pos : pos + 1] = rng.choice([b"~", b"*", b"9", b"", b"X", b"\n"])
    p = tmp_path_factory.mktemp("s") / "g.835"
    p.write_bytes(bytes(raw))
    want = full(p)
    runs = by_driver(p, monkeypatch)
    for flag, (rows, _) in runs.items():
        assert rows == want, flag
    assert len({repr(v[1]) for v in runs.values()}) == 1  # the same file-level findings
    if not mutate:
        assert len(want) == len(sets)
        assert (want[0]["balancing_findings"] > 0) == unbalance


def golden_inputs(tmp_path: Path) -> list[Path]:
    """Files of every kind the summary meets: balanced and not, several sets, reversals, other
    separators, a segment the model has no place for, a truncated file (file-level errors)."""
    rng = random.Random(835)
    sets = [gen835.random_set(rng, k * 50 + 1, 6 + k, k) for k in range(3)]
    sets[1].claims[2].paid += 1
    files: dict[str, str | bytes] = {
        "sets.835": _doc(sets, "*", ":", "~\n"),
        "pipes.835": _doc(sets[:2], "|", ">", "\n"),
        "reversal.835": text(
            interchange([st_set([*REVERSAL_PAIR, "CLP*ENC2*4*80*0**12*P3*11*1", "CAS*CO*16*80"], "20.00")])
        ),
        "odd.835": text(interchange([st_set(["CLP*ENC9*1*100*90*0*12*P9*11*1", "ZZZ*1", "CAS*CO*45*5"], "90")])),
    }
    whole = _doc(sets, "*", ":", "~")
    files["truncated.835"] = whole[: len(whole) * 2 // 3]
    out = []
    for name, data in files.items():
        p = tmp_path / name
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
        out.append(p)
    return out


@pytest.mark.parametrize("accelerated", DRIVERS)
def test_summary_output_matches_golden(tmp_path: Path, capsys, monkeypatch, accelerated: bool) -> None:
    monkeypatch.setattr(x835, "ACCELERATED", accelerated)
    files = golden_inputs(tmp_path)
    got = ""
    for p in files:  # one command per file, and one for all of them
        assert run_fast(["remit", "show", str(p), "--summary"]) is True
        got += capsys.readouterr().out
    assert run_fast(["remit", "show", *map(str, files), "--summary"]) is True
    got += capsys.readouterr().out
    if os.environ.get("DRIPLINE_REGEN_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(got)
    assert GOLDEN.exists(), "golden summary missing (set DRIPLINE_REGEN_GOLDEN=1 to create it)"
    assert got == GOLDEN.read_text()
    assert "balancing finding(s)" in got and "file-level error finding(s)" in got
