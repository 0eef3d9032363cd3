"""Coverage after the primary (``secondary``, ``tertiary``) in the encounter contract."""

from __future__ import annotations

import pytest

from coding.encounters.loader import validate_encounter
from tests.coding.encounters.test_loader import CFG, good

SPOUSE = {
    "id": "P9",
    "first": "Bob",
    "last": "Lee",
    "dob": "1958-01-02",
    "sex": "M",
    "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
}


def test_secondary_and_the_coverages_in_order() -> None:
    enc, findings = validate_encounter(good(secondary={"payer": "commercial", "member_id": "W123"}), CFG)
    assert findings == [] and enc is not None
    assert [(c.payer, c.member_id) for c in enc.coverages] == [("medicare", "1EG4TE5MK72"), ("commercial", "W123")]
    assert enc.secondary is not None and enc.secondary.relationship == "self" and enc.tertiary is None


def test_secondary_of_someone_else_takes_the_coverage_member_id() -> None:
    cov = {"payer": "commercial", "member_id": "W777", "relationship": "spouse", "subscriber": SPOUSE}
    enc, findings = validate_encounter(good(secondary=cov), CFG)
    assert findings == [] and enc is not None and enc.secondary is not None
    assert enc.secondary.subscriber is not None and enc.secondary.subscriber.member_id == "W777"
    assert enc.secondary.relationship == "spouse"


@pytest.mark.parametrize(
    ("over", "field", "code"),
    [
        ({"secondary": {"payer": "nobody", "member_id": "X1"}}, "secondary.payer", "unknown-payer"),
        ({"secondary": {"payer": "medicare", "member_id": "X1"}}, "secondary.payer", "bad-value"),
        ({"secondary": {"payer": "commercial"}}, "secondary.member_id", "missing-field"),
        ({"secondary": "commercial"}, "secondary", "bad-value"),
        (
            {"secondary": {"payer": "commercial", "member_id": "X1", "relationship": "child"}},
            "secondary.subscriber",
            "missing-field",
        ),
        (
            {"secondary": {"payer": "commercial", "member_id": "X1", "relationship": "cousin"}},
            "secondary.relationship",
            "bad-value",
        ),
        ({"tertiary": {"payer": "commercial", "member_id": "X1"}}, "secondary", "missing-field"),
        (
            {
                "secondary": {"payer": "commercial", "member_id": "X1"},
                "tertiary": {"payer": "commercial", "member_id": "X2"},
            },
            "tertiary.payer",
            "bad-value",
        ),
    ],
)
def test_bad_coverage_is_a_finding_naming_the_field(over: dict, field: str, code: str) -> None:
    enc, findings = validate_encounter(good(**over), CFG)
    assert enc is None
    assert any(f.field == field and f.code == code and f.encounter_id == "ENC-1" for f in findings), [
        f.to_dict() for f in findings
    ]
