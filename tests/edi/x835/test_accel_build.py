"""The compiled 835 driver is built wherever it can be: a machine with a C compiler and the
Python headers must not fall back to the pure-Python driver silently (the benchmark figures in
bench/RESULTS.md are for the compiled driver; the pure one is the reference and is tested too)."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import pytest

from edi.x835 import reader as x835

ROOT = Path(__file__).resolve().parents[3]


def _can_compile() -> bool:
    include = sysconfig.get_paths().get("include") or ""
    return bool(shutil.which("cc") or shutil.which("gcc")) and (Path(include) / "Python.h").exists()


def test_accelerator_built_when_a_compiler_is_present() -> None:
    if not _can_compile():
        pytest.skip("no C compiler or Python headers here: the pure-Python driver runs")
    assert x835.ACCELERATOR_AVAILABLE, "edi/x835/_accel.c was not built: run `pip install -e .` (make test does)"


def test_built_extension_is_not_older_than_its_source() -> None:
    built = sorted((ROOT / "edi").glob("_x835c*.so"))
    if not built:
        pytest.skip("extension not built in the source tree (installed elsewhere or pure Python)")
    src = (ROOT / "edi" / "_x835c.c").stat().st_mtime
    assert max(p.stat().st_mtime for p in built) >= src - 1, (
        "edi/x835/_accel.c changed after the extension was built: rebuild with `pip install -e .`"
    )


def test_an_end_claim_set_on_the_instance_is_called_by_either_driver(tmp_path: Path, monkeypatch) -> None:
    import random

    from tests.edi.x835.test_property import _doc, gen835

    rng = random.Random(5)
    p = tmp_path / "g.835"
    p.write_bytes(_doc([gen835.random_set(rng, 1, 20, 0)], "*", ":", "~\n"))
    counts = []
    for accelerated in (False, True):
        reader = x835._Reader(p, str(p), [], True)
        reader.accelerated = accelerated
        seen: list[str] = []
        base = reader._end_claim

        def spy(base=base, seen=seen, reader=reader) -> None:
            if reader.claim is not None:
                seen.append(reader.claim.patient_control_number)
            base()

        monkeypatch.setattr(reader, "_end_claim", spy)
        rems = list(reader)
        counts.append((seen, [c.patient_control_number for r in rems for c in r.claims]))
    assert counts[0] == counts[1]
    assert counts[0][0] == counts[0][1] and len(counts[0][0]) == 20
