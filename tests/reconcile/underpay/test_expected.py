"""Expected allowed amount per basis, to the cent, against synthetic fee-schedule files."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from coding.config import load_config
from coding.model import ServiceLine
from reconcile.codesets.fees import FeeSchedules
from reconcile.codesets.lookup import LedgerCodeSets
from reconcile.ledger.store import connect
from reconcile.pricing.expected import ClaimContext, expected_for_claim
from reconcile.pricing.terms import contract_of
from tests.reconcile.underpay.support import load_fee_schedules, write_config

D = Decimal
DOS = date(2026, 2, 10)


@pytest.fixture(scope="module")
def fees(tmp_path_factory, module_ledger_target):
    tmp = tmp_path_factory.mktemp("fees")
    conn = connect(module_ledger_target)
    load_fee_schedules(conn, tmp / "cms")
    yield FeeSchedules(LedgerCodeSets(conn))
    conn.close()


def _line(code: str, units: int, mods=(), kind: str = "admin", on: date = DOS) -> ServiceLine:
    return ServiceLine(code, units, on, D("1"), "test", modifiers=list(mods), kind=kind)


def _price(fees, cfg, payer: str, claim_type: str, lines, pos: str = "11"):
    p = cfg.payers[payer]
    return expected_for_claim(lines, ClaimContext(claim_type, p, pos, contract_of(cfg, p)), cfg, fees)


def _cfg(tmp_path, facility_extra: str = "", commercial_extra: str = ""):
    return load_config(write_config(tmp_path, facility_extra, commercial_extra))


def test_medicare_drug_is_the_asp_limit_times_units_with_the_previous_quarter(fees, tmp_path):
    (e,), found = _price(fees, _cfg(tmp_path), "medicare", "837P", [_line("J9035", 40, kind="drug")])
    assert (e.amount, e.basis, e.schedule, e.formula) == (D("2884.52"), "asp", "ASP 2026Q1", "72.113 × 40")
    assert (e.prior_amount, e.prior_schedule) == (D("2800.00"), "ASP 2025Q4")
    assert found == []


@pytest.mark.parametrize(
    ("pos", "code", "amount", "setting"),
    [
        # [(1.30 x 1.007) + (1.25 x 1.005) + (0.10 x 2.295)] x 33.4009 = 93.35 (office: non-facility)
        ("11", "99213", "93.35", "non-facility"),
        # [(1.30 x 1.007) + (0.55 x 1.005) + (0.10 x 2.295)] x 33.4009 = 69.85 (outpatient hospital: facility)
        ("22", "99213", "69.85", "facility"),
    ],
)
def test_medicare_service_is_rvus_times_gpcis_times_cf_by_place_of_service(fees, tmp_path, pos, code, amount, setting):
    (e,), _ = _price(fees, _cfg(tmp_path), "medicare", "837P", [_line(code, 1)], pos=pos)
    assert (e.amount, e.basis, e.schedule) == (D(amount), "pfs", "PFS 2026Q1 + GPCI 2026Q1")
    assert setting in e.formula
    # the other setting's amount is kept to recognize a wrong fee schedule
    assert e.alternates[0][0] == f"PFS {'facility' if setting == 'non-facility' else 'non-facility'}"


def test_pfs_without_locality_or_paid_status_has_no_expected_amount(fees, tmp_path):
    cfg = _cfg(tmp_path)
    no_loc = replace(cfg, facility=replace(cfg.facility, medicare_carrier=None))
    (e,), found = _price(fees, no_loc, "medicare", "837P", [_line("96365", 1)])
    assert e.amount is None and e.basis == "none"
    assert [(f.severity, f.code) for f in found] == [("info", "no-expected-amount")]
    assert "medicare_carrier" in found[0].message
    # modifier TC row has status I: not paid from the RVUs; never a guess
    (e2,), found2 = _price(fees, cfg, "medicare", "837P", [_line("99213", 1, ["TC"])])
    assert e2.amount is None and "status I" in found2[0].message


def test_medicare_837i_is_the_opps_rate_wage_adjusted_for_services_not_drugs(fees, tmp_path):
    cfg = _cfg(tmp_path, facility_extra='opps_wage_index = "0.9000"')
    lines = [_line("96413", 2), _line("J9035", 40, kind="drug")]
    (svc, drug), _ = _price(fees, cfg, "medicare", "837I", lines, pos="")
    # 334.87 x (0.60 x 0.9 + 0.40) = 314.78 per unit, x 2
    assert (svc.amount, svc.basis, svc.schedule) == (D("629.56"), "opps", "OPPS B 2026Q1")
    assert drug.amount == D("2884.52")  # 72.113 x 40: separately paid drugs are not wage adjusted


def test_opps_packaged_items_expect_zero(fees, tmp_path):
    cfg = _cfg(tmp_path)
    # 96366 is SI N: always packaged; 96372 is Q1: packaged with an S line on the same date
    with_s = [_line("96365", 1), _line("96366", 1), _line("96372", 1)]
    (_s, n, q1), _ = _price(fees, cfg, "medicare", "837I", with_s, pos="")
    assert (n.amount, n.formula) == (D("0.00"), "packaged (SI N)")
    assert q1.amount == D("0.00") and "packaged" in q1.formula
    # Q1 alone on its date is paid at its rate
    (alone,), _ = _price(fees, cfg, "medicare", "837I", [_line("96372", 1)], pos="")
    assert alone.amount == D("61.00")


def test_contract_percent_of_asp_and_of_pfs(fees, tmp_path):
    cfg = _cfg(tmp_path)
    drug, svc = _line("J9035", 40, kind="drug"), _line("96365", 1)
    (d, s), _ = _price(fees, cfg, "commercial", "837P", [drug, svc])
    # ASP = 72.113 / 1.06; x 1.15 x 40 = 3129.43
    assert (d.amount, d.basis, d.schedule) == (D("3129.43"), "contract-asp", "ASP+15% (ASP 2026Q1)")
    # 140 % of the Medicare amount 74.82
    assert (s.amount, s.basis) == (D("104.75"), "contract-pfs")
    assert ("Medicare ASP", D("2884.52")) in d.alternates


def test_contract_fee_schedule_overrides_and_the_modifier_row_wins(fees, tmp_path):
    (tmp_path / "acme-fees.csv").write_text(
        "code,modifier,rate\nJ9035,,80.00\nJ9035,JW,10.00\n96365,,150.00\nbad,row\n", encoding="utf-8"
    )
    cfg = _cfg(tmp_path, commercial_extra='fee_schedule = "acme-fees.csv"')
    lines = [_line("J9035", 40, kind="drug"), _line("J9035", 5, ["JW"], kind="drug"), _line("96365", 2)]
    (d, w, s), found = _price(fees, cfg, "commercial", "837P", lines)
    assert (d.amount, d.basis, d.schedule) == (D("3200.00"), "contract-fee-schedule", "fee schedule acme-fees.csv")
    assert w.amount == D("50.00")
    assert s.amount == D("300.00")
    cfg_findings = contract_of(cfg, cfg.payers["commercial"]).findings
    assert [(f.code, f.line) for f in cfg_findings] == [("fee-schedule-bad-row", 5)]
    assert found == []


def test_per_diem_rates_and_a_payer_without_terms(fees, tmp_path):
    cfg = _cfg(tmp_path, commercial_extra='per_diem_rates = { S9500 = "125.50" }')
    (e,), _ = _price(fees, cfg, "commercial", "837P", [_line("S9500", 3, kind="home")], pos="12")
    assert (e.amount, e.basis) == (D("376.50"), "per-diem")
    bare = load_config(write_config(tmp_path))
    p = replace(bare.payers["commercial"], settings={})
    (none,), found = expected_for_claim(
        [_line("J9035", 1, kind="drug")], ClaimContext("837P", p, "11", contract_of(bare, p)), bare, fees
    )
    assert none.amount is None and found[0].code == "no-expected-amount"


def test_a_date_with_no_loaded_set_is_no_basis(fees, tmp_path):
    (e,), found = _price(
        fees, _cfg(tmp_path), "medicare", "837P", [_line("J9035", 1, kind="drug", on=date(2024, 1, 5))]
    )
    assert e.amount is None and "no ASP payment limit" in found[0].message


def test_medicare_837i_drug_without_an_opps_row_falls_back_to_its_asp_limit(fees, tmp_path):
    # J1569 has an ASP limit (46.350, 2026Q1) but no Addendum B row in the synthetic file
    (e,), found = _price(fees, _cfg(tmp_path), "medicare", "837I", [_line("J1569", 10, kind="drug")], pos="")
    assert (e.amount, e.basis, e.schedule) == (D("463.50"), "asp", "ASP 2026Q1") and found == []
    # an OPPS row wins: J9035 at its Addendum B rate (SI K), not wage adjusted
    (k,), _ = _price(fees, _cfg(tmp_path), "medicare", "837I", [_line("J9035", 10, kind="drug")], pos="")
    assert (k.amount, k.basis) == (D("721.13"), "opps")
