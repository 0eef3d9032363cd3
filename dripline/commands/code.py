"""CLI commands: ``dripline code`` and ``dripline version`` (registered by dripline.cli).

``dripline code FILE... [--config PATH] [--json]`` reads encounters (JSON, JSON Lines or a
directory of them), validates them against the input contract and codes them into claim lines.
Input errors: every problem is printed (file, encounter id, field, message) and the command exits
2; the encounters without problems are still coded and printed (one bad encounter does not hold
back a file of good ones). Otherwise exit 0; held lines are findings, not failures.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.text import Text

from coding.findings import Finding
from coding.money import money_str
from dripline.common import (
    Col,
    ConfigOption,
    JsonOption,
    LedgerOption,
    cell,
    console,
    err_console,
    get_config,
    print_findings,
    print_json,
    print_json_list,
    print_table,
    say,
)

if TYPE_CHECKING:  # annotations only: the CLI imports the coder when a command runs
    from coding.engine import HitHistory
    from coding.model import CodedEncounter, Encounter


def hit_history_for(encounters: Iterable[Encounter] | None, ledger: str | None) -> HitHistory | None:
    """Medicare home infusion 60-day rule: the ledger's HIT history (``--ledger``, ``$DRIPLINE_DB``
    or ``./dripline.db``) when a home encounter needs it and the ledger exists; else None.

    ``encounters`` None (a stream not read yet): the history when the ledger exists, read from
    it the first time a home encounter asks (a batch without one never opens the ledger).
    """
    from dripline.common import ledger_path

    if encounters is not None and not any(e.setting == "home" and e.first_hit_visit is None for e in encounters):
        return None
    path = ledger_path(ledger)
    if isinstance(path, Path) and not path.exists():
        return None
    if encounters is not None:
        return _ledger_history(path)
    loaded: list[HitHistory] = []

    def history(patient_id: str) -> list[date]:
        if not loaded:
            loaded.append(_ledger_history(path))
        return loaded[0](patient_id)

    return history


def _ledger_history(path: Path | str) -> HitHistory:
    from dripline.common import fail
    from reconcile.ledger.history import hit_history_from_ledger
    from reconcile.ledger.store import LedgerError

    try:
        return hit_history_from_ledger(path)
    except LedgerError as exc:
        fail([str(exc)])


def input_problem_lines(findings: Iterable[Finding]) -> list[str]:
    """One line per problem: file, encounter id, field, message (no patient data)."""
    out = []
    for f in findings:
        parts = []
        if f.file:
            parts.append(f.file + (f":{f.line}" if f.line else ""))
        if f.encounter_id:
            parts.append(f"encounter {f.encounter_id}")
        if f.administration_id:
            parts.append(f"administration {f.administration_id}")
        if f.field:
            parts.append(f"field {f.field}")
        where = ", ".join(parts)
        out.append(f"{where}: {f.message} [{f.code}]" if where else f"{f.message} [{f.code}]")
    return out


CODED_COLUMNS = (
    Col("#", "keep", justify="right"),
    Col("code", "keep"),
    Col("mods", "keep"),
    Col("units", "keep", justify="right"),
    Col("rev", "keep"),
    Col("date", "keep"),
    Col("NDC (qty unit)", "words"),
    Col("charge", "keep", justify="right"),
)


def _print_coded(coded: Iterable[CodedEncounter], load_notes: list[Finding]) -> int:
    """A table per coded encounter as it comes, then the input notes when any was printed; how many."""
    count = 0
    for ce in coded:
        count += 1
        enc = ce.encounter
        rows = []
        for n, ln in enumerate(ce.lines, start=1):
            ndc = ""
            if ln.ndc:
                ndc = ln.ndc + (f" {ln.ndc_quantity} {ln.ndc_unit}" if ln.ndc_quantity is not None else "")
            rows.append(
                [
                    str(n),
                    ln.code,
                    "-".join(ln.modifiers),
                    str(ln.units),
                    ln.revenue_code or "",
                    ln.service_date.isoformat(),
                    ndc,
                    money_str(ln.charge),
                ]
            )
        print_table(CODED_COLUMNS, rows, f"{ce.id}  {ce.claim_type}  {enc.setting}  payer={enc.payer}")
        console.print(f"  total charge {money_str(ce.total_charge)}  lines {len(ce.lines)}", highlight=False)
        for n, ln in enumerate(ce.lines, start=1):
            say(f"  {n}. {ln.rationale}")
        print_findings(ce.findings, title=f"{ce.id} findings")
    if load_notes and count:
        print_findings(load_notes, title="input notes")
    return count


def register(app: typer.Typer) -> None:
    """Add ``code`` and ``version`` to the app."""

    @app.command("code")
    def code(
        files: list[Path] = typer.Argument(..., help="Encounter files (JSON, JSON Lines) or directories of them."),
        config: Path = ConfigOption,
        as_json: bool = JsonOption,
        ledger: str | None = LedgerOption,
    ) -> None:
        """Code infusion encounters into claim lines (a table per encounter, or --json)."""
        from coding.encounters.loader import iter_encounters
        from coding.engine import code_stream
        from coding.findings import has_errors
        from coding.scrub import scrub_stream
        from dripline import common

        cfg = get_config(config)
        # the input is read as it is coded and printed (JSON Lines never held whole); its
        # findings are complete once it is read, and follow the encounters
        codesets = common.open_codesets(ledger)
        stream = iter_encounters(files, cfg, codesets)
        coded = scrub_stream(
            code_stream(stream, cfg, hit_history=hit_history_for(None, ledger), codesets=codesets), codesets
        )

        def problems() -> list[Finding]:
            return [f for f in stream.findings if f.severity == "error"]

        if as_json:
            print_json_list(
                "encounters",
                (ce.to_dict() for ce in coded),
                lambda: {"findings": [f.to_dict() for f in problems()]} if problems() else {},
            )
            n_coded = stream.count
        else:
            n_coded = _print_coded(coded, [f for f in stream.findings if f.severity != "error"])
        if has_errors(stream.findings):
            # the good encounters are coded above; the bad ones are listed here, and exit 2 says so
            for line in input_problem_lines(problems()):
                err_console.print(Text.assemble(("error:", "red"), " ", cell(line)), highlight=False, soft_wrap=True)
            err_console.print(
                f"{len(problems())} input problem(s); {n_coded} encounter(s) coded, the rest not", highlight=False
            )
            raise typer.Exit(2)

    @app.command("version")
    def version(as_json: bool = JsonOption) -> None:
        """Print the dripline version."""
        from dripline import __version__

        if as_json:
            print_json({"version": __version__})
        else:
            typer.echo(__version__)
