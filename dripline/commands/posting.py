"""CLI commands for posting and denials: ``remit post``, ``unmatched``, ``denials``, ``underpayments`` and
``claims correct``.

Thin over :mod:`reconcile.posting.post`, :mod:`reconcile.denials.worklist`, :mod:`reconcile.denials.report` and
:mod:`reconcile.claims.correct`; every command takes ``--ledger PATH`` and ``--json``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dripline.commands.claims import claims_app
from dripline.commands.remit import remit_app
from dripline.common import (
    Col,
    ConfigOption,
    JsonOption,
    LedgerOption,
    ReportPathError,
    console,
    err_console,
    fail,
    get_config,
    ledger_path,
    open_ledger,
    print_findings,
    print_json,
    print_table,
    say,
    write_report,
)

if TYPE_CHECKING:  # annotations only: rich's progress display is imported when it is shown
    from rich.progress import Progress

MAX_FINDINGS_SHOWN = 50


def _post_progress(enabled: bool) -> tuple[Callable[[str, int], None] | None, Progress | None]:
    """A rich progress display (claims posted per file) on stderr, or None."""
    if not enabled or not err_console.is_terminal:
        return None, None
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from coding.display import visible

    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err_console, transient=True)
    tasks: dict[str, Any] = {}

    def update(path: str, done: int) -> None:
        if path not in tasks:
            tasks[path] = progress.add_task("", total=None)
        progress.update(tasks[path], description=f"posting {escape(visible(path))}: {done:,} claims")

    return update, progress


def print_post_summary(result: Any) -> None:
    """One column per file (rows: status, payments, claims, amounts, denials...), then the totals."""
    rows = (
        ("status", "status"),
        ("payments posted", "remittances"),
        ("duplicate payments", "duplicate_payments"),
        ("claims", "claims"),
        ("lines", "lines"),
        ("payment (BPR02)", "payment"),
        ("paid (CLP04)", "paid"),
        ("adjusted (CAS)", "adjusted"),
        ("patient responsibility", "patient_responsibility"),
        ("provider adjustments (PLB)", "provider_adjustments"),
        ("interest", "interest"),
        ("reversals", "reversals"),
        ("denials", "denials"),
        ("unmatched", "unmatched"),
    )
    dicts = [f.to_dict() for f in result.files]
    cols = [Col(""), *[Col(Path(f.path).name, "keep", justify="right") for f in result.files]]
    print_table(cols, [[label, *[str(d[key]) for d in dicts]] for label, key in rows], "835 posting")
    shown = [x for f in result.files for x in f.findings if x.severity != "info"]
    print_findings(shown[:MAX_FINDINGS_SHOWN])
    if len(shown) > MAX_FINDINGS_SHOWN:
        console.print(
            f"... and {len(shown) - MAX_FINDINGS_SHOWN} more finding(s) (all of them with --json)", highlight=False
        )
    tot = result.to_dict()["totals"]
    console.print(
        f"{tot['files_posted']} file(s) posted, {tot['files_duplicate']} duplicate(s), "
        f"{tot['files_error']} unreadable; paid {tot['paid']}, PLB {tot['provider_adjustments']}, "
        f"{tot['denials']} denial(s), {tot['unmatched']} unmatched",
        highlight=False,
    )


WORKLIST_COLUMNS = (
    Col("payer", drop=3),
    Col("claim", "keep"),
    Col("line", "keep"),
    Col("code", "keep"),
    Col("codes", "words"),
    Col("amount", "keep", justify="right"),
    Col("age", "keep", justify="right"),
    Col("category", drop=1),
    Col("action", drop=2),
)


def print_worklist(items: list[dict[str, Any]]) -> None:
    from reconcile.denials.worklist import ACTIONS, CATEGORIES

    if not items:
        console.print("No open denials.")
        return
    rows = []
    for d in items:
        codes = f"{d['group'] or ''}-{d['carc'] or ''}" + (f" {d['rarc']}" if d["rarc"] else "")
        rows.append(
            [
                d["payer"] or "",
                d["patient_control_number"],
                d["line_control_number"] or "",
                d["code"] or "",
                codes,
                d["amount"],
                "" if d["age_days"] is None else str(d["age_days"]),
                CATEGORIES.get(d["category"], d["category"]),
                ACTIONS.get(d["action"], d["action"]),
            ]
        )
    print_table(WORKLIST_COLUMNS, rows, f"Denial worklist ({len(items)})")


def _write_html(html: Path, page: bytes, ledger: str | None) -> None:
    """Write the denials/underpayments report to ``--html``, or exit 2 with a message."""
    target = ledger_path(ledger)
    try:
        write_report(html, page, ledger=target if isinstance(target, Path) else None)
    except ReportPathError as exc:
        fail([f"--html {exc}"])
    except OSError as exc:
        fail([f"--html {html}: cannot write: {exc.strerror}"])


UNMATCHED_COLUMNS = (
    Col("kind", "keep"),
    Col("claim", "keep"),
    Col("line", "keep"),
    Col("code", "keep"),
    Col("amount", "keep", justify="right"),
    Col("payer", drop=1),
    Col("trace", "keep"),
    Col("reason"),
)


def print_underpayments(items: list[dict[str, Any]]) -> None:
    if not items:
        console.print("No underpayments.")
        return
    cols = [
        Col("claim", "keep"),
        Col("line", "keep"),
        Col("code", "keep"),
        Col("units", "keep", justify="right"),
        Col("expected", "keep", justify="right"),
        Col("allowed", "keep", justify="right"),
        Col("paid", "keep", justify="right"),
        Col("variance", "keep", justify="right"),
        Col("cause", "keep"),
        Col("basis", drop=1),
        Col("payer", drop=2),
    ]
    rows = [
        [
            str(i["patient_control_number"]),
            str(i["line_control_number"]),
            str(i["code"]),
            str(i["units"]),
            i["expected_allowed"],
            i["allowed"],
            i["paid"],
            i["variance"],
            str(i["cause"]),
            str(i["basis"]),
            str(i["payer"]),
        ]
        for i in items
    ]
    total = sum((Decimal(i["variance"]) for i in items), Decimal(0))
    print_table(cols, rows, f"Underpayments ({len(items)}, {total:,.2f} short)")


def register(app: typer.Typer) -> None:
    """Add ``remit post``, ``unmatched``, ``denials`` and ``claims correct``."""

    @remit_app.command("post")
    def post(
        files: list[Path] = typer.Argument(..., help="835 files to post."),
        config: Path | None = ConfigOption,
        ledger: str | None = LedgerOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Post 835 remittances to the ledger, one transaction per file.

        A remittance answers only claims sent to the payer that issued it (its payer id, or one of
        the payer profile's payer_id_aliases in the config); anything else goes to the unmatched
        queue with the reason. The same file (sha256) or the same payment (payer id + TRN02 + BPR02)
        again is reported as a duplicate and posts nothing. Exit 0 when every file was posted (or
        was a duplicate) without error findings, 1 when a file posted with error findings, 2 when a
        file could not be read or held no 835.
        """
        from reconcile.posting.matching import PayerDirectory
        from reconcile.posting.post import post_files

        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            fail([f"835 file not found: {m}" for m in missing])
        payers = PayerDirectory.from_config(get_config(config))
        conn = open_ledger(ledger)
        update, progress = _post_progress(not as_json)
        if progress is not None:
            progress.start()
        try:
            result = post_files(conn, files, progress=update, payers=payers)
        finally:
            if progress is not None:
                progress.stop()
        if as_json:
            print_json(result.to_dict())
        else:
            print_post_summary(result)
        if any(f.status == "error" for f in result.files):
            raise typer.Exit(2)
        if any(x.severity == "error" for f in result.files if f.status == "posted" for x in f.findings):
            raise typer.Exit(1)

    @app.command("unmatched")
    def unmatched(
        ledger: str | None = LedgerOption,
        as_json: bool = JsonOption,
        all_: bool = typer.Option(False, "--all", help="Include entries already resolved."),
    ) -> None:
        """Remittance claims and lines that matched nothing we sent, with the reason."""
        from reconcile.posting.post import unmatched_queue

        items = unmatched_queue(open_ledger(ledger), include_closed=all_)
        if as_json:
            print_json({"unmatched": items})
            return
        if not items:
            console.print("Unmatched queue is empty.")
            return
        rows = [
            [
                i["kind"],
                i["patient_control_number"] or "",
                i["line_control_number"] or "",
                i["code"] or "",
                i["amount"],
                i["payer"] or i["payer_id"] or "",
                i["trace"] or "",
                i["reason"],
            ]
            for i in items
        ]
        print_table(UNMATCHED_COLUMNS, rows, f"Unmatched ({len(items)})")

    @app.command("denials")
    def denials(
        ledger: str | None = LedgerOption,
        as_json: bool = JsonOption,
        as_csv: bool = typer.Option(False, "--csv", help="Print CSV (one row per denial)."),
        html: Path | None = typer.Option(None, "--html", help="Write the HTML report (table + chart) here."),
        as_of: str | None = typer.Option(None, "--as-of", help="Date for age_days (YYYY-MM-DD; default today)."),
        config: Path | None = ConfigOption,
    ) -> None:
        """The denial worklist: largest amount at risk first, then oldest, with category and action."""
        from reconcile.denials.worklist import denial_worklist, worklist_csv

        when = None
        if as_of:
            try:
                when = date.fromisoformat(as_of)
            except ValueError:
                fail([f"--as-of: not a date (YYYY-MM-DD): {as_of!r}"])
        conn = open_ledger(ledger)
        items = denial_worklist(conn, as_of=when)
        if html is not None:
            from reconcile.denials.report import denials_html
            from reconcile.underpay import underpayment_worklist

            under = underpayment_worklist(conn, get_config(config))
            _write_html(html, denials_html(items, underpayments=under), ledger)
            if not as_json and not as_csv:
                say(f"wrote {html} ({len(items)} denials)")
        if as_json:
            print_json({"denials": items})
        elif as_csv:
            worklist_csv(items, sys.stdout)
        elif html is None:
            print_worklist(items)

    @app.command("underpayments")
    def underpayments(
        ledger: str | None = LedgerOption,
        as_json: bool = JsonOption,
        as_csv: bool = typer.Option(False, "--csv", help="Print CSV (one row per underpaid line)."),
        html: Path | None = typer.Option(
            None, "--html", help="Write the HTML report (denials, then underpayments with a chart by payer) here."
        ),
        config: Path | None = ConfigOption,
    ) -> None:
        """Lines the payer allowed less than expected (beyond the tolerance): largest variance first."""
        from reconcile.underpay import underpayment_worklist, underpayments_csv

        conn = open_ledger(ledger)
        items = underpayment_worklist(conn, get_config(config))
        if html is not None:
            from reconcile.denials.report import denials_html
            from reconcile.denials.worklist import denial_worklist

            _write_html(html, denials_html(denial_worklist(conn), underpayments=items), ledger)
            if not as_json and not as_csv:
                say(f"wrote {html} ({len(items)} underpayments)")
        if as_json:
            print_json({"underpayments": items})
        elif as_csv:
            underpayments_csv(items, sys.stdout)
        elif html is None:
            print_underpayments(items)

    @claims_app.command("correct")
    def correct(
        pcn: str = typer.Argument(..., help="Patient control number of the claim to replace or void."),
        void: bool = typer.Option(False, "--void", help="Void the claim (frequency 8) instead of replacing it (7)."),
        out: Path = typer.Option(Path("."), "--out", help="Directory for the 837 file."),
        config: Path | None = ConfigOption,
        ledger: str | None = LedgerOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Rebuild a claim from its stored encounter as a replacement (7) or void (8) with REF*F8."""
        from dripline.commands.claims import _print_build
        from reconcile.claims.correct import CorrectionError, correct_claim

        cfg = get_config(config)
        conn = open_ledger(ledger)
        if out.exists() and not out.is_dir():
            fail([f"--out {out} exists and is not a directory"])
        try:
            result = correct_claim(conn, pcn, cfg, out, void=void)
        except CorrectionError as exc:
            fail([str(exc)])
        if as_json:
            print_json(result.to_dict())
        else:
            _print_build(result)
        if result.input_error:
            raise typer.Exit(2)
        if result.refused or not any(c["recorded"] for c in result.claims):
            raise typer.Exit(1)
