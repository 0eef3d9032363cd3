"""Encounter loader: the input contract, every error at once, robustness to junk."""

from __future__ import annotations

import copy
import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding.config import load_config
from coding.encounters.loader import load_encounters, validate_encounter

CFG = load_config()


def good(eid="ENC-1", **over):
    e = {
        "id": eid,
        "setting": "office",
        "payer": "medicare",
        "patient": {
            "id": "P1",
            "first": "Ann",
            "last": "Lee",
            "dob": "1960-05-01",
            "sex": "F",
            "member_id": "1EG4TE5MK72",
            "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
        },
        "diagnoses": ["K50.90"],
        "administrations": [
            {
                "id": "A1",
                "drug": "J1745",
                "ndc": "57894-030-01",
                "route": "iv_infusion",
                "start": "2026-03-02T10:00",
                "end": "2026-03-02T12:05",
                "dose": {"value": 400, "unit": "mg"},
            }
        ],
    }
    e.update(over)
    return e


def write(tmp_path: Path, name: str, content) -> Path:
    p = tmp_path / name
    p.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return p


def errors_by_field(findings):
    return {f.field: f for f in findings if f.is_error}


def test_valid_encounter_builds_the_model(tmp_path):
    p = write(tmp_path, "a.json", {"encounters": [good()]})
    encs, findings = load_encounters([p], CFG)
    assert findings == []
    (e,) = encs
    assert e.id == "ENC-1" and e.claim_type == "837P" and e.diagnoses == ("K5090",)
    a = e.administrations[0]
    assert a.drug == "J1745" and a.dose.value == D(400) and a.dose.unit == "mg" and a.end is not None
    assert a.access == "A" and a.visit == "1" and e.frequency == "1" and e.relationship == "self"


def test_json_lines_and_directory(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "b.jsonl").write_text(json.dumps(good("ENC-2")) + "\n\n" + json.dumps(good("ENC-3")) + "\n")
    (d / "a.json").write_text(json.dumps({"encounters": [good("ENC-1")]}))
    (d / "dripline.toml").write_text("not = 'json'")
    (d / "notes.txt").write_text("ignored")
    encs, findings = load_encounters([d], CFG)
    assert [e.id for e in encs] == ["ENC-1", "ENC-2", "ENC-3"]
    assert not [f for f in findings if f.is_error]


def test_many_errors_reported_at_once_with_encounter_and_field(tmp_path):
    bad = good(
        "ENC-9",
        setting="clinic",
        payer="nobody",
        diagnoses=["K50.", "K5090"],
        rendering_npi="1234567890",
        frequency="7",
    )
    bad["patient"]["dob"] = "1960-13-01"
    bad["administrations"] = [
        {
            "id": "A1",
            "drug": "J1745",
            "route": "iv_infusion",
            "start": "2026-03-02T10:00",
            "end": "2026-03-02T09:00",
            "dose": {"value": 400, "unit": "mg"},
            "ndc": "12345",
        },
        {
            "id": "A2",
            "drug": "J0000",
            "route": "iv",
            "start": "yesterday",
            "dose": {"value": -3, "unit": "kg"},
            "container": "bag",
        },
        {"id": "A3", "drug": "J1745", "route": "iv_push", "start": "2026-03-02T10:00"},
    ]
    p = write(tmp_path, "bad.json", {"encounters": [bad, good("ENC-OK")]})
    encs, findings = load_encounters([p], CFG)
    assert [e.id for e in encs] == ["ENC-OK"]  # the bad one is reported, not coded
    errs = errors_by_field(findings)
    expected = {
        "setting": "bad-value",
        "payer": "unknown-payer",
        "diagnoses[0]": "invalid-icd10",
        "rendering_npi": "invalid-npi",
        "payer_claim_number": "missing-field",
        "patient.dob": "bad-date",
        "administrations[0].end": "end-before-start",
        "administrations[0].ndc": "invalid-ndc",
        "administrations[1].drug": "unknown-drug",
        "administrations[1].route": "bad-value",
        "administrations[1].start": "bad-datetime",
        "administrations[1].dose.value": "bad-number",
        "administrations[1].dose.unit": "bad-unit",
        "administrations[1].container": "bad-value",
        "administrations[2].dose": "missing-field",
    }
    for fld, codev in expected.items():
        assert fld in errs, fld
        assert errs[fld].code == codev, (fld, errs[fld].code)
        assert errs[fld].encounter_id == "ENC-9"
        assert errs[fld].file == str(p)
    assert errs["administrations[1].drug"].administration_id == "A2"
    # messages name the field, never the patient's values
    for f in findings:
        assert "1960-13-01" not in f.message and "Lee" not in f.message and "1EG4TE5MK72" not in f.message


