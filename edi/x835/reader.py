"""Streaming, never-lossy 835 (005010X221A1) reader with SNIP type 3 balancing findings.

Why its own reader: the parsers in use crash on several payers or interchanges per file, drop
reversals and PLB recoupments, or reject a whole remittance when one claim does not balance.
This one streams remittance by remittance (one :class:`~edi.x835.model.Remittance` per ST/SE),
keeps every amount, keeps segments it has no place for verbatim, and reports what does not add up
as :class:`~coding.findings.Finding` values with file, segment number, loop and element:

- claim: CLP03 - claim CAS - line CAS = CLP04 (claims with or without service lines),
- service line: SVC02 - line CAS = SVC03,
- transaction: BPR02 = sum of CLP04 - sum of PLB amounts.

Reversals (CLP02 22) carry negative amounts and balance the same way. Envelope problems
(missing SE/GE/IEA, wrong SE01/GE01/IEA01 counts, mismatched control numbers, truncation) are
findings too; every claim that could be read is returned.

One reference, one accelerator. The rules live in one place: the segment handlers of
:mod:`edi.x835.segments` (with :func:`~edi.x835.segments.end_claim`) and the envelope code of
:mod:`edi.x835.envelope`, reached through :func:`dispatch`, on one
:class:`~edi.x835.state.ReaderState`. The pure-Python driver calls :func:`dispatch` for every
segment. The compiled driver (``edi/x835/_accel.c``, built by ``pip install -e .`` when a C
compiler is present; ``DRIPLINE_PURE_PYTHON=1`` or ``accelerated=False`` turns it off) is the
accelerator of that path, with results tested equal (``tests/edi/x835/test_accel.py``). Its
boundary, documented at the top of ``_accel.c`` as well:

- ``setup(classes, Decimal, InvalidOperation, big, zero)``, once: the model classes it fills slot
  by slot and the amount rule's constants;
- ``scan(...)``: the tokenizer's regular runs of text (:meth:`X12Tokenizer.raw_batches`);
- ``drive(state, batch, first, lines, i, elem, dispatch, end_claim) -> (next i, Remittance or None)``:
  reads ``batch[i:]``; builds the regular shape of the CLP/CAS/NM1/DTM/REF/AMT/QTY/SVC/LQ of
  loops 2100/2110 itself and closes claims that balance (the bookkeeping of ``end_claim``,
  ``on_claim`` included); calls ``dispatch(state, elements, number, line)`` for every other
  segment and ``end_claim(state)`` for a claim that does not balance (the findings are Python's).
  It reads and writes only the public fields ``rem``, ``loop``, ``claim``, ``svc``, ``comp``,
  ``lx``, ``keep_claims``, ``on_claim`` of the state and ``claims``, ``claim_count``,
  ``line_count``, ``total_charge``, ``total_paid`` of the remittance.

Streaming claims: ``read_835(..., on_claim=hook)`` calls ``hook(remittance, claim)`` as each claim
closes (after balancing and counting, and after it was appended to ``remittance.claims`` when
``keep_claims``); the hook may take claims out of ``remittance.claims`` (posting does, to keep
memory flat inside one huge set).

Speed: the shared tokenizer splits each segment once; each amount goes through ``Decimal`` once;
claim and line CAS totals are kept as they are read (``cas_total``: balancing needs no second
pass); no regex; the cyclic collector is paused while the generator works (the model has no
cycles). Figures: bench/RESULTS.md.
"""

from __future__ import annotations

import gc
import importlib
import os
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

from coding.findings import Finding
from edi.x12.tokenizer import X12Tokenizer
from edi.x835 import model as x835_model
from edi.x835.envelope import envelope, eof
from edi.x835.model import BALANCING_CODES, Remittance
from edi.x835.probe import probe_835  # noqa: F401  (public here; its own module for a light CLI start)
from edi.x835.segments import BIG, SEGMENT_HANDLERS, ZERO, end_claim
from edi.x835.state import ClaimHook, ReaderState

__all__ = [
    "ACCELERATED",
    "ACCELERATOR_AVAILABLE",
    "ClaimHook",
    "ReaderState",
    "Remittance",
    "balance_findings_835",
    "dispatch",
    "findings_835",
    "read_835",
    "read_835_files",
    "read_835_with_findings",
]

Source = str | Path | bytes | BinaryIO

_handler = SEGMENT_HANDLERS.get


def dispatch(st: ReaderState, els: list[str], num: int, line: int) -> Remittance | None:
    """Read one segment: its handler inside an 835 set, else the envelope code. Returns the
    remittance the segment finishes (SE, or a header that closes an unfinished set), else None."""
    if st.rem is not None:
        h = _handler(els[0])
        if h is not None:
            h(st, els, num, line)
            return None
    return envelope(st, els, num, line)


def _run_python(st: ReaderState) -> Iterator[Remittance]:
    """The pure-Python driver: every segment in file order through :func:`dispatch`."""
    for batch, first, lines in st.tok.batches():
        for num, els in enumerate(batch, first):
            done = dispatch(st, els, num, lines[num - first])
            if done is not None:
                yield done


