"""Validate any 837P/837I/835 file: pyx12 through the adapter plus our own checks.

- 837P/837I: pyx12 findings, the reader's structural findings and :mod:`edi.x837.edits`;
- 835: pyx12 findings plus the reader's balancing findings (:mod:`edi.x835.reader`);
- anything else (999, 277CA, unknown): pyx12 findings only.

The transaction is detected from the first GS08/ST01 (not from the file name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coding.codesets import NO_CODESETS, CodeSets
from coding.findings import Finding
from edi.validate.findings import CANNOT_VALIDATE
from edi.x12.tokenizer import iter_segments


@dataclass(slots=True)
class FileReport:
    """What validation found in one file."""

    file: str
    transaction: str  # 837P / 837I / 835 / 999 / 277CA / unknown
    findings: list[Finding] = field(default_factory=list)

    @property
    def validated(self) -> bool:
        """False when pyx12 has no map for the file's version (nothing could be checked by it)."""
        return not any(f.code == CANNOT_VALIDATE for f in self.findings)

    @property
    def status(self) -> str:
        """``invalid`` (an error finding), ``cannot-validate`` (no pyx12 map for its version, no
        error found by the checks that could run) or ``valid``."""
        if self.errors:
            return "invalid"
        return "valid" if self.validated else "cannot-validate"

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "transaction": self.transaction,
            "status": self.status,
            "valid": self.status == "valid",
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [f.to_dict() for f in self.findings],
        }


def detect_transaction(path: str | Path) -> str:
    """837P/837I/835/999/277CA/unknown from the first GS08 and ST01 of the file."""
    version = st01 = ""
    for seg in iter_segments(Path(path), []):
        if seg.id == "GS":
            version = seg.get(8)
        elif seg.id == "ST":
            st01, version = seg.get(1), seg.get(3) or version
            break
    if st01 == "837" or (version.startswith("00501") and ("X222" in version or "X223" in version)):
        if "X223" in version or "X096" in version:
            return "837I"
        return "837P"
    if st01 == "835" or "X221" in version or "X091" in version:
        return "835"
    if st01 == "999" or st01 == "997":
        return st01
    if st01 == "277" or "X214" in version:
        return "277CA"
    return "unknown"


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop exact repeats (pyx12 and the readers can report the same problem twice).

    The key holds the segment number as well as the physical line: in a file written on one
    line (or with CR-only line ends) every segment is on line 1, and two segments with the same
    problem are two findings.
    """
    seen: set[tuple[Any, ...]] = set()
    out = []
    for f in findings:
        key = (f.severity, f.code, f.line, f.segment_number, f.segment, f.loop, f.element, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def validate_any(path: str | Path, jobs: int = 1, strict: bool = False, codesets: CodeSets = NO_CODESETS) -> FileReport:
    """Validate one file (raises OSError only when it cannot be read at all).

    ``codesets``: loaded CMS sets; an 837's lines also go through the scrubber
    (:mod:`edi.validate.scrub`: code validity, NCCI PTP and MUE edits)."""
    from edi.validate.pyx12 import validate_file

    p = Path(path)
    with open(p, "rb") as fh:  # unreadable input -> OSError for the caller
        fh.read(1)
    kind = detect_transaction(p)
    findings = list(validate_file(p, jobs))
    if kind in ("837P", "837I"):
        from edi.x837.edits import run_edits
        from edi.x837.read import read_837

        doc = read_837(p)
        findings += doc.findings
        findings += run_edits(doc.claims, str(p), strict=strict)
        if codesets is not NO_CODESETS:
            from edi.validate.scrub import scrub_claims

            findings += scrub_claims(doc.claims, str(p), codesets)
    elif kind == "835":
        from edi.x835.reader import balance_findings_835

        findings += balance_findings_835(p, str(p))
    return FileReport(str(p), kind, _dedupe(findings))
