"""CLI: ``dripline validate FILE... [--json] [--jobs N] [--strict] [--ledger PATH]``.

pyx12 findings plus our own checks for any 837P/837I/835 file (see :mod:`edi.validate.files`).
Exit 0 when every file is valid, 1 when a file has an error finding, 2 when a file cannot be
read, 3 when no file is invalid but one could not be validated (pyx12 has no map for its version).
"""

from __future__ import annotations

from pathlib import Path

import typer

from dripline.common import JsonOption, console, fail, print_findings, print_json, visible

CANNOT_VALIDATE_EXIT = 3


def validate(
    files: list[Path] = typer.Argument(
        ..., metavar="FILE", help="837P, 837I or 835 files (also 999/277CA: pyx12 only)."
    ),
    json_out: bool = JsonOption,
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Validate large files in N parallel processes."),
    strict: bool = typer.Option(False, "--strict", help="Treat a failed NPI check digit as an error."),
    ledger: str | None = typer.Option(
        None,
        "--ledger",
        help="Ledger whose loaded CMS code sets scrub 837 lines (default ./dripline.db, or $DRIPLINE_DB).",
    ),
) -> None:
    """Validate X12 files with pyx12 and dripline's own edits (charges, NPI, NDC, JW/JZ, REF*F8, ICD-10, REF*6R).

    Exit 0: every file valid; 1: a file has errors; 2: a file cannot be read; 3: no file has
    errors but one cannot be validated (pyx12 has no map for its version). With code sets loaded
    into the ledger (``--ledger``), 837 lines also go through the scrubber (code validity on the
    date of service, NCCI PTP and MUE edits).
    """
    from rich.markup import escape

    from dripline import common
    from edi.validate.files import validate_any

    codesets = common.open_codesets(ledger)
    reports = []
    unreadable = []
    for f in files:
        try:
            reports.append(validate_any(f, jobs, strict, codesets))
        except OSError as exc:
            unreadable.append(f"cannot read {f}: {exc.strerror or type(exc).__name__}")
    errors = sum(r.errors for r in reports)
    if json_out:
        print_json(
            {
                "files": [r.to_dict() for r in reports],
                "errors": errors,
                "warnings": sum(r.warnings for r in reports),
                "valid": all(r.status == "valid" for r in reports) and not unreadable,
                "unreadable": unreadable,
            }
        )
    else:
        for r in reports:
            status = {
                "valid": "[green]valid[/green]",
                "cannot-validate": "[yellow]cannot validate[/yellow] (pyx12 has no map for its version)",
            }.get(r.status, f"[red]{r.errors} error(s)[/red]")
            console.print(
                f"{escape(visible(r.file))}: {r.transaction}, {status}, {r.warnings} warning(s)", highlight=False
            )
            print_findings(r.findings, title=f"Findings in {Path(r.file).name}")
    if unreadable:
        fail(unreadable, 2)
    if errors:
        raise typer.Exit(1)
    if any(r.status == "cannot-validate" for r in reports):
        raise typer.Exit(CANNOT_VALIDATE_EXIT)


def register(app: typer.Typer) -> None:
    """Add ``validate`` to the app."""
    app.command("validate")(validate)
