"""Shared helpers for the CLI commands: options, output, clean exits.

Commands stay thin: parse options, call one library function, print its result
(readable with rich, or ``--json``), and turn user errors into exit code 2 with a message.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from coding.config import Config, ConfigError, load_config
from coding.findings import Finding

DEFAULT_LEDGER = "dripline.db"
LEDGER_ENV = "DRIPLINE_DB"

console = Console()
err_console = Console(stderr=True)

ConfigOption = typer.Option(None, "--config", help="TOML config (default: bundled fixtures/dripline.toml).")
LedgerOption = typer.Option(
    None, "--ledger", help=f"SQLite ledger path (default ./{DEFAULT_LEDGER}, or ${LEDGER_ENV})."
)
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


def ledger_path(option: Path | None) -> Path:
    """--ledger wins, then $DRIPLINE_DB, then ./dripline.db."""
    if option is not None:
        return option
    env = os.environ.get(LEDGER_ENV)
    return Path(env) if env else Path(DEFAULT_LEDGER)


def fail(messages: Iterable[str], code: int = 2) -> NoReturn:
    """Print user-facing errors (no traceback) and exit."""
    for m in messages:
        err_console.print(f"[red]error:[/red] {m}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def get_config(path: Path | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        fail(exc.messages)


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return str(o)
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "to_dict"):
        return o.to_dict()
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def dumps(data: Any) -> str:
    return json.dumps(data, default=_default, indent=2, ensure_ascii=False)


def print_json(data: Any) -> None:
    sys.stdout.write(dumps(data) + "\n")


def print_findings(findings: Iterable[Finding], title: str = "Findings") -> None:
    """Readable findings table (severity, code, where, message)."""
    from rich.table import Table

    rows = list(findings)
    if not rows:
        return
    t = Table(title=title, show_lines=False)
    for col in ("severity", "code", "where", "message"):
        t.add_column(col)
    for f in rows:
        where = " ".join(
            f"{k}={v}"
            for k, v in (
                ("enc", f.encounter_id),
                ("adm", f.administration_id),
                ("field", f.field),
                ("file", f.file),
                ("line", f.line),
                ("seg", f.segment),
                ("loop", f.loop),
                ("ele", f.element),
                ("seg#", getattr(f, "segment_number", None)),
            )
            if v is not None
        )
        color = {"error": "red", "warning": "yellow"}.get(f.severity, "cyan")
        t.add_row(f"[{color}]{f.severity}[/{color}]", f.code, where, f.message)
    console.print(t)