def _run_compiled(st: ReaderState, accel: ModuleType) -> Iterator[Remittance]:
    """The same loop run by ``edi/x835/_accel.c`` over whole batches of segment text."""
    drive = accel.drive
    for batch, first, lines, elem in st.tok.raw_batches(accel.scan):
        i = 0
        while True:
            i, done = drive(st, batch, first, lines, i, elem, dispatch, end_claim)
            if done is None:
                break
            yield done


def _with_gc_paused(st: ReaderState, run: Iterator[Remittance]) -> Iterator[Remittance]:
    """The finished remittances of ``run``, then the one the end of the file closes.

    The model has no reference cycles, so reference counting frees it; the cyclic collector
    would only re-walk the young objects of every batch. It is paused while the reader works and
    restored whenever control goes back to the caller."""
    was_enabled = gc.isenabled()
    running = True
    try:
        while running:
            gc.disable()
            try:
                done = next(run, None)
                if done is None:
                    done = eof(st)
                    running = False
            finally:
                if was_enabled:
                    gc.enable()
            if done is not None:
                yield done
    finally:
        if was_enabled:
            gc.enable()
    if st.remittances == 0:
        st.find(
            "error",
            "x835-no-remittance",
            "no 835 transaction set (ST*835) was found in this file",
            None,
            None,
            to_file=True,
        )


def _load_accelerator() -> ModuleType | None:
    """The compiled driver bound to the model classes, or None when it is not built (or the model
    changed shape: the pure-Python driver stays correct)."""
    try:
        accel = importlib.import_module("edi.x835._accel")
    except ImportError:
        return None
    try:
        accel.setup(
            {
                k: getattr(x835_model, k)
                for k in ("Adjustment", "Reference", "DateRef", "AmountRef", "Name", "Loop2110", "Loop2100")
            },
            Decimal,
            InvalidOperation,
            BIG,
            ZERO,
        )
    except TypeError:
        return None
    return accel


_ACCEL = _load_accelerator()
#: the compiled driver is built and bound
ACCELERATOR_AVAILABLE = _ACCEL is not None
#: the driver ``read_835`` runs by default: compiled when built, unless ``DRIPLINE_PURE_PYTHON`` is set
ACCELERATED = ACCELERATOR_AVAILABLE and not os.environ.get("DRIPLINE_PURE_PYTHON")


def read_835(
    source: Source,
    filename: str | None = None,
    findings: list[Finding] | None = None,
    keep_claims: bool = True,
    accelerated: bool | None = None,
    on_claim: ClaimHook | None = None,
) -> Iterator[Remittance]:
    """Stream the remittances (ST/SE sets) of one 835 file.

    ``source``: a path, bytes, X12 text, or a binary stream. Findings about a remittance are in
    its ``findings``; findings about the file (tokenizer, envelope outside a set, no 835 at all)
    are appended to ``findings`` when given. ``keep_claims=False`` keeps only the running totals
    (claim/line counts, sums) so memory stays flat even for one huge transaction set.
    ``accelerated``: True/False forces the compiled or the pure-Python driver (same results);
    None takes the default (:data:`ACCELERATED`). ``on_claim(remittance, claim)`` is called as each
    claim closes (see the module docstring).
    """
    file_findings: list[Finding] = findings if findings is not None else []
    tok = X12Tokenizer(source, file_findings, filename)
    tok.mark_unreadable = True  # a segment too long to read comes as a marker (see segments.unreadable)
    st = ReaderState(tok, file_findings, keep_claims, on_claim)
    accel = _ACCEL if (ACCELERATED if accelerated is None else accelerated) and ACCELERATOR_AVAILABLE else None
    run = _run_python(st) if accel is None else _run_compiled(st, accel)
    return _with_gc_paused(st, run)


def read_835_files(
    paths: Iterable[str | Path], findings: list[Finding] | None = None, keep_claims: bool = True
) -> Iterator[Remittance]:
    """Stream the remittances of several files, one after the other."""
    for p in paths:
        yield from read_835(p, str(p), findings, keep_claims)


def read_835_with_findings(
    source: Source, filename: str | None = None, keep_claims: bool = True
) -> tuple[list[Remittance], list[Finding]]:
    """All remittances of a file and all findings (file-level first, then per remittance)."""
    file_findings: list[Finding] = []
    rems = list(read_835(source, filename, file_findings, keep_claims))
    return rems, file_findings + [f for r in rems for f in r.findings]


def findings_835(source: Source, filename: str | None = None) -> list[Finding]:
    """Every finding the reader has about a file (envelope, structure, amounts, balancing)."""
    file_findings: list[Finding] = []
    out: list[Finding] = []
    for rem in read_835(source, filename, file_findings, keep_claims=False):
        out.extend(rem.findings)
    return file_findings + out


def balance_findings_835(source: Source, filename: str | None = None) -> list[Finding]:
    """Only the SNIP type 3 balancing findings (claim, service line, transaction) of a file.

    For ``dripline validate``: pyx12 checks structure and codes but not amounts.
    """
    return [f for f in findings_835(source, filename) if f.code in BALANCING_CODES]
