"""Typer-free fast paths of the CLI for commands run on big files where start-up matters.

Only ``dripline remit show FILE... --summary`` (no other option) is handled here; anything else
(other commands, ``--help``, ``--json``, unknown options, a file that cannot be read as an 835)
returns False and the typer app handles it, so behaviour and error messages stay those of the
full CLI (:mod:`dripline.commands.remit`). The output is the same bytes either way (a test holds the
two against each other).
"""

from __future__ import annotations

from pathlib import Path


def run_fast(argv: list[str]) -> bool:
    """Run ``argv`` here when it is a plain summary; True when it was handled."""
    if len(argv) < 4 or argv[0] != "remit" or argv[1] != "show":
        return False
    files: list[Path] = []
    summary = False
    for a in argv[2:]:
        if a == "--summary":
            summary = True
        elif a.startswith("-") or not a:
            return False  # --json, --csv, --help, --, unknown options: the typer app decides
        else:
            files.append(Path(a))
    if not summary or not files:
        return False
    from edi.x835.probe import probe_835

    if any(probe_835(f) for f in files):
        return False  # the typer app reports the problems (exit code 2)
    from dripline.remit_summary import write_summary

    write_summary(files)
    return True
