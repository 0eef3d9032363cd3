"""Tolerance, coinsurance and sequestration arithmetic, to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.underpay.worklist import Tolerance, expected_payment, is_underpaid

D = Decimal


@pytest.mark.parametrize(
    ("expected", "allowed", "flagged"),
    [
        ("754.92", "753.92", False),  # exactly 1.00 short: within the amount
        ("754.92", "753.91", True),  # 1.01 short
        ("50.00", "49.50", False),  # 0.50 = 1 % of 50.00
        ("50.00", "49.49", True),  # 0.51 > 1 % of 50.00 (the percent is the smaller tolerance)
        ("100.00", "99.00", False),  # 1 % = 1.00: both agree
        ("0.00", "0.00", False),  # packaged item paid nothing
        ("754.92", "800.00", False),  # overpaid is not underpaid
    ],
)
def test_default_tolerance_is_the_smaller_of_one_percent_and_one_dollar(expected, allowed, flagged):
    assert is_underpaid(D(expected), D(allowed), Tolerance()) is flagged


def test_a_payer_tolerance_replaces_the_default():
    loose = Tolerance(percent=D("5"), amount=D("25.00"))
    assert not is_underpaid(D("754.92"), D("730.00"), loose)  # 24.92 short: under both 25.00 and 37.75
    assert is_underpaid(D("754.92"), D("729.91"), loose)


@pytest.mark.parametrize(
    ("allowed", "deductible", "coins", "seq", "paid"),
    [
        # 728.60 x 80 % = 582.88; 2 % of it = 11.66; 582.88 - 11.66
        ("728.60", "0", "20", "2", "571.22"),
        # (100.00 - 50.00 deductible) x 80 % = 40.00; less 0.80
        ("100.00", "50.00", "20", "2", "39.20"),
        # no sequestration configured
        ("74.82", "0", "20", "0", "59.86"),
        # 74.82 x 80 % = 59.856 -> 59.86; 2 % = 1.1972 -> 1.20
        ("74.82", "0", "20", "2", "58.66"),
    ],
)
def test_medicare_expected_payment(allowed, deductible, coins, seq, paid):
    assert expected_payment(D(allowed), True, D(coins), D(seq), D(deductible)) == D(paid)


def test_other_payers_expect_allowed_less_patient_responsibility():
    assert expected_payment(D("3519.98"), False, patient_responsibility=D("351.99")) == D("3167.99")


@given(
    st.decimals(min_value=0, max_value=100_000, places=2),
    st.decimals(min_value=0, max_value=100_000, places=2),
)
def test_flagged_exactly_when_short_by_more_than_the_smaller_tolerance(expected, allowed):
    short = expected - allowed
    pct = (expected / 100).quantize(D("0.01"))
    assert is_underpaid(expected, allowed, Tolerance()) == (short > min(pct, D("1.00")))
