"""Our own 837 edits, each shown firing on a broken file and silent on a good one."""

from __future__ import annotations

import pytest

from coding.config import load_config
from edi.x837.edits import run_edits
from edi.x837.model import EnvelopeNumbers, plan_interchanges, write_interchange
from edi.x837.read import read_837
from tests.edi.x837.factory import NOW, assign_lcns, encounter, line, office_set

CFG = load_config()


def _good() -> str:
    coded = office_set()
    assign_lcns(coded)
    plans, _ = plan_interchanges(coded, CFG)
    return write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1, 2], ["A", "B"]), NOW).decode()


def _codes(text: str, strict: bool = True) -> dict[str, str]:
    return {f.code: f.severity for f in run_edits(read_837(text.encode()).claims, "t.x12", strict=strict)}


def test_good_file_passes_every_edit():
    assert _codes(_good()) == {}


@pytest.mark.parametrize(
    "old,new,code",
    [
        ("CLM*ENC-P-001*810.41*", "CLM*ENC-P-001*810.40*", "claim-charge-mismatch"),
        ("NM1*82*1*MORGAN*ALEX****XX*1987654328", "NM1*82*1*MORGAN*ALEX****XX*1987654321", "bad-npi"),
        (
            "NM1*85*2*RIVERSIDE INFUSION CENTER*****XX*1234567893",
            "NM1*85*2*RIVERSIDE INFUSION CENTER*****XX*1234567890",
            "bad-npi",
        ),
        ("LIN**N4*57894003001", "LIN**N4*5789400300", "bad-ndc"),
        ("CTP****3.5*UN", "CTP****0*UN", "missing-ndc-quantity"),
        ("CTP****3.5*UN~\n", "", "missing-ndc-quantity"),
        ("SV1*HC:96375*55", "SV1*HC:J1745:JW*55", "jw-jz-conflict"),
        ("REF*F8*PCN7788990011~\n", "", "missing-payer-claim-number"),
        ("HI*ABK:K5090*ABF:D509", "HI*ABK:K5090*ABF:5D09", "bad-icd10"),
        ("REF*6R*L00000002", "REF*6R*L00000001", "duplicate-line-control-number"),
    ],
)
def test_edit_fires(old, new, code):
    text = _good()
    assert old in text
    found = _codes(text.replace(old, new, 1))
    assert found.get(code) == "error", found


def test_missing_line_control_number_is_a_warning():
    text = _good().replace("REF*6R*L00000004~\n", "", 1)
    assert _codes(text) == {"missing-line-control-number": "warning"}


def test_npi_check_is_a_warning_for_foreign_files():
    text = _good().replace("XX*1987654328", "XX*1987654321", 1)
    assert _codes(text, strict=False) == {"bad-npi": "warning"}


def test_jw_and_jz_on_different_dates_are_fine():
    from datetime import date

    ce = encounter(
        "E1",
        lines=[
            line("J1745", "31", 3, ("JZ",), day=date(2026, 3, 2)),
            line("J1745", "31", 3, ("JW",), day=date(2026, 3, 3)),
        ],
    )
    assign_lcns([ce])
    plans, _ = plan_interchanges([ce], CFG)
    data = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["A"]), NOW)
    assert run_edits(read_837(data).claims, strict=True) == []


def test_findings_carry_position():
    text = _good().replace("CLM*ENC-P-001*810.41*", "CLM*ENC-P-001*1*", 1)
    (f,) = run_edits(read_837(text.encode()).claims, "t.x12", strict=True)
    assert (f.file, f.segment, f.loop, f.element) == ("t.x12", "CLM", "2000A/2000B/2300", "CLM02")
    assert f.line == 21 and f.segment_number == 21  # the CLM is the 21st segment (and line) of the file
    one_line = run_edits(read_837(text.replace("~\n", "~").encode()).claims, "t.x12", strict=True)
    assert [(g.line, g.segment_number) for g in one_line] == [(1, 21)]


def test_loop_paths_follow_the_guide():
    text = _good()
    text = text.replace("LIN**N4*57894003001", "LIN**N4*5789400300", 1)  # 2410 under a self-subscriber claim
    text = text.replace("XX*1987654328", "XX*1987654321", 1)  # rendering provider 2310B
    text = text.replace("CLM*ENC-P-002*2130*", "CLM*ENC-P-002*2131*", 1)  # dependent: claim under 2000C
    loops = {f.code: f.loop for f in run_edits(read_837(text.encode()).claims, "t.x12", strict=True)}
    assert loops == {
        "bad-ndc": "2000A/2000B/2300/2400/2410",
        "bad-npi": "2000A/2000B/2300/2310B",
        "claim-charge-mismatch": "2000A/2000B/2000C/2300",
    }
