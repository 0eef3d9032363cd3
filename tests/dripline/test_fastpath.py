"""`dripline remit show FILE --summary` fast path: same output as the typer command, no typer import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dripline.cli import app
from dripline.fastpath import run_fast
from tests.edi.x835.test_cases import REVERSAL_PAIR, interchange, st_set, text


@pytest.fixture()
def files(tmp_path: Path) -> list[Path]:
    good = tmp_path / "good.835"
    good.write_text(
        text(interchange([st_set([*REVERSAL_PAIR, "CLP*ENC2*4*80*0**12*P3*11*1", "CAS*CO*16*80"], "20.00")]))
    )
    odd = tmp_path / "odd.835"  # out of balance and a segment the model has no place for
    odd.write_text(text(interchange([st_set(["CLP*ENC9*1*100*90*0*12*P9*11*1", "ZZZ*1", "CAS*CO*45*5"], "90")])))
    return [good, odd]


def test_fast_path_prints_what_the_typer_command_prints(files: list[Path], capsys) -> None:
    argv = ["remit", "show", *map(str, files), "--summary"]
    assert run_fast(argv) is True
    fast = capsys.readouterr().out
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 0
    assert fast == res.stdout
    good, odd = fast.splitlines()
    assert "balanced" in good and "1 balancing finding(s)" in odd


@pytest.mark.parametrize("extra", [["--json"], ["--csv"], ["--help"], ["--bogus"]])
def test_other_options_go_to_the_typer_app(files: list[Path], extra: list[str]) -> None:
    assert run_fast(["remit", "show", str(files[0]), "--summary", *extra]) is False


def test_unreadable_file_goes_to_the_typer_app(tmp_path: Path) -> None:
    assert run_fast(["remit", "show", str(tmp_path / "missing.835"), "--summary"]) is False
    assert run_fast(["remit", "show", str(tmp_path)]) is False  # no --summary
    assert run_fast(["code", "x.json"]) is False


def test_summary_process_does_not_import_typer_rich_or_pyx12(files: list[Path]) -> None:
    code = (
        "import sys; from dripline.cli import main; sys.argv = ['dripline', 'remit', 'show', "
        f"{str(files[0])!r}, '--summary']; main(); "
        "heavy = [m for m in ('typer', 'rich', 'click', 'pyx12', 'lxml', 'csv', 'reconcile', 'coding.config') "
        "if m in sys.modules]; print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out and "ACME HEALTH" in out
