"""CLI commands: the ``claims`` group (build, secondary, list; ``correct`` is added by dripline.commands.posting)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

from dripline.common import (
    Col,
    ConfigOption,
    JsonOption,
    LedgerOption,
    cell,
    console,
    err_console,
    fail,
    get_config,
    open_ledger,
    print_findings,
    print_json,
    print_json_fields,
    print_table,
)

claims_app = typer.Typer(help="Build 837 claim files and list claims in the ledger.", no_args_is_help=True)

AMOUNT_FIELDS = ("charge", "paid", "adjusted", "patient_responsibility", "balance", "expected")


PROGRESS_MIN_ENCOUNTERS = 200  # smaller batches finish before a bar is worth drawing

STAGES = {"code": "coding encounters", "write": "writing, validating and recording claims"}


def _progress_callback(enabled: bool) -> tuple[Callable[[str, int, int], None] | None, Callable[[], None]]:
    """A rich progress bar on stderr for large batches (None when not wanted)."""
    if not enabled:
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage == "code" and stage not in tasks and total < PROGRESS_MIN_ENCOUNTERS:
            tasks["off"] = True
        if "off" in tasks:
            return
        if not tasks:
            progress.start()
        if stage not in tasks:
            tasks[stage] = progress.add_task(STAGES.get(stage, stage), total=total)
        progress.update(tasks[stage], completed=done, total=total)  # a streamed build learns its total as it goes

    def finish() -> None:
        if tasks and "off" not in tasks:
            progress.stop()

    return update, finish


MAX_READABLE_NOTES = 40  # warnings/info shown in the table; every error is always shown


def _print_capped_findings(findings: list[Any]) -> None:
    """Every error, then at most MAX_READABLE_NOTES warnings/info (all of them are in --json)."""
    errors = [f for f in findings if f.is_error]
    notes = [f for f in findings if not f.is_error]
    print_findings(errors + notes[:MAX_READABLE_NOTES])
    if len(notes) > MAX_READABLE_NOTES:
        console.print(
            f"... and {len(notes) - MAX_READABLE_NOTES} more warning/info finding(s); use --json to see them all",
            highlight=False,
        )


BUILD_COLUMNS = (
    Col("file", "words"),
    Col("type", "keep"),
    Col("ISA13", "keep"),
    Col("claims", "keep", justify="right"),
    Col("lines", "keep", justify="right"),
    Col("status", "keep"),
    Col("errors", "keep", justify="right"),
)


def _print_build(result: Any) -> None:
    from coding.money import money_str

    if result.files:
        rows = []
        for f in result.files:
            color = "green" if f.status == "recorded" else "red" if f.status == "refused" else "yellow"
            rows.append(
                [
                    Path(f.path).name,
                    f.claim_type,
                    f"{f.isa13:09d}",
                    str(f.claims),
                    str(f.lines),
                    cell(f.status, color),
                    str(f.errors),
                ]
            )
        print_table(BUILD_COLUMNS, rows, f"837 files in {Path(result.files[0].path).parent}")
    _print_capped_findings(result.findings)
    recorded = [c for c in result.claims if c["recorded"]]
    total = sum((c["charge"] for c in recorded), Decimal("0"))
    console.print(
        f"{len(result.files)} file(s), {len(recorded)} claim(s) recorded, total charge "
        f"{money_str(total)}; {sum(1 for f in result.findings if f.is_error)} error finding(s)",
        highlight=False,
    )


@claims_app.command("build")
def build(
    files: list[Path] = typer.Argument(..., help="Encounter files (JSON or JSON Lines) or directories of them."),
    out: Path = typer.Option(..., "--out", help="Directory for the 837 files (created if needed)."),
    config: Path | None = ConfigOption,
    ledger: str | None = LedgerOption,
    allow_invalid: bool = typer.Option(
        False, "--allow-invalid", help="Record files even when validation finds errors."
    ),
    jobs: int = typer.Option(1, "--jobs", min=1, help="Validate large files in N parallel processes."),
    as_json: bool = JsonOption,
) -> None:
    """Code encounters, write one 837P/837I interchange per claim type, validate, record in the ledger.

    Exit code 0 when every encounter was billed (its claims recorded), 1 when something was not
    billed or refused (an encounter held, refused as already sent or unusable, or a file refused
    for validation errors), 2 for unreadable input.
    """
    from dripline import common
    from reconcile.claims.build import build_claims

    missing = [str(f) for f in files if not (f.is_file() or f.is_dir() or str(f) == "-")]
    if missing:
        fail([f"input file not found: {m}" for m in missing])
    cfg = get_config(config)
    conn = open_ledger(ledger)
    if out.exists() and not out.is_dir():
        fail([f"--out {out} exists and is not a directory"])
    update, finish = _progress_callback(not as_json)
    try:
        result = build_claims(
            files,
            cfg,
            conn,
            out,
            allow_invalid=allow_invalid,
            jobs=jobs,
            progress=update,
            codesets=common.open_codesets(ledger),
        )
    except OSError as exc:  # the output directory cannot be written
        finish()
        fail([f"cannot write to --out {out}: {exc.strerror or exc}"])
    finish()
    if as_json:
        print_json_fields(result.json_fields())
    elif result.input_error:
        print_findings(result.findings, title="Input errors")
    else:
        _print_build(result)
    if result.input_error:
        if not as_json:
            fail(["the encounters could not be read; nothing was built (see the errors above)"])
        raise typer.Exit(2)
    if result.refused_anything:
        raise typer.Exit(1)


@claims_app.command("secondary")
def secondary(
    out: Path = typer.Option(Path("."), "--out", help="Directory for the 837 files (created if needed)."),
    config: Path | None = ConfigOption,
    ledger: str | None = LedgerOption,
    jobs: int = typer.Option(1, "--jobs", min=1, help="Validate large files in N parallel processes."),
    as_json: bool = JsonOption,
) -> None:
    """Bill the next payer: write, validate and record the 837 for every claim ready_for_secondary.

    Each claim carries the earlier payers' adjudication (Loops 2320/2330 and 2430) from the posted
    835s. Exit code 0 when every claim ready was billed, 1 when a file was refused or a claim could
    not be built (an error finding says why), 2 for bad input.
    """
    from reconcile.claims.secondary import build_secondary, to_json

    cfg = get_config(config)
    conn = open_ledger(ledger)
    if out.exists() and not out.is_dir():
        fail([f"--out {out} exists and is not a directory"])
    try:
        result = build_secondary(cfg, conn, out, jobs=jobs)
    except OSError as exc:
        fail([f"cannot write to --out {out}: {exc.strerror or exc}"])
    if as_json:
        print_json(to_json(result))
    else:
        _print_build(result)
    if result.refused_anything or any(f.is_error for f in result.findings):
        raise typer.Exit(1)


def summaries_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Claim summaries with amounts as two-decimal strings."""
    from coding.money import money_str

    return [
        {
            k: (
                money_str(v)
                if (k in AMOUNT_FIELDS and v is not None) or k == "patient_balance"
                else ({p: money_str(a) for p, a in v.items()} if k == "paid_by_payer" else v)
            )
            for k, v in r.items()
        }
        for r in rows
    ]


