"""Fixtures of the claims suites."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest

import coding.engine


@pytest.fixture()
def long_claims(monkeypatch):
    """Encounters whose id is listed in the returned set are coded with 55 lines (split in two parts)."""
    real = coding.engine.code_encounters
    split_ids: set[str] = set()

    def many_lines(encs, cfg, **kw):
        out = real(encs, cfg, **kw)
        for ce in out:
            if ce.encounter.id not in split_ids:
                continue
            base = ce.lines[0]
            ce.lines = [
                dataclasses.replace(
                    base, service_date=base.service_date + timedelta(days=i % 28), charge=Decimal("10.00") + i
                )
                for i in range(55)
            ]
        return out

    monkeypatch.setattr(coding.engine, "code_encounters", many_lines)
    return split_ids
