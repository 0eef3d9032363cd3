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

Hot path (performance-notes.md): the shared tokenizer splits each segment once; the driver builds
the segments that make up most of a file (DTM/REF/CAS/AMT/NM1/SVC in loops 2100/2110) inline, and a
dict maps any other segment id to a bound handler in :mod:`edi.x835.segments` (the handlers are the
reference: the inline code does exactly what they do in the regular case, and leaves everything
else, including every finding, to them); each amount goes through ``Decimal`` once, claim and line
CAS totals are kept as they are read (balancing needs no second pass); no regex; the cyclic
collector is paused while the generator works (the model has no cycles).

Layout: this module holds the driver, balancing and the public functions; envelope segments are
in :mod:`edi.x835.envelope`, loop/segment handlers in :mod:`edi.x835.segments`, the model in
:mod:`edi.x835.model`, renderings in :mod:`edi.x835.report`, the fast summary in
:mod:`edi.x835.summary`. ``reconcile.posting.remit`` drives ``_Reader`` (``tok``, ``body``,
``rem``, ``_other``, ``_eof``, ``remittances``) claim by claim: keep those names.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

from coding.findings import Finding
from edi.x12.tokenizer import DEFAULT_SEPARATORS, X12Tokenizer
from edi.x835 import model as x835_model
from edi.x835.envelope import EnvelopeMixin
from edi.x835.model import (
    BALANCING_CODES,
    Adjustment,
    AmountRef,
    DateRef,
    Loop2110,
    Name,
    Reference,
    Remittance,
    UnknownSegment,
)
from edi.x835.probe import probe_835  # noqa: F401  (public here; its own module for a light CLI start)
from edi.x835.segments import SegmentsMixin, _amt

__all__ = [
    "ACCELERATOR_AVAILABLE",
    "Remittance",
    "balance_findings_835",
    "findings_835",
    "read_835",
    "read_835_files",
    "read_835_with_findings",
]

_ZERO = Decimal(0)
_BIG = Decimal("1e15")  # as x835_segments._amt
Source = str | Path | bytes | BinaryIO


def _load_accelerator():
    """The compiled driver (edi/x835/_accel.c, built by setup.py when a C compiler is present); bound to
    the model classes once the reader class exists. None when it is not built."""
    try:
        from edi.x835 import _accel as _x835c  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _x835c


_ACCEL = _load_accelerator()