def test_missing_required_fields():
    e, findings = validate_encounter({"id": "E"}, CFG)
    assert e is None
    assert {f.field for f in findings} >= {"setting", "payer", "patient", "diagnoses", "administrations"}
    assert all(f.encounter_id == "E" for f in findings)


def test_duplicate_ids(tmp_path):
    e = good()
    e["administrations"].append(dict(e["administrations"][0]))
    p = write(tmp_path, "d.json", {"encounters": [e, good("ENC-1")]})
    encs, findings = load_encounters([p], CFG)
    codes = [(f.code, f.field) for f in findings]
    assert ("duplicate-id", "administrations[1].id") in codes
    e2 = good("ENC-2")
    p2 = write(tmp_path, "d2.json", {"encounters": [e2, good("ENC-2")]})
    encs, findings = load_encounters([p2], CFG)
    assert [en.id for en in encs] == ["ENC-2"] and findings[0].code == "duplicate-id"


def test_id_too_long_for_clm01():
    _, findings = validate_encounter(good("X" * 21), CFG)
    assert findings and findings[0].field == "id"


def test_frequency_7_with_payer_claim_number_ok():
    e, findings = validate_encounter(good(frequency="7", payer_claim_number="PCN123"), CFG)
    assert findings == [] and e is not None and e.frequency == "7" and e.payer_claim_number == "PCN123"


def test_subscriber_required_when_not_self():
    _, findings = validate_encounter(good(relationship="child"), CFG)
    assert [f.field for f in findings] == ["subscriber"]
    sub = copy.deepcopy(good()["patient"])
    e, findings = validate_encounter(good(relationship="child", subscriber=sub), CFG)
    assert findings == [] and e is not None and e.subscriber is not None


def test_reason_for_visit_must_name_an_administration():
    _, findings = validate_encounter(good(reason_for_visit="A9"), CFG)
    assert [f.field for f in findings] == ["reason_for_visit"]


def test_services_and_empty_administrations():
    e, findings = validate_encounter(
        good(administrations=[], services=[{"code": "99213", "separately_identifiable": True}]), CFG
    )
    assert findings == [] and e is not None and e.services[0].code == "99213" and e.services[0].separately_identifiable
    _, findings = validate_encounter(good(administrations=[]), CFG)
    assert [f.field for f in findings] == ["administrations"]
    _, findings = validate_encounter(good(services=[{"code": "99X13", "units": 0, "modifiers": ["250"]}]), CFG)
    assert {f.field for f in findings} == {"services[0].code", "services[0].units", "services[0].modifiers[0]"}


def test_home_fields_validated():
    home = good(setting="home", administrations=None)
    del home["administrations"]
    _, findings = validate_encounter(home, CFG)
    assert [f.field for f in findings] == ["therapies"]
    home["therapies"] = [
        {
            "id": "T1",
            "category": "anti_infective",
            "start_date": "2026-03-01",
            "end_date": "2026-03-14",
            "drug": "J0696",
            "dose": {"value": 2, "unit": "g"},
            "schedule": "q24h",
            "pump": False,
        }
    ]
    home["nursing_visits"] = [{"start": "2026-03-01T09:00", "end": "2026-03-01T10:30"}]
    home["first_hit_visit"] = True
    e, findings = validate_encounter(home, CFG)
    assert (
        findings == []
        and e is not None
        and e.therapies[0].drug == "J0696"
        and e.nursing_visits
        and e.first_hit_visit is True
    )
    home["therapies"][0].update(category="magic", end_date="2026-02-01", schedule="q1h", doses_per_day=0)
    home["nursing_visits"][0]["end"] = "2026-03-01T08:00"
    home["first_hit_visit"] = "yes"
    _, findings = validate_encounter(home, CFG)
    assert {f.field for f in findings} == {
        "therapies[0].category",
        "therapies[0].end_date",
        "therapies[0].schedule",
        "therapies[0].doses_per_day",
        "nursing_visits[0].end",
        "first_hit_visit",
    }


