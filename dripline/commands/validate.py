"""CLI: ``dripline validate FILE... [--json] [--jobs N] [--strict]``.

pyx12 findings plus our own checks for any 837P/837I/835 file (see :mod:`edi.validate.files`).
Exit 0 when no file has an error finding, 1 when one does, 2 when a file cannot be read.
"""

from __future__ import annotations

from pathlib import Path

import typer

from dripline.common import JsonOption, console, fail, print_findings, print_json


def validate(
    files: list[Path] = typer.Argument(
        ..., metavar="FILE", help="837P, 837I or 835 files (also 999/277CA: pyx12 only)."
    ),
    json_out: bool = JsonOption,
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Validate large files in N parallel processes."),
    strict: bool = typer.Option(False, "--strict", help="Treat a failed NPI check digit as an error."),
) -> None:
    """Validate X12 files with pyx12 and dripline's own edits (charges, NPI, NDC, JW/JZ, REF*F8, ICD-10, REF*6R)."""
    from edi.validate.files import validate_any

    reports = []
    unreadable = []
    for f in files:
        try:
            reports.append(validate_any(f, jobs, strict))
        except OSError as exc:
            unreadable.append(f"cannot read {f}: {exc.strerror or type(exc).__name__}")
    errors = sum(r.errors for r in reports)
    if json_out:
        print_json(
            {
                "files": [r.to_dict() for r in reports],
                "errors": errors,
                "warnings": sum(r.warnings for r in reports),
                "valid": errors == 0 and not unreadable,
                "unreadable": unreadable,
            }
        )
    else:
        for r in reports:
            status = "[green]valid[/green]" if r.errors == 0 else f"[red]{r.errors} error(s)[/red]"
            console.print(f"{r.file}: {r.transaction}, {status}, {r.warnings} warning(s)", highlight=False)
            print_findings(r.findings, title=f"Findings in {Path(r.file).name}")
    if unreadable:
        fail(unreadable, 2)
    if errors:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``validate`` to the app."""
    app.command("validate")(validate)
