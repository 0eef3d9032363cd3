"""The shared streaming X12 tokenizer: separators, layouts, several interchanges, truncation."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edi.x12.tokenizer import Separators, X12Tokenizer, iter_segments

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *200101*1200*^*00501*000000001*0*P*:"
BODY = [
    "GS*HP*S*R*20200101*1200*1*X*005010X221A1",
    "ST*835*0001",
    "CLP*PCN1*1*100*80**MC*X1*11",
    "SVC*HC:96413:59*100*80**1",
    "SE*4*0001",
    "GE*1*1",
    "IEA*1*000000001",
]


def doc(isa: str = ISA, body: list[str] = BODY, term: str = "~", after: str = "") -> str:
    return "".join(s + term + after for s in [isa, *body])


def ids(source, **kw) -> list[str]:
    return [s.id for s in iter_segments(source, **kw)]


EXPECTED = ["ISA", "GS", "ST", "CLP", "SVC", "SE", "GE", "IEA"]


@pytest.mark.parametrize("after", ["", "\n", "\r\n", "\r"])
def test_line_breaks_after_terminator_are_ignored(after: str) -> None:
    segs = list(iter_segments(doc(after=after)))
    assert [s.id for s in segs] == EXPECTED
    assert segs[3].elements[1] == "PCN1" and segs[3].number == 4


def test_bom_indentation_and_bytes_input() -> None:
    text = "\ufeff  " + doc(after="\r\n    ")
    assert ids(text.encode("utf-8")) == EXPECTED


def test_newline_as_segment_terminator() -> None:
    segs = list(iter_segments(doc(term="\n")))
    assert [s.id for s in segs] == EXPECTED
    assert segs[0].separators.segment == "\n"
    assert segs[4].components(1) == ["HC", "96413", "59"]
    assert [s.line for s in segs] == list(range(1, 9))


def test_crlf_as_segment_terminator() -> None:
    segs = list(iter_segments(doc(term="\r\n")))
    assert [s.id for s in segs] == EXPECTED
    assert all("\r" not in e for s in segs for e in s.elements)


def test_segments_wrapped_across_lines_are_rejoined() -> None:
    text = doc()
    wrapped = "\n".join(text[i : i + 50] for i in range(0, len(text), 50))
    segs = list(iter_segments(wrapped))
    assert [s.id for s in segs] == EXPECTED
    assert [s.elements for s in segs] == [s.elements for s in iter_segments(text)]


def test_unusual_separators_read_from_isa() -> None:
    isa = ISA.replace("*", "|").replace("|^|", "|!|")[:-1] + "^"
    body = [b.replace("*", "|").replace(":", "^") for b in BODY]
    segs = list(iter_segments(doc(isa, body, term="\n")))
    assert [s.id for s in segs] == EXPECTED
    assert segs[0].separators == Separators("|", "^", "!", "\n")
    assert segs[4].components(1) == ["HC", "96413", "59"]


def test_short_isa_is_read_by_counting_elements() -> None:
    short = "ISA*00* *00* *ZZ*NVMED *ZZ*99999999*180613*1230*^*00501*100000300*0*P*:"
    segs = list(iter_segments(doc(short)))
    assert [s.id for s in segs] == EXPECTED and segs[0].get(16) == ":"


def test_two_interchanges_each_with_own_separators() -> None:
    isa2 = ISA.replace("*", "|")[:-1] + ">"
    body2 = [b.replace("*", "|").replace(":", ">") for b in BODY]
    text = doc() + "\n" + doc(isa2, body2, term="'", after="\n")
    findings: list = []
    segs = list(iter_segments(text, findings))
    assert [s.id for s in segs] == EXPECTED * 2
    assert findings == []
    assert segs[12].components(1) == ["HC", "96413", "59"]
    assert segs[12].separators.element == "|"
    assert [s.number for s in segs] == list(range(1, 17))


def test_second_isa_without_iea_is_still_read() -> None:
    text = doc(body=BODY[:-1]) + doc()
    assert ids(text) == EXPECTED[:-1] + EXPECTED


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 105, 106, 107])
def test_chunk_boundaries_do_not_change_the_result(chunk: int) -> None:
    text = doc(after="\r\n") + doc(ISA.replace("*", "|")[:-1] + ">", [b.replace("*", "|") for b in BODY], term="\n")
    tok = X12Tokenizer(io.BytesIO(text.encode()), chunk_chars=chunk)
    got = [els for els, _, _ in tok]
    assert got == [s.elements for s in iter_segments(text)]
    assert len(got) == 16


def test_truncated_file_yields_what_it_can_and_a_finding() -> None:
    text = doc()
    cut = text.index("SVC") + 10
    findings: list = []
    segs = list(iter_segments(text[:cut], findings, filename="t.835"))
    assert [s.id for s in segs] == ["ISA", "GS", "ST", "CLP", "SVC"]
    assert [f.code for f in findings] == ["x12-unterminated-segment"]
    assert findings[0].file == "t.835"


def test_not_x12_gives_finding_and_no_segments() -> None:
    findings: list = []
    assert list(iter_segments(b"hello world, this is not an interchange", findings)) == []
    assert findings[0].code == "x12-not-an-interchange"


def test_headerless_file_guesses_separators() -> None:
    findings: list = []
    segs = list(iter_segments("ST*835*1~CLP*A*1*10*10~SVC*HC>99213*10*10~SE*4*1~", findings))
    assert [s.id for s in segs] == ["ST", "CLP", "SVC", "SE"]
    assert segs[2].components(1) == ["HC", "99213"]
    assert findings[0].code == "x12-no-interchange-header"


def test_path_input(tmp_path) -> None:
    p = tmp_path / "a.835"
    p.write_text(doc(after="\n"))
    assert ids(p) == EXPECTED and ids(str(p)) == EXPECTED


def test_segment_helpers() -> None:
    seg = list(iter_segments(doc()))[3]
    assert seg.get(1) == "PCN1" and seg.get(5) == "" and seg.get(5, "x") == "x" and seg.get(99) == ""
    assert seg.components(99) == []
    assert seg.text() == BODY[2]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.integers(min_value=1, max_value=50))
def test_random_bytes_never_raise(data: bytes, chunk: int) -> None:
    findings: list = []
    for els, _, _ in X12Tokenizer(io.BytesIO(doc().encode()[:60] + data), findings, chunk_chars=chunk):
        assert isinstance(els, list) and els


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.binary(min_size=1, max_size=3))
def test_mutated_interchange_never_raises(pos: int, junk: bytes) -> None:
    raw = doc(after="\n").encode()
    pos = min(pos, len(raw))
    list(iter_segments(raw[:pos] + junk + raw[pos + 1 :], []))


@pytest.mark.parametrize("after", ["\n", "\r\n", "\n\n", "", "\n  "])
@pytest.mark.parametrize("chunk", [1, 5, 33, 1 << 18])
def test_line_numbers_for_every_layout_and_chunk_size(after: str, chunk: int) -> None:
    text = doc(after=after)
    expected = []
    line = 1
    for s in text.split("~")[:-1]:
        line += len(s) - len(s.lstrip("\r\n \t")) and s[: len(s) - len(s.lstrip())].count("\n")
        expected.append(line)
    got = [ln for _, _, ln in X12Tokenizer(io.BytesIO(text.encode()), chunk_chars=chunk)]
    assert got == expected


def test_a_run_without_terminator_is_skipped_with_a_finding_and_memory_stays_bounded() -> None:
    text = doc(body=BODY[:3]) + "X" * (3 << 20) + "~" + "".join(s + "~" for s in BODY[3:])
    findings: list = []
    segs = list(iter_segments(text.encode(), findings))
    assert "x12-no-terminator" in [f.code for f in findings]
    assert [s.id for s in segs][:4] == ["ISA", "GS", "ST", "CLP"] and segs[-1].id == "IEA"
