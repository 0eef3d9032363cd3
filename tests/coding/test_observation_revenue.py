"""837I revenue codes of services from ``coding/data/service_revenue.csv``: observation hours
(G0378) go under 0762, not the drug-administration default 0260 they were given before."""

from __future__ import annotations

import dataclasses

import pytest

from coding.config import load_config
from coding.engine import code_encounter
from coding.model import Service
from coding.services import service_revenue
from tests.coding.builders import adm, enc

CFG = load_config()
INJ = [adm("I1", "J1745", "iv_infusion", "10:00", "12:05", dose="400 mg")]

# (service, setting, revenue code)
SCENARIOS = [
    (Service("G0378", units=8), "hospital_outpatient", "0762"),
    (Service("96523"), "hospital_outpatient", None),  # dropped with administration: no line
    (Service("G0378", units=8), "office", None),  # 837P lines carry no revenue code
]


@pytest.mark.parametrize(("service", "setting", "revenue"), SCENARIOS)
def test_service_revenue_codes(service, setting, revenue):
    cfg = dataclasses.replace(CFG, chargemaster={**CFG.chargemaster, "G0378": CFG.chargemaster["96365"]})
    coded = code_encounter(enc(INJ, setting=setting, services=[service]), cfg)
    got = [ln for ln in coded.lines if ln.kind == "service"]
    if service.code == "96523":
        assert got == []
        return
    assert [(ln.code, ln.units, ln.revenue_code) for ln in got] == [(service.code, service.units, revenue)]


def test_the_config_may_rename_the_observation_revenue_code():
    cfg = dataclasses.replace(
        CFG,
        chargemaster={**CFG.chargemaster, "G0378": CFG.chargemaster["96365"]},
        revenue_codes={**CFG.revenue_codes, "observation": "0760"},
    )
    coded = code_encounter(enc(INJ, setting="hospital_outpatient", services=[Service("G0378", units=4)]), cfg)
    assert [ln.revenue_code for ln in coded.lines if ln.code == "G0378"] == ["0760"]


def test_the_table_names_the_observation_revenue_key_and_code():
    assert service_revenue()["G0378"] == ("observation", "0762")
