"""The scrubber's fast finding constructor makes the same findings as ``Finding(...)``."""

from __future__ import annotations

import dataclasses

import pytest

from coding.findings import Finding
from coding.scrub import _finding, _finding_maker


@pytest.mark.parametrize(
    ("encounter_id", "field", "file"),
    [("E1", "lines[0]", None), (None, "lines[70]", "claims/837p.txt"), ("E-2", "lines[3]", "x.837")],
)
def test_same_finding_as_the_constructor(encounter_id, field, file):
    made = _finding("error", "ptp-conflict", "96360 is bundled into 96365", encounter_id, None, field, file)
    built = Finding("error", "ptp-conflict", "96360 is bundled into 96365", encounter_id, None, field, file)
    assert type(made) is Finding and made == built and hash(made) == hash(built)
    assert dataclasses.asdict(made) == dataclasses.asdict(built) and made.to_dict() == built.to_dict()
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.code = "other"  # type: ignore[misc]


def test_falls_back_to_the_constructor_when_finding_changes_shape(monkeypatch):
    assert _finding_maker() is not Finding  # the fast path is in use today
    monkeypatch.setattr(Finding, "__post_init__", lambda self: None, raising=False)
    assert _finding_maker() is Finding
