"""One version source: ``dripline.__version__``; the package metadata and ``dripline version`` follow it."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import dripline

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dripline", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_pyproject_takes_its_version_from_the_package() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "dripline.__version__"}


def test_installed_metadata_cli_and_package_agree() -> None:
    assert importlib.metadata.version("dripline") == dripline.__version__
    plain = _cli("version")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip() == dripline.__version__
    as_json = _cli("version", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == {"version": dripline.__version__}


def test_license_file_matches_the_declared_license() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "Apache-2.0"
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert importlib.metadata.metadata("dripline")["License-Expression"] == "Apache-2.0"


def test_setuptools_is_pinned_to_a_version_that_reads_the_spdx_license() -> None:
    build = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]
    [pin] = [r for r in build["requires"] if r.startswith("setuptools")]
    name, _, version = pin.partition("==")
    assert name == "setuptools" and version, pin
    assert tuple(int(x) for x in version.split(".")[:2]) >= (77, 0)  # SPDX `license` expressions
