"""``claims build`` with small batch limits: many ST sets and files, every control number its own."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from reconcile.claims import build as billing
from reconcile.ledger import store as L
from tests.reconcile.claims.files import control_numbers, segments
from tests.reconcile.claims.test_build import NOW, _hospital, _office, _write


def test_small_limits_give_many_sets_and_files_with_unique_numbers(tmp_path: Path, ledger_target: str) -> None:
    from coding.config import load_config

    cfg = dataclasses.replace(load_config(), max_claims_per_transaction=2, max_file_bytes=6000)
    encs = [_office(f"ENC-{i:03d}", "medicare" if i % 3 else "commercial") for i in range(14)]
    encs += [_hospital(f"ENC-1{i:02d}") for i in range(5)]
    db = ledger_target
    res = billing.build_claims([_write(tmp_path / "b.json", encs)], cfg, db, tmp_path / "out", now=NOW)
    assert not res.refused_anything, [f.to_dict() for f in res.findings if f.is_error]
    files = [Path(f.path) for f in res.files]
    assert len(files) > 2 and {f.claim_type for f in res.files} == {"837P", "837I"}
    assert all(f.status == "recorded" for f in res.files)
    for path in files:
        assert path.stat().st_size <= 6000
        segs = segments(path)
        per_set = [sum(1 for s in body if s[0] == "CLM") for body in _sets(segs)]
        assert per_set and all(1 <= n <= 2 for n in per_set), per_set
    numbers = control_numbers(files)
    for name, values in numbers.items():
        assert len(values) == len(set(values)), f"{name} reused: {values}"
    conn = L.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 19
    assert conn.execute("SELECT COUNT(*) FROM transactions").fetchone()[0] == len(numbers["st02"])
    assert conn.execute("SELECT COUNT(DISTINCT interchange_id) FROM transactions").fetchone()[0] == len(files)


def _sets(segs: list[list[str]]) -> list[list[list[str]]]:
    out: list[list[list[str]]] = []
    for s in segs:
        if s[0] == "ST":
            out.append([])
        elif s[0] == "SE":
            continue
        elif out:
            out[-1].append(s)
    return out


def test_build_streams_the_input_and_writes_files_as_they_fill(tmp_path: Path, monkeypatch, ledger_target: str) -> None:
    """A long batch is coded, planned and written chunk by chunk: the first file is recorded
    before the second pass has read the whole input, and the input is never loaded whole."""
    import json

    import coding.encounters.loader as loader
    from coding.config import load_config

    cfg = dataclasses.replace(load_config(), max_file_bytes=6000)
    n = 24
    batch = tmp_path / "b.jsonl"
    batch.write_text("\n".join(json.dumps(_office(f"ENC-{i:03d}")) for i in range(n)) + "\n")
    parsed: list[str] = []
    real_loads, real_build = loader._loads, billing._build_one
    parsed_at_build: list[int] = []

    def loads(text: str):
        parsed.append(text)
        return real_loads(text)

    def build_one(*args, **kw):
        parsed_at_build.append(len(parsed))
        return real_build(*args, **kw)

    monkeypatch.setattr(loader, "_loads", loads)
    monkeypatch.setattr(loader, "load_encounters", lambda *a, **k: (_ for _ in ()).throw(AssertionError("whole")))
    monkeypatch.setattr(billing, "_build_one", build_one)
    monkeypatch.setattr(billing, "CODE_CHUNK", 2)
    res = billing.build_claims([batch], cfg, ledger_target, tmp_path / "out", now=NOW)
    assert not res.refused_anything and len(res.files) >= 3
    first_pass = n + 1
    assert parsed_at_build[0] < first_pass + n  # the first file went out mid-way through the input
    assert parsed_at_build == sorted(parsed_at_build)
    assert [c["encounter_id"] for c in res.claims] == [f"ENC-{i:03d}" for i in range(n)]
