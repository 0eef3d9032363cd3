"""CLI commands: the ``remit`` group (``remit show`` here; ``remit post`` is added by cmd_reconcile)."""
from __future__ import annotations

import typer

remit_app = typer.Typer(help="Read (show) and post 835 remittances.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``remit`` group to the app."""
    app.add_typer(remit_app, name="remit")
