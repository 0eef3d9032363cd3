"""Golden-file tests for the 837P/837I writer (clock and control numbers injected).

Regenerate after an intended change with ``DRIPLINE_REGEN_GOLDEN=1 pytest tests/edi/x837/test_golden.py``
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coding.config import load_config
from coding.findings import has_errors
from edi.validate.pyx12 import validate_text
from edi.x837.edits import run_edits
from edi.x837.model import EnvelopeNumbers, plan_interchanges, write_interchange
from edi.x837.read import read_837
from tests.edi.x837.factory import NOW, assign_lcns, hospital_set, office_set

GOLDEN = Path(__file__).parent / "golden"
CONFIG = GOLDEN / "x837_config.toml"


def _write(coded, claim_type: str, isa13: int) -> bytes:
    cfg = load_config(CONFIG)
    plans, findings = plan_interchanges(coded, cfg)
    assert not has_errors(findings), findings
    (plan,) = [p for p in plans if p.claim_type == claim_type]
    n = len(plan.transactions)
    nums = EnvelopeNumbers(
        isa13, isa13 + 1000, [isa13 * 10 + i for i in range(n)], [f"BATCH{isa13}-{i}" for i in range(n)]
    )
    return write_interchange(plan, cfg, nums, NOW)


def _check_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("DRIPLINE_REGEN_GOLDEN"):
        path.write_bytes(data)
    assert path.exists(), f"golden file {name} missing (set DRIPLINE_REGEN_GOLDEN=1 to create it)"
    assert data.decode() == path.read_text(), f"output differs from {name}"


@pytest.mark.parametrize(
    "claim_type,name,factory",
    [
        ("837P", "837P_office.x12", office_set),
        ("837I", "837I_hospital.x12", hospital_set),
    ],
)
def test_writer_matches_golden_and_validates(claim_type, name, factory):
    coded = factory()
    assign_lcns(coded)
    data = _write(coded, claim_type, 7)
    _check_golden(name, data)
    assert validate_text(data.decode(), name) == []
    doc = read_837(data)
    assert [f for f in run_edits(doc.claims, name, strict=True)] == []


def test_output_is_deterministic_for_injected_numbers():
    a, b = office_set(), office_set()
    assign_lcns(a)
    assign_lcns(b)
    assert _write(a, "837P", 3) == _write(b, "837P", 3)
    assert _write(a, "837P", 3) != _write(b, "837P", 4)


def test_envelope_carries_injected_control_numbers():
    coded = office_set()
    assign_lcns(coded)
    text = _write(coded, "837P", 42).decode()
    segs = [s.strip() for s in text.split("~") if s.strip()]
    isa = segs[0].split("*")
    assert isa[13] == "000000042" and len(segs[0]) + 1 == 106
    assert segs[1].split("*")[6] == "1042"
    sts = [s.split("*")[2] for s in segs if s.startswith("ST*")]
    assert sts == ["0420", "0421"]
    bhts = [s.split("*")[3] for s in segs if s.startswith("BHT*")]
    assert bhts == ["BATCH42-0", "BATCH42-1"]
    assert segs[-1] == "IEA*1*000000042" and segs[-2] == "GE*2*1042"
    assert "*260303*0930*" in segs[0] and "BHT*0019*00*BATCH42-0*20260303*0930*CH" in segs


def _coded_fixtures(fixtures_dir):
    from coding.encounters.loader import load_encounters
    from coding.engine import code_encounters

    cfg = load_config(CONFIG)
    encs, problems = load_encounters([fixtures_dir / "encounters.json"], cfg)
    assert not has_errors(problems), problems
    return cfg, code_encounters(encs, cfg)


def test_coder_golden(fixtures_dir):
    """One golden file through the real coder: the first office and first hospital fixture."""
    cfg, coded = _coded_fixtures(fixtures_dir)
    pick = [
        next(c for c in coded if c.claim_type == t and c.lines and not has_errors(c.findings)) for t in ("837P", "837I")
    ]
    assign_lcns(pick, "C")
    plans, findings = plan_interchanges(pick, cfg)
    assert not has_errors(findings)
    data = b"".join(
        write_interchange(p, cfg, EnvelopeNumbers(9 + k, 9 + k, [1], ["CODER"]), NOW) for k, p in enumerate(plans)
    )
    _check_golden("coder_fixtures.x12", data)


def test_every_fixture_claim_validates_with_zero_errors(fixtures_dir):
    cfg, coded = _coded_fixtures(fixtures_dir)
    assign_lcns(coded, "F")
    plans, findings = plan_interchanges(coded, cfg)
    written = {c.patient_control_number for p in plans for c in p.claims}
    held = {f.encounter_id for f in findings if f.severity == "error"}
    assert written and all(c.id in written or c.id in held for c in coded)  # nothing silently dropped
    for k, plan in enumerate(plans):
        n = len(plan.transactions)
        data = write_interchange(plan, cfg, EnvelopeNumbers(k + 1, k + 1, list(range(1, n + 1)), ["F"] * n), NOW)
        assert validate_text(data.decode(), plan.claim_type) == []
        assert run_edits(read_837(data).claims, plan.claim_type, strict=True) == []
