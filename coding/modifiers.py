"""Dated modifiers: the coder never adds a modifier before it exists or after its last day.

A loaded HCPCS set answers first (its modifier records 7/8 carry added and termination dates,
:meth:`coding.codesets.CodeSets.modifier`); without one the bundled table
``coding/data/modifier_dates.csv`` does. A modifier no longer billable is replaced by its successor
(``replaced_by``: JG → TB after 2024-12-31) when that one is billable on the date, and otherwise
left off.

>>> dated_modifier("JG", date(2024, 12, 31)).modifier
'JG'
>>> m = dated_modifier("JG", date(2025, 1, 1))
>>> m.modifier, m.replaced, m.source
('TB', 'JG', 'bundled modifier dates')
>>> dated_modifier("JZ", date(2022, 12, 31)).modifier is None
True
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from coding.codesets import NO_CODESETS, CodeSets

__all__ = ["BUNDLED_MODIFIER_SOURCE", "DatedModifier", "bypass_modifiers", "dated_modifier", "modifier_dates"]

DATA = Path(__file__).resolve().parent / "data"
BUNDLED_MODIFIER_SOURCE = "bundled modifier dates"


@dataclass(frozen=True, slots=True)
class _Row:
    added: date | None
    terminated: date | None
    replaced_by: str | None

    def effective_on(self, on: date) -> bool:
        return (self.added is None or self.added <= on) and (self.terminated is None or on <= self.terminated)


@dataclass(frozen=True, slots=True)
class DatedModifier:
    """The modifier to bill on a date (None: none), what it replaced, and where the dates came from."""

    modifier: str | None
    replaced: str | None  # the requested modifier when it was replaced or dropped
    source: str
    last_day: date | None = None  # the requested modifier's last day, when replaced or dropped
    first_day: date | None = None  # the requested modifier's first day, when not yet effective

    def note(self) -> str:
        """Rationale text for a replaced or dropped modifier ("" when unchanged)."""
        if self.replaced is None:
            return ""
        if self.first_day is not None:
            why = f"{self.replaced} is effective from {self.first_day.isoformat()}"
        elif self.last_day is not None:
            why = f"{self.replaced} ended {self.last_day.isoformat()}"
        else:
            why = f"{self.replaced} is not billable on this date"
        now = f"{self.modifier} instead" if self.modifier else "left off"
        return f"{why} ({self.source}): {now}"


def _date(s: str) -> date | None:
    s = s.strip()
    return date.fromisoformat(s) if s else None


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


@lru_cache(maxsize=1)
def modifier_dates() -> dict[str, _Row]:
    """The bundled table: modifier → (added, terminated, replaced_by)."""
    return {
        r["modifier"].strip().upper(): _Row(
            _date(r["added"]), _date(r["terminated"]), r["replaced_by"].strip().upper() or None
        )
        for r in _rows("modifier_dates.csv")
    }


@lru_cache(maxsize=1)
def bypass_modifiers() -> frozenset[str]:
    """NCCI-associated modifiers (``coding/data/ncci_bypass_modifiers.csv``)."""
    return frozenset(r["modifier"].strip().upper() for r in _rows("ncci_bypass_modifiers.csv"))


def _lookup(mod: str, on: date, codesets: CodeSets) -> tuple[bool, date | None, date | None, str | None, str] | None:
    """(effective, added, terminated, successor, source label) or None when nothing knows ``mod``."""
    bundled = modifier_dates().get(mod)
    fact = codesets.modifier(mod, on) if codesets is not NO_CODESETS else None
    if fact is not None:
        succ = bundled.replaced_by if bundled is not None else None
        return fact.effective_on(on), fact.added, fact.terminated, succ, fact.source.label
    if bundled is not None:
        return bundled.effective_on(on), bundled.added, bundled.terminated, bundled.replaced_by, BUNDLED_MODIFIER_SOURCE
    return None


@lru_cache(maxsize=4096)
def _bundled_only(mod: str, on: date) -> DatedModifier:
    return _dated(mod, on, NO_CODESETS)


def _dated(mod: str, on: date, codesets: CodeSets) -> DatedModifier:
    got = _lookup(mod, on, codesets)
    if got is None:
        return DatedModifier(mod, None, "")
    ok, added, terminated, succ, label = got
    if ok:
        return DatedModifier(mod, None, label)
    first = added if added is not None and on < added else None
    last = terminated if first is None else None
    if succ is not None and first is None:
        s = _lookup(succ, on, codesets)
        if s is None or s[0]:
            return DatedModifier(succ, mod, label, last, None)
    return DatedModifier(None, mod, label, last, first)


def dated_modifier(mod: str, on: date, codesets: CodeSets = NO_CODESETS) -> DatedModifier:
    """The modifier to bill for ``mod`` on ``on`` (itself, its successor, or None)."""
    if codesets is NO_CODESETS:
        return _bundled_only(mod, on)
    return _dated(mod, on, codesets)
