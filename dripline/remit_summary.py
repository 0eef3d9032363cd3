"""The readable ``remit show --summary`` output, shared by the typer command and the fast path
(no typer/rich import here)."""

from __future__ import annotations

import sys
from pathlib import Path


def write_summary(files: list[Path]) -> None:
    """One line per remittance, then a count of file-level error findings (details: --json)."""
    from coding.display import visible
    from edi.x835.summary import summarize_files

    rows, file_findings = summarize_files(files)
    out = sys.stdout
    out.write("".join(visible(r.line()) + "\n" for r in rows))  # payer text: control characters as escapes
    errors = [f for f in file_findings if f.severity == "error"]
    if errors:
        out.write(f"{len(errors)} file-level error finding(s): see --json\n")
