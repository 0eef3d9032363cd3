"""Whole files: ASCII check, one pass or ``jobs`` worker processes over split pieces."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from pathlib import Path

from coding.findings import Finding
from edi.validate.pyx12._driver import _validate_raw, positions, preload, validate_text
from edi.x12.split import envelope_ok, make_pieces, split_segments


def _piece_findings(args: tuple[str, list[int], str | None]) -> list[Finding]:
    """Worker: validate one piece and map its segment numbers back to the original file."""
    text, lines, file = args
    out = []
    for f in _validate_raw(text, file):
        if f.line is not None and 0 < f.line <= len(lines):
            f = replace(f, line=lines[f.line - 1])
        out.append(f)
    return out


BOM = b"\xef\xbb\xbf"


def _read_ascii(p: Path) -> tuple[str | None, list[Finding]]:
    """The file as ASCII text; a leading UTF-8 byte order mark is skipped, as the X12 readers
    (:mod:`edi.x12.tokenizer`) skip it, so pyx12 sees the interchange from its ISA."""
    data = p.read_bytes()
    data = data.removeprefix(BOM)
    try:
        return data.decode("ascii"), []
    except UnicodeDecodeError as exc:
        return None, [
            Finding(
                "error",
                "x12-encoding",
                f"file contains a non-ASCII byte at offset {exc.start}; X12 data must be ASCII",
                file=str(p),
            )
        ]


def validate_path(path: str | Path) -> list[Finding]:
    """Validate one file as pyx12 reads it (ASCII); undecodable bytes become a finding."""
    return validate_file(path, 1)


def validate_file(path: str | Path, jobs: int = 1) -> list[Finding]:
    """pyx12 findings for one file; ``jobs`` > 1 validates pieces in parallel processes.

    The parallel path (see :mod:`edi.x12.split`) is taken only for a well-formed envelope; each
    worker loads the maps once (inherited from this process when forked), findings come back
    with line numbers of the original file and duplicates from repeated headers are merged.
    """
    p = Path(path)
    text, problems = _read_ascii(p)
    if text is None:
        return problems
    file = str(p)
    if jobs <= 1:
        return validate_text(text, file)
    split = split_segments(text)
    if split is None or not envelope_ok(split[0], split[1]):
        return validate_text(text, file)
    segs, elem, term = split
    pieces = make_pieces(segs, elem, term, max(200, len(segs) // (jobs * 4)))
    if len(pieces) < 2:
        return validate_text(text, file)
    preload(*{s.split(elem)[8] for s in segs if s.startswith("GS" + elem) and s.count(elem) >= 8})
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(min(jobs, len(pieces))) as pool:
        results = pool.map(_piece_findings, [(pc.text(term), pc.lines, file) for pc in pieces], chunksize=1)
    seen: set[tuple] = set()
    merged: list[Finding] = []
    for f in (f for r in results for f in r):
        key = (f.line, f.code, f.segment, f.element, f.message)
        if key not in seen:
            seen.add(key)
            merged.append(f)
    return positions(sorted(merged, key=lambda f: f.line or 0), text)
