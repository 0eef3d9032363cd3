"""Streaming input: JSON Lines are read line by line, with the same encounters and findings as
reading each file whole (the reference below is the whole-file reader)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coding.encounters.loader as loader
from coding.config import load_config
from coding.encounters.loader import iter_encounters, load_encounters
from coding.findings import error
from tests.coding.encounters.test_loader import good

CFG = load_config()


def _reference(paths: list[Path]):
    """What the loader returned when it read every file whole (kept here as the oracle)."""
    files, findings = loader._expand(paths)
    encounters = []
    seen: dict[str, str] = {}
    for path, in_dir in files:
        records, fs = loader._read_file(path, in_dir)
        findings.extend(fs)
        for obj, line, idx in records:
            try:
                enc, efs = loader.validate_encounter(obj, CFG, file=str(path), line=line, index=idx)
            except RecursionError:
                enc, efs = None, [error("bad-value", "encounter is nested too deeply", file=str(path), line=line)]
            findings.extend(efs)
            if enc is None:
                if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                    seen.setdefault(obj["id"].strip(), str(path))
                continue
            if enc.id in seen:
                findings.append(
                    error(
                        "duplicate-id",
                        "encounter id repeats an earlier encounter",
                        encounter_id=enc.id,
                        field="id",
                        file=str(path),
                        line=line,
                    )
                )
                continue
            seen[enc.id] = str(path)
            encounters.append(enc)
    return encounters, findings


LINE = st.one_of(
    st.builds(lambda n: json.dumps(good(f"E{n}")), st.integers(0, 6)),
    st.builds(lambda n: json.dumps(good(f"E{n}", payer="nobody")), st.integers(0, 6)),
    st.builds(lambda n: json.dumps({"encounters": [good(f"E{n}"), good(f"F{n}")]}), st.integers(0, 6)),
    st.sampled_from(["", "   ", "{", "[1, 2]", "42", "null", '{"id": "X\u2028Y"}', '"\u2028"', "\x1c", "\t"]),
)
BREAK = st.sampled_from(["\n", "\r\n", "\r", "\n\n"])


@st.composite
def files(draw) -> list[bytes]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        lines = draw(st.lists(st.tuples(LINE, BREAK), max_size=6))
        text = "".join(a + b for a, b in lines)
        if draw(st.booleans()) and lines:
            text = text.rstrip("\r\n")
        if draw(st.sampled_from([False, False, "whole", "list"])):
            text = json.dumps({"encounters": [good(f"W{k}") for k in range(draw(st.integers(0, 3)))]}, indent=1)
        data = text.encode()
        if draw(st.booleans()):
            data = b"\xef\xbb\xbf" + data
        if draw(st.integers(0, 5)) == 0:
            at = draw(st.integers(0, len(data)))
            data = data[:at] + b"\xff" + data[at:]
        out.append(data)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contents=files(), as_dir=st.booleans())
def test_stream_gives_what_reading_whole_files_gave(tmp_path_factory, contents, as_dir):
    d = tmp_path_factory.mktemp("in")
    paths = []
    for k, data in enumerate(contents):
        p = d / f"f{k}.jsonl"
        p.write_bytes(data)
        paths.append(p)
    args = [d] if as_dir else paths
    want_encs, want_findings = _reference(args)
    got_encs, got_findings = load_encounters(args, CFG)
    assert got_findings == want_findings
    assert [e.raw for e in got_encs] == [e.raw for e in want_encs]
    stream = iter_encounters(args, CFG)
    assert [e.raw for e in stream] == [e.raw for e in want_encs]
    assert stream.findings == want_findings and stream.count == len(want_encs)


def test_json_lines_are_not_read_whole(tmp_path, monkeypatch):
    p = tmp_path / "big.jsonl"
    p.write_text("\n".join(json.dumps(good(f"E{n}")) for n in range(50)) + "\n")
    parsed: list[str] = []
    real = loader._loads

    def counting(text: str):
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(loader, "_loads", counting)
    monkeypatch.setattr(Path, "read_bytes", lambda self: (_ for _ in ()).throw(AssertionError("read whole")))
    it = iter(iter_encounters([p], CFG))
    assert next(it).id == "E0"
    assert len(parsed) <= 2  # the first line to decide the format, then the first encounter
    assert [e.id for e in it] == [f"E{n}" for n in range(1, 50)]


def test_bad_byte_late_in_a_file_reads_it_as_the_whole_file_reader_does(tmp_path):
    p = tmp_path / "a.jsonl"
    q = tmp_path / "b.jsonl"
    lines = [json.dumps(good(f"E{n}")).encode() for n in range(5)]
    p.write_bytes(b"\n".join(lines[:4]) + b"\n" + b'{"id": "\xff"}\n')
    q.write_bytes(lines[0] + b"\n" + lines[4] + b"\n")
    encs, findings = load_encounters([p, q], CFG)
    assert [(f.code, f.file, f.line) for f in findings] == [
        ("bad-encoding", str(p), 5),
        ("duplicate-id", str(q), 1),
    ]
    assert [e.id for e in encs] == ["E0", "E1", "E2", "E3", "E4"]
    want = _reference([p, q])
    assert findings == want[1] and [e.raw for e in encs] == [e.raw for e in want[0]]
