"""Claims to a later payer: Loops 2320/2330A/2330B and 2430 (golden file, pyx12, our balancing edits)."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from coding.config import load_config
from coding.model import Coverage
from edi.validate.pyx12 import validate_text
from edi.x12.tokenizer import iter_segments
from edi.x837.cob import cas_segments
from edi.x837.edits import run_edits
from edi.x837.model import (
    Cas,
    ClaimPlan,
    Coordination,
    EnvelopeNumbers,
    InterchangePlan,
    LineAdjudication,
    OtherPayer,
    TransactionPlan,
    write_interchange,
)
from edi.x837.read import read_837
from tests.edi.x837.factory import NOW, encounter, line, patient

GOLDEN = Path(__file__).parent / "golden"
CONFIG = GOLDEN / "x837_config.toml"
D = Decimal
PAID_ON = date(2026, 4, 1)


def _plan(claim_type: str = "837P", tamper: bool = False) -> InterchangePlan:
    rev = (lambda r: r) if claim_type == "837I" else (lambda r: None)
    lines = [
        line("96365", "350.00", lcn="L1", rev=rev("0260")),
        line("J1745", "2390.15", units=35, mods=("JG",), lcn="L2", rev=rev("0636"), ndc="57894003001", qty="35"),
    ]
    setting = "hospital_outpatient" if claim_type == "837I" else "office"
    ce = encounter("SEC-1", setting=setting, lines=lines)
    cov = Coverage("commercial", "SUPP778899")
    first = [
        Cas("CO", "45", D("105.00")),
        Cas("PR", "1", D("50.00"), D("1")),
        Cas("PR", "2", D("39.00")),
    ]
    second = [Cas("CO", "45", D("717.04")), Cas("PR", "2", D("334.62"))]
    adj = [
        [LineAdjudication("00952", D("156.00"), "96365", (), D(1), PAID_ON, tuple(first), revenue_code=rev("0260"))],
        [
            LineAdjudication(
                "00952",
                D("1338.49") + (D("0.01") if tamper else 0),
                "J1745",
                ("JG",),
                D(35),
                PAID_ON,
                tuple(second),
                revenue_code=rev("0636"),
            )
        ],
    ]
    medicare = OtherPayer(
        "P",
        "18",
        "MB",
        "MEDICARE PART B",
        "00952",
        patient(member_id="1EG4TE5MK72"),
        D("1494.49"),
        D("423.62"),
        (),
        PAID_ON,
        "ICN1",
    )
    cob = Coordination("S", "commercial", cov, [medicare], adj)
    cp = ClaimPlan("SEC-1", ce, lines, cob=cob)
    return InterchangePlan(claim_type, [TransactionPlan("commercial", [cp])])  # type: ignore[arg-type]


def _write(plan: InterchangePlan) -> bytes:
    return write_interchange(plan, load_config(CONFIG), EnvelopeNumbers(9, 1009, [90], ["BATCH9"]), NOW)


def test_secondary_837p_matches_golden_and_validates() -> None:
    data = _write(_plan())
    path = GOLDEN / "837P_secondary.x12"
    if os.environ.get("DRIPLINE_REGEN_GOLDEN"):
        path.write_bytes(data)
    assert data.decode() == path.read_text()
    assert validate_text(data.decode(), "sec.x12") == []
    assert run_edits(read_837(data).claims, "sec.x12", strict=True) == []


def test_secondary_837i_validates() -> None:
    data = _write(_plan("837I"))
    assert validate_text(data.decode(), "sec-i.x12") == []
    assert run_edits(read_837(data).claims, "sec-i.x12", strict=True) == []
    text = data.decode()
    assert "SVD*00952*156*HC:96365*0260*1~" in text and "SBR*S*18*******CI~" in text


def test_balancing_edit_catches_a_line_and_claim_that_do_not_add_up() -> None:
    data = _write(_plan(tamper=True))
    codes = {f.code for f in run_edits(read_837(data).claims, "bad.x12", strict=True)}
    assert codes == {"cob-line-imbalance"}
    broken = data.replace(b"AMT*D*1494.49~", b"AMT*D*1494.5~")
    codes = {f.code for f in run_edits(read_837(broken).claims, "bad.x12", strict=True)}
    assert "cob-claim-imbalance" in codes


def test_a_prior_payer_loop_without_adjudication_is_not_balanced() -> None:
    """A 2320 that only names the other payer (no AMT*D, no CAS, no 2430: a repriced or
    not-yet-adjudicated claim) has nothing to balance against."""
    data = _write(_plan())
    text = data.decode()
    import re

    bare = re.sub(r"AMT\*D\*[^~]*~", "", text)
    bare = re.sub(r"CAS\*[^~]*~", "", bare)
    bare = re.sub(r"SVD\*[^~]*~", "", bare)
    bare = re.sub(r"DTP\*573\*[^~]*~", "", bare)
    assert bare != text
    codes = {f.code for f in run_edits(read_837(bare.encode()).claims, "bare.x12", strict=True)}
    assert not codes & {"cob-claim-imbalance", "cob-line-imbalance"}


_cas = st.builds(
    Cas,
    st.sampled_from(["CO", "PR", "OA", "PI", "CR"]),
    st.sampled_from(["1", "2", "3", "45", "50", "253", "A1"]),
    st.decimals(min_value=-99999, max_value=99999, places=2, allow_nan=False, allow_infinity=False),
    st.one_of(st.none(), st.decimals(min_value=1, max_value=999, places=0)),
)


@given(st.lists(_cas, max_size=14))
def test_cas_segments_read_back_to_the_same_adjustments(adjs: list[Cas]) -> None:
    segs = cas_segments(adjs)
    text = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *260101*1200*^*00501*000000001*0*T*:~"
    got: list[Cas] = []
    for seg in iter_segments(("".join([text, *(s + "~" for s in segs)])).encode()):
        if seg.id != "CAS":
            continue
        for k in range(2, len(seg.elements), 3):
            if seg.get(k):
                q = seg.get(k + 2)
                got.append(Cas(seg.get(1), seg.get(k), D(seg.get(k + 1)), D(q) if q else None))
    # same triplets per group, in order (segments are grouped by group code)
    for group in {a.group for a in adjs}:
        assert [a for a in got if a.group == group] == [a for a in adjs if a.group == group]
    assert all(len(s.split("*")) <= 20 for s in segs)


def test_secondary_of_a_spouse_has_the_patient_loop_and_validates() -> None:
    from dataclasses import replace

    plan = _plan()
    cp = plan.claims[0]
    assert cp.cob is not None
    spouse = patient("S1", first="JOHN", member_id="SPOUSE42")
    cp.cob.coverage = Coverage("commercial", "SPOUSE42", "spouse", spouse)
    cp.cob.other_payers[0] = replace(cp.cob.other_payers[0], relationship="01", subscriber=spouse)
    text = _write(plan).decode()
    assert "SBR*S********CI~" in text and "NM1*IL*1*DOE*JOHN****MI*SPOUSE42~" in text
    assert "HL*3*2*23*0~" in text and "PAT*01~" in text and "SBR*P*01*******MB~" in text
    assert validate_text(text, "spouse.x12") == []
    assert run_edits(read_837(text.encode()).claims, "spouse.x12", strict=True) == []
