"""Other services and the engine: E/M modifier 25, 99211 with drug administration, port flush,
facility clinic visit, services-only encounters, unknown payer, home routing, line order."""

from __future__ import annotations

import tomllib

from coding.config import DEFAULT_CONFIG_PATH, load_config, parse_config
from coding.engine import code_encounter, code_encounters
from coding.model import Service
from tests.coding.builders import adm, enc, summary

CFG = load_config()
INJ = [adm("I1", "J0897", "sc", "10:00", dose="60 mg", container="single_dose")]


def test_em_separately_identifiable_gets_25_first():
    coded = code_encounter(enc(INJ, services=[Service("99214", modifiers=("GT",), separately_identifiable=True)]), CFG)
    em = next(ln for ln in coded.lines if ln.code == "99214")
    assert em.modifiers == ["25", "GT"] and em.kind == "service" and "25" in em.rationale


def test_em_without_flag_kept_with_warning():
    coded = code_encounter(enc(INJ, services=[Service("99213")]), CFG)
    assert ("99213", ()) in {(c, m) for _, c, m, _ in summary(coded)}
    assert any(f.code == "em-not-separately-identifiable" for f in coded.findings)


def test_99211_dropped_only_with_drug_administration():
    with_admin = code_encounter(enc(INJ, services=[Service("99211")]), CFG)
    assert "99211" not in {ln.code for ln in with_admin.lines}
    w = [f for f in with_admin.findings if f.code == "99211-with-drug-admin"]
    assert w and w[0].severity == "warning" and w[0].field == "services[0].code"
    alone = code_encounter(enc([], services=[Service("99211")], raw={"service_date": "2026-03-02"}), CFG)
    assert [ln.code for ln in alone.lines] == ["99211"]


def test_port_flush_dropped_with_infusion():
    admins = [adm("A1", "J1956", "iv_infusion", "09:00", "10:00", "500 mg")]
    coded = code_encounter(enc(admins, services=[Service("96523")]), CFG)
    assert "96523" not in {ln.code for ln in coded.lines}
    assert any(f.code == "port-flush-with-admin" for f in coded.findings)


def test_facility_em_code_and_revenue():
    coded = code_encounter(
        enc(INJ, setting="hospital_outpatient", services=[Service("99213", separately_identifiable=True)]), CFG
    )
    assert ("0510", "G0463", ("25",), 1) in summary(coded)
    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["payers"]["commercial"]["facility_em_code"] = ""
    cfg = parse_config(data)
    keep = code_encounter(
        enc(
            INJ,
            setting="hospital_outpatient",
            payer="commercial",
            services=[Service("99213", separately_identifiable=True)],
        ),
        cfg,
    )
    assert ("0510", "99213", ("25",), 1) in summary(keep)


def test_services_only_encounter_needs_a_date():
    held = code_encounter(enc([], services=[Service("99213")]), CFG)
    assert held.lines == [] and any(f.code == "no-service-date" and f.severity == "error" for f in held.findings)


def test_unknown_payer_is_a_finding():
    coded = code_encounter(enc(INJ, payer="nobody"), CFG)
    assert coded.lines == [] and coded.findings[0].code == "unknown-payer"


def test_line_order_admin_services_drugs_and_deterministic():
    admins = [
        adm("P1", "J2405", "iv_push", "09:00", dose="4 mg"),
        adm("A1", "J1956", "iv_infusion", "09:10", "11:00", "500 mg"),
    ]
    e = enc(admins, services=[Service("99213", separately_identifiable=True)])
    coded = code_encounter(e, CFG)
    kinds = [ln.kind for ln in coded.lines]
    assert kinds == sorted(kinds, key=["admin", "service", "drug"].index)
    assert [ln.code for ln in coded.lines][:3] == ["96365", "96366", "96375"]
    a, b = code_encounters([e, e], CFG)
    assert a.to_dict() == b.to_dict()


def test_home_encounter_goes_to_home_module():
    coded = code_encounter(enc([], setting="home", payer="commercial"), CFG)
    assert coded.lines == [] and coded.findings  # no therapies: the home module reports it
    assert all(f.encounter_id == "ENC-T" for f in coded.findings)