class _Reader(EnvelopeMixin, SegmentsMixin):
    """State machine over the tokenizer's segments; one instance per file."""

    # the compiled driver when built (set below the class; DRIPLINE_PURE_PYTHON=1 or an instance
    # attribute turns it off)
    accelerated = False

    def __init__(self, source: Source, filename: str | None, findings: list[Finding] | None, keep_claims: bool) -> None:
        self.findings: list[Finding] = findings if findings is not None else []
        self.tok = X12Tokenizer(source, self.findings, filename)
        self.file = self.tok.filename
        self.keep_claims = keep_claims
        self.comp = DEFAULT_SEPARATORS.component
        self.elem = DEFAULT_SEPARATORS.element
        # envelope state
        self.isa: list[str] | None = None
        self.isa_groups = 0
        self.gs: list[str] | None = None
        self.gs_sets = 0
        self.gs_number = 0
        self.isa_number = 0
        self.remittances = 0
        # transaction state
        self.rem: Remittance | None = None
        self.skipping: str | None = None  # ST01 of a non-835 set being skipped
        self.st_number = 0
        self.loop = ""
        self.claim: Loop2100 | None = None
        self.svc: Loop2110 | None = None
        self.lx = ""
        self.bpr_pos: tuple[int | None, int | None] = (None, None)
        self.body: dict[str, Callable[[list[str], int, int], None]] = {
            "BPR": self._bpr,
            "TRN": self._trn,
            "CUR": self._cur,
            "REF": self._ref,
            "DTM": self._dtm,
            "N1": self._n1,
            "N3": self._n3,
            "N4": self._n4,
            "PER": self._per,
            "RDM": self._rdm,
            "LX": self._lx,
            "TS3": self._ts3,
            "TS2": self._ts2,
            "CLP": self._clp,
            "CAS": self._cas,
            "NM1": self._nm1,
            "MIA": self._mia,
            "MOA": self._moa,
            "AMT": self._amt_seg,
            "QTY": self._qty,
            "SVC": self._svc,
            "LQ": self._lq,
            "PLB": self._plb,
        }

    # ------------------------------------------------------------------ findings
    def _find(
        self,
        severity: str,
        code: str,
        message: str,
        num: int | None,
        line: int | None,
        segment: str | None = None,
        loop: str | None = None,
        element: str | None = None,
        pcn: str | None = None,
        to_file: bool = False,
    ) -> None:
        f = Finding(
            severity,
            code,
            message,
            encounter_id=pcn,
            file=self.file,  # type: ignore[arg-type]
            segment=segment,
            loop=loop,
            element=element,
            line=line,
            segment_number=num,
        )
        if self.rem is not None and not to_file:
            self.rem.findings.append(f)
        else:
            self.findings.append(f)

    def _unknown(self, els: list[str], num: int, line: int, why: str = "") -> None:
        loop = self.loop or "ENVELOPE"
        text = self.elem.join(els)
        if self.rem is not None:
            self.rem.unknown_segments.append(UnknownSegment(text, loop, num, line))
        sid = els[0][:3]
        self._find(
            "warning",
            "x835-unexpected-segment",
            f"segment {sid} does not fit loop {loop} here{why}; kept verbatim",
            num,
            line,
            segment=sid,
            loop=loop,
        )

    def _bad_amount(self, els: list[str], i: int, num: int, line: int, loop: str, required: bool = True) -> None:
        sid = els[0]
        present = i < len(els) and els[i] != ""
        if not present and not required:
            return
        what = "is not a number" if present else "is missing"
        self._find(
            "error",
            "x835-bad-amount",
            f"{sid}{i:02d} {what}; counted as 0 in totals",
            num,
            line,
            segment=sid,
            loop=loop,
            element=f"{sid}{i:02d}",
            pcn=self.claim.patient_control_number if self.claim else None,
        )

    # ------------------------------------------------------------------ driver
    def __iter__(self) -> Iterator[Remittance]:
        run = self._run_compiled if self.accelerated and ACCELERATOR_AVAILABLE else self._run_python
        return self._with_gc_paused(run())

    def _with_gc_paused(self, run: Iterator[Remittance]) -> Iterator[Remittance]:
        """The finished remittances of ``run``, then the one the end of the file closes.

        The model has no reference cycles, so reference counting frees it; the cyclic collector
        would only re-walk the young objects of every batch (performance-notes.md). It is paused
        while the reader works and restored whenever control goes back to the caller."""
        was_enabled = gc.isenabled()
        running = True
        try:
            while running:
                gc.disable()
                try:
                    done = next(run, None)
                    if done is None:
                        done = self._eof()
                        running = False
                finally:
                    if was_enabled:
                        gc.enable()
                if done is not None:
                    yield done
        finally:
            if was_enabled:
                gc.enable()
        if self.remittances == 0:
            self._find(
                "error",
                "x835-no-remittance",
                "no 835 transaction set (ST*835) was found in this file",
                None,
                None,
                to_file=True,
            )

    def _run_compiled(self) -> Iterator[Remittance]:
        """The same loop as :meth:`_run_python`, run by edi/x835/_accel.c over whole batches of segment
        strings: it builds the regular CLP/CAS/NM1/DTM/REF/AMT/QTY/SVC/LQ records itself and calls
        this reader's handlers and envelope code for every other segment."""
        drive = _ACCEL.drive  # type: ignore[union-attr]
        body, other = self.body, self._other
        in_set = False
        for batch, first, lines, elem in self.tok.raw_batches(_ACCEL.scan):  # type: ignore[union-attr]
            i = 0
            while True:
                i, in_set, done = drive(self, batch, first, lines, i, in_set, elem, body, other)
                if done is None:
                    break
                yield done

    def _run_python(self) -> Iterator[Remittance]:
        """The driver: every segment in file order, the common ones of loops 2100/2110 built inline."""
        body = self.body
        get = body.get
        other = self._other
        D, BIG, ZERO = Decimal, _BIG, _ZERO
        in_set = False  # body handlers never open or close a set: only other() does
        loop, claim, svc, comp = "", None, None, self.comp
        l_dates = l_refs = l_adjs = l_amts = c_dates = c_refs = c_adjs = c_names = []
        for batch, first, lines in self.tok.batches():
            for num, els in enumerate(batch, first):  # line: lines[num - first], read when needed
                if in_set:
                    # Inlined for the segments that make up most of a file: exactly what their
                    # handlers in x835_segments do in the regular case; anything else (a finding
                    # to make, an unusual shape) goes to the handler.
                    sid = els[0]
                    n = len(els)
                    if loop == "2110":
                        if sid == "DTM":
                            l_dates.append(
                                DateRef(els[1], els[2])
                                if n == 3
                                else DateRef(els[1] if n > 1 else "", els[2] if n > 2 else "")
                            )
                            continue
                        if sid == "CAS":
                            if (n == 4 or n == 5) and els[2]:
                                try:
                                    a = D(els[3])
                                    if -BIG < a < BIG:
                                        svc._adj += a
                                        q = els[4] if n == 5 else ""
                                        l_adjs.append(Adjustment(els[1], els[2], a, _amt(q) if q else None))
                                        continue
                                except (InvalidOperation, ValueError):
                                    pass
                        elif sid == "REF":
                            l_refs.append(
                                Reference(els[1], els[2])
                                if n == 3
                                else Reference(els[1] if n > 1 else "", els[2] if n > 2 else "")
                            )
                            continue
                        elif sid == "AMT":
                            if n > 2:
                                try:
                                    a = D(els[2])
                                    if -BIG < a < BIG:
                                        l_amts.append(AmountRef(els[1], a))
                                        continue
                                except (InvalidOperation, ValueError):
                                    pass
                    elif loop == "2100":
                        if sid == "DTM":
                            c_dates.append(
                                DateRef(els[1], els[2])
                                if n == 3
                                else DateRef(els[1] if n > 1 else "", els[2] if n > 2 else "")
                            )
                            continue
                        if sid == "CAS":
                            if (n == 4 or n == 5) and els[2]:
                                try:
                                    a = D(els[3])
                                    if -BIG < a < BIG:
                                        claim._adj += a
                                        q = els[4] if n == 5 else ""
                                        c_adjs.append(Adjustment(els[1], els[2], a, _amt(q) if q else None))
                                        continue
                                except (InvalidOperation, ValueError):
                                    pass
                        elif sid == "NM1":
                            e = els if n >= 10 else els + [""] * (10 - n)
                            c_names.append(Name(e[1], e[2], e[3], e[4], e[5], e[7], e[8], e[9]))
                            continue
                        elif sid == "REF":
                            c_refs.append(
                                Reference(els[1], els[2])
                                if n == 3
                                else Reference(els[1] if n > 1 else "", els[2] if n > 2 else "")
                            )
                            continue
                    if sid == "SVC" and (loop == "2110" or loop == "2100") and 3 < n < 7:
                        a = els[1]  # the regular service line (no SVC06/07; see _svc)
                        if comp in a or len(a) <= 3 or a[2].isalnum() or a[2] == " ":
                            try:
                                ch, pd = D(els[2]), D(els[3])
                                ok = -BIG < ch < BIG and -BIG < pd < BIG
                            except (InvalidOperation, ValueError):
                                ok = False
                            if ok:
                                c = a.split(comp)
                                nc = len(c)
                                u = els[5] if n > 5 else ""
                                svc = Loop2110(
                                    c[0],
                                    c[1] if nc > 1 else "",
                                    [m for m in c[2:6] if m] if nc > 2 else [],
                                    ch,
                                    pd,
                                    els[4] if n > 4 else "",
                                    _amt(u) if u else None,
                                    c[6] if nc > 6 else "",
                                    "",
                                    "",
                                    None,
                                    None,
                                    num,
                                    lines[num - first],
                                )
                                svc._adj = ZERO
                                claim.lines.append(svc)
                                self.svc = svc
                                l_dates, l_refs, l_adjs, l_amts = svc.dates, svc.refs, svc.adjustments, svc.amounts
                                if loop != "2110":
                                    loop = self.loop = "2110"
                                continue
                    h = get(sid)
                    if h is not None:
                        h(els, num, lines[num - first])
                        loop, claim, svc, comp = self.loop, self.claim, self.svc, self.comp
                        if svc is not None:
                            l_dates, l_refs, l_adjs, l_amts = svc.dates, svc.refs, svc.adjustments, svc.amounts
                        if claim is not None:
                            c_dates, c_refs, c_adjs, c_names = claim.dates, claim.refs, claim.adjustments, claim.names
                        continue
                done = other(els, num, lines[num - first])
                in_set = self.rem is not None
                loop, claim, svc, comp = self.loop, self.claim, self.svc, self.comp
                if svc is not None:
                    l_dates, l_refs, l_adjs, l_amts = svc.dates, svc.refs, svc.adjustments, svc.amounts
                if claim is not None:
                    c_dates, c_refs, c_adjs, c_names = claim.dates, claim.refs, claim.adjustments, claim.names
                if done is not None:
                    yield done

    # ------------------------------------------------------------------ claims and balancing
    def _end_claim(self) -> None:
        claim = self.claim
        if claim is None:
            return
        if self.accelerated and ACCELERATOR_AVAILABLE and _ACCEL.close_claim(self, claim):  # type: ignore[union-attr]
            return  # it balanced: counted, kept (keep_claims) and closed by the compiled twin
        rem = self.rem
        assert rem is not None
        self.claim = self.svc = None
        line_adj = _ZERO
        lines = claim.lines
        for ln in lines:
            adj = ln._adj  # CAS total kept while reading (None: a line built elsewhere)
            if adj is None:
                adj = _ZERO
                for a in ln.adjustments:
                    if a.amount is not None:
                        adj += a.amount
            line_adj += adj
            ch, pd = ln.charge, ln.paid
            if ch is not None and pd is not None and ch - adj != pd:
                self._find(
                    "error",
                    "service-line-out-of-balance",
                    f"claim {claim.patient_control_number} line {ln.code}: SVC02 {ch} - adjustments "
                    f"{adj} = {ch - adj}, but SVC03 is {pd} (difference {ch - adj - pd})",
                    ln.segment_number,
                    ln.line,
                    segment="SVC",
                    loop="2110",
                    element="SVC03",
                    pcn=claim.patient_control_number,
                )
        claim_adj = claim._adj
        if claim_adj is None:
            claim_adj = _ZERO
            for a in claim.adjustments:
                if a.amount is not None:
                    claim_adj += a.amount
        ch, pd = claim.charge, claim.paid
        if ch is not None and pd is not None:
            expect = ch - claim_adj - line_adj
            if expect != pd:
                self._find(
                    "error",
                    "claim-out-of-balance",
                    f"claim {claim.patient_control_number}: CLP03 {ch} - claim adjustments {claim_adj}"
                    f" - line adjustments {line_adj} = {expect}, but CLP04 is {pd}"
                    f" (difference {expect - pd})",
                    claim.segment_number,
                    claim.line,
                    segment="CLP",
                    loop="2100",
                    element="CLP04",
                    pcn=claim.patient_control_number,
                )
        rem.claim_count += 1
        rem.line_count += len(lines)
        if ch is not None:
            rem.total_charge += ch
        if pd is not None:
            rem.total_paid += pd
        if self.keep_claims:
            rem.claims.append(claim)

    def _finish(self, num: int | None, line: int | None) -> Remittance:
        self._end_claim()
        rem = self.rem
        assert rem is not None
        bpr = rem.payment.amount
        if self.bpr_pos[0] is None:
            self._find(
                "error",
                "x835-missing-segment",
                "the transaction set has no BPR (payment) segment: it cannot be balanced",
                rem.start_segment or None,
                None,
                segment="BPR",
                loop="HEADER",
            )
        if bpr is not None:
            expect = rem.total_paid - rem.plb_total
            if expect != bpr:
                self._find(
                    "error",
                    "transaction-out-of-balance",
                    f"BPR02 {bpr} differs from claim payments {rem.total_paid} - provider "
                    f"adjustments {rem.plb_total} = {expect} (difference {bpr - expect})",
                    self.bpr_pos[0],
                    self.bpr_pos[1],
                    segment="BPR",
                    loop="HEADER",
                    element="BPR02",
                )
        if not rem.complete and rem.segment_count == 0 and num is not None:
            rem.segment_count = num - self.st_number
        self.rem = None
        self.loop = ""
        self.remittances += 1
        return rem


