"""Splitting a batch for parallel validation: pieces are valid interchanges that map back exactly."""

from __future__ import annotations

import sys
from pathlib import Path

from edi.validate.pyx12 import validate_file, validate_text
from edi.x12 import split
from edi.x12.split import envelope_ok, make_pieces

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from bench_837 import make_coded, write_file


def split_segments(text: str) -> tuple[list[str], str, str]:
    """The segments and separators of a text the splitter can read."""
    got = split.split_segments(text)
    assert got is not None
    return got


def _batch(tmp_path, n=120):
    p = tmp_path / "b.837"
    write_file(make_coded(n, seed=2), p)
    return p


def test_pieces_cover_every_segment_and_validate_alone(tmp_path):
    text = _batch(tmp_path).read_text()
    segs, elem, term = split_segments(text)
    assert envelope_ok(segs, elem)
    pieces = make_pieces(segs, elem, term, 300)
    assert len(pieces) > 2
    covered = {n for pc in pieces for n in pc.lines}
    assert covered == set(range(1, len(segs) + 1))
    for pc in pieces:
        assert len(pc.segments) == len(pc.lines)
        assert validate_text(pc.text(term)) == []
        for seg, n in zip(pc.segments, pc.lines):
            if not seg.startswith(("HL*", "SE*", "GE*", "IEA*")):
                assert seg == segs[n - 1]  # every other segment is the original, unchanged


def test_broken_envelope_falls_back_to_one_pass(tmp_path):
    p = _batch(tmp_path, 60)
    _segs, elem, _ = split_segments(p.read_text())
    bad = p.read_text().replace("\nSE*", "\nSE*9", 1)  # wrong segment count
    assert not envelope_ok(split_segments(bad)[0], elem)
    p.write_text(bad)
    one, two = validate_file(p, 1), validate_file(p, 2)
    key = lambda fs: sorted(map(repr, fs))  # noqa: E731
    assert one and key(one) == key(two)


def test_hl_numbering_errors_are_not_hidden_by_renumbering(tmp_path):
    p = _batch(tmp_path, 60)
    text = p.read_text().replace("HL*5*1*22*0", "HL*7*1*22*0", 1)
    p.write_text(text)
    assert not envelope_ok(*split_segments(text)[:2])
    assert any(f.code == "x12-hl1" for f in validate_file(p, 2))


def test_file_that_is_not_ascii_reports_encoding(tmp_path):
    p = tmp_path / "latin.837"
    p.write_bytes(_batch(tmp_path, 5).read_bytes().replace(b"NM1*IL*1*", b"NM1*IL*1*\xe9", 1))
    (f,) = validate_file(p, 2)
    assert f.code == "x12-encoding" and "offset" in f.message


def test_utf8_byte_order_mark_is_read_as_the_x12_readers_read_it(tmp_path):
    plain = _batch(tmp_path, 5)
    text = plain.read_text().replace("HL*3*", "HL*9*", 1)  # one pyx12 finding, so positions are compared
    assert text != plain.read_text()
    plain.write_text(text)
    bom = tmp_path / "bom.837"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    for jobs in (1, 2):
        with_bom = validate_file(bom, jobs)
        assert with_bom and all(f.code != "x12-encoding" for f in with_bom)
        assert [(f.code, f.line, f.segment_number) for f in with_bom] == [
            (f.code, f.line, f.segment_number) for f in validate_file(plain, jobs)
        ]


def test_835_with_several_st_sets_validates_the_same_in_parallel(corpus_dir, tmp_path):
    src = (corpus_dir / "835" / "kputnam_stupidedi__X221A1_era-sample.edi").read_text()
    head, rest = src.split("ST*835*35681~", 1)
    body, tail = rest.split("SE*", 1)
    se_count, trailer = tail.split("~", 1)[0], tail.split("~", 1)[1]
    sets = [f"ST*835*{3568 + i}~{body}SE*{se_count.split('*')[0]}*{3568 + i}~" for i in range(6)]
    sets[3] = sets[3].replace("CLP*7722337*1*226*132", "CLP*7722337*Q*226*132", 1)  # invalid status code
    text = head + "".join(sets) + trailer.replace("GE*1*278", "GE*6*278")
    p = tmp_path / "multi.835"
    p.write_text(text)
    assert envelope_ok(*split_segments(text)[:2])
    one, two = validate_file(p, 1), validate_file(p, 2)
    key = lambda fs: sorted(map(repr, fs))  # noqa: E731
    assert one and key(one) == key(two)
