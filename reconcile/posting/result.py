"""What posting did: per file and in total (amounts as two-decimal strings in JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from coding.findings import Finding
from coding.money import money_str

ZERO = Decimal("0")


@dataclass
class FileResult:
    """What posting one file did."""

    path: str
    sha256: str | None
    status: str  # posted / duplicate / error
    remittances: int = 0
    duplicate_payments: int = 0
    claims: int = 0
    lines: int = 0
    payment: Decimal = ZERO
    paid: Decimal = ZERO
    adjusted: Decimal = ZERO
    patient_responsibility: Decimal = ZERO
    provider_adjustments: Decimal = ZERO
    interest: Decimal = ZERO
    reversals: int = 0
    denials: int = 0
    unmatched: int = 0
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self, findings: bool = True) -> dict[str, Any]:
        """Counts and totals (amounts as two-decimal strings), with the findings unless ``findings``
        is False."""
        d: dict[str, Any] = {
            k: getattr(self, k)
            for k in (
                "path",
                "sha256",
                "status",
                "remittances",
                "duplicate_payments",
                "claims",
                "lines",
                "reversals",
                "denials",
                "unmatched",
            )
        }
        for k in ("payment", "paid", "adjusted", "patient_responsibility", "provider_adjustments", "interest"):
            d[k] = money_str(getattr(self, k))
        if findings:
            d["findings"] = [f.to_dict() for f in self.findings]
        return d


@dataclass
class PostResult:
    files: list[FileResult] = field(default_factory=list)

    @property
    def posted(self) -> int:
        return sum(1 for f in self.files if f.status == "posted")

    @property
    def duplicates(self) -> int:
        return sum(1 for f in self.files if f.status == "duplicate")

    def to_dict(self) -> dict[str, Any]:
        tot: dict[str, str | int] = {
            k: money_str(sum((getattr(f, k) for f in self.files), ZERO))
            for k in ("payment", "paid", "adjusted", "patient_responsibility", "provider_adjustments", "interest")
        }
        for k in ("remittances", "duplicate_payments", "claims", "lines", "reversals", "denials", "unmatched"):
            tot[k] = sum(getattr(f, k) for f in self.files)
        tot["files_posted"], tot["files_duplicate"] = self.posted, self.duplicates
        tot["files_error"] = sum(1 for f in self.files if f.status == "error")
        return {"files": [f.to_dict() for f in self.files], "totals": tot}
