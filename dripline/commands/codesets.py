"""CLI commands: ``dripline codesets load`` and ``dripline codesets list`` (CMS code sets in the ledger)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dripline.common import JsonOption, LedgerOption, console, err_console, fail, print_findings, print_json

if TYPE_CHECKING:  # annotations only: the loader is imported when a command runs
    from reconcile.codesets import LoadResult, SetInfo

KIND_NAMES = "hcpcs, asp, asp-ndc, ptp-practitioner, ptp-hospital, mue-practitioner, mue-facility"

codesets_app = typer.Typer(
    help="Load CMS code-set files (HCPCS, ASP, NCCI PTP and MUE) into the ledger and list them.",
    no_args_is_help=True,
)


def _date_option(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail([f"{option}: not a date (YYYY-MM-DD): {value!r}"])


def _progress(enabled: bool) -> tuple[Callable[[str, int, int], None] | None, Callable[[], None]]:
    """A rich progress bar of bytes read per file, on stderr (None when not wanted)."""
    if not enabled:
        return None, lambda: None
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(name: str, done: int, total: int) -> None:
        if not tasks:
            progress.start()
        if name not in tasks:
            tasks[name] = progress.add_task(f"loading {Path(name.split('!')[-1]).name}", total=max(total, 1))
        progress.update(tasks[name], completed=min(done, total))

    def finish() -> None:
        if tasks:
            progress.stop()

    return update, finish


def _print_results(results: list[LoadResult], unreadable: list[str]) -> None:
    from rich.table import Table

    t = Table(title="Code-set files")
    for col in ("file", "status", "kind", "period", "rows"):
        t.add_column(col)
    for r in results:
        if r.status == "skipped":
            continue
        period = ""
        if r.effective_from is not None:
            period = f"{r.effective_from.isoformat()} – {r.effective_to.isoformat() if r.effective_to else ''}"
        color = {"loaded": "green", "already-loaded": "cyan", "refused": "red"}.get(r.status, "yellow")
        t.add_row(r.file, f"[{color}]{r.status}[/{color}]", r.kind or "?", period, f"{r.rows:,}")
    console.print(t)
    skipped = [r.file for r in results if r.status == "skipped"]
    if skipped:
        console.print(
            f"{len(skipped)} other member(s) of the zip file(s) skipped (not a code-set table)", highlight=False
        )
    for r in results:
        shown = [f for f in r.findings if f.severity != "info" or f.code != "codeset-not-data"]
        print_findings(shown, title=f"Findings: {r.file}")
    for u in unreadable:
        err_console.print(f"[red]error:[/red] {u}", highlight=False, soft_wrap=True)


def _period(s: SetInfo) -> str:
    return f"{s.effective_from.isoformat()} – {s.effective_to.isoformat() if s.effective_to else ''}"


@codesets_app.command("load")
def load(
    files: list[Path] = typer.Argument(..., help="CMS files as downloaded: zip archives or their extracted members."),
    kind: str | None = typer.Option(None, "--kind", help=f"Kind of every file ({KIND_NAMES}); default: from content."),
    effective: str | None = typer.Option(
        None, "--effective", help="First day the set is in effect (YYYY-MM-DD); default: from content or file name."
    ),
    ledger: str | None = LedgerOption,
    as_json: bool = JsonOption,
) -> None:
    """Load CMS code-set files into the ledger, each recorded with its sha256, kind and period.

    The kind is recognized from content (a zip's data member is chosen by content; its xlsx twin and
    documents are skipped). Loading the same file again changes nothing. Rows the file gets wrong
    are findings with file and line; the rest loads. Exit 0 when every file loaded or was loaded
    before, 1 when a file had errors or was refused, 2 when an input cannot be read or on usage errors.
    """
    from dripline.common import open_ledger
    from reconcile.codesets import KINDS, UnreadableInput, load_path

    if kind is not None and kind not in KINDS:
        fail([f"--kind: one of {KIND_NAMES}, not {kind!r}"])
    when = _date_option(effective, "--effective")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        fail([f"file not found: {m}" for m in missing])
    conn = open_ledger(ledger)
    update, finish = _progress(not as_json and err_console.is_terminal)
    results: list[LoadResult] = []
    unreadable: list[str] = []
    try:
        for f in files:
            try:
                results.extend(load_path(conn, f, kind=kind, effective=when, progress=update))
            except UnreadableInput as exc:
                unreadable.append(str(exc))
    finally:
        finish()
    if as_json:
        print_json({"files": [r.to_dict() for r in results], "unreadable": unreadable})
    else:
        _print_results(results, unreadable)
    if unreadable:
        raise typer.Exit(2)
    if any(r.has_errors or r.status == "refused" for r in results):
        raise typer.Exit(1)


@codesets_app.command("list")
def list_cmd(
    ledger: str | None = LedgerOption,
    as_json: bool = JsonOption,
    as_of: str | None = typer.Option(None, "--as-of", help="Date the stale check uses (YYYY-MM-DD; default today)."),
) -> None:
    """Every loaded code-set file: kind, effective period, rows and source file.

    A set's period ends where the file says (ASP) or the day before the next set of its kind. A
    ``stale`` warning names each kind whose newest set is older than the quarter of today (or
    ``--as-of``); an ``incomplete`` warning names a PTP quarter missing some of its four parts; a
    file replaced by a corrected one of the same kind, period and part is marked.
    """
    from dripline.common import open_ledger
    from reconcile.codesets import incomplete_sets, list_sets, stale_kinds

    today = _date_option(as_of, "--as-of") or date.today()
    sets = list_sets(open_ledger(ledger))
    stale = stale_kinds(sets, today)
    incomplete = incomplete_sets(sets)
    if as_json:
        print_json(
            {
                "sets": [s.to_dict() for s in sets],
                "stale": [{"kind": k, "message": m} for k, m in stale.items()],
                "incomplete": [{"set": k, "message": m} for k, m in incomplete.items()],
            }
        )
        return
    from rich.table import Table

    if not sets:
        console.print("no code sets loaded (dripline codesets load FILE...)", highlight=False)
        return
    t = Table(title="Loaded code sets")
    for col in ("kind", "set", "period", "rows", "file", "note"):
        t.add_column(col)
    for s in sets:
        notes = []
        if s.superseded:
            notes.append("replaced")
        if s.errors:
            notes.append(f"{s.errors} error(s)")
        t.add_row(s.kind, s.label, _period(s), f"{s.row_count:,}", s.source_file, ", ".join(notes))
    console.print(t)
    for message in stale.values():
        console.print(f"[yellow]stale:[/yellow] {message}", highlight=False)
    for message in incomplete.values():
        console.print(f"[yellow]incomplete:[/yellow] {message}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``codesets`` to the app."""
    app.add_typer(codesets_app, name="codesets")
