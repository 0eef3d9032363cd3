"""CLI commands: the ``claims`` group (build, list; ``correct`` is added by cmd_reconcile)."""
from __future__ import annotations

import typer

claims_app = typer.Typer(help="Build 837 claim files and list claims in the ledger.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``claims`` group to the app."""
    app.add_typer(claims_app, name="claims")