def _bind_accelerator() -> bool:
    if _ACCEL is None:
        return False
    try:
        _ACCEL.setup(
            {
                k: getattr(x835_model, k)
                for k in ("Adjustment", "Reference", "DateRef", "AmountRef", "Name", "Loop2110", "Loop2100")
            },
            Decimal,
            InvalidOperation,
            _BIG,
            _ZERO,
            _Reader.__dict__["_end_claim"],
        )
    except TypeError:  # the model changed shape: the pure-Python driver stays correct
        return False
    return True


ACCELERATOR_AVAILABLE = _bind_accelerator()
_Reader.accelerated = ACCELERATOR_AVAILABLE and not os.environ.get("DRIPLINE_PURE_PYTHON")


def read_835(
    source: Source,
    filename: str | None = None,
    findings: list[Finding] | None = None,
    keep_claims: bool = True,
    accelerated: bool | None = None,
) -> Iterator[Remittance]:
    """Stream the remittances (ST/SE sets) of one 835 file.

    ``source``: a path, bytes, X12 text, or a binary stream. Findings about a remittance are in
    its ``findings``; findings about the file (tokenizer, envelope outside a set, no 835 at all)
    are appended to ``findings`` when given. ``keep_claims=False`` keeps only the running totals
    (claim/line counts, sums) so memory stays flat even for one huge transaction set.
    ``accelerated``: True/False forces the compiled or the pure-Python driver (same results);
    None takes the default (compiled when built, unless ``DRIPLINE_PURE_PYTHON`` is set).
    """
    reader = _Reader(source, filename, findings, keep_claims)
    if accelerated is not None:
        reader.accelerated = accelerated
    return iter(reader)


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
