"""A segment the reader cannot read to its end (an element past the tokenizer's limit) never moves
the segments after it onto the claim or service line before it; both drivers agree."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from edi.x12 import tokenizer
from edi.x835.model import UnreadableClaim, UnreadableLine
from edi.x835.reader import ACCELERATOR_AVAILABLE, read_835
from tests.edi.x835.test_cases import interchange, st_set, text

HUGE = "9" * (2 * tokenizer._MAX_SEGMENT)  # one element well past the limit

CLAIM1 = ["CLP*ENC1*1*100*80**12*PAYER1*11*1", "SVC*HC:96413*100*80**1", "CAS*CO*45*20", "REF*6R*L0001"]
CLAIM3 = ["CLP*ENC3*1*50*50**12*PAYER3*11*1", "SVC*HC:96372*50*50**1", "REF*6R*L0003"]
DRIVERS = [False, True] if ACCELERATOR_AVAILABLE else [False]


def read_835_with_findings(doc: bytes, accelerated: bool):
    file_findings: list = []
    rems = list(read_835(doc, findings=file_findings, accelerated=accelerated))
    return rems, file_findings + [f for r in rems for f in r.findings]


def _lost_clp(layout: str) -> str:
    body = [
        *CLAIM1,
        f"CLP*ENC2*1*{HUGE}*300**12*PAYER2*11*1",
        "SVC*HC:96415*200*150**1",
        "CAS*CO*45*50",
        "REF*6R*L0002",
        "SVC*HC:J9045*100*100**1",
        *CLAIM3,
    ]
    return text(interchange([st_set(body, "530")]), layout)


def _lost_svc(layout: str) -> str:
    body = [
        "CLP*ENC1*1*300*230**12*PAYER1*11*1",
        "SVC*HC:96413*100*80**1",
        "CAS*CO*45*20",
        "REF*6R*L0001",
        f"SVC*HC:96415*{HUGE}*150**1",
        "CAS*CO*45*50",
        "REF*6R*L0002",
        *CLAIM3,
    ]
    return text(interchange([st_set(body, "280")]), layout)


@pytest.mark.parametrize("accelerated", DRIVERS)
@pytest.mark.parametrize("layout", ["~\n", "~", "\n"])
def test_lost_clp_starts_an_unreadable_claim_not_lines_on_the_previous_one(accelerated, layout):
    rems, findings = read_835_with_findings(_lost_clp(layout).encode(), accelerated=accelerated)
    [rem] = rems
    c1, lost, c3 = rem.claims
    assert c1.patient_control_number == "ENC1" and [ln.code for ln in c1.lines] == ["96413"]
    assert c1.unreadable == "" and [a.amount for a in c1.lines[0].adjustments] == [D(20)]
    assert isinstance(lost, UnreadableClaim) and lost.unreadable
    assert lost.charge is None and lost.paid is None and lost.patient_control_number == ""
    assert [ln.code for ln in lost.lines] == ["96415", "J9045"]
    assert [a.amount for a in lost.lines[0].adjustments] == [D(50)] and lost.lines[0].line_control_number == "L0002"
    assert c3.patient_control_number == "ENC3" and c3.unreadable == "" and len(c3.lines) == 1
    [f] = [f for f in findings if f.code == "x835-unreadable-segment"]
    assert f.severity == "error" and f.segment == "CLP" and f.segment_number == 18 and f.loop == "2110"
    assert lost.segment_number == 18
    # the segment counts: SE01 still matches, so no envelope finding comes from the lost text
    assert not [f for f in findings if f.code in ("x12-se-count", "x835-unexpected-segment")]
    assert any(f.code == "x12-no-terminator" for f in findings)


@pytest.mark.parametrize("accelerated", DRIVERS)
@pytest.mark.parametrize("layout", ["~\n", "~"])
def test_lost_svc_ends_the_line_and_marks_its_claim(accelerated, layout):
    rems, findings = read_835_with_findings(_lost_svc(layout).encode(), accelerated=accelerated)
    [rem] = rems
    c1, c3 = rem.claims
    assert isinstance(c1, UnreadableClaim) and c1.patient_control_number == "ENC1" and c1.paid == D(230)
    first, placeholder = c1.lines
    # the CAS and REF after the lost SVC stay off the line before it
    assert [a.amount for a in first.adjustments] == [D(20)] and first.line_control_number == "L0001"
    assert isinstance(placeholder, UnreadableLine) and placeholder.charge is None
    assert [a.amount for a in placeholder.adjustments] == [D(50)] and placeholder.line_control_number == "L0002"
    assert c3.unreadable == ""
    [f] = [f for f in findings if f.code == "x835-unreadable-segment"]
    assert f.segment == "SVC" and f.encounter_id == "ENC1" and f.severity == "error"


def test_both_drivers_agree_on_unreadable_segments():
    if not ACCELERATOR_AVAILABLE:
        pytest.skip("compiled driver not built")
    for doc in (_lost_clp("~\n"), _lost_svc("~"), _lost_clp("~").replace("LX*1~", "")):
        pure = read_835_with_findings(doc.encode(), accelerated=False)
        fast = read_835_with_findings(doc.encode(), accelerated=True)
        assert pure == fast
        assert [type(c).__name__ for c in pure[0][0].claims] == [type(c).__name__ for c in fast[0][0].claims]


def test_other_readers_keep_the_tokenizer_default():
    """Only the 835 reader asks for the marker; the tokenizer's default is unchanged."""
    segs = list(tokenizer.iter_segments(_lost_clp("~\n").encode()))
    assert not any(s.id == tokenizer.UNREADABLE_SEGMENT for s in segs)
    marked = [els for els, _n, _l in tokenizer.X12Tokenizer(_lost_clp("~\n").encode(), mark_unreadable=True)]
    assert [tokenizer.UNREADABLE_SEGMENT, "CLP"] in marked


