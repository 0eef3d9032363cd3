"""837I CL1: CL101 (admission type) is sent on every institutional claim, from the config.

The 005010X223A2 guide marks CL101 required, and pyx12's 837I map does the same; the code
comes from the payer profile (``admission_type_code``) or the facility, default 3 (elective:
a scheduled outpatient visit).
"""

from __future__ import annotations

import pytest

from coding.config import ConfigError, load_config, parse_config
from edi.x837.model import EnvelopeNumbers, plan_interchanges, write_interchange
from tests.edi.x837.factory import NOW, assign_lcns, hospital_set

DEFAULT = load_config()


def _cl1(cfg) -> list[list[str]]:
    coded = hospital_set()
    assign_lcns(coded)
    plans, _ = plan_interchanges(coded, cfg)
    (plan,) = [p for p in plans if p.claim_type == "837I"]
    n = len(plan.transactions)
    data = write_interchange(plan, cfg, EnvelopeNumbers(1, 1, list(range(1, n + 1)), ["B"] * n), NOW).decode()
    segs = [s.strip() for s in data.split("~") if s.strip()]
    return [s.split("*") for s in segs if s.startswith("CL1*")]


def _with(facility: dict | None = None, **payer_keys: str):
    import tomllib

    from coding.config import DEFAULT_CONFIG_PATH

    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text())
    if facility is not None:
        data["facility"].update(facility)
    for key, value in payer_keys.items():
        for profile in data["payers"].values():
            profile[key] = value
    return parse_config(data)


def test_cl101_is_sent_with_the_default_admission_type():
    rows = _cl1(DEFAULT)
    assert rows and all(r[1] == "3" for r in rows), rows
    assert all(r[3] == "01" for r in rows)  # patient status unchanged


def test_cl101_from_the_facility_and_the_payer_profile():
    assert {r[1] for r in _cl1(_with({"admission_type_code": "9"}))} == {"9"}
    assert {r[1] for r in _cl1(_with({"admission_type_code": "9"}, admission_type_code="2"))} == {"2"}
    # the payer key the writer read before keeps working
    assert {r[1] for r in _cl1(_with(None, admission_type="1"))} == {"1"}


@pytest.mark.parametrize("value", ["7", "", "33", "E"])
def test_unknown_admission_type_is_a_config_error(value):
    with pytest.raises(ConfigError, match="admission_type_code"):
        _with({"admission_type_code": value})
    with pytest.raises(ConfigError, match="admission_type_code"):
        _with(None, admission_type_code=value)
