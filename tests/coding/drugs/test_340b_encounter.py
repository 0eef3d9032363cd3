"""An encounter's own ``program_340b`` overrides the facility setting (drugs not 340B-acquired,
or a 340B encounter at a facility configured without it); 837P claims never carry JG/TB."""

from __future__ import annotations

import dataclasses
import json

import pytest

from coding.drugs.lines import drug_lines
from coding.encounters.loader import load_encounters
from tests.coding.drugs.test_drugs import CFG, adm, cfg_with, enc


def _mods(cfg, setting, program):
    e = dataclasses.replace(enc(setting, adm("A1", "J1745", 400, end=None)), program_340b=program)
    lines, _ = drug_lines(e, cfg, cfg.payers["medicare"])
    return [tuple(ln.modifiers) for ln in lines]


@pytest.mark.parametrize(
    "facility, program, setting, expected",
    [
        (None, None, "hospital_outpatient", [("JZ",)]),
        (None, "TB", "hospital_outpatient", [("TB", "JZ")]),
        ("JG", None, "hospital_outpatient", [("TB", "JZ")]),  # JG ended 2024-12-31: TB on a 2026 date
        ("JG", "none", "hospital_outpatient", [("JZ",)]),
        ("JG", "TB", "hospital_outpatient", [("TB", "JZ")]),
        ("JG", "JG", "office", [("JZ",)]),
    ],
)
def test_encounter_340b_overrides_facility(facility, program, setting, expected):
    assert _mods(cfg_with(program_340b=facility), setting, program) == expected


def test_packaged_drug_gets_no_340b_modifier_even_when_encounter_says_so():
    e = dataclasses.replace(enc("hospital_outpatient", adm("A1", "J2405", 4, route="iv_push")), program_340b="JG")
    lines, _ = drug_lines(e, cfg_with(program_340b=None), CFG.payers["medicare"])
    assert [tuple(ln.modifiers) for ln in lines] == [()]


def test_loader_accepts_and_checks_program_340b(tmp_path):
    base = {
        "id": "E340",
        "setting": "hospital_outpatient",
        "payer": "medicare",
        "patient": {
            "id": "P1",
            "first": "A",
            "last": "B",
            "dob": "1960-01-01",
            "sex": "F",
            "member_id": "M1",
            "address": {"line1": "1 MAIN", "city": "X", "state": "IL", "zip": "62701"},
        },
        "diagnoses": ["K50.90"],
        "administrations": [
            {
                "id": "A1",
                "drug": "J1745",
                "route": "iv_infusion",
                "start": "2026-03-02T10:00",
                "end": "2026-03-02T12:05",
                "dose": {"value": 400, "unit": "mg"},
            }
        ],
    }
    good = dict(base, program_340b="TB")
    bad = dict(base, id="E341", program_340b="XX")
    p = tmp_path / "e.json"
    p.write_text(json.dumps({"encounters": [good, bad]}))
    encs, findings = load_encounters([p], CFG)
    assert [e.program_340b for e in encs] == ["TB"]
    assert [(f.encounter_id, f.field, f.severity) for f in findings] == [("E341", "program_340b", "error")]
