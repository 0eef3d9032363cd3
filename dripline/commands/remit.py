"""CLI commands: the ``remit`` group (``remit show`` here; ``remit post`` is added by dripline.commands.posting)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from dripline.common import ColumnKind

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
    """The CSV of :mod:`edi.x835.report` with every cell made safe for spreadsheets
    (:func:`coding.display.csv_cell`: no formula, control characters as escapes)."""
    import csv

    from coding.display import csv_row, visible
    from edi.x835.reader import read_835_files
    from edi.x835.report import CSV_COLUMNS, csv_rows

    file_findings: list = []
    found: list = []
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in read_835_files(files, file_findings):
        w.writerows(csv_row(row) for row in csv_rows(r))
        found.extend(r.findings)
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
        sys.stderr.write(visible(f"{f.severity}: {f.code}: {f.message} [{where}]") + "\n")


REMIT_COLUMNS: tuple[tuple[str, ColumnKind], ...] = (
    ("claim", "keep"),
    ("status", "keep"),
    ("charge", "keep"),
    ("paid", "keep"),
    ("pt resp", "keep"),
    ("line", "keep"),
    ("code", "keep"),
    ("mods", "keep"),
    ("line charge", "keep"),
    ("line paid", "keep"),
    ("adjustments", "words"),
    ("remarks", "words"),
)


def _table(files: list[Path]) -> None:
    from dripline.common import Col, print_findings, print_table, say
    from edi.x835.reader import read_835_files
    from edi.x835.report import money, summarize

    money_cols = {"charge", "paid", "pt resp", "line charge", "line paid"}
    cols = [Col(h, kind, justify="right" if h in money_cols else "left") for h, kind in REMIT_COLUMNS]
    file_findings: list = []
    all_findings: list = []
    for r in read_835_files(files, file_findings):
        say(summarize(r).line())
        rows: list[list[str]] = []
        for c in r.claims:
            cadj = " ".join(f"{a.group}-{a.reason} {money(a.amount)}" for a in c.adjustments)
            rows.append(
                [
                    c.patient_control_number,
                    c.status,
                    money(c.charge) or "",
                    money(c.paid) or "",
                    money(c.patient_responsibility) or "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    cadj,
                    " ".join(c.remark_codes),
                ]
            )
            for ln in c.lines:
                rows.append(
                    [
                        "",
                        "",
                        "",
                        "",
                        "",
                        ln.line_control_number or "",
                        f"{ln.qualifier}:{ln.code}",
                        ":".join(ln.modifiers),
                        money(ln.charge) or "",
                        money(ln.paid) or "",
                        " ".join(f"{a.group}-{a.reason} {money(a.amount)}" for a in ln.adjustments),
                        " ".join(code for _, code in ln.remarks),
                    ]
                )
        for a in r.provider_adjustments:
            rows.append([f"PLB {a.reason}", "", "", "", "", "", a.reference, "", "", money(a.amount) or "", "", ""])
        print_table(cols, rows)
        all_findings.extend(r.findings)
    print_findings([*file_findings, *all_findings])


def register(app: typer.Typer) -> None:
    """Add the ``remit`` group to the app."""
    app.add_typer(remit_app, name="remit")