@claims_app.command("list")
def list_claims(
    ledger: str | None = LedgerOption,
    as_json: bool = JsonOption,
) -> None:
    """List every claim in the ledger with charge, payments, adjustments, balance and status."""
    from coding.money import money_str
    from reconcile.posting.queries import claim_summaries

    conn = open_ledger(ledger)
    rows = claim_summaries(conn)
    if as_json:
        print_json({"claims": summaries_json(rows)})
        return
    from rich import box

    headers = (
        ("PCN", "patient_control_number"),
        ("payer", "payer"),
        ("charge", "charge"),
        ("paid", "paid"),
        ("adjusted", "adjusted"),
        ("pt resp", "patient_responsibility"),
        ("balance", "balance"),
        ("status", "status"),
    )
    cols = [
        Col(title, "keep", justify="right")
        if key in AMOUNT_FIELDS
        else (Col(title, drop=1) if key == "payer" else Col(title, "keep"))
        for title, key in headers
    ]
    table = [[money_str(r[key]) if key in AMOUNT_FIELDS else str(r[key]) for _, key in headers] for r in rows]
    # a claim billed to more than one payer: what each paid and what is left for the patient
    if any(set(r.get("paid_by_payer") or {}) - {r["payer"]} for r in rows):
        cols += [Col("paid by payer", "words"), Col("pt balance", "keep", justify="right")]
        for line, r in zip(table, rows):
            line.append(", ".join(f"{p} {money_str(v)}" for p, v in (r.get("paid_by_payer") or {}).items()))
            line.append(money_str(r.get("patient_balance") or Decimal(0)))
    print_table(cols, table, f"Claims ({len(rows)})", box=box.SIMPLE_HEAD, pad_edge=False)


def register(app: typer.Typer) -> None:
    """Add the ``claims`` group to the app."""
    app.add_typer(claims_app, name="claims")
