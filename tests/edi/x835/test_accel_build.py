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
    built = sorted((ROOT / "edi" / "x835").glob("_accel*.so"))
    if not built:
        pytest.skip("extension not built in the source tree (installed elsewhere or pure Python)")
    src = (ROOT / "edi" / "x835" / "_accel.c").stat().st_mtime
    assert max(p.stat().st_mtime for p in built) >= src - 1, (
        "edi/x835/_accel.c changed after the extension was built: rebuild with `pip install -e .`"
    )


def test_on_claim_is_called_alike_by_either_driver(tmp_path: Path) -> None:
    """The public hook sees every claim as it closes, in file order, with the same remittance state
    whichever driver runs (balanced claims are closed by the compiled driver, the others by Python)."""
    import random

    from tests.edi.x835.test_property import _doc, gen835

    rng = random.Random(5)
    sets = [gen835.random_set(rng, 1, 20, 0), gen835.random_set(rng, 51, 7, 1)]
    sets[0].claims[3].paid += 1  # one claim out of balance: closed by the Python end_claim
    p = tmp_path / "g.835"
    p.write_bytes(_doc(sets, "*", ":", "~\n"))
    runs = []
    for accelerated in (False, True):
        seen: list[tuple[str, str, int, int]] = []

        def hook(rem, claim, seen=seen) -> None:
            seen.append((rem.control_number, claim.patient_control_number, rem.claim_count, len(rem.claims)))

        for keep in (True, False):
            rems = list(x835.read_835(p, str(p), [], keep, accelerated=accelerated, on_claim=hook))
            assert sum(r.claim_count for r in rems) == 27
        runs.append(seen)
    assert runs[0] == runs[1]
    assert len(runs[0]) == 2 * 27
    assert [c for _, c, _, _ in runs[0][:27]] == [c.pcn for s in sets for c in s.claims]
    assert runs[0][0][2:] == (1, 1) and runs[0][27][2:] == (1, 0)  # counted; kept only with keep_claims
