"""Identifier validators: NPI, NDC, ICD-10-CM, HCPCS (doctests run too, via --doctest-modules)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coding.identifiers import InvalidIdentifier, hcpcs, icd10cm, ndc, npi

MODULES = (npi, ndc, icd10cm, hcpcs)


# ----------------------------------------------------------------- NPI
@pytest.mark.parametrize("value", ["1234567893", "1987654328", "1456789019", " 1234-567-893 "])
def test_npi_valid(value):
    assert npi.is_valid(value)
    assert npi.validate(value) == npi.compact(value)


@pytest.mark.parametrize(
    "value,reason",
    [
        ("1234567890", "check digit"),
        ("123456789", "10 digits"),
        ("12345678931", "10 digits"),
        ("12345678a3", "digits only"),
        ("", "digits only"),
        ("１２３４５６７８９３", "digits only"),
    ],
)
def test_npi_invalid(value, reason):
    with pytest.raises(InvalidIdentifier, match=reason):
        npi.validate(value)
    assert not npi.is_valid(value)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_npi_check_digit_roundtrip_and_single_digit_errors_detected(first9):
    good = first9 + npi.calc_check_digit(first9)
    assert npi.is_valid(good)
    # Luhn catches every single-digit substitution
    for pos in range(10):
        for d in "0123456789":
            if d != good[pos]:
                assert not npi.is_valid(good[:pos] + d + good[pos + 1 :])


# ----------------------------------------------------------------- NDC
@pytest.mark.parametrize(
    "label,eleven",
    [
        ("0574-4072-05", "00574407205"),  # 4-4-2 -> pad segment 1
        ("51655-089-52", "51655008952"),  # 5-3-2 -> pad segment 2
        ("58118-1397-3", "58118139703"),  # 5-4-1 -> pad segment 3
        ("57894-030-01", "57894003001"),  # example 1
        ("55513-710-01", "55513071001"),  # example 12
        ("0944-2700-03", "00944270003"),  # example 2 (4-4-2)
        ("57894003001", "57894003001"),  # 11 digits as is
        ("57894-0030-01", "57894003001"),  # dashed 5-4-2
    ],
)
def test_ndc_to_11(label, eleven):
    assert ndc.to_11(label) == eleven
    assert ndc.format(label) == f"{eleven[:5]}-{eleven[5:9]}-{eleven[9:]}"


@pytest.mark.parametrize(
    "value",
    [
        "5789400300",
        "1234-56789-0",
        "12345-67-890",
        "123",
        "5789A003001",
        "57894--003001",
        "1-2-3",
        "57894-0030-01-1",
        "",
        "00000-0000-00",
    ],
)
def test_ndc_invalid(value):
    assert not ndc.is_valid(value)
    with pytest.raises(InvalidIdentifier):
        ndc.to_11(value)


@given(st.sampled_from([(4, 4, 2), (5, 3, 2), (5, 4, 1)]), st.data())
def test_ndc_any_10_digit_label_gives_11_digits_with_same_digits(layout, data):
    parts = [data.draw(st.text(alphabet="0123456789", min_size=n, max_size=n)) for n in layout]
    if set("".join(parts)) == {"0"}:
        return
    out = ndc.to_11("-".join(parts))
    assert len(out) == 11 and out.isdigit()
    # segment lengths 5-4-2 and each segment's value preserved
    segs = (out[:5], out[5:9], out[9:])
    assert [int(s) for s in segs] == [int(p) for p in parts]


# ----------------------------------------------------------------- ICD-10-CM
@pytest.mark.parametrize(
    "value,norm",
    [
        ("K50.90", "K5090"),
        ("K5090", "K5090"),
        ("e86.0", "E860"),
        ("Z51.11", "Z5111"),
        ("C50.911", "C50911"),
        ("T80.1XXA", "T801XXA"),
        ("D84.9", "D849"),
        ("R11", "R11"),
    ],
)
def test_icd10_valid(value, norm):
    assert icd10cm.validate(value) == norm


@pytest.mark.parametrize("value", ["", "K5", "50.90", "KK0.90", "K50.", "K5.090", "K50.90123", "K50-90", "K50 .9x!"])
def test_icd10_invalid(value):
    assert not icd10cm.is_valid(value)


# ----------------------------------------------------------------- HCPCS
@pytest.mark.parametrize("value", ["96365", "J1745", "q5121", "0001F", "0075T", "0001U", "G0463", "S9500"])
def test_hcpcs_valid(value):
    assert hcpcs.is_valid(value)


@pytest.mark.parametrize("value", ["", "J174", "J17455", "JJ745", "9636X", "96-65", "J17.4"])
def test_hcpcs_invalid(value):
    assert not hcpcs.is_valid(value)


# ----------------------------------------------------------------- robustness
JUNK = st.one_of(
    st.text(),
    st.binary(),
    st.integers(),
    st.floats(allow_nan=True),
    st.none(),
    st.booleans(),
    st.lists(st.text(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=300)
@given(JUNK)
def test_is_valid_never_raises_on_junk(value):
    for mod in MODULES:
        assert mod.is_valid(value) in (True, False)


@settings(max_examples=200)
@given(st.text())
def test_validate_raises_only_invalid_identifier(value):
    for mod in MODULES:
        try:
            out = mod.validate(value)
        except InvalidIdentifier:
            continue
        assert isinstance(out, str) and out.isascii()
