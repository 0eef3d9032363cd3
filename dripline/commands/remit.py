"""CLI commands: the ``remit`` group (``remit show`` here; ``remit post`` is added by cmd_reconcile)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

remit_app = typer.Typer(help="Read (show) and post 835 remittances.", no_args_is_help=True)


@remit_app.command("show")
def show(
    files: list[Path] = typer.Argument(..., help="835 files (any separators, several ISA/GS/ST per file)."),
    json_out: bool = typer.Option(False, "--json", help="JSON: remittances, claims, lines, PLB, findings."),
    csv_out: bool = typer.Option(False, "--csv", help="CSV: one row per service line with its claim's fields."),
    summary: bool = typer.Option(
        False,
        "--summary",
        help="One line per remittance: payer, trace, payment, "
        "claims, lines, paid, PLB, balancing findings (with --json: as JSON).",
    ),
) -> None:
    """Read 835 remittances and show every claim, line, adjustment and balancing finding."""
    from dripline.common import fail
    from edi.x835.reader import probe_835

    if csv_out and (json_out or summary):
        fail(["--csv cannot be combined with --json or --summary"])
    problems = [m for m in (probe_835(f) for f in files) if m]
    if problems:
        fail(problems)
    if summary:
        _summary(files, json_out)
    elif json_out:
        _json(files)
    elif csv_out:
        _csv(files)
    else:
        _table(files)


def _summary(files: list[Path], as_json: bool) -> None:
    if not as_json:
        from dripline.remit_summary import write_summary

        write_summary(files)
        return
    from dripline.common import print_json
    from edi.x835.summary import summarize_files

    rows, file_findings = summarize_files(files)
    print_json({"remittances": [r.to_dict() for r in rows], "findings": [f.to_dict() for f in file_findings]})


def _json(files: list[Path]) -> None:
    from edi.x835.reader import read_835_files
    from edi.x835.report import write_json

    file_findings: list = []
    # file-level findings are known only once a file is read: collect them while streaming
    write_json(read_835_files(files, file_findings), file_findings, sys.stdout)


def _csv(files: list[Path]) -> None:
    from edi.x835.reader import read_835_files
    from edi.x835.report import write_csv

    file_findings: list = []
    found = write_csv(read_835_files(files, file_findings), sys.stdout)
    for f in [*file_findings, *found]:  # stdout is the CSV: findings go to stderr, one per line
        where = " ".join(
            f"{k}={v}"
            for k, v in (
                ("file", f.file),
                ("seg#", f.segment_number),
                ("line", f.line),
                ("loop", f.loop),
                ("ele", f.element),
            )
            if v is not None
        )
        sys.stderr.write(f"{f.severity}: {f.code}: {f.message} [{where}]\n")


def _table(files: list[Path]) -> None:
    from rich.table import Table

    from dripline.common import console, print_findings
    from edi.x835.reader import read_835_files
    from edi.x835.report import money, summarize

    file_findings: list = []
    all_findings: list = []
    for r in read_835_files(files, file_findings):
        console.print(summarize(r).line(), highlight=False)
        t = Table(show_lines=False)
        for col in (
            "claim",
            "status",
            "charge",
            "paid",
            "pt resp",
            "line",
            "code",
            "mods",
            "line charge",
            "line paid",
            "adjustments",
            "remarks",
        ):
            t.add_column(col)
        for c in r.claims:
            cadj = " ".join(f"{a.group}-{a.reason} {money(a.amount)}" for a in c.adjustments)
            t.add_row(
                c.patient_control_number,
                c.status,
                money(c.charge),
                money(c.paid),
                money(c.patient_responsibility) or "",
                "",
                "",
                "",
                "",
                "",
                cadj,
                " ".join(c.remark_codes),
            )
            for ln in c.lines:
                t.add_row(
                    "",
                    "",
                    "",
                    "",
                    "",
                    ln.line_control_number or "",
                    f"{ln.qualifier}:{ln.code}",
                    ":".join(ln.modifiers),
                    money(ln.charge),
                    money(ln.paid),
                    " ".join(f"{a.group}-{a.reason} {money(a.amount)}" for a in ln.adjustments),
                    " ".join(code for _, code in ln.remarks),
                )
        for a in r.provider_adjustments:
            t.add_row(f"PLB {a.reason}", "", "", "", "", "", a.reference, "", "", money(a.amount), "", "")
        console.print(t)
        all_findings.extend(r.findings)
    print_findings([*file_findings, *all_findings])


def register(app: typer.Typer) -> None:
    """Add the ``remit`` group to the app."""
    app.add_typer(remit_app, name="remit")
