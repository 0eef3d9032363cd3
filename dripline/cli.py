"""The ``dripline`` command line: a thin typer layer over the coding/edi/reconcile libraries.

Each command group lives in its own module of :mod:`dripline.commands` exposing ``register(app)``.

The typer app (``dripline.cli.app``) is built on first use, so a process that only runs the
fast ``remit show FILE... --summary`` path (:mod:`dripline.fastpath`) never imports typer, rich
or the other command groups: start-up is part of what a biller waits for on every file.
"""

from __future__ import annotations

import os
import sys
from typing import Any

COMMAND_MODULES = (
    "dripline.commands.code",
    "dripline.commands.validate",
    "dripline.commands.claims",
    "dripline.commands.ack",
    "dripline.commands.remit",
    "dripline.commands.posting",
    "dripline.commands.codesets",
    "dripline.commands.demo",
    "dripline.commands.exchange",
    "dripline.commands.users",
    "dripline.commands.serve",
    "dripline.commands.work",
)

_app: Any = None


def _get_app() -> Any:
    """The typer app with every command group registered (built once)."""
    global _app
    if _app is None:
        import importlib

        import typer

        app = typer.Typer(
            name="dripline",
            help="Infusion billing: code encounters, write and validate 837s, read and post 835s.",
            no_args_is_help=True,
            pretty_exceptions_enable=False,  # never print locals (patient data) in a traceback
            add_completion=False,
        )
        for name in COMMAND_MODULES:
            importlib.import_module(name).register(app)
        _app = app
    return _app


def __getattr__(name: str) -> Any:  # ``from dripline.cli import app`` builds the app lazily
    if name == "app":
        return _get_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point: files we create are readable by their owner only."""
    os.umask(0o077)
    from dripline.fastpath import run_fast

    if run_fast(sys.argv[1:]):
        return
    _get_app()()


if __name__ == "__main__":
    main()
