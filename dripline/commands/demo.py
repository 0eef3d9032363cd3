"""CLI command: ``dripline demo`` — the whole loop on the bundled fixtures (the README's first command)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

from dripline.common import ConfigOption, JsonOption, console, fail, get_config, ledger_path, print_json
from reconcile.ledger.db import is_server_url

DEFAULT_WORKSPACE = Path("demo-workspace")


def _totals(claims: list[dict[str, Any]]) -> dict[str, Any]:
    from coding.money import money_str

    keys = ("charge", "paid", "adjusted", "patient_responsibility", "balance")
    out: dict[str, Any] = {"claims": len(claims)}
    for k in keys:
        out[k] = money_str(sum((c[k] for c in claims), Decimal(0)))
    return out


def _print(res: Any, report: Path) -> None:
    from rich.text import Text

    from dripline.commands.posting import print_post_summary, print_underpayments, print_worklist
    from dripline.common import Col, cell, print_table, say

    console.rule("1. code the bundled encounters, write, validate and record the 837 files")
    if res.built is None:
        say(f"{res.already_built} claims already recorded in {res.ledger}: nothing built again.")
    else:
        cols = (
            Col("file", "words"),
            Col("type", "keep"),
            Col("claims", "keep", justify="right"),
            Col("lines", "keep", justify="right"),
            Col("status", "keep"),
            Col("errors", "keep", justify="right"),
        )
        print_table(
            cols,
            [[f.path, f.claim_type, str(f.claims), str(f.lines), f.status, str(f.errors)] for f in res.built.files],
        )
        errs = [f for f in res.built.findings if f.is_error]
        for f in errs:
            console.print(
                Text.assemble(("error", "red"), " ", cell(f"{f.code} {f.encounter_id or f.file or ''}: {f.message}")),
                highlight=False,
            )
        console.print(
            f"{sum(1 for c in res.built.claims if c['recorded'])} claims recorded; "
            f"{len(errs)} encounter/file error(s) reported above.",
            highlight=False,
        )
    console.rule("2. post the bundled 835")
    print_post_summary(res.posting)
    if res.secondary is not None or res.secondary_posting is not None:
        console.rule("2b. bill the next payer (claims ready_for_secondary) and post its 835")
        if res.secondary is not None:
            for f in res.secondary.files:
                console.print(f"{f.path}: {f.claim_type}, {f.claims} claim(s), {f.status}", highlight=False)
        if res.secondary_posting is not None:
            print_post_summary(res.secondary_posting)
    console.rule("3. claims after posting")
    tot = _totals(res.claims)
    console.print(
        f"{tot['claims']} claims: charge {tot['charge']}, paid {tot['paid']}, adjusted {tot['adjusted']} "
        f"(patient responsibility {tot['patient_responsibility']}), balance {tot['balance']}",
        highlight=False,
    )
    by_status: dict[str, int] = {}
    for c in res.claims:
        by_status[c["status"]] = by_status.get(c["status"], 0) + 1
    console.print("status: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())), highlight=False)
    console.rule("4. denial worklist")
    print_worklist(res.denials)
    console.rule("5. underpayments (allowed below the expected amount)")
    print_underpayments(res.underpayments)
    if res.unmatched:
        console.print(f"[yellow]{len(res.unmatched)} unmatched remittance item(s): see `dripline unmatched`[/yellow]")
    say(f"HTML report: {report}   ledger: {res.ledger}")


def register(app: typer.Typer) -> None:
    """Add ``demo``."""

    @app.command("demo")
    def demo(
        workspace: Path = typer.Option(
            DEFAULT_WORKSPACE, "--workspace", help="Directory for the demo ledger, 837 files and report."
        ),
        config: Path | None = ConfigOption,
        ledger: str | None = typer.Option(
            None,
            "--ledger",
            help="Ledger to run the demo in: a SQLite file or a postgresql:// URL (default: the workspace's).",
        ),
        as_json: bool = JsonOption,
    ) -> None:
        """Run the whole loop on the bundled fixtures: code, write and validate 837s, record them,
        post the bundled 835 that answers them, bill the next payer of the claims that have one and
        post its 835, and show the claims, the denial worklist and the underpayments.

        Safe to run again: claims are not built twice and the 835 is reported as a duplicate.
        """
        from dripline.commands.claims import summaries_json
        from dripline.common import ReportPathError, write_report
        from reconcile.demo.run import run_demo
        from reconcile.denials.report import denials_html
        from reconcile.ledger.store import LedgerError

        if workspace.exists() and not workspace.is_dir():
            fail([f"--workspace {workspace} exists and is not a directory"])
        cfg = get_config(config)
        try:
            res = run_demo(workspace, cfg, ledger=None if ledger is None else ledger_path(ledger))
        except LedgerError as exc:
            fail([str(exc)])
        report = workspace / "denials.html"
        try:
            write_report(
                report,
                denials_html(res.denials, underpayments=res.underpayments),
                ledger=None if is_server_url(res.ledger) else Path(res.ledger),
            )
        except (ReportPathError, OSError) as exc:
            fail([f"report {report}: {exc}"])
        if as_json:
            print_json(
                {
                    "workspace": res.workspace,
                    "ledger": res.ledger,
                    "build": res.built.to_dict() if res.built is not None else {"already_built": res.already_built},
                    "posting": res.posting.to_dict(),
                    "secondary": {
                        "build": None if res.secondary is None else res.secondary.to_dict(),
                        "posting": None if res.secondary_posting is None else res.secondary_posting.to_dict(),
                    },
                    "totals": _totals(res.claims),
                    "claims": summaries_json(res.claims),
                    "denials": res.denials,
                    "unmatched": res.unmatched,
                    "underpayments": res.underpayments,
                    "report": str(report),
                }
            )
        else:
            _print(res, report)
        secondary_files = res.secondary_posting.files if res.secondary_posting is not None else []
        if any(f.status == "error" for f in [*res.posting.files, *secondary_files]):
            raise typer.Exit(1)