def test_not_json_names_file_and_line(tmp_path):
    p = write(tmp_path, "x.json", '{"encounters": [\n  {"id": "E1",\n  oops\n]}')
    encs, findings = load_encounters([p], CFG)
    assert encs == [] and findings[0].code == "invalid-json" and findings[0].file == str(p) and findings[0].line == 3
    p = write(tmp_path, "y.jsonl", json.dumps(good("E1")) + "\nnot json\n" + json.dumps(good("E2")) + "\n")
    encs, findings = load_encounters([p], CFG)
    assert [e.id for e in encs] == ["E1", "E2"] and findings[0].line == 2
    encs, findings = load_encounters([tmp_path / "missing.json"], CFG)
    assert findings[0].code == "file-not-found"


def test_unicode_and_huge_numbers(tmp_path):
    e = good("ÉNC-ü")
    e["patient"]["first"] = "Zoë 山田"
    e["administrations"][0]["dose"]["value"] = 123456789
    p = tmp_path / "u.json"
    text = json.dumps({"encounters": [e]}, ensure_ascii=False)
    p.write_text(text.replace("123456789", "1" + "0" * 5000), encoding="utf-8")
    encs, findings = load_encounters([p], CFG)
    assert encs == [] and any(f.is_error for f in findings)  # never raises
    p.write_text(text.replace("123456789", "1e400"), encoding="utf-8")
    encs, findings = load_encounters([p], CFG)
    assert encs == [] and errors_by_field(findings)["administrations[0].dose.value"].code == "bad-number"
    e["administrations"][0]["dose"]["value"] = 400
    p.write_text(json.dumps({"encounters": [e]}, ensure_ascii=False), encoding="utf-8")
    encs, findings = load_encounters([p], CFG)
    assert findings == [] and encs[0].id == "ÉNC-ü"


def test_nan_and_infinity_rejected(tmp_path):
    p = write(tmp_path, "n.json", json.dumps({"encounters": [good()]}).replace("400", "NaN"))
    encs, findings = load_encounters([p], CFG)
    assert encs == [] and findings[0].is_error


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=20,
)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSONISH)
def test_junk_encounters_never_raise(junk):
    e, findings = validate_encounter(junk, CFG)
    assert e is None and findings and all(f.is_error for f in findings)


KEYS = [
    "id",
    "setting",
    "payer",
    "patient",
    "diagnoses",
    "administrations",
    "services",
    "frequency",
    "rendering_npi",
    "reason_for_visit",
    "place_of_service",
    "relationship",
    "subscriber",
    "therapies",
]


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(
        KEYS
        + [
            "administrations.0." + k
            for k in (
                "id",
                "drug",
                "dose",
                "start",
                "end",
                "route",
                "ndc",
                "wasted",
                "volume_ml",
                "container",
                "visit",
                "containers",
                "purpose",
                "access",
            )
        ]
        + ["patient." + k for k in ("id", "first", "dob", "sex", "address", "member_id")]
        + ["administrations.0.dose.value", "administrations.0.dose.unit", "patient.address.zip"]
    ),
    JSONISH,
)
def test_mutating_one_field_of_a_valid_encounter_never_raises(key, value):
    e = good(reason_for_visit="A1")
    target = e
    parts = key.split(".")
    for p in parts[:-1]:
        target = target[int(p)] if p.isdigit() else target[p]
    target[parts[-1]] = value
    enc, findings = validate_encounter(e, CFG)
    assert (enc is None) == bool(findings)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_junk_files_never_raise(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("junk") / "j.json"
    p.write_bytes(data)
    encs, findings = load_encounters([p], CFG)
    assert encs == [] or not any(f.is_error for f in findings)


def test_containers_extension():
    e = good()
    e["administrations"][0]["containers"] = 4
    enc, findings = validate_encounter(e, CFG)
    assert findings == [] and enc is not None and enc.administrations[0].containers == 4
    e["administrations"][0]["containers"] = 0
    _, findings = validate_encounter(e, CFG)
    assert [f.field for f in findings] == ["administrations[0].containers"]


def test_json_lines_of_encounter_documents(tmp_path):
    p = write(
        tmp_path,
        "batches.jsonl",
        json.dumps({"encounters": [good("E1"), good("E2")]}) + "\n" + json.dumps(good("E3")) + "\n",
    )
    encs, findings = load_encounters([p], CFG)
    assert [e.id for e in encs] == ["E1", "E2", "E3"] and findings == []
