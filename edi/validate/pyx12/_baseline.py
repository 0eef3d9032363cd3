"""pyx12's own entry point, unchanged: the baseline for benchmarks and equivalence tests."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from edi.validate.pyx12._driver import _Capture


def plain_pyx12_pass(path: str | Path) -> bool:
    """pyx12's own entry point, unchanged (map loaded per call, no 997): the benchmark baseline."""
    import pyx12.x12n_document

    logger = logging.getLogger("pyx12")
    cap = _Capture()
    logger.addHandler(cap)
    old_propagate, logger.propagate = logger.propagate, False
    try:
        return bool(pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), None, None))
    finally:
        logger.removeHandler(cap)
        logger.propagate = old_propagate


def plain_pyx12_errors(path: str | Path) -> list[tuple[str, int]]:
    """(error code, segment number) of every error in pyx12's own JSON error output.

    The reference for equivalence tests: our driver (cached maps, memoized hot spots, no GC,
    split pieces) must report the same errors at the same segments.
    """
    import json

    import pyx12.x12n_document

    fd = io.StringIO()
    logger = logging.getLogger("pyx12")
    cap = _Capture()
    logger.addHandler(cap)
    old_propagate, logger.propagate = logger.propagate, False
    try:
        pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), None, None, fd_json=fd)
    finally:
        logger.removeHandler(cap)
        logger.propagate = old_propagate
    doc = json.loads(fd.getvalue() or '{"interchanges": []}')
    out: list[tuple[str, int]] = []

    def errs(node: dict, line: int) -> None:
        out.extend((e["err_cde"].lower(), line) for e in node.get("errors", []))

    for isa in doc["interchanges"]:
        errs(isa, isa["cur_line"])
        for gs in isa["groups"]:
            errs(gs, gs["cur_line"])
            for st in gs["transactions"]:
                errs(st, st["cur_line"])
                for seg in st["segments"]:
                    errs(seg, seg["cur_line"])
                    for ele in seg["elements"]:
                        errs(ele, seg["cur_line"])
    return sorted(out)
