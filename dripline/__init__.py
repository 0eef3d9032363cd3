"""dripline: the app shell (typer CLI, config, demo) over coding, edi and reconcile."""

__all__ = ["__version__"]

# The one place the version is written: pyproject.toml reads it (``[tool.setuptools.dynamic]``).
__version__ = "0.1.0"