@pytest.mark.parametrize("layout", ["~\n", "~", "\n", "~\r\n"])
def test_marker_stands_where_the_segment_was_for_any_chunk_size(monkeypatch, layout):
    """The marker takes the lost segment's number and line, and every segment after it keeps its
    own, however the file is cut into chunks."""
    monkeypatch.setattr(tokenizer, "_MAX_SEGMENT", 128)  # above every other segment here
    body = [*CLAIM1, "CLP*ENC2*1*" + "7" * 600 + "*300", "SVC*HC:96415*200*150**1", *CLAIM3]
    doc = text(interchange([st_set(body, "530")]), layout).encode()
    short = text(interchange([st_set([*body[:4], "CLP*ENC2*1*7*300", *body[5:]], "530")]), layout).encode()
    want = [
        ([tokenizer.UNREADABLE_SEGMENT, "CLP"] if els[0] == "CLP" and els[1] == "ENC2" else els, num, line)
        for els, num, line in tokenizer.X12Tokenizer(short)
    ]
    for chunk in (1, 7, 13, 50):
        findings: list = []
        got = list(tokenizer.X12Tokenizer(doc, findings, chunk_chars=chunk, mark_unreadable=True))
        assert got == want, chunk
        assert [f.code for f in findings] == ["x12-no-terminator"]


# (where the lost segment stands, its text) -> (claim classes in order, pcn named by the finding)
POSITIONS = {
    "first CLP after LX": (0, f"CLP*ENC0*1*{HUGE}", ["UnreadableClaim", "Loop2100", "Loop2100"], None),
    "no id inside a claim": (2, HUGE, ["UnreadableClaim", "UnreadableClaim", "Loop2100"], None),
    "claim CAS": (4, f"CAS*CO*45*{HUGE}", ["UnreadableClaim", "Loop2100"], "ENC1"),
    "before the claims": (-1, f"REF*EV*{HUGE}", ["Loop2100", "Loop2100"], None),
}


@pytest.mark.parametrize("where", POSITIONS)
def test_lost_segment_anywhere(where):
    at, seg, kinds, pcn = POSITIONS[where]
    body = [*CLAIM1, *CLAIM3]
    if at < 0:
        doc = text(interchange([st_set(body, "130")])).replace("LX*1~", f"{seg}~\nLX*1~")
    else:
        doc = text(interchange([st_set([*body[:at], seg, *body[at:]], "130")]))
    results = [read_835_with_findings(doc.encode(), accelerated=a) for a in DRIVERS]
    assert all(r == results[0] for r in results)
    rems, findings = results[0]
    assert [type(c).__name__ for c in rems[0].claims] == kinds
    [f] = [f for f in findings if f.code == "x835-unreadable-segment"]
    assert f.encounter_id == pcn and f.severity == "error"
    # ENC1's own line never gets anything read after the lost segment
    enc1 = next(c for c in rems[0].claims if c.patient_control_number == "ENC1")
    assert [ln.code for ln in enc1.lines] == ["96413"]


def test_lost_segment_outside_any_set_is_a_file_finding():
    doc = text(interchange([st_set([*CLAIM1], "80")]))
    doc = doc.replace("GE*", f"ZZ*{HUGE}~\nGE*", 1)
    for a in DRIVERS:
        rems, findings = read_835_with_findings(doc.encode(), accelerated=a)
        assert [c.patient_control_number for c in rems[0].claims] == ["ENC1"]
        [f] = [f for f in findings if f.code == "x835-unreadable-segment"]
        assert f.segment == "ZZ" and f.loop is None
