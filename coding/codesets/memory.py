"""An in-memory :class:`~coding.codesets.CodeSets`: dated sets built from plain rows.

Tests, benchmarks and callers that hold CMS facts in memory build one with :meth:`MemoryCodeSets.add`:
each call adds one set (a kind, its effective period, a label for rationales, the file it came from)
and its rows. A lookup for a date asks the newest set of that kind whose period contains the date,
exactly as the ledger's sets answer; a date no set of the kind covers gives ``None`` (the bundled
tables serve).

Rows per kind (dates are :class:`datetime.date`, numbers :class:`~decimal.Decimal` or int):

* ``hcpcs``: ``(code, added, terminated, description)``; two-character codes are modifiers.
* ``asp``: ``(code, dosage text, payment limit or None)``: the dosage is read with
  :func:`coding.codesets.units.parse_unit` ("10 MG" → 10 mg).
* ``asp-ndc``: ``(ndc 11 digits, code, units per item, units per package)``.
* ``ptp-practitioner``, ``ptp-hospital``: ``(column 1, column 2, effective, deleted, indicator)``.
* ``mue-practitioner``, ``mue-facility``: ``(code, value, adjudication indicator)``.

>>> ms = MemoryCodeSets()
>>> src = ms.add("asp", date(2026, 7, 1), date(2026, 9, 30), "ASP 2026Q3", [("J0174", "1 MG", None)])
>>> ms.dosage("J0174", date(2026, 8, 1)).quantity, ms.dosage("J0174", date(2026, 10, 1))
(Decimal('1'), None)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from coding.codesets import (
    CodeFact,
    DosageFact,
    MueFact,
    MueSetting,
    NdcFact,
    PtpEdit,
    PtpSetting,
    SetSource,
)
from coding.codesets.units import parse_unit

__all__ = ["KINDS", "MemoryCodeSets"]

KINDS: tuple[str, ...] = (
    "hcpcs",
    "asp",
    "asp-ndc",
    "ptp-practitioner",
    "ptp-hospital",
    "mue-practitioner",
    "mue-facility",
)


@dataclass(slots=True)
class _Set:
    start: date
    end: date | None
    source: SetSource
    facts: dict[Any, Any] = field(default_factory=dict)
    modifiers: dict[str, CodeFact] = field(default_factory=dict)

    def covers(self, on: date) -> bool:
        return self.start <= on and (self.end is None or on <= self.end)


def _dec(v: Any) -> Decimal | None:
    return None if v is None or v == "" else Decimal(str(v))


class MemoryCodeSets:
    """Dated sets held in dictionaries (see the module docstring for the rows of each kind)."""

    def __init__(self) -> None:
        self._sets: dict[str, list[_Set]] = {k: [] for k in KINDS}

    def add(
        self, kind: str, start: date, end: date | None, label: str, rows: Iterable[Sequence[Any]], file: str = ""
    ) -> SetSource:
        """Add one set of ``kind`` in effect from ``start`` to ``end`` (inclusive; None: open)."""
        if kind not in self._sets:
            raise ValueError(f"unknown code-set kind {kind!r}")
        src = SetSource(kind, label, file)
        s = _Set(start, end, src)
        for row in rows:
            if kind == "hcpcs":
                code, added, terminated, desc = row
                fact = CodeFact(code.strip().upper(), added, terminated, desc, src)
                (s.modifiers if len(fact.code) == 2 else s.facts)[fact.code] = fact
            elif kind == "asp":
                code, text, limit = row
                status, value, unit, _, _ = parse_unit(text)
                qty = value if status == "ok" and value is not None else Decimal(0)
                s.facts[code] = DosageFact(code, qty, unit or "", text, _dec(limit), src)
            elif kind == "asp-ndc":
                ndc, code, per_item, per_pkg = row
                s.facts[(ndc, code)] = NdcFact(ndc, code, _dec(per_item), _dec(per_pkg), src)
            elif kind.startswith("ptp-"):
                c1, c2, eff, deleted, ind = row
                s.facts.setdefault((c1, c2), []).append(PtpEdit(c1, c2, eff, deleted, str(ind), src))
            else:
                code, value, ind = row
                s.facts[code] = MueFact(code, int(value), str(ind), src)
        self._sets[kind].append(s)
        self._sets[kind].sort(key=lambda x: x.start, reverse=True)
        return src

    def _set(self, kind: str, on: date) -> _Set | None:
        for s in self._sets[kind]:
            if s.covers(on):
                return s
        return None

    def code(self, code: str, on: date) -> CodeFact | None:
        s = self._set("hcpcs", on)
        return None if s is None else s.facts.get(code)

    def modifier(self, modifier: str, on: date) -> CodeFact | None:
        s = self._set("hcpcs", on)
        return None if s is None else s.modifiers.get(modifier)

    def dosage(self, code: str, on: date) -> DosageFact | None:
        s = self._set("asp", on)
        return None if s is None else s.facts.get(code)

    def ndc_units(self, ndc: str, code: str, on: date) -> NdcFact | None:
        s = self._set("asp-ndc", on)
        return None if s is None else s.facts.get((ndc, code))

    def ptp(self, setting: PtpSetting, column1: str, column2: str, on: date) -> PtpEdit | None:
        s = self._set("ptp-" + setting, on)
        if s is None:
            return None
        edits: list[PtpEdit] | None = s.facts.get((column1, column2))
        if not edits:
            return None
        for e in edits:  # a pair may repeat: the row in force on the date
            if e.effective <= on and (e.deleted is None or on <= e.deleted):
                return e
        return edits[-1]

    def mue(self, setting: MueSetting, code: str, on: date) -> MueFact | None:
        s = self._set("mue-" + setting, on)
        return None if s is None else s.facts.get(code)

    def loaded_kinds(self, on: date) -> frozenset[str]:
        return frozenset(k for k, sets in self._sets.items() if any(s.covers(on) for s in sets))
