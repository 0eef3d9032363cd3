"""999/997 and 277CA readers: corpus files never raise; sets, errors and claim statuses are read."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from edi.ack.read import read_ack


def _corpus_files(corpus: Path) -> list[Path]:
    files = sorted((corpus / "999").glob("*")) + sorted((corpus / "277CA").glob("*"))
    return [f for f in files if f.is_file()]


def test_every_corpus_999_and_277ca_reads_without_exception(corpus_dir: Path) -> None:
    files = _corpus_files(corpus_dir)
    assert len(files) >= 10
    for f in files:
        doc = read_ack(f)
        expected = "277CA" if f.parent.name == "277CA" else "999"
        assert doc.kind == expected, f.name
        if expected == "999":
            assert doc.groups and all(g.sets for g in doc.groups), f.name
        for finding in doc.findings:
            assert finding.file == str(f)


def test_corpus_999_partial_acceptance_with_errors(corpus_dir: Path) -> None:
    doc = read_ack(corpus_dir / "999" / "Inteligenz_X12Parser__DHS_Wisconsin_Sample.txt")  # BOM + indented
    [g] = doc.groups
    assert (g.functional_id, g.group_control_number, g.code) == ("HC", "17456", "P")
    assert (g.sets_included, g.sets_received, g.sets_accepted) == (3, 3, 1)
    assert [(s.control_number, s.accepted) for s in g.sets] == [("0001", True), ("002", False), ("0003", False)]
    clm = g.sets[1].errors[0]
    assert (clm.segment_id, clm.segment_position, clm.code) == ("CLM", 22, "8")
    assert (clm.element_position, clm.element_reference, clm.element_code, clm.claim) == ("2", "782", "1", "123456789")
    assert g.sets[1].set_errors == ["5"]
    assert "CLM02" in clm.message and "required element missing" in clm.message
    assert g.sets[2].errors[0].claim == "987654321"


def test_corpus_999_pipe_component_separator_and_rejection(corpus_dir: Path) -> None:
    doc = read_ack(corpus_dir / "999" / "imsweb_x12-parser__x12_999_rejected.txt")
    [g] = doc.groups
    assert g.code == "R" and g.sets[0].accepted is False and g.sets[0].control_number == "0028"


def test_corpus_277ca_rejected_single_stream_pipe(corpus_dir: Path) -> None:
    doc = read_ack(corpus_dir / "277CA" / "imsweb_x12-parser__x12_277CA_rejected.txt")
    [c] = doc.claims
    assert c.patient_control_number == "3920394930203"
    assert [(s.category, s.status, s.entity) for s in c.statuses] == [("A7", "562", "85")]
    assert c.payer_claim_number == "1107000000001120" and c.charge == Decimal("199.14")
    assert c.bill_type == "731"
    # the receiver-level A1 acknowledgment is a batch status, not a claim
    assert [s.category for s in doc.batch_statuses] == ["A1"]


def test_corpus_277ca_truncated_file_reports_finding(corpus_dir: Path) -> None:
    doc = read_ack(corpus_dir / "277CA" / "Inteligenz_X12Parser__FromBogeyone.txt")
    assert doc.claims == []
    assert any(f.code == "ack-truncated" for f in doc.findings)


SAMPLE_999 = (
    "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*DRIPLINE01     *260301*1200*^*00501*000000077*0*T*:~"
    "GS*FA*CLEARHOUSE01*DRIPLINE01*20260301*1200*77*X*005010X231A1~"
    "ST*999*0001*005010X231A1~AK1*HC*5*005010X222A1~"
    "AK2*837*0001*005010X222A1~IK5*A~"
    "AK2*837*0002*005010X222A1~IK3*SV1*14*2400*8~CTX*CLM01:ENC-9~IK4*2*782*1~IK4*4*380*7~IK5*R*5~"
    "AK9*P*2*2*1~SE*12*0001~GE*1*77~IEA*1*000000077~"
)


def test_two_element_errors_on_one_segment_are_both_kept() -> None:
    doc = read_ack(SAMPLE_999.encode())
    [g] = doc.groups
    errs = g.sets[1].errors
    assert [(e.segment_id, e.element_position, e.element_code, e.claim) for e in errs] == [
        ("SV1", "2", "1", "ENC-9"),
        ("SV1", "4", "7", "ENC-9"),
    ]
    assert doc.findings == []  # well-formed, SE count right


def test_997_is_read_like_999() -> None:
    text = (
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *260301*1200*^*00401*000000001*0*T*:~"
        "GS*FA*A*B*20260301*1200*9*X*004010~ST*997*0001~AK1*HC*12~AK2*837*0003~"
        "AK3*NM1*8*2010BA*8~AK4*9*67*1~AK5*R*5~AK9*R*1*1*0~SE*8*0001~GE*1*9~IEA*1*000000001~"
    )
    doc = read_ack(text)
    assert doc.kind == "997"
    [g] = doc.groups
    assert g.kind == "997" and g.code == "R"
    [s] = g.sets
    assert s.accepted is False and s.errors[0].segment_id == "NM1" and s.errors[0].element_code == "1"


def test_missing_ik5_and_bad_code_are_findings_not_exceptions() -> None:
    text = SAMPLE_999.replace("IK5*A~", "").replace("IK5*R*5~", "IK5*Q~")
    doc = read_ack(text)
    codes = {f.code for f in doc.findings}
    assert {"ack-missing-segment", "ack-unknown-code", "ack-segment-count"} <= codes
    assert [s.accepted for s in doc.groups[0].sets] == [None, None]


def test_not_an_acknowledgment() -> None:
    doc = read_ack(b"hello, this is not X12")
    assert doc.kind == "unknown" and any(f.code == "ack-empty" for f in doc.findings)


def test_277ca_lines_payer_claim_number_and_pcn_fallback() -> None:
    text = (
        "ISA*00*          *00*          *ZZ*P              *ZZ*R              *260301*1200*^*00501*000000001*0*T*:~"
        "GS*HN*P*R*20260301*1200*1*X*005010X214~ST*277*0001*005010X214~BHT*0085*08*1*20260301*1200*TH~"
        "HL*1**20*1~NM1*PR*2*PAYER*****PI*1~TRN*1*1~DTP*050*D8*20260301~DTP*009*D8*20260301~"
        "HL*2*1*21*1~NM1*41*2*SUB*****46*S~TRN*2*B1~STC*A1:19:PR*20260301*WQ*300~"
        "HL*3*2*19*1~NM1*85*2*PROV*****XX*1234567893~TRN*1*0~STC*A1:19:PR**WQ*300~"
        "HL*4*3*PT~NM1*QC*1*X*Y****MI*Z~TRN*2*ENC-1~STC*A2:20:PR*20260301*WQ*300~REF*1K*ICN77~"
        "DTP*472*D8*20260302~SVC*HC:96365*300*****1~STC*A2:20*20260301~REF*FJ*101~DTP*472*D8*20260302~"
        "TRN*2*~STC*A3:21*20260301*U*50~REF*EJ*ENC-2~DTP*472*D8*20260302~"
        "SE*30*0001~GE*1*1~IEA*1*000000001~"
    )
    doc = read_ack(text)
    assert [c.patient_control_number for c in doc.claims] == ["ENC-1", "ENC-2"]
    c1 = doc.claims[0]
    assert c1.payer_claim_number == "ICN77" and c1.charge == Decimal("300") and c1.service_date == "20260302"
    assert [(ln.code, ln.line_control_number, [s.category for s in ln.statuses]) for ln in c1.lines] == [
        ("96365", "101", ["A2"])
    ]
    assert [s.category for s in doc.batch_statuses] == ["A1", "A1"]
    assert not [f for f in doc.findings if f.severity != "info"]


@pytest.mark.parametrize("seed", range(20))
def test_random_mutations_of_corpus_never_raise(corpus_dir: Path, seed: int) -> None:
    rng = random.Random(seed)
    files = _corpus_files(corpus_dir)
    data = bytearray(rng.choice(files).read_bytes())
    for _ in range(rng.randint(1, 30)):
        op = rng.random()
        pos = rng.randrange(len(data)) if data else 0
        if op < 0.4 and data:
            data[pos] = rng.choice(b"*~:|^\n\r ABZ09\xff")
        elif op < 0.7 and data:
            del data[pos : pos + rng.randint(1, 40)]
        else:
            data[pos:pos] = bytes(rng.choice(b"*~:AK2IK5STCTRN") for _ in range(rng.randint(1, 10)))
    doc = read_ack(bytes(data))
    doc.to_dict()  # serializable whatever was read


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_CODES = st.sampled_from(["A", "E", "R", "M", "W", "X"])
_ERR = st.tuples(
    st.sampled_from(["CLM", "SV1", "NM1", "REF", "HI"]),
    st.integers(1, 999),
    st.sampled_from(["", "2300", "2400"]),
    st.sampled_from(["1", "2", "3", "8", "I4"]),
    st.one_of(st.none(), st.tuples(st.integers(1, 20), st.sampled_from(["1", "4", "7", "I12"]))),
    st.one_of(st.none(), st.from_regex(r"[A-Z0-9-]{1,12}", fullmatch=True)),
)
_SET = st.tuples(st.integers(1, 999999), _CODES, st.lists(_ERR, max_size=3))
_SEPS = st.sampled_from([("*", ":", "~", "^"), ("|", ">", "~", "^"), ("*", "|", "\n", "^"), ("!", ":", "'", "}")])


@settings(max_examples=60, deadline=None)
@given(
    groups=st.lists(
        st.tuples(st.integers(1, 999999999), st.lists(_SET, min_size=1, max_size=4)), min_size=1, max_size=3
    ),
    seps=_SEPS,
    bom=st.booleans(),
    newline=st.booleans(),
)
def test_generated_999_reads_back(groups, seps, bom, newline) -> None:
    el, comp, term, rep = seps
    brk = "\n" if newline and term != "\n" else ""

    def seg(*parts: str) -> str:
        return el.join(parts) + term + brk

    out = [
        "ISA"
        + el
        + el.join(
            [
                "00",
                " " * 10,
                "00",
                " " * 10,
                "ZZ",
                "CH".ljust(15),
                "ZZ",
                "US".ljust(15),
                "260301",
                "1200",
                rep,
                "00501",
                "000000001",
                "0",
                "T",
                comp,
            ]
        )
        + term
        + brk
    ]
    out.append(seg("GS", "FA", "CH", "US", "20260301", "1200", "1", "X", "005010X231A1"))
    for n, (gs06, sets) in enumerate(groups, 1):
        body = [seg("ST", "999", f"{n:04d}", "005010X231A1"), seg("AK1", "HC", str(gs06), "005010X222A1")]
        for st02, code, errors in sets:
            body.append(seg("AK2", "837", f"{st02:04d}"))
            for sid, pos, loop, ecode, element, claim in errors:
                body.append(seg("IK3", sid, str(pos), loop, ecode))
                if claim:
                    body.append(seg("CTX", f"CLM01{comp}{claim}"))
                if element:
                    body.append(seg("IK4", str(element[0]), "", element[1]))
            body.append(seg("IK5", code, *(["5"] if code not in ("A",) else [])))
        accepted = sum(1 for s in sets if s[1] in ("A", "E"))
        body.append(
            seg(
                "AK9",
                "A" if accepted == len(sets) else "R" if not accepted else "P",
                str(len(sets)),
                str(len(sets)),
                str(accepted),
            )
        )
        body.append(seg("SE", str(len(body) + 1), f"{n:04d}"))
        out += body
    out.append(seg("GE", str(len(groups)), "1"))
    out.append(seg("IEA", "1", "000000001"))
    data = ("\ufeff" if bom else "") + "".join(out)
    doc = read_ack(data.encode())
    assert doc.kind == "999"
    assert [f for f in doc.findings if f.severity != "info"] == []
    assert [g.group_control_number for g in doc.groups] == [str(g[0]) for g in groups]
    for g, (_, sets) in zip(doc.groups, groups):
        assert [(s.control_number, s.code) for s in g.sets] == [(f"{x[0]:04d}", x[1]) for x in sets]
        for s, (_, code, errors) in zip(g.sets, sets):
            assert s.accepted is (code in ("A", "E"))
            assert [(e.segment_id, e.segment_position, e.code, e.claim) for e in s.errors] == [
                (sid, pos, ecode, claim) for sid, pos, _, ecode, _, claim in errors
            ]
            assert [e.element_code for e in s.errors] == [el_[1] if el_ else None for *_, el_, _ in errors]


_CLAIM = st.tuples(
    st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,19}", fullmatch=True),
    st.lists(
        st.tuples(
            st.sampled_from(["A1", "A2", "A3", "A6", "A7", "A8", "P1", "F1"]),
            st.sampled_from(["19", "20", "21", "562", ""]),
            st.sampled_from(["PR", "85", "41", ""]),
        ),
        min_size=1,
        max_size=3,
    ),
    st.one_of(st.none(), st.from_regex(r"[0-9]{5,15}", fullmatch=True)),
    st.decimals(min_value=0, max_value=99999, places=2),
)


@settings(max_examples=60, deadline=None)
@given(claims=st.lists(_CLAIM, min_size=1, max_size=5), seps=_SEPS)
def test_generated_277ca_reads_back(claims, seps) -> None:
    el, comp, term, rep = seps

    def seg(*parts: str) -> str:
        return el.join(parts) + term

    def stc(category: str, status: str, entity: str) -> str:
        return comp.join(p for p in (category, status, entity) if p) if not entity or status else category

    head = [
        "ISA"
        + el
        + el.join(
            [
                "00",
                " " * 10,
                "00",
                " " * 10,
                "ZZ",
                "P".ljust(15),
                "ZZ",
                "R".ljust(15),
                "260301",
                "1200",
                rep,
                "00501",
                "000000001",
                "0",
                "T",
                comp,
            ]
        )
        + term,
        seg("GS", "HN", "P", "R", "20260301", "1200", "1", "X", "005010X214"),
        seg("ST", "277", "0001", "005010X214"),
        seg("BHT", "0085", "08", "1", "20260301", "1200", "TH"),
        seg("HL", "1", "", "20", "1"),
        seg("NM1", "PR", "2", "PAYER", "", "", "", "", "PI", "1"),
        seg("TRN", "1", "1"),
        seg("HL", "2", "1", "21", "1"),
        seg("TRN", "2", "B"),
        seg("STC", f"A1{comp}19", "20260301", "WQ", "1"),
        seg("HL", "3", "2", "19", "1"),
        seg("TRN", "1", "0"),
    ]
    body = []
    for i, (pcn, statuses, icn, charge) in enumerate(claims):
        body += [seg("HL", str(4 + i), "3", "PT"), seg("TRN", "2", pcn)]
        first, *more = statuses
        extra = [""] * 5 + [stc(*s) for s in more]
        body.append(seg("STC", stc(*first), "20260301", "WQ", str(charge), *extra))
        if icn:
            body.append(seg("REF", "1K", icn))
    count = len(head) - 2 + len(body) + 1
    text = "".join(head + body + [seg("SE", str(count), "0001"), seg("GE", "1", "1"), seg("IEA", "1", "000000001")])
    doc = read_ack(text.encode())
    assert doc.kind == "277CA"
    assert [f for f in doc.findings if f.severity != "info"] == []
    assert [c.patient_control_number for c in doc.claims] == [c[0] for c in claims]
    for got, (_pcn, statuses, icn, charge) in zip(doc.claims, claims):
        assert [s.category for s in got.statuses] == [s[0] for s in statuses]
        assert got.payer_claim_number == icn and got.charge == charge
