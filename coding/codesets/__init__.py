"""Dated code-set lookups: what the coder and the scrubber ask of CMS's quarterly files.

The coding rules know no file formats. Whoever loads CMS's files (the ledger's code-set store in
``reconcile``) hands the engine an object that answers these questions for a date of service;
without loaded sets the bundled tables answer (:data:`NO_CODESETS` knows nothing, so every caller
falls back to them). Every fact carries its :class:`SetSource`, so a line's rationale can name where
a unit or an edit came from ("J0174: 1 mg per unit (ASP 2026Q3)").

Dates: ``added`` is the first day a code may be billed, ``terminated`` the last day (inclusive),
``None`` open-ended. A set's own effective period selects which loaded set answers for a date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol

__all__ = [
    "NO_CODESETS",
    "CodeFact",
    "CodeSets",
    "DosageFact",
    "MueFact",
    "MueSetting",
    "NdcFact",
    "NoCodeSets",
    "PtpEdit",
    "PtpSetting",
    "SetSource",
]

PtpSetting = Literal["practitioner", "hospital"]
MueSetting = Literal["practitioner", "facility"]


@dataclass(frozen=True, slots=True)
class SetSource:
    """Where a fact came from: the set's kind, a short label for rationales and the file name."""

    kind: str  # hcpcs, asp, asp-ndc, ptp-practitioner, ... or "bundled"
    label: str  # e.g. "ASP 2026Q3", "HCPCS 2026 Apr", "bundled HCPCS 2020"
    file: str = ""


@dataclass(frozen=True, slots=True)
class CodeFact:
    """One HCPCS code or modifier record: its validity dates and long description."""

    code: str
    added: date | None
    terminated: date | None  # last usable day; None = active
    description: str
    source: SetSource

    def effective_on(self, on: date) -> bool:
        """True when the code may be billed on ``on``.

        >>> s = SetSource("hcpcs", "HCPCS 2025 Jan")
        >>> f = CodeFact("JG", date(2018, 1, 1), date(2024, 12, 31), "", s)
        >>> f.effective_on(date(2024, 12, 31)), f.effective_on(date(2025, 1, 1))
        (True, False)
        """
        return (self.added is None or self.added <= on) and (self.terminated is None or on <= self.terminated)


@dataclass(frozen=True, slots=True)
class DosageFact:
    """A drug code's billing unit (the ASP file's "HCPCS Code Dosage" or the HCPCS descriptor)."""

    code: str
    quantity: Decimal  # e.g. 10 for "10 MG"
    unit: str  # normalized unit, e.g. "mg", "mcg", "units", "ml"
    text: str  # the dosage as the file gives it
    payment_limit: Decimal | None  # ASP file's payment limit per unit (ASP + 6 %), None elsewhere
    source: SetSource


@dataclass(frozen=True, slots=True)
class NdcFact:
    """ASP NDC-HCPCS crosswalk row: HCPCS billing units in one item (vial) and one package."""

    ndc: str  # 11 digits, no hyphens
    code: str
    units_per_item: Decimal | None
    units_per_package: Decimal | None
    source: SetSource


@dataclass(frozen=True, slots=True)
class PtpEdit:
    """An NCCI procedure-to-procedure edit: column 2 is bundled into column 1."""

    column1: str
    column2: str
    effective: date
    deleted: date | None  # last day in force; None = active
    modifier_indicator: str  # "0" never bypassed, "1" bypassed by an NCCI-associated modifier, "9" n/a
    source: SetSource

    def active_on(self, on: date) -> bool:
        return self.effective <= on and (self.deleted is None or on <= self.deleted) and self.modifier_indicator != "9"


@dataclass(frozen=True, slots=True)
class MueFact:
    """A medically unlikely edit: the most units of a code per line (indicator 1) or per date (2, 3)."""

    code: str
    value: int
    indicator: str  # "1" line edit, "2" date of service (policy), "3" date of service (clinical)
    source: SetSource


class CodeSets(Protocol):
    """Dated lookups over the loaded sets; ``None`` means "no loaded set knows": use the bundled tables."""

    def code(self, code: str, on: date) -> CodeFact | None: ...

    def modifier(self, modifier: str, on: date) -> CodeFact | None: ...

    def dosage(self, code: str, on: date) -> DosageFact | None: ...

    def ndc_units(self, ndc: str, code: str, on: date) -> NdcFact | None: ...

    def ptp(self, setting: PtpSetting, column1: str, column2: str, on: date) -> PtpEdit | None: ...

    def mue(self, setting: MueSetting, code: str, on: date) -> MueFact | None: ...

    def loaded_kinds(self, on: date) -> frozenset[str]:
        """The kinds of set (``hcpcs``, ``asp``, ``ptp-practitioner``, ...) in effect on ``on``."""
        ...


class NoCodeSets:
    """Nothing loaded: every question falls back to the bundled tables."""

    def code(self, code: str, on: date) -> CodeFact | None:
        return None

    def modifier(self, modifier: str, on: date) -> CodeFact | None:
        return None

    def dosage(self, code: str, on: date) -> DosageFact | None:
        return None

    def ndc_units(self, ndc: str, code: str, on: date) -> NdcFact | None:
        return None

    def ptp(self, setting: PtpSetting, column1: str, column2: str, on: date) -> PtpEdit | None:
        return None

    def mue(self, setting: MueSetting, code: str, on: date) -> MueFact | None:
        return None

    def loaded_kinds(self, on: date) -> frozenset[str]:
        return frozenset()


NO_CODESETS: CodeSets = NoCodeSets()
