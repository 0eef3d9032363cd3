"""The bundled fixtures (fixtures/encounters.json) load through the contract loader and code to
the administration and service lines worked out by hand from docs/coding-rules.md (drug lines
are covered by the drug tests). Also checks that the fixtures cover every code family, modifier
and finding the coding rules name.

Note: fixtures/demo.835 answers the claims built from these fixtures; changing a fixture means
regenerating it with fixtures/make_demo_835.py."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from coding.config import load_config
from coding.encounters.loader import load_encounters
from coding.engine import code_encounters

CFG = load_config()

EXPECTED: dict[str, list[tuple[str | None, str, tuple[str, ...], int]]] = {
    "ENC-001": [(None, "96365", (), 1), (None, "96366", (), 1)],
    "ENC-002": [(None, "96365", (), 1), (None, "96366", (), 3)],
    "ENC-003": [(None, "96365", (), 1), (None, "96366", (), 1)],
    "ENC-004": [("0260", "96365", (), 1), ("0260", "96366", (), 1)],
    "ENC-005": [
        (None, "96413", (), 1),
        (None, "96415", (), 2),
        (None, "96375", (), 3),
        (None, "96417", (), 1),
        (None, "96377", (), 1),
    ],
    "ENC-006": [
        ("0335", "96413", (), 1),
        ("0335", "96415", (), 2),
        ("0260", "96375", (), 3),
        ("0335", "96417", (), 1),
        ("0260", "96377", (), 1),
    ],
    "ENC-007": [(None, "96360", (), 1), (None, "96361", (), 1)],
    "ENC-008": [("0260", "96360", (), 1), ("0260", "96361", (), 1)],
    "ENC-009": [(None, "96360", (), 1), (None, "96375", (), 1)],
    "ENC-010": [("0260", "96374", (), 1), ("0260", "96361", (), 1)],
    "ENC-011": [("0260", "96365", (), 1), ("0260", "96365", ("59",), 1)],
    "ENC-012": [("0260", "96365", (), 1), ("0260", "96368", (), 1)],
    "ENC-013": [(None, "96372", (), 1), (None, "99213", ("25",), 1)],
    "ENC-014": [("0260", "96372", (), 1), ("0510", "G0463", ("25",), 1)],
    "ENC-015": [(None, "96365", (), 1)],
    "ENC-016": [("0260", "96374", (), 1)],
    "ENC-017": [("0335", "96413", (), 1), ("0260", "96360", ("XE",), 1)],
    "ENC-018": [(None, "96402", (), 1)],
    "ENC-019": [(None, "96413", (), 1), (None, "96375", (), 1)],
    "ENC-020": [("0335", "96413", (), 1), ("0260", "96375", (), 1), ("0260", "96376", (), 1)],
    "ENC-021": [(None, "96365", (), 1), (None, "96366", (), 2), (None, "96375", (), 1)],
    "ENC-022": [(None, "96372", (), 1)],
    "ENC-023": [("0260", "96374", (), 1), ("0260", "96361", (), 1)],
    "ENC-024": [(None, "96365", (), 1)],
    "ENC-025": [("0260", "96360", (), 1), ("0260", "96361", (), 1), ("0260", "96361", (), 2)],
    "ENC-026": [(None, "96365", (), 1)],
    "ENC-027": [("0260", "96365", (), 1)],
    "ENC-028": [(None, "96377", (), 1)],
    "ENC-029": [("0335", "96413", (), 1), ("0260", "96375", (), 1), ("0335", "96411", (), 1)],
    "ENC-030": [(None, "96402", (), 1), (None, "99214", ("25",), 1)],
}


@pytest.fixture(scope="module")
def coded(fixtures_dir: Path):
    encs, findings = load_encounters([fixtures_dir / "encounters.json"], CFG)
    assert not [f for f in findings if f.severity == "error"]
    return {c.id: c for c in code_encounters(encs, CFG)}


def test_fixture_count_and_coverage(coded):
    assert len(coded) >= 25
    encs = [c.encounter for c in coded.values()]
    assert {e.setting for e in encs} >= {"office", "infusion_center", "hospital_outpatient"}
    assert {e.payer for e in encs} >= {"medicare", "commercial"}
    assert all(len(e.id) <= 20 for e in encs)
    codes = Counter(ln.code for c in coded.values() for ln in c.lines)
    mods = Counter(m for c in coded.values() for ln in c.lines for m in ln.modifiers)
    for code in (
        "96365",
        "96366",
        "96417",
        "96368",
        "96374",
        "96375",
        "96360",
        "96361",
        "96413",
        "96415",
        "96372",
        "96377",
        "96402",
    ):
        assert codes[code], code
    for m in ("JW", "JZ", "TB", "25", "59", "XE"):  # JG fixtures bill TB on 2026 dates
        assert mods[m], m
    fcodes = Counter(f.code for c in coded.values() for f in c.findings)
    assert fcodes["missing-stop-time"] >= 1
    assert any("computed from volume/rate" in ln.rationale for c in coded.values() for ln in c.lines)


@pytest.mark.parametrize("enc_id", sorted(EXPECTED))
def test_fixture_lines(coded, enc_id):
    c = coded[enc_id]
    got = [(ln.revenue_code, ln.code, tuple(ln.modifiers), ln.units) for ln in c.lines if ln.kind != "drug"]
    assert Counter(got) == Counter(EXPECTED[enc_id])
    assert all(ln.rationale for ln in c.lines)
