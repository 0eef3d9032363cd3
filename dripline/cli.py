"""The ``dripline`` command line: a thin typer layer over the coding/edi/reconcile libraries.

Each command group lives in its own ``cmd_*.py`` module exposing ``register(app)``.
"""
from __future__ import annotations

import importlib
import os

import typer

app = typer.Typer(
    name="dripline",
    help="Infusion billing: code encounters, write and validate 837s, read and post 835s.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # never print locals (patient data) in a traceback
    add_completion=False,
)

COMMAND_MODULES = (
    "dripline.cmd_code",
    "dripline.cmd_validate",
    "dripline.cmd_claims",
    "dripline.cmd_ack",
    "dripline.cmd_remit",
    "dripline.cmd_reconcile",
    "dripline.cmd_demo",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    """Console-script entry point: files we create are readable by their owner only."""
    os.umask(0o077)
    app()


if __name__ == "__main__":
    main()
