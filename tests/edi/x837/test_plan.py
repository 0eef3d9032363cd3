"""Batching rules: claim types never mixed, one ST per payer, 50-line split, nothing dropped silently."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from coding.config import load_config
from coding.findings import error
from coding.model import Address
from edi.validate.pyx12 import validate_text
from edi.x837.model import EnvelopeNumbers, plan_interchanges, write_interchange
from edi.x837.plan import part_pcn
from edi.x837.read import read_837
from tests.edi.x837.factory import NOW, assign_lcns, encounter, hospital_set, line, office_set, patient

CFG = load_config()


def _codes(findings, enc_id=None):
    return {f.code for f in findings if enc_id is None or f.encounter_id == enc_id}


def test_claim_types_never_mixed_and_one_st_per_payer():
    plans, _findings = plan_interchanges(office_set() + hospital_set(), CFG)
    assert [p.claim_type for p in plans] == ["837P", "837I"]
    for p in plans:
        assert all(c.coded.claim_type == p.claim_type for c in p.claims)
        keys = [t.payer_key for t in p.transactions]
        assert len(keys) == len(set(keys))
        for t in p.transactions:
            assert {c.coded.encounter.payer for c in t.claims} == {t.payer_key}


def test_837p_claim_over_50_lines_is_split_with_finding():
    lines = [line("96372", "45.00", day=date(2026, 3, 1 + i % 20)) for i in range(123)]
    ce = encounter("ENC-LONG-0000000001", lines=lines)  # 19 chars
    plans, findings = plan_interchanges([ce], CFG)
    claims = plans[0].claims
    assert [len(c.lines) for c in claims] == [50, 50, 23]
    assert [c.patient_control_number for c in claims] == [
        "ENC-LONG-000000000-1",
        "ENC-LONG-000000000-2",
        "ENC-LONG-000000000-3",
    ]
    assert all(len(c.patient_control_number) <= 20 for c in claims)
    assert [ln for c in claims for ln in c.lines] == lines  # every line kept, in order
    assert "claim-split" in _codes(findings)
    assign_lcns([ce])
    data = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["S"]), NOW)
    assert validate_text(data.decode()) == []
    assert [sum(ln.charge for ln in c.lines) for c in read_837(data).claims] == [
        c.charge for c in read_837(data).claims
    ]


def test_837i_with_many_lines_is_not_split():
    ce = encounter(
        "ENC-I-LONG", setting="hospital_outpatient", lines=[line("96372", "45.00", rev="0260") for _ in range(80)]
    )
    plans, findings = plan_interchanges([ce], CFG)
    assert len(plans[0].claims) == 1 and "claim-split" not in _codes(findings)


def test_part_pcn_fits_20_characters():
    assert part_pcn("X" * 20, 3) == "X" * 18 + "-3"
    assert len(part_pcn("Y" * 20, 100)) == 20


@pytest.mark.parametrize(
    "make,code",
    [
        (lambda: encounter("E1", lines=[]), "no-billable-lines"),
        (lambda: encounter("E1", payer="nobody", lines=[line("96372", "45")]), "unknown-payer"),
        (lambda: encounter("E1", diagnoses=(), lines=[line("96372", "45")]), "no-diagnosis"),
        (lambda: encounter("E1", patient=patient(last="~*:^"), lines=[line("96372", "45")]), "unusable-text"),
        (lambda: encounter("E1", patient=patient(member_id="**"), lines=[line("96372", "45")]), "unusable-text"),
        (
            lambda: encounter(
                "E1", patient=patient(address=Address("1 A ST", "X", "IL", "62704")), lines=[line("96372", "45")]
            ),
            "unusable-text",
        ),
        (
            lambda: encounter(
                "E1", patient=patient(address=Address("1 A ST", "CITY", "I1", "62704")), lines=[line("96372", "45")]
            ),
            "bad-state",
        ),
        (
            lambda: encounter(
                "E1", patient=patient(address=Address("1 A ST", "CITY", "IL", "627")), lines=[line("96372", "45")]
            ),
            "bad-zip",
        ),
        (lambda: encounter("E1", setting="hospital_outpatient", lines=[line("96372", "45")]), "missing-revenue-code"),
        (lambda: encounter("E~1", lines=[line("96372", "45")]), "bad-patient-control-number"),
        (lambda: encounter("E" * 21, lines=[line("96372", "45")]), "bad-patient-control-number"),
    ],
)
def test_unbillable_encounter_is_left_out_with_error_finding(make, code):
    ok = encounter("OK1", lines=[line("96372", "45")])
    bad = make()
    plans, findings = plan_interchanges([bad, ok], CFG)
    assert [c.patient_control_number for p in plans for c in p.claims] == ["OK1"]
    assert code in {f.code for f in findings if f.severity == "error" and f.encounter_id == bad.encounter.id}


def test_coding_errors_hold_the_claim():
    ce = encounter("E2", lines=[line("96365", "350")])
    ce.findings.append(error("missing-stop-time", "stop time missing", encounter_id="E2"))
    plans, findings = plan_interchanges([ce], CFG)
    assert plans == [] and "claim-held" in _codes(findings, "E2")


def test_finding_messages_never_contain_patient_data():
    p = patient(
        first="Zoë~", last="Ünal*Smith", member_id="SECRET42", address=Address("9 Secret Rd^", "Hidden", "IL", "62704")
    )
    _, findings = plan_interchanges([encounter("E3", patient=p, lines=[line("96372", "45")])], CFG)
    assert findings
    for f in findings:
        for secret in ("Zo", "Ünal", "Smith", "SECRET42", "Secret", "Hidden"):
            assert secret not in f.message


def test_writer_refuses_lines_without_control_number():
    plans, _ = plan_interchanges(office_set(), CFG)
    with pytest.raises(ValueError, match="line control number"):
        write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1, 2], ["A", "B"]), NOW)


def test_writer_needs_one_st02_per_transaction():
    coded = office_set()
    assign_lcns(coded)
    plans, _ = plan_interchanges(coded, CFG)
    with pytest.raises(ValueError):
        write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["A"]), NOW)


def test_replacement_and_void_carry_ref_f8_and_frequency():
    coded = office_set() + hospital_set()
    assign_lcns(coded)
    plans, _ = plan_interchanges(coded, CFG)
    seen = {}
    for k, plan in enumerate(plans):
        n = len(plan.transactions)
        data = write_interchange(plan, CFG, EnvelopeNumbers(k + 1, 1, list(range(1, n + 1)), ["X"] * n), NOW)
        for c in read_837(data).claims:
            seen[c.patient_control_number] = (c.frequency, c.payer_claim_number, c.facility_code)
    assert seen["ENC-P-003"] == ("7", "PCN7788990011", "11")
    assert seen["ENC-I-002"] == ("8", "ACME-CLM-1", "13")
    assert seen["ENC-P-001"] == ("1", None, "11")


def test_dependent_patient_gets_2000c_loop():
    coded = office_set()
    assign_lcns(coded)
    plans, _ = plan_interchanges(coded, CFG)
    text = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1, 2], ["A", "B"]), NOW).decode()
    assert "HL*3*2*23*0~\nPAT*19~\nNM1*QC*1*DOE*TIM~" in text
    assert "SBR*P********CI~" in text  # subscriber is not the patient: no SBR02 18


def test_home_encounter_uses_pos_12_and_explicit_pos_wins():
    a = encounter("H1", setting="home", lines=[line("99601", "150")])
    b = encounter("H2", setting="office", place_of_service="49", lines=[line("96372", "45")])
    assign_lcns([a, b])
    plans, _ = plan_interchanges([a, b], CFG)
    data = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["A"]), NOW)
    assert [c.facility_code for c in read_837(data).claims] == ["12", "49"]


def test_patient_control_number_keeps_case_and_validates():
    ce = encounter("enc-lower.1", lines=[line("96372", "45")])
    assign_lcns([ce])
    plans, _ = plan_interchanges([ce], CFG)
    data = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["A"]), NOW)
    assert validate_text(data.decode()) == []
    assert read_837(data).claims[0].patient_control_number == "enc-lower.1"


def test_writer_warnings_for_what_it_cuts_or_guesses():
    ce = encounter(
        "W1",
        rendering_npi="1497758544",
        diagnoses=tuple(f"C50{i:02d}" for i in range(14)),
        lines=[line("96372", "45", mods=("25", "59", "XS", "GA", "GY"))],
    )
    plans, findings = plan_interchanges([ce], CFG)
    assert {"diagnoses-truncated", "too-many-modifiers", "provider-name-unknown"} <= _codes(findings, "W1")
    assert plans and plans[0].claims[0].patient_control_number == "W1"
    assign_lcns([ce])
    data = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["A"]), NOW)
    assert validate_text(data.decode()) == []
    claim = read_837(data).claims[0]
    assert len(claim.diagnoses) == 12 and claim.lines[0].modifiers == ["25", "59", "XS", "GA"]


def test_replacement_without_payer_claim_number_is_kept_for_the_ledger_to_fill():
    ce = encounter("R1", frequency="7", lines=[line("96372", "45")])
    plans, findings = plan_interchanges([ce], CFG)
    (cp,) = plans[0].claims
    assert cp.payer_claim_number is None and "payer-claim-number-from-ledger" in _codes(findings, "R1")
    assign_lcns([ce])
    data = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["A"]), NOW)
    from edi.x837.edits import run_edits

    assert "missing-payer-claim-number" in {f.code for f in run_edits(read_837(data).claims, strict=True)}
    cp.payer_claim_number = "PAYER-123"  # what claims build does from the ledger
    data = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["A"]), NOW)
    assert read_837(data).claims[0].payer_claim_number == "PAYER-123"


def test_dashed_ndc_is_written_as_11_digits_and_bad_ndc_holds_the_claim():
    good = encounter("N1", lines=[line("J1745", "31", 3, ndc="0574-4072-05", qty="2")])
    bad = encounter("N2", lines=[line("J1745", "31", 3, ndc="5789400300", qty="2")])
    zero = encounter("N3", lines=[line("J1745", "31", 3, ndc="57894003001", qty="0")])
    assign_lcns([good, bad, zero])
    plans, findings = plan_interchanges([good, bad, zero], CFG)
    assert [c.patient_control_number for c in plans[0].claims] == ["N1"]
    assert "bad-ndc" in _codes(findings, "N2") and "bad-ndc-quantity" in _codes(findings, "N3")
    data = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["A"]), NOW)
    assert read_837(data).claims[0].lines[0].ndc == "00574407205"


@pytest.mark.parametrize(
    "rel,pat01",
    [("spouse", "01"), ("child", "19"), ("life_partner", "53"), ("G8", "G8"), ("unknown", "21"), ("01", "01")],
)
def test_relationship_codes_in_2000c(rel, pat01):
    sub = patient("S9", "ANN", "ROE", member_id="SUB99")
    ce = encounter("REL1", relationship=rel, subscriber=sub, lines=[line("96372", "45")])
    assign_lcns([ce])
    plans, _ = plan_interchanges([ce], CFG)
    text = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["A"]), NOW).decode()
    assert f"PAT*{pat01}~" in text and "NM1*IL*1*ROE*ANN****MI*SUB99~" in text
    assert validate_text(text) == []


def test_relationship_18_with_subscriber_is_self():
    ce = encounter("REL2", relationship="18", subscriber=patient("S9", "ANN", "ROE"), lines=[line("96372", "45")])
    assign_lcns([ce])
    plans, _ = plan_interchanges([ce], CFG)
    text = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["A"]), NOW).decode()
    assert "SBR*P*18*" in text and "PAT*" not in text and validate_text(text) == []


def test_claim_total_balances_with_sub_cent_line_charges():
    from edi.x837.edits import run_edits

    ce = encounter("C1", lines=[line("J1745", "0.005"), line("J1745", "0.005"), line("96372", "310.4149")])
    assign_lcns([ce])
    plans, _ = plan_interchanges([ce], CFG)
    data = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["A"]), NOW)
    claim = read_837(data).claims[0]
    assert str(claim.charge) == "310.43" and run_edits([claim], strict=True) == []


def test_ndc_unit_is_normalized_or_defaulted_with_warning():
    a = encounter("U1", lines=[line("J1745", "31", 3, ndc="57894003001", qty="2", unit="ml")])
    b = encounter("U2", lines=[line("J1745", "31", 3, ndc="57894003001", qty="2", unit="MG")])
    assign_lcns([a, b])
    plans, findings = plan_interchanges([a, b], CFG)
    assert "ndc-unit-defaulted" in _codes(findings, "U2") and "ndc-unit-defaulted" not in _codes(findings, "U1")
    data = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["A"]), NOW)
    assert [c.lines[0].ndc_unit for c in read_837(data).claims] == ["ML", "UN"]


@pytest.mark.parametrize(
    ("member_id", "rewritten"),
    [
        ("MBR123456", False),
        ("ACM-998877-02", False),
        ("mbr123456", True),  # upper-cased for X12
        ("MBR 123 456", True),  # spaces removed
        ("MBR*123~456", True),  # separators removed
        ("MBR#123", True),  # outside the X12 basic character set
        ("M" * 81, True),  # longer than NM109 allows: cut
    ],
)
def test_member_id_rewritten_for_x12_is_reported(member_id, rewritten):
    ce = encounter("E7", patient=patient(member_id=member_id), lines=[line("96372", "45")])
    plans, findings = plan_interchanges([ce], CFG)
    found = [f for f in findings if f.code == "member-id-rewritten"]
    assert [c.patient_control_number for p in plans for c in p.claims] == ["E7"]  # still billed
    if rewritten:
        (f,) = found
        assert f.severity == "warning" and f.field == "patient.member_id" and member_id not in f.message
    else:
        assert found == []


def test_subscriber_member_id_rewritten_is_reported_for_the_subscriber():
    sub = patient("S9", "ANN", "ROE", member_id="sub-99")
    ce = encounter("E8", relationship="spouse", subscriber=sub, lines=[line("96372", "45")])
    _, findings = plan_interchanges([ce], CFG)
    assert [f.field for f in findings if f.code == "member-id-rewritten"] == ["subscriber.member_id"]


def test_claims_build_reports_the_rewritten_member_id(tmp_path):
    import json

    from typer.testing import CliRunner

    from dripline.cli import app

    doc = json.loads((Path(__file__).resolve().parents[3] / "fixtures" / "encounters.json").read_text())
    enc = doc["encounters"][0]
    enc["patient"]["member_id"] = enc["patient"]["member_id"].lower() + " 01"
    src = tmp_path / "enc.json"
    src.write_text(json.dumps({"encounters": [enc]}))
    res = CliRunner().invoke(
        app, ["claims", "build", str(src), "--out", str(tmp_path / "out"), "--ledger", str(tmp_path / "l.db"), "--json"]
    )
    assert res.exit_code == 0, res.output
    found = [f for f in json.loads(res.stdout)["findings"] if f["code"] == "member-id-rewritten"]
    assert [(f["encounter_id"], f["field"], f["severity"]) for f in found] == [
        (enc["id"], "patient.member_id", "warning")
    ]
    assert enc["patient"]["member_id"] not in res.stdout  # the id itself is never in a finding
