"""CLI commands: ``dripline code`` (registered by dripline.cli)."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add ``code`` to the app."""

    @app.command("version")
    def version() -> None:
        """Print the dripline version."""
        from dripline import __version__

        typer.echo(__version__)
