"""The compiled 835 driver is built wherever it can be: a machine with a C compiler and the
Python headers must not fall back to the pure-Python driver silently (the benchmark figures in
bench/RESULTS.md are for the compiled driver; the pure one is the reference and is tested too)."""
from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

import pytest

from edi import x835

ROOT = Path(__file__).resolve().parents[1]


def _can_compile() -> bool:
    include = sysconfig.get_paths().get("include") or ""
    return bool(shutil.which("cc") or shutil.which("gcc")) and (Path(include) / "Python.h").exists()


def test_accelerator_built_when_a_compiler_is_present() -> None:
    if not _can_compile():
        pytest.skip("no C compiler or Python headers here: the pure-Python driver runs")
    assert x835.ACCELERATOR_AVAILABLE, "edi/_x835c.c was not built: run `pip install -e .` (make test does)"


def test_built_extension_is_not_older_than_its_source() -> None:
    built = sorted((ROOT / "edi").glob("_x835c*.so"))
    if not built:
        pytest.skip("extension not built in the source tree (installed elsewhere or pure Python)")
    src = (ROOT / "edi" / "_x835c.c").stat().st_mtime
    assert max(p.stat().st_mtime for p in built) >= src - 1, \
        "edi/_x835c.c changed after the extension was built: rebuild with `pip install -e .`"


def test_default_follows_environment() -> None:
    expected = x835.ACCELERATOR_AVAILABLE and not os.environ.get("DRIPLINE_PURE_PYTHON")
    assert x835._Reader.accelerated == expected
