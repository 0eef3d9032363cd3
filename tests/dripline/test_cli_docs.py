"""Every command has --help, offers --json, and is documented in the README (sqlite-utils style)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dripline.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands() -> list[tuple[str, ...]]:
    """Every leaf command path of the CLI, e.g. ('claims', 'build')."""
    root = typer.main.get_command(app)
    out: list[tuple[str, ...]] = []

    def walk(cmd, path: tuple[str, ...]) -> None:
        if getattr(cmd, "commands", None):
            for name, sub in cmd.commands.items():
                walk(sub, path + (name,))
        else:
            out.append(path)

    walk(root, ())
    return sorted(out)


COMMANDS = _commands()


def test_the_cli_has_the_documented_command_set():
    names = {" ".join(c) for c in COMMANDS}
    for expected in (
        "code",
        "validate",
        "claims build",
        "claims list",
        "claims correct",
        "ack",
        "remit show",
        "remit post",
        "denials",
        "unmatched",
        "demo",
    ):
        assert expected in names


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_command_has_help_and_json(path):
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "--json" in result.output


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_command_is_documented_in_readme(path):
    text = README.read_text(encoding="utf-8")
    assert re.search(r"dripline " + r"\s+".join(map(re.escape, path)) + r"\b", text), (
        f"'dripline {' '.join(path)}' is not documented in README.md"
    )
