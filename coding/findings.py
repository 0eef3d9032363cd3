"""Findings: problems in data, reported as values, never raised.

Every layer (coding, edi, reconcile) reports what it could not do as a :class:`Finding`
with a severity, a stable kebab-case code, a human message and a position. The position is
either clinical (encounter id, administration id, field) or positional in a file (file,
segment id, loop, element, line number). Messages must never contain patient data
(names, dates of birth, member ids): name the field, not its value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in the data, with where it was found."""

    severity: Severity
    code: str
    message: str
    encounter_id: str | None = None
    administration_id: str | None = None
    field: str | None = None
    file: str | None = None
    segment: str | None = None
    loop: str | None = None
    element: str | None = None
    line: int | None = None
    segment_number: int | None = None  # 1-based ordinal of the segment in the file (X12 readers)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: keys with no value are left out (severity, code, message always present)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding is an error."""
    return any(f.severity == "error" for f in findings)


def error(code: str, message: str, **where: Any) -> Finding:
    return Finding("error", code, message, **where)


def warning(code: str, message: str, **where: Any) -> Finding:
    return Finding("warning", code, message, **where)


def info(code: str, message: str, **where: Any) -> Finding:
    return Finding("info", code, message, **where)
