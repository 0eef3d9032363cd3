"""Hostile and implausible encounters: each is a finding on that encounter, never a traceback,
and never the end of the good encounters beside it."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding.config import DEFAULT_CONFIG_PATH, ConfigError, load_config, parse_config
from coding.encounters import loader
from coding.encounters.loader import load_encounters
from coding.engine import code_encounters
from tests.coding.builders import adm, enc
from tests.coding.encounters.test_loader import good

CFG = load_config()


def _adm0(e: dict[str, Any], **kw: Any) -> None:
    e["administrations"][0].update(kw)


def _home_9999(e: dict[str, Any]) -> None:
    e.update(
        setting="home",
        administrations=[],
        therapies=[
            {
                "id": "T1",
                "category": "anti_infective",
                "start_date": "9999-12-01",
                "end_date": "9999-12-31",
                "drug": "J0696",
                "dose": {"value": 1, "unit": "g"},
            }
        ],
    )


# (name, mutation of a good encounter, finding code expected, field it names)
SCENARIOS = [
    (
        "volume/rate overflow the minutes",
        lambda e: _adm0(e, end=None, volume_ml="999999999", rate_ml_per_hr="0.000001"),
        "implausible-duration",
        "administrations[0].rate_ml_per_hr",
    ),
    (
        "year 9999 plus an infusion computed from volume/rate",
        lambda e: _adm0(e, start="9999-12-31T23:00", end=None, volume_ml=1000, rate_ml_per_hr=10),
        "implausible-date",
        "administrations[0].start",
    ),
    ("home course in year 9999", _home_9999, "implausible-date", "therapies[0].start_date"),
    ("lone surrogate in a name", lambda e: e["patient"].update(first="\ud800x"), "bad-text", "patient.first"),
    ("lone surrogate in the id", lambda e: e.update(id="E\udc80"), "bad-text", "id"),
    ("markup in the encounter id", lambda e: e.update(id="[bold]x[/]"), "bad-id", "id"),
    ("html in the encounter id", lambda e: e.update(id="<b>&x"), "bad-id", "id"),
    ("markup in an administration id", lambda e: _adm0(e, id="[/]"), "bad-id", "administrations[0].id"),
    ("X12 separator in an id", lambda e: e.update(id="E1~ISA*"), "bad-id", "id"),
    (
        "dose far beyond any sensible dose",
        lambda e: _adm0(e, dose={"value": 999999999, "unit": "mg"}),
        "implausible-dose",
        "administrations[0].dose",
    ),
    (
        "waste far beyond any sensible dose",
        lambda e: _adm0(e, wasted={"value": 5, "unit": "g"}, dose={"value": 400, "unit": "mg"}),
        None,
        None,
    ),
    (
        "date of birth after the service",
        lambda e: e["patient"].update(dob="2026-05-01"),
        "dob-after-service",
        "patient.dob",
    ),
    (
        "service date far in the future",
        lambda e: _adm0(e, start="2099-03-02T10:00", end="2099-03-02T12:05"),
        "implausible-date",
        "administrations[0].start",
    ),
    ("repeated diagnosis", lambda e: e.update(diagnoses=["K50.90", "K5090"]), "duplicate-diagnosis", "diagnoses[1]"),
]


@pytest.mark.parametrize(("name", "mutate", "code", "fld"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_hostile_encounter_is_a_finding_and_the_good_one_is_still_read(tmp_path, name, mutate, code, fld):
    bad = good("ENC-BAD")
    mutate(bad)
    p = tmp_path / "in.json"
    p.write_text(json.dumps({"encounters": [bad, good("ENC-OK")]}), encoding="utf-8")
    encs, findings = load_encounters([p], CFG)
    if code is None:  # the plausible control case
        assert [e.id for e in encs] == ["ENC-BAD", "ENC-OK"] and not findings
        return
    assert [e.id for e in encs] == ["ENC-OK"], name
    got = {(f.code, f.field) for f in findings if f.is_error}
    assert (code, fld) in got, got


def test_waste_beyond_the_ceiling_and_a_per_drug_ceiling(tmp_path):
    e = good("ENC-W")
    _adm0(e, wasted={"value": 900, "unit": "g"})
    p = tmp_path / "w.json"
    p.write_text(json.dumps({"encounters": [e]}))
    _, findings = load_encounters([p], CFG)
    assert [(f.code, f.field) for f in findings] == [("implausible-dose", "administrations[0].wasted")]
    # a per-drug ceiling replaces the global one: 400 mg of J1745 over a 300 mg ceiling
    raw = _default_toml()
    raw["limits"] = {"max_dose": {"J1745": "300 mg"}, "max_units": 5}
    cfg = parse_config(raw)
    _, findings = load_encounters([_write(tmp_path, good("ENC-D"))], cfg)
    assert [(f.code, f.field) for f in findings] == [("implausible-dose", "administrations[0].dose")]
    # the global ceiling counts billing units: J1885 (15 mg) at 30 mg is 2 units, over max_units 1
    raw["limits"] = {"max_units": 1}
    cfg = parse_config(raw)
    e = good("ENC-U")
    _adm0(e, drug="J1885", ndc=None, route="iv_push", end=None, dose={"value": 30, "unit": "mg"})
    _, findings = load_encounters([_write(tmp_path, e)], cfg)
    assert [f.code for f in findings] == ["implausible-dose"]


def _default_toml() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, e: dict[str, Any]) -> Path:
    p = tmp_path / f"{e['id']}.json"
    p.write_text(json.dumps({"encounters": [e]}))
    return p


def test_bad_limits_in_the_config_are_config_errors():
    raw = _default_toml()
    raw["limits"] = {"max_units": 0, "max_dose": {"J1745": "lots"}}
    with pytest.raises(ConfigError) as exc:
        parse_config(raw)
    assert len(exc.value.messages) == 2


def test_the_future_is_measured_from_today(tmp_path, monkeypatch):
    class Today(date):
        @classmethod
        def today(cls) -> Today:
            return cls(2026, 1, 1)

    monkeypatch.setattr(loader, "date", Today)
    e = good("ENC-F")  # service 2026-03-02 is 60 days after "today": fine with the default 366
    assert load_encounters([_write(tmp_path, e)], CFG)[1] == []
    raw = _default_toml()
    raw["limits"] = {"max_days_ahead": 30}
    _, findings = load_encounters([_write(tmp_path, e)], parse_config(raw))
    assert {f.code for f in findings} == {"implausible-date"}


def test_deep_nesting_inside_one_json_lines_record_spares_the_others(tmp_path):
    deep = '{"id": "ENC-DEEP", "x": ' + "[" * 50_000 + "]" * 50_000 + "}"
    p = tmp_path / "in.jsonl"
    p.write_text(json.dumps(good("ENC-1")) + "\n" + deep + "\n" + json.dumps(good("ENC-2")) + "\n")
    encs, findings = load_encounters([p], CFG)
    assert [e.id for e in encs] == ["ENC-1", "ENC-2"]
    assert [(f.code, f.line) for f in findings] == [("invalid-json", 2)]


def test_an_encounter_beyond_date_arithmetic_is_a_finding_and_the_batch_goes_on():
    # built without the loader (which refuses it): year 9999, stop time from volume and rate
    late = enc(
        [adm("A1", "J1745", "iv_infusion", "9999-12-31T23:00", dose="400 mg", volume_ml=1000, rate_ml_per_hr=10)],
        id="ENC-LATE",
    )
    ok = enc([adm("A1", "J1745", "iv_infusion", "10:00", "12:05", dose="400 mg")], id="ENC-OK")
    coded = code_encounters([late, ok], CFG)
    assert [c.id for c in coded] == ["ENC-LATE", "ENC-OK"]
    assert coded[0].lines == [] and [f.code for f in coded[0].findings] == ["uncodable-encounter"]
    assert coded[1].lines and not [f for f in coded[1].findings if f.is_error]


def test_an_integer_too_long_for_python_is_a_finding_of_its_field(tmp_path):
    bad = json.dumps(good("ENC-BIG")).replace('"value": 400', '"value": ' + "9" * 5000)
    p = tmp_path / "big.json"
    p.write_text('{"encounters": [' + json.dumps(good("ENC-1")) + ", " + bad + "]}")
    encs, findings = load_encounters([p], CFG)
    assert [e.id for e in encs] == ["ENC-1"]
    assert [(f.encounter_id, f.code, f.field) for f in findings] == [
        ("ENC-BIG", "bad-number", "administrations[0].dose.value")
    ]


def test_a_json_lines_record_that_is_not_utf8_spares_the_others(tmp_path):
    lines = [json.dumps(good(f"ENC-{i}")).encode() for i in range(3)]
    lines[1] = lines[1].replace(b'"Ann"', b'"A\xff\xfen"')
    p = tmp_path / "in.jsonl"
    p.write_bytes(b"\n".join(lines) + b"\n")
    encs, findings = load_encounters([p], CFG)
    assert [e.id for e in encs] == ["ENC-0", "ENC-2"]
    assert [(f.code, f.line) for f in findings] == [("bad-encoding", 2)]


def test_an_unknown_field_nested_deeply_is_refused_with_its_encounter(tmp_path):
    deep = good("ENC-DEEP")
    text = json.dumps(deep)[:-1] + ', "extra": ' + "[" * 500 + "]" * 500 + "}"
    p = tmp_path / "deep.json"
    p.write_text('{"encounters": [' + text + ", " + json.dumps(good("ENC-OK")) + "]}")
    encs, findings = load_encounters([p], CFG)
    assert [e.id for e in encs] == ["ENC-OK"]
    assert [(f.code, f.field) for f in findings] == [("too-deep", "encounters[0]")]


_HOSTILE = ["", "1e308", "9" * 60, "\ud800", "[/]", "<b>", "9999-12-31T23:59", "0001-01-01T00:00", "9999-12-31", "NaN"]
_JUNK = st.one_of(
    st.sampled_from(_HOSTILE),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.text(max_size=12),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
)


# fields where a hostile value used to escape as an exception (drawn half the time)
_RISKY = [("id",), ("administrations", 0, "id"), ("administrations", 0, "start")]


def _leaf_paths(o: Any, pre: tuple = ()) -> list[tuple]:
    if isinstance(o, dict):
        return [p for k, v in o.items() for p in _leaf_paths(v, (*pre, k))] or [pre]
    if isinstance(o, list):
        return [p for i, v in enumerate(o) for p in _leaf_paths(v, (*pre, i))] or [pre]
    return [pre]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_a_mutated_encounter_never_raises_nor_spoils_its_neighbour(tmp_path, data):
    bad = good("ENC-BAD")
    bad["administrations"][0].update(volume_ml=500, rate_ml_per_hr=250)
    del bad["administrations"][0]["end"]  # the stop time comes from volume and rate
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        paths = [p for p in _leaf_paths(bad) if p]
        path = data.draw(st.one_of(st.sampled_from(paths), st.sampled_from(_RISKY)))
        target: Any = bad
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = data.draw(_JUNK)
    p = tmp_path / "m.json"
    p.write_text(json.dumps({"encounters": [bad, good("ENC-OK")]}))
    encs, findings = load_encounters([p], CFG)
    assert "ENC-OK" in [e.id for e in encs]
    assert all(f.encounter_id != "ENC-OK" for f in findings)
    for coded in code_encounters(encs, CFG):  # whatever got through codes without raising
        json.dumps(coded.to_dict(), ensure_ascii=False).encode("utf-8")
