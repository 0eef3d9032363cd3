"""The state of one 835 read: :class:`ReaderState`, shared by the segment handlers
(:mod:`edi.x835.segments`), the envelope code (:mod:`edi.x835.envelope`) and the compiled driver
(``edi/x835/_accel.c``).

One instance per file. Every field is public and documented here because the compiled driver
reads and writes some of them by name (``loop``, ``claim``, ``svc``, ``comp``, ``lx``, ``rem``,
``keep_claims``, ``on_claim``): renaming one is a change of that boundary (see the comment block at
the top of ``_accel.c``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from coding.findings import Finding
from edi.x12.tokenizer import DEFAULT_SEPARATORS, X12Tokenizer
from edi.x835.model import Loop2100, Loop2110, Remittance, UnknownSegment

Severity = Literal["error", "warning", "info"]

#: ``on_claim(remittance, claim)``: called each time a claim (Loop 2100) is closed.
ClaimHook = Callable[[Remittance, Loop2100], None]


MAX_ID_SHOWN = 8


def segment_id(sid: str) -> str:
    """A segment id as findings name it: whole (X12 ids are 2-3 characters; a longer one is shown as
    it is so that ``CLPX`` is not reported as ``CLP``), cut after :data:`MAX_ID_SHOWN` characters when
    the text has no element separator at all (it may be a whole segment's data)."""
    return sid if len(sid) <= MAX_ID_SHOWN else sid[:MAX_ID_SHOWN] + "..."


class ReaderState:
    """Where the reader is in a file, and what it has read of the open transaction set.

    Envelope (ISA/GS/ST): ``isa``/``gs`` are the open interchange and group header elements
    (None when none is open), ``isa_groups``/``gs_sets`` count what they hold, ``isa_number``,
    ``gs_number`` and ``st_number`` are the segment ordinals of their headers, ``skipping`` is the
    ST01 of a non-835 set being skipped, ``remittances`` counts the 835 sets read.

    Transaction (inside ST*835 .. SE): ``rem`` is the open :class:`Remittance` (None between
    sets), ``loop`` the guide's loop being read (``HEADER``, ``1000A``, ``1000B``, ``2000``,
    ``2100``, ``2110``, ``FOOTER``; ``""`` outside a set), ``claim``/``svc`` the open Loop 2100 and
    Loop 2110 (None when closed), ``lx`` the LX01 of the open Loop 2000, ``bpr_pos`` the (segment
    number, line) of the BPR.

    Separators: ``comp`` (ISA16) and ``elem`` of the open interchange. Options of the read:
    ``keep_claims`` (closed claims are appended to ``rem.claims``) and ``on_claim`` (a
    :data:`ClaimHook` called for each closed claim, or None). ``findings`` receives the
    findings about the file (those about a set go to ``rem.findings``), ``tok`` is the tokenizer
    and ``file`` the file name in findings.
    """

    __slots__ = (
        "bpr_pos",
        "claim",
        "comp",
        "elem",
        "file",
        "findings",
        "gs",
        "gs_number",
        "gs_sets",
        "isa",
        "isa_groups",
        "isa_number",
        "keep_claims",
        "loop",
        "lx",
        "on_claim",
        "rem",
        "remittances",
        "skipping",
        "st_number",
        "svc",
        "tok",
    )

    def __init__(
        self,
        tok: X12Tokenizer,
        findings: list[Finding],
        keep_claims: bool = True,
        on_claim: ClaimHook | None = None,
    ) -> None:
        self.findings = findings
        self.tok = tok
        self.file: str | None = tok.filename
        self.keep_claims = keep_claims
        self.on_claim = on_claim
        self.comp = DEFAULT_SEPARATORS.component
        self.elem = DEFAULT_SEPARATORS.element
        self.isa: list[str] | None = None
        self.isa_groups = 0
        self.isa_number = 0
        self.gs: list[str] | None = None
        self.gs_sets = 0
        self.gs_number = 0
        self.remittances = 0
        self.rem: Remittance | None = None
        self.skipping: str | None = None
        self.st_number = 0
        self.loop = ""
        self.claim: Loop2100 | None = None
        self.svc: Loop2110 | None = None
        self.lx = ""
        self.bpr_pos: tuple[int | None, int | None] = (None, None)

    # ------------------------------------------------------------------ findings
    def find(
        self,
        severity: Severity,
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
        """A finding about the open set (``rem.findings``), or about the file (``to_file`` or no set open)."""
        f = Finding(
            severity,
            code,
            message,
            encounter_id=pcn,
            file=self.file,
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

    def unknown(self, els: list[str], num: int, line: int, why: str = "") -> None:
        """A segment that does not fit where it is: kept verbatim in the set, with a warning."""
        loop = self.loop or "ENVELOPE"
        if self.rem is not None:
            self.rem.unknown_segments.append(UnknownSegment(self.elem.join(els), loop, num, line))
        sid = segment_id(els[0])
        self.find(
            "warning",
            "x835-unexpected-segment",
            f"segment {sid} does not fit loop {loop} here{why}; kept verbatim",
            num,
            line,
            segment=sid,
            loop=loop,
        )

    def bad_amount(self, els: list[str], i: int, num: int, line: int, loop: str, required: bool = True) -> None:
        """Element ``i`` of an amount is missing or not a number (counted as 0 in totals)."""
        sid = els[0]
        present = i < len(els) and els[i] != ""
        if not present and not required:
            return
        what = "is not a number" if present else "is missing"
        self.find(
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
