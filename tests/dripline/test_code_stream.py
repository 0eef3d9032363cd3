"""`dripline code` streams: JSON Lines are read, coded and printed chunk by chunk, never held
whole; the output is what it was when everything was held."""

from __future__ import annotations

import contextlib
import io
import json
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import coding.encounters.loader as loader
import coding.engine as engine
from coding.config import load_config
from coding.encounters.loader import load_encounters
from coding.engine import code_encounters
from dripline.cli import app
from dripline.common import dumps, print_json, print_json_fields, print_json_list
from tests.dripline.test_code_cli import enc


def _batch(tmp_path: Path, n: int) -> Path:
    p = tmp_path / "batch.jsonl"
    p.write_text("\n".join(json.dumps(enc(f"ENC-{k:03d}")) for k in range(n)) + "\n")
    return p


def test_json_output_is_the_same_as_coding_everything_at_once(fixtures_dir: Path, tmp_path: Path) -> None:
    cfg = load_config()
    for paths in ([fixtures_dir / "encounters.json"], [_batch(tmp_path, 7)]):
        encs, _ = load_encounters(paths, cfg)
        want = dumps({"encounters": [ce.to_dict() for ce in code_encounters(encs, cfg)]}) + "\n"
        res = CliRunner().invoke(app, ["code", "--json", *map(str, paths)])
        assert res.exit_code == 0, res.output
        assert res.stdout == want


def test_code_reads_json_lines_chunk_by_chunk(tmp_path: Path, monkeypatch) -> None:
    n = 30
    batch = _batch(tmp_path, n)
    parsed: list[str] = []
    real_loads, real_code = loader._loads, engine.code_encounters
    seen_at_coding: list[int] = []

    def loads(text: str):
        parsed.append(text)
        return real_loads(text)

    def code(encs, cfg, **kw):
        seen_at_coding.append(len(parsed))
        return real_code(encs, cfg, **kw)

    monkeypatch.setattr(loader, "_loads", loads)
    monkeypatch.setattr(engine, "code_encounters", code)
    monkeypatch.setattr(engine, "STREAM_CHUNK", 3)
    monkeypatch.setattr(loader, "load_encounters", lambda *a, **k: (_ for _ in ()).throw(AssertionError("whole")))
    res = CliRunner().invoke(app, ["code", "--json", str(batch)])
    assert res.exit_code == 0, res.output
    assert [e["id"] for e in json.loads(res.stdout)["encounters"]] == [f"ENC-{k:03d}" for k in range(n)]
    assert len(seen_at_coding) == n // 3
    # each chunk is coded when only the lines up to its own (and the format probe) were parsed
    assert seen_at_coding == [1 + 3 * (k + 1) for k in range(n // 3)]


def test_bad_input_codes_the_good_encounters_and_lists_the_bad_ones(tmp_path: Path) -> None:
    p = tmp_path / "b.jsonl"
    p.write_text(json.dumps(enc("ENC-1")) + "\n" + json.dumps(enc("ENC-2", drug="J0000")) + "\n{\n")
    res = CliRunner().invoke(app, ["code", "--json", str(p)])
    assert res.exit_code == 2
    cfg = load_config()
    encs, findings = load_encounters([p], cfg)
    want = {
        "encounters": [ce.to_dict() for ce in code_encounters(encs, cfg)],
        "findings": [f.to_dict() for f in findings if f.severity == "error"],
    }
    assert res.stdout == dumps(want) + "\n"
    assert [e["id"] for e in json.loads(res.stdout)["encounters"]] == ["ENC-1"]
    assert "drug" in res.stderr and "not valid JSON" in res.stderr


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.decimals(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(JSONISH, max_size=4),
    tail=st.dictionaries(st.text(min_size=1, max_size=6).filter(lambda k: k != "encounters"), JSONISH, max_size=2),
)
def test_print_json_list_writes_what_print_json_writes(items, tail) -> None:
    want, got = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(want):
        print_json({"encounters": items, **tail})
    with contextlib.redirect_stdout(got):
        print_json_list("encounters", iter(items), lambda: tail)
    assert got.getvalue() == want.getvalue()


@settings(max_examples=200, deadline=None)
@given(
    fields=st.dictionaries(st.text(max_size=6), st.tuples(st.booleans(), JSONISH | st.lists(JSONISH)), max_size=4),
)
def test_print_json_fields_writes_what_print_json_writes(fields) -> None:
    """Iterator values come out exactly as the lists they yield would (empty ones too)."""
    plain = {k: v for k, (_, v) in fields.items()}
    streamed = {k: iter(v) if lazy and isinstance(v, list) else v for k, (lazy, v) in fields.items()}
    want, got = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(want):
        print_json(plain)
    with contextlib.redirect_stdout(got):
        print_json_fields(streamed)
    assert got.getvalue() == want.getvalue()


def test_build_result_json_fields_print_as_to_dict() -> None:
    from coding.findings import error, info
    from reconcile.claims.build import BuildResult, BuiltFile

    result = BuildResult(
        files=[
            BuiltFile("out/837P-000000001.x12", "837P", 1, 1, "ab", 1, 2, "recorded"),
            BuiltFile("b", "837I", 2, 2, "cd", 0, 0, "refused", 3),
        ],
        claims=[{"patient_control_number": "E1", "charge": Decimal("12.50"), "recorded": True}],
        findings=[info("no-expected-amount", "line 1 J1234: no expected amount"), error("x", "é\nbad", file="f")],
        not_billed=["E2"],
    )
    want, got = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(want):
        print_json(result.to_dict())
    with contextlib.redirect_stdout(got):
        print_json_fields(result.json_fields())
    assert got.getvalue() == want.getvalue()
