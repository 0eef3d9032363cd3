"""835 reader scenarios: reversals, PLB, CAS, N4/SVC06 lines, MOA/MIA, envelopes, layouts, truncation."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from edi.x835.reader import balance_findings_835, read_835, read_835_with_findings

ISA = "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *260115*1200*^*00501*{ctl:09d}*0*P*:"


def st_set(body: list[str], bpr: str, st: str = "0001", payer: str = "ACME HEALTH", payer_id: str = "P1") -> list[str]:
    segs = [
        f"ST*835*{st}",
        f"BPR*I*{bpr}*C*ACH*CCP*01*999999999*DA*1234*1512345678**01*999988880*DA*9876*20260115",
        "TRN*1*TRACE001*1512345678",
        "DTM*405*20260113",
        f"N1*PR*{payer}*XV*{payer_id}",
        "N3*1 MAIN ST",
        "N4*SPRINGFIELD*IL*62701",
        "PER*BL**TE*8005551212",
        "N1*PE*CLINIC*XX*1234567893",
        "REF*TJ*123456789",
        "LX*1",
        *body,
    ]
    return [*segs, f"SE*{len(segs) + 1}*{st}"]


def interchange(sets: list[list[str]], ctl: int = 1) -> list[str]:
    return [
        ISA.format(ctl=ctl),
        f"GS*HP*PAYER*CLINIC*20260115*1200*{ctl}*X*005010X221A1",
        *[s for st in sets for s in st],
        f"GE*{len(sets)}*{ctl}",
        f"IEA*1*{ctl:09d}",
    ]


def text(segs: list[str], term: str = "~\n") -> str:
    return "".join(s + term for s in segs)


def read(doc: str):
    return read_835_with_findings(doc.encode())


REVERSAL_PAIR = [
    "CLP*ENC1*22*-200*-150**12*PAYER111*11*1",
    "NM1*QC*1*DOE*JANE****MI*X1",
    "SVC*HC:96413*-200*-150**1",
    "DTM*472*20260105",
    "CAS*CO*45*-50",
    "REF*6R*L0001",
    "CLP*ENC1*1*200*170*10*12*PAYER222*11*1",
    "CAS*PR*1*10",
    "NM1*QC*1*DOE*JANE****MI*X1",
    "SVC*HC:96413*200*180**1",
    "DTM*472*20260105",
    "CAS*CO*45*20",
    "REF*6R*L0001",
]


def test_reversal_and_correction_pair_keep_both_claims_and_balance() -> None:
    rems, findings = read(text(interchange([st_set(REVERSAL_PAIR, "20")])))
    assert findings == []
    (rem,) = rems
    rev, corr = rem.claims
    assert rev.is_reversal and rev.payer_claim_number == "PAYER111"
    assert (rev.charge, rev.paid, rev.lines[0].adjustments[0].amount) == (D("-200"), D("-150"), D("-50"))
    assert corr.status == "1" and corr.payer_claim_number == "PAYER222" and corr.paid == D("170")
    assert corr.patient_responsibility == D("10")
    assert corr.lines[0].line_control_number == "L0001" and corr.lines[0].service_date == "20260105"
    assert rem.total_paid == D("20") and rem.payment.amount == D("20")


def test_reversal_out_of_balance_is_reported_not_raised() -> None:
    body = ["CLP*ENC1*22*-200*-140**12*PAYER111*11*1", "CAS*CO*45*-50"]
    rems, findings = read(text(interchange([st_set(body, "-140")])))
    assert [f.code for f in findings] == ["claim-out-of-balance"]
    assert rems[0].claims[0].paid == D("-140")


def test_plb_wo_fb_l6_with_claim_reference() -> None:
    body = [
        "CLP*ENC1*1*100*100**12*PCN1*11*1",
        "CLP*ENC2*1*50*50**12*PCN2*11*1",
        "PLB*1234567893*20261231*WO:PCN1*30*FB:ENC2*-5*L6*-2.5",
        "PLB*1234567893*20261231*72:PCN2*10",
    ]
    # BPR02 = 150 - (30 - 5 - 2.5 + 10) = 117.5
    rems, findings = read(text(interchange([st_set(body, "117.5")])))
    assert findings == []
    adjs = rems[0].provider_adjustments
    assert [(a.reason, a.reference, a.amount) for a in adjs] == [
        ("WO", "PCN1", D("30")),
        ("FB", "ENC2", D("-5")),
        ("L6", "", D("-2.5")),
        ("72", "PCN2", D("10")),
    ]
    assert all(a.provider == "1234567893" and a.fiscal_period_date == "20261231" for a in adjs)
    assert rems[0].plb_total == D("32.5")


def test_transaction_out_of_balance_names_bpr02() -> None:
    _rems, findings = read(text(interchange([st_set(["CLP*ENC1*1*100*100**12*PCN1"], "99")])))
    (f,) = findings
    assert (f.code, f.segment, f.element, f.loop) == ("transaction-out-of-balance", "BPR", "BPR02", "HEADER")
    assert f.segment_number == 4  # ISA, GS, ST, BPR


def test_claim_and_line_cas_with_several_triplets() -> None:
    body = [
        "CLP*ENC1*1*300*130*45*12*PCN1*11*1",
        "CAS*OA*23*10*1*94*5",
        "SVC*HC:96365*200*100**1",
        "CAS*CO*45*50**253*2*1*97*3",
        "CAS*PR*1*20*1*2*10*1*3*15",
        "SVC*HC:96366*100*45**2",
        "CAS*CO*45*55",
    ]
    rems, findings = read(text(interchange([st_set(body, "130")])))
    assert findings == [], findings
    claim = rems[0].claims[0]
    assert [(a.group, a.reason, a.amount, a.quantity) for a in claim.adjustments] == [
        ("OA", "23", D("10"), D("1")),
        ("OA", "94", D("5"), None),
    ]
    line = claim.lines[0]
    assert [(a.group, a.reason, a.amount, a.quantity) for a in line.adjustments] == [
        ("CO", "45", D("50"), None),
        ("CO", "253", D("2"), D("1")),
        ("CO", "97", D("3"), None),
        ("PR", "1", D("20"), D("1")),
        ("PR", "2", D("10"), D("1")),
        ("PR", "3", D("15"), None),
    ]


def test_six_triplets_in_one_cas() -> None:
    cas = "CAS*CO*" + "*".join(f"{r}*1*1" for r in ("45", "253", "97", "16", "4", "B7"))
    body = ["CLP*ENC1*1*10*4**12*PCN1", "SVC*HC:96372*10*4**1", cas]
    rems, findings = read(text(interchange([st_set(body, "4")])))
    assert findings == [] and len(rems[0].claims[0].lines[0].adjustments) == 6


def test_line_out_of_balance_position() -> None:
    body = ["CLP*ENC1*1*100*80**12*PCN1", "SVC*HC:96413*100*80**1", "CAS*CO*45*10"]
    _, findings = read(text(interchange([st_set(body, "80")])))
    codes = {f.code: f for f in findings}
    assert set(codes) == {"claim-out-of-balance", "service-line-out-of-balance"}
    svc = codes["service-line-out-of-balance"]
    assert (svc.segment, svc.loop, svc.element, svc.segment_number, svc.line) == ("SVC", "2110", "SVC03", 15, 15)
    assert svc.encounter_id == "ENC1" and "DOE" not in svc.message


def test_n4_qualified_line_and_svc06_restated_code() -> None:
    body = [
        "CLP*ENC1*1*500*400**12*PCN1",
        "SVC*N4:00002775001:JW*300*200**10",
        "CAS*CO*45*100",
        "SVC*HC:96365:59*200*200*0260*1*HC:96413:XE*2",
        "DTM*150*20260101",
        "DTM*151*20260102",
        "LQ*HE*N519",
        "LQ*RX*12",
    ]
    rems, findings = read(text(interchange([st_set(body, "400")])))
    assert findings == []
    n4, restated = rems[0].claims[0].lines
    assert (n4.qualifier, n4.code, n4.modifiers, n4.units) == ("N4", "00002775001", ["JW"], D("10"))
    assert (restated.code, restated.modifiers, restated.revenue_code) == ("96365", ["59"], "0260")
    assert (
        restated.original_qualifier,
        restated.original_code,
        restated.original_modifiers,
        restated.original_units,
    ) == ("HC", "96413", ["XE"], D("2"))
    assert restated.service_date == "20260101" and restated.remarks == [("HE", "N519"), ("RX", "12")]


def test_moa_mia_names_refs_dates_amounts() -> None:
    body = [
        "CLP*ENC1*2*100*60*20*13*PCN1*13*1***1.5*0.5*Y",
        "CAS*PR*1*20",
        "CAS*CO*45*20",
        "NM1*QC*1*DOE*JANE****MI*X1",
        "NM1*IL*1*DOE*JOHN****MI*X2",
        "NM1*74*1*DOE*JANE",
        "NM1*82*1*SMITH*AL****XX*1234567893",
        "NM1*TT*2*CROSSOVER PLAN*****PI*9999",
        "NM1*PR*2*PRIMARY PLAN*****PI*8888",
        "MIA*0***12*MA01",
        "MOA***MA130*N130",
        "REF*1L*GROUP1",
        "REF*F8*ORIGREF",
        "DTM*232*20260101",
        "DTM*233*20260102",
        "DTM*050*20260110",
        "PER*CX*CLAIMS*TE*8005550000",
        "AMT*AU*60",
        "QTY*CA*2",
    ]
    rems, findings = read(text(interchange([st_set(body, "60")])))
    assert findings == []
    c = rems[0].claims[0]
    assert [n.entity for n in c.names] == ["QC", "IL", "74", "82", "TT", "PR"]
    assert c.remark_codes == ["MA130", "N130", "MA01"]
    assert c.ref("F8") == "ORIGREF" and c.date("050") == "20260110" and c.date("233") == "20260102"
    assert (c.drg_weight, c.discharge_fraction, c.condition_indicator) == (D("1.5"), D("0.5"), "Y")
    assert (c.facility_type, c.frequency, c.filing_indicator) == ("13", "1", "13")
    assert c.amounts[0].amount == D("60") and c.quantities[0].qualifier == "CA"
    assert c.contacts[0].numbers == [("TE", "8005550000")]


def test_claim_without_service_lines() -> None:
    body = ["CLP*ENC1*4*100*0**12*PCN1*11*1", "CAS*CO*16*100", "MOA***M119"]
    rems, findings = read(text(interchange([st_set(body, "0")])))
    assert findings == [] and rems[0].claims[0].lines == [] and rems[0].claims[0].status == "4"


def test_header_payer_payee_and_payment() -> None:
    rems, _ = read(text(interchange([st_set(["CLP*ENC1*1*10*10**12*PCN1"], "10")])))
    r = rems[0]
    assert (r.payer.name, r.payer.id, r.payer.city, r.payer.contacts[0].function) == (
        "ACME HEALTH",
        "P1",
        "SPRINGFIELD",
        "BL",
    )
    assert (r.payee.name, r.payee.id, r.payee.refs[0].value) == ("CLINIC", "1234567893", "123456789")
    p = r.payment
    assert (p.handling, p.amount, p.method, p.date, p.trace, p.trace_originator) == (
        "I",
        D("10"),
        "ACH",
        "20260115",
        "TRACE001",
        "1512345678",
    )
    assert r.production_date == "20260113" and r.header_groups[0].number == "1"
    assert (r.interchange_control, r.control_number, r.version) == ("000000001", "0001", "005010X221A1")


def test_two_payers_in_one_file() -> None:
    s1 = st_set(["CLP*ENC1*1*10*10**12*PCN1"], "10", "0001", "ACME HEALTH", "P1")
    s2 = st_set(["CLP*ENC2*1*20*15**12*PCN2", "CAS*CO*45*5"], "15", "0002", "OTHER PLAN", "P2")
    rems, findings = read(text(interchange([s1, s2])))
    assert findings == []
    assert [(r.payer.name, r.payer.id, r.total_paid) for r in rems] == [
        ("ACME HEALTH", "P1", D("10")),
        ("OTHER PLAN", "P2", D("15")),
    ]


def test_two_interchanges_in_one_file() -> None:
    a = interchange([st_set(["CLP*ENC1*1*10*10**12*PCN1"], "10")], ctl=1)
    b = [
        s.replace("*", "|").replace(":", "^") for s in interchange([st_set(["CLP*ENC2*1*20*20**12*PCN2"], "20")], ctl=2)
    ]
    rems, findings = read(text(a) + "\r\n" + text(b, "'\r\n"))
    assert findings == []
    assert [(r.interchange_control, r.claims[0].patient_control_number) for r in rems] == [
        ("000000001", "ENC1"),
        ("000000002", "ENC2"),
    ]


def test_unusual_separators_and_newline_terminator() -> None:
    segs = interchange([st_set(["CLP*ENC1*1*100*90**12*PCN1", "SVC*HC:96413:59*100*90**1", "CAS*CO*45*10"], "90")])
    odd = [s.replace("*", "|").replace(":", "}") for s in segs]
    odd[0] = odd[0][:-1] + "}"
    rems, findings = read("\n".join(odd) + "\n")
    assert findings == []
    assert rems[0].claims[0].lines[0].modifiers == ["59"]


def test_file_without_line_breaks() -> None:
    rems, findings = read(text(interchange([st_set(REVERSAL_PAIR, "20")]), "~"))
    assert findings == [] and len(rems[0].claims) == 2


def test_truncated_file_keeps_every_claim_read() -> None:
    full = text(interchange([st_set([*REVERSAL_PAIR, "CLP*ENC9*1*50*50**12*PCN9"], "70")]))
    cut = full[: full.index("CLP*ENC9") + 12]
    rems, findings = read(cut)
    codes = [f.code for f in findings]
    assert "x12-unterminated-segment" in codes and "x12-missing-se" in codes
    assert "x12-missing-ge" in codes and "x12-missing-iea" in codes
    assert [c.patient_control_number for c in rems[0].claims] == ["ENC1", "ENC1", "ENC9"]
    assert not rems[0].complete


def test_counts_and_control_numbers_are_checked() -> None:
    segs = interchange([st_set(["CLP*ENC1*1*10*10**12*PCN1"], "10")])
    segs[-3] = segs[-3].replace("SE*13", "SE*99")
    segs[-2] = "GE*7*1"
    segs[-1] = "IEA*1*000000002"
    rems, findings = read(text(segs))
    assert {f.code for f in findings} == {"x12-se-count", "x12-ge-count", "x12-iea-control"}
    assert len(rems[0].claims) == 1


@pytest.mark.parametrize("accelerated", [False, True])
@pytest.mark.parametrize(
    "seg,named",
    [
        ("ZZZ*1", "ZZZ"),
        ("ZZZZ*1", "ZZZZ"),  # was reported as ZZZ
        ("CLPX*ENC2*1*5*5", "CLPX"),  # not CLP: a finding about CLPX, the claim stays open
        ("SVCFOO*HC:1*1*1", "SVCFOO"),
        ("Q*1", "Q"),
        ("NOSEPARATORSINTHISSEGMENTATALL", "NOSEPARA..."),  # cut: it may be a whole segment's data
    ],
)
def test_unexpected_segment_names_the_whole_segment_id(seg: str, named: str, accelerated: bool) -> None:
    body = ["CLP*ENC1*1*10*10**12*PCN1", seg, "SVC*HC:96372*10*10**1"]
    findings: list = []
    rems = list(read_835(text(interchange([st_set(body, "10")])).encode(), None, findings, accelerated=accelerated))
    (f,) = [f for r in rems for f in r.findings]
    assert (f.code, f.segment, f.loop) == ("x835-unexpected-segment", named, "2100")
    assert f.message == f"segment {named} does not fit loop 2100 here; kept verbatim"
    assert [u.text for u in rems[0].unknown_segments] == [seg]
    assert findings == [] and rems[0].claim_count == 1


def test_unknown_segment_is_kept_verbatim() -> None:
    body = ["CLP*ENC1*1*10*10**12*PCN1", "ZZZ*SOMETHING*ELSE", "SVC*HC:96372*10*10**1", "N3*MISPLACED"]
    rems, findings = read(text(interchange([st_set(body, "10")])))
    assert [f.code for f in findings] == ["x835-unexpected-segment", "x835-unexpected-segment"]
    assert [(u.text, u.loop) for u in rems[0].unknown_segments] == [
        ("ZZZ*SOMETHING*ELSE", "2100"),
        ("N3*MISPLACED", "2110"),
    ]
    assert len(rems[0].claims[0].lines) == 1
    from edi.x835.report import remittance_json

    assert remittance_json(rems[0])["unknown_segments"][0] == {
        "text": "ZZZ*SOMETHING*ELSE",
        "loop": "2100",
        "segment_number": 15,
        "line": 15,
    }


def test_bad_amount_is_a_finding_not_an_exception() -> None:
    body = ["CLP*ENC1*1*1O0*10**12*PCN1", "SVC*HC:96372*NaN*10**1"]
    rems, findings = read(text(interchange([st_set(body, "10")])))
    assert [f.element for f in findings if f.code == "x835-bad-amount"] == ["CLP03", "SVC02"]
    assert rems[0].claims[0].charge is None


def test_non_835_transaction_is_skipped_with_a_finding() -> None:
    segs = [
        ISA.format(ctl=1),
        "GS*HC*A*B*20260101*1200*1*X*005010X222A1",
        "ST*837*0001",
        "BHT*0019",
        "SE*3*0001",
        "GE*1*1",
        "IEA*1*000000001",
    ]
    findings: list = []
    assert list(read_835(text(segs).encode(), findings=findings)) == []
    assert "x835-no-remittance" in {f.code for f in findings}


def test_balance_findings_for_validate(tmp_path) -> None:
    p = tmp_path / "x.835"
    body = ["CLP*ENC1*1*100*80**12*PCN1", "SVC*HC:96413*100*80**1", "CAS*CO*45*10", "ZZZ*1"]
    p.write_text(text(interchange([st_set(body, "80")])))
    found = balance_findings_835(p)
    assert {f.code for f in found} == {"claim-out-of-balance", "service-line-out-of-balance"}
    assert all(f.file == str(p) for f in found)


def test_keep_claims_false_keeps_totals_only() -> None:
    doc = text(interchange([st_set(REVERSAL_PAIR, "20")])).encode()
    (r,) = read_835(doc, keep_claims=False)
    assert r.claims == [] and (r.claim_count, r.line_count, r.total_paid) == (2, 2, D("20"))


def test_svc01_with_another_component_separator_is_read_with_a_warning() -> None:
    body = ["CLP*ENC1*1*100*80**12*PCN1", "SVC*HC>96413>59*100*80**1*HC>96415", "CAS*CO*45*20"]
    rems, findings = read(text(interchange([st_set(body, "80")])))
    line = rems[0].claims[0].lines[0]
    assert (line.qualifier, line.code, line.modifiers, line.original_code) == ("HC", "96413", ["59"], "96415")
    assert [(f.code, f.severity) for f in findings] == [("x835-component-separator", "warning")]
