"""The rework table: categories and actions by group/CARC/RARC, unknown codes as `other`."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.denials.worklist import ACTIONS, CATEGORIES, categorize, is_denial, primary_reason, rework_rules

D = Decimal
SHARED = Path(__file__).resolve().parents[4] / "shared" / "reference" / "carc_rarc_infusion.csv"


def test_table_rows_use_known_categories_and_actions():
    rules = rework_rules()
    assert len(rules) > 40
    for rw in rules.values():
        assert rw.category in CATEGORIES and rw.action in ACTIONS and rw.note


@pytest.mark.parametrize(
    "group, carc, rarcs, category, action, rarc",
    [
        ("CO", "16", ["M119"], "missing_information", "corrected_claim", "M119"),
        ("CO", "16", ["N290", "M119"], "missing_information", "corrected_claim", "M119"),
        ("CO", "16", ["MA130"], "missing_information", "corrected_claim", "MA130"),
        ("CO", "16", [], "missing_information", "corrected_claim", None),
        ("CO", "4", [], "coding_modifier", "corrected_claim", None),
        ("CO", "97", ["M15"], "bundling", "corrected_claim", "M15"),
        ("CO", "B15", [], "bundling", "corrected_claim", None),
        ("CO", "50", ["N115"], "medical_necessity", "appeal", "N115"),
        ("CO", "197", [], "authorization", "appeal", None),
        ("CO", "22", [], "eligibility", "rebill_another_payer", None),
        ("CO", "27", [], "eligibility", "bill_patient", None),
        ("CO", "29", [], "timely_filing", "appeal", None),
        ("OA", "18", [], "duplicate", "write_off", None),
        ("CO", "18", [], "duplicate", "write_off", None),
        ("PR", "2", [], "other", "bill_patient", None),
        ("CO", "151", ["N362"], "coding_modifier", "corrected_claim", "N362"),
        ("CO", "999", [], "other", "appeal", None),  # unknown CARC: still listed, category other
        ("CO", "999", ["M119"], "missing_information", "corrected_claim", "M119"),  # the remark tells
    ],
)
def test_categorize(group, carc, rarcs, category, action, rarc):
    rw, chosen = categorize(group, carc, rarcs)
    assert (rw.category, rw.action, chosen) == (category, action, rarc)


def test_unknown_code_is_flagged_unknown():
    rw, _ = categorize("OA", "ZZZ", [])
    assert rw.category == "other" and not rw.known


def test_every_shared_reference_row_has_a_specific_category():
    if not SHARED.is_file():
        pytest.skip("shared reference table not present")
    with open(SHARED, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rarcs = [r for r in row["rarc_typical"].split("|") if r]
            rw, _ = categorize(row["group_code"], row["carc"], rarcs)
            assert rw.known, row
            if row["action_type"] == "none" or row["group_code"] == "PR":
                continue
            assert rw.category != "other" or row["carc"] in ("45",), row


def test_denial_rule():
    assert is_denial("4", D("0"), [])
    assert is_denial("1", D("0"), [("CO", "16", D("10"))])
    assert is_denial("2", D("0"), [("OA", "23", D("10"))])
    assert not is_denial("1", D("0"), [("PR", "1", D("10"))])  # deductible: the patient owes it
    assert not is_denial("1", D("5"), [("CO", "45", D("10"))])


def test_primary_reason_prefers_the_largest_non_patient_adjustment():
    assert primary_reason([("PR", "1", D("500")), ("CO", "16", D("20")), ("CO", "45", D("30"))]) == ("CO", "45")
    assert primary_reason([("PR", "2", D("5"))]) == ("PR", "2")
    assert primary_reason([]) == (None, None)


@given(st.text(max_size=5), st.text(max_size=5), st.lists(st.text(max_size=6), max_size=3))
def test_categorize_never_raises(group, carc, rarcs):
    rw, rarc = categorize(group, carc, rarcs)
    assert rw.category in CATEGORIES
    assert rarc is None or rarc.upper() in [r.upper() for r in rarcs]
