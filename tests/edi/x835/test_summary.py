"""The fast summary scanner gives exactly what the full reader's summaries give (or falls back)."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import edi.x835.summary as xs
from edi.x835.reader import read_835
from edi.x835.report import summarize
from edi.x835.summary import _Irregular, _scan, _scan_parallel, summarize_files
from tests.edi.x835.test_corpus import corpus_835_files
from tests.edi.x835.test_property import _doc, gen835


def full(path: Path) -> list[dict]:
    return [summarize(r).to_dict() for r in read_835(path, str(path), [], keep_claims=False)]


def test_corpus_summaries_equal_full_reader(corpus_dir: Path) -> None:
    fast_files = 0
    for p in corpus_835_files(corpus_dir):
        for engine in ("scan", "reader", "auto"):
            rows, _ = summarize_files([p], engine=engine)
            assert [r.to_dict() for r in rows] == full(p), (p.name, engine)
        try:
            _scan(p)
            fast_files += 1
        except _Irregular:
            pass
    assert fast_files >= 5  # the regular ones really take the fast path


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10**6), unbalance=st.booleans(), mutate=st.integers(0, 3))
def test_generated_summaries_equal_full_reader(tmp_path_factory, seed: int, unbalance: bool, mutate: int) -> None:
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
    for engine in ("scan", "reader"):
        rows, _ = summarize_files([p], engine=engine)
        assert [r.to_dict() for r in rows] == full(p), engine
    if not mutate:
        assert len(_scan(p).summaries) == len(sets)  # regular files stay on the fast path


def _gen_file(tmp_path: Path, seed: int, n_sets: int, term: str = "~\n") -> Path:
    rng = random.Random(seed)
    sets = [gen835.random_set(rng, k * 50 + 1, rng.randint(1, 12), k) for k in range(n_sets)]
    sets[-1].claims[0].paid += 1  # one balancing finding in the second half
    p = tmp_path / f"g{seed}.835"
    p.write_bytes(_doc(sets, "*", ":", term))
    return p


def test_parallel_halves_join_to_the_sequential_result(tmp_path: Path, monkeypatch) -> None:
    for seed in range(6):
        p = _gen_file(tmp_path, seed, 2 + seed)
        want = full(p)
        assert [r.to_dict() for r in _scan_parallel(p)] == want
        monkeypatch.setattr(xs, "PARALLEL_MIN_BYTES", 0)
        rows, _ = summarize_files([p], jobs=2, engine="scan")
        assert [r.to_dict() for r in rows] == want


def test_parallel_envelope_mismatch_falls_back_to_the_full_reader(tmp_path: Path, monkeypatch) -> None:
    p = _gen_file(tmp_path, 7, 4)
    raw = p.read_text().replace("GE*4*7", "GE*5*7")
    p.write_text(raw)
    try:
        _scan_parallel(p)
        raise AssertionError("GE01 mismatch must not pass the parallel scan")
    except _Irregular:
        pass
    monkeypatch.setattr(xs, "PARALLEL_MIN_BYTES", 0)
    rows, findings = summarize_files([p], jobs=2, engine="scan")
    assert [r.to_dict() for r in rows] == full(p)
    assert [f.code for f in findings] == ["x12-ge-count"]


def test_engine_choice(tmp_path: Path, monkeypatch) -> None:
    p = _gen_file(tmp_path, 3, 2)
    calls: list[Path] = []
    real_scan = xs._scan

    def counted_scan(path, *a, **k):
        calls.append(path)
        return real_scan(path, *a, **k)

    monkeypatch.setattr(xs, "_scan", counted_scan)
    summarize_files([p], engine="reader")
    assert calls == []  # the reader alone
    summarize_files([p], engine="scan", jobs=1)
    assert calls == [p]
    calls.clear()
    monkeypatch.setattr(xs, "_compiled_reader_available", lambda: False)
    summarize_files([p], jobs=1)
    assert calls == [p]  # pure-Python installations keep the scanner
    try:
        summarize_files([p], engine="fast")
        raise AssertionError("an unknown engine must be refused")
    except ValueError:
        pass
