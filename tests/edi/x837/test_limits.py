"""Batch limits: at most ``max_claims_per_transaction`` claims per ST set (5,000 by default, the
guides' recommended limit; a payer profile may set its own) and files under ``max_file_bytes``
(a new interchange starts before the limit would be passed)."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coding.config import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_MAX_FILE_BYTES,
    MAX_CLAIMS_PER_TRANSACTION,
    Config,
    ConfigError,
    parse_config,
)
from coding.findings import has_errors
from edi.validate.pyx12 import validate_text
from edi.x837.model import EnvelopeNumbers, plan_interchanges, write_interchange
from edi.x837.read import read_837
from tests.edi.x837.factory import NOW, encounter, line

# the widest numbers the ledger can hand out (9-digit ISA13/GS06/ST02, 15-character BHT03 and REF*6R)
WIDE = 999_999_999


def _config(interchange: dict | None = None, **payer_keys: dict) -> Config:
    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text())
    data["interchange"].update(interchange or {})
    for key, extra in payer_keys.items():
        data["payers"][key].update(extra)
    return parse_config(data)


def _batch(n: int, payers: tuple[str, ...] = ("medicare",), lines: int = 2, setting: str = "office") -> list:
    out = []
    for i in range(n):
        lns = [line("96372", "45.00", rev="0260", day=date(2026, 3, 1 + k % 20)) for k in range(lines)]
        out.append(encounter(f"ENC-{i:05d}", setting=setting, payer=payers[i % len(payers)], lines=lns))
    return out


def _write_all(plans, cfg, wide: bool = True) -> list[bytes]:
    """Every plan written with the widest control numbers (or small ones)."""
    out = []
    lcn = 10**14 if wide else 1
    for plan in plans:
        for cp in plan.claims:
            cp.lines = [dataclasses.replace(ln, line_control_number=str(lcn + k)) for k, ln in enumerate(cp.lines)]
            lcn += len(cp.lines)
        n = len(plan.transactions)
        base = WIDE if wide else 1
        nums = EnvelopeNumbers(base, base, [base - k for k in range(n)], ["9" * 15 if wide else "1"] * n)
        out.append(write_interchange(plan, cfg, nums, NOW))
    return out


def test_default_limit_is_the_guides_5000_claims():
    cfg = _config()
    assert cfg.max_claims_per_transaction == MAX_CLAIMS_PER_TRANSACTION == 5000
    assert cfg.claims_per_transaction("medicare") == 5000
    assert cfg.max_file_bytes == DEFAULT_MAX_FILE_BYTES == 5_000_000
    assert _config({"max_file_bytes": 0}).max_file_bytes is None  # no limit


def test_transaction_set_ends_at_the_configured_claim_limit():
    cfg = _config({"max_claims_per_transaction": 3})
    plans, findings = plan_interchanges(_batch(8), cfg)
    assert not has_errors(findings)
    (plan,) = plans
    assert [len(t.claims) for t in plan.transactions] == [3, 3, 2]
    assert [c.patient_control_number for c in plan.claims] == [f"ENC-{i:05d}" for i in range(8)]  # order kept
    (data,) = _write_all(plans, cfg, wide=False)
    text = data.decode()
    assert text.count("ST*837*") == 3 and text.count("CLM*") == 8
    assert validate_text(text, "sets") == []
    assert [c.patient_control_number for c in read_837(data).claims] == [f"ENC-{i:05d}" for i in range(8)]


def test_payer_profile_sets_its_own_claim_limit():
    cfg = _config(None, commercial={"max_claims_per_transaction": 2})
    assert cfg.claims_per_transaction("commercial") == 2 and cfg.claims_per_transaction("medicare") == 5000
    plans, _ = plan_interchanges(_batch(10, ("medicare", "commercial")), cfg)
    (plan,) = plans
    sets = [(t.payer_key, len(t.claims)) for t in plan.transactions]
    assert sets == [("medicare", 5), ("commercial", 2), ("commercial", 2), ("commercial", 1)]
    for t in plan.transactions:
        assert {c.coded.encounter.payer for c in t.claims} == {t.payer_key}


@pytest.mark.parametrize(
    "interchange",
    [{"max_claims_per_transaction": 0}, {"max_claims_per_transaction": "9"}, {"max_file_bytes": 100}],
)
def test_bad_limits_are_config_errors(interchange):
    with pytest.raises(ConfigError, match=r"interchange\.max_"):
        _config(interchange)


def test_file_size_limit_starts_a_new_interchange_before_it_is_passed():
    cfg = _config({"max_file_bytes": 6000})
    plans, findings = plan_interchanges(_batch(40, ("medicare", "commercial")), cfg)
    assert not has_errors(findings)
    assert len(plans) > 2 and {p.claim_type for p in plans} == {"837P"}
    files = _write_all(plans, cfg)
    assert all(len(f) <= 6000 for f in files), [len(f) for f in files]
    # nothing lost, nothing repeated, order kept
    pcns = [c.patient_control_number for p in plans for c in p.claims]
    assert pcns == [c.patient_control_number for c in read_837(b"".join(files)).claims]
    assert sorted(pcns) == [f"ENC-{i:05d}" for i in range(40)]
    # the limit is used: each file but the last would not have taken the next claim
    assert all(len(f) > 6000 - 1500 for f in files[:-1])
    for f in files:
        assert validate_text(f.decode(), "part") == []


def test_both_limits_together_and_837i():
    cfg = _config({"max_file_bytes": 9000, "max_claims_per_transaction": 4})
    plans, _ = plan_interchanges(_batch(30, ("medicare",), setting="hospital_outpatient"), cfg)
    assert all(p.claim_type == "837I" for p in plans)
    assert all(len(t.claims) <= 4 for p in plans for t in p.transactions)
    assert all(t.claims for p in plans for t in p.transactions)  # no empty ST set
    assert all(len(f) <= 9000 for f in _write_all(plans, cfg))
    assert sum(len(p.claims) for p in plans) == 30


def test_a_claim_larger_than_the_file_limit_goes_alone_with_a_warning():
    cfg = _config({"max_file_bytes": 4096})
    big = [line("96372", "45.00", rev="0260", day=date(2026, 3, 1 + k % 20)) for k in range(120)]
    small = [line("96372", "45.00", rev="0260")]
    batch = [
        encounter("ENC-SMALL-1", setting="hospital_outpatient", lines=small),
        encounter("ENC-BIG", setting="hospital_outpatient", lines=big),
        encounter("ENC-SMALL-2", setting="hospital_outpatient", lines=list(small)),
    ]
    plans, findings = plan_interchanges(batch, cfg)
    assert [[c.patient_control_number for c in p.claims] for p in plans] == [
        ["ENC-SMALL-1"],
        ["ENC-BIG"],
        ["ENC-SMALL-2"],
    ]
    assert {(f.code, f.encounter_id) for f in findings if f.severity == "warning"} == {
        ("file-size-exceeded", "ENC-BIG")
    }
    files = _write_all(plans, cfg)
    assert len(files[1]) > 4096 and len(files[0]) <= 4096 and len(files[2]) <= 4096


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 25),
    per_set=st.integers(1, 6),
    max_bytes=st.integers(4096, 20000),
    lines=st.integers(1, 12),
    payers=st.sampled_from([("medicare",), ("medicare", "commercial"), ("commercial", "medicare", "medicare")]),
)
def test_limits_hold_for_any_batch(n, per_set, max_bytes, lines, payers):
    cfg = _config({"max_file_bytes": max_bytes, "max_claims_per_transaction": per_set})
    batch = _batch(n, payers, lines)
    plans, findings = plan_interchanges(batch, cfg)
    oversize = {f.encounter_id for f in findings if f.code == "file-size-exceeded"}
    files = _write_all(plans, cfg)
    for plan, data in zip(plans, files):
        assert all(0 < len(t.claims) <= per_set for t in plan.transactions)
        ids = {c.coded.encounter.id for c in plan.claims}
        assert len(data) <= max_bytes or (len(plan.claims) == 1 and ids <= oversize)
    pcns = [c.patient_control_number for p in plans for c in p.claims]
    assert sorted(pcns) == sorted(c.encounter.id for c in batch)  # nothing lost or repeated
