"""Per-remittance summary of 835 files (``dripline remit show --summary``).

The summary is what a biller checks before posting, often on very large files: one line per
remittance with counts, sums and the balancing verdicts. It is read through the one reader
(:func:`edi.x835.reader.read_835` with ``keep_claims=False``: every claim is built, balanced and
counted, then dropped, so memory stays flat), the compiled driver by default.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from coding.findings import Finding
from edi.x835.reader import read_835
from edi.x835.report import RemitSummary, summarize

__all__ = ["summarize_files"]


def summarize_files(paths: Iterable[str | Path]) -> tuple[list[RemitSummary], list[Finding]]:
    """One summary per remittance of every file, plus the file-level findings."""
    rows: list[RemitSummary] = []
    file_findings: list[Finding] = []
    for p in paths:
        rows.extend(summarize(r) for r in read_835(p, str(p), file_findings, keep_claims=False))
    return rows, file_findings
