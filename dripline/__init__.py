"""dripline: the app shell (typer CLI, config, demo) over coding, edi and reconcile."""

__version__ = "0.1.0"
