"""Readers for acknowledgments: 999 (005010X231A1, and the older 997), 277CA (005010X214) and TA1.

The 999 tells which of our transaction sets (matched by GS06 in AK102 and ST02 in AK202) the
clearinghouse accepted or rejected, with the segment (IK3) and element (IK4) errors. The 277CA
tells, claim by claim (patient control number in the claim-level TRN02), whether the payer
acknowledged, accepted or rejected it (STC category A0–A8 with status and entity codes) and
often the payer claim number (REF*1K). A TA1 answers a whole interchange (TA101 = our ISA13).

Both readers stream segments from :func:`edi.x12.tokenizer.iter_segments` (BOM, indentation, any
separators, several interchanges) and never raise on bad data: what does not fit becomes a
:class:`~coding.findings.Finding`. Bad-value copies (IK404/AK404) and business-unit contexts other
than CLM01 are not kept: they may carry patient data.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

from coding.findings import Finding, Severity
from edi.ack.model import (  # noqa: F401  (re-exported: the public types of the readers)
    ACCEPTED_CODES,
    PATIENT_LEVELS,
    REJECTED_CODES,
    AckDocument,
    AckError,
    ClaimStatus,
    GroupAck,
    InterchangeAck,
    LineStatus,
    SetAck,
    StatusCode,
    ack_code_meanings,
    code_meaning,
)
from edi.x12.tokenizer import Segment, iter_segments


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except (ValueError, AttributeError):
        return None


def _dec(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip()) if text.strip() else None
    except InvalidOperation:
        return None


def _status_codes(seg: Segment) -> list[StatusCode]:
    """STC01, STC10 and STC11 composites (category:status:entity[:qualifier])."""
    out = []
    for i in (1, 10, 11):
        comps = seg.components(i)
        if comps and comps[0]:
            out.append(
                StatusCode(
                    comps[0],
                    (comps[1] or None) if len(comps) > 1 else None,
                    (comps[2] or None) if len(comps) > 2 else None,
                )
            )
    return out


class _Reader:
    """Segment-by-segment state machine over 999/997 and 277CA transaction sets."""

    def __init__(self, doc: AckDocument) -> None:
        self.doc = doc
        self.kind: str | None = None  # ST01 of the set being read
        self.group: GroupAck | None = None
        self.set: SetAck | None = None
        self.error: AckError | None = None
        self.level: str | None = None  # HL03 of the current 277 level
        self.claim: ClaimStatus | None = None
        self.svc: LineStatus | None = None
        self.set_segments = 0

    def finding(self, severity: Severity, code: str, message: str, seg: Segment) -> None:
        self.doc.findings.append(
            Finding(
                severity,
                code,
                message,
                file=self.doc.file,
                segment=seg.id,
                line=seg.line,
                loop=self._loop(),
                segment_number=seg.number,
            )
        )

    def _loop(self) -> str | None:
        if self.kind in ("999", "997"):
            return "2100" if self.error else "2000" if self.set else "HEADER" if self.group else None
        if self.kind == "277":
            return {"20": "2000A", "21": "2000B", "19": "2000C"}.get(self.level or "", "2000D" if self.level else None)
        return None

    def feed(self, seg: Segment) -> None:
        sid = seg.id.strip().upper()
        if self.kind is not None:
            self.set_segments += 1
        if sid == "TA1":
            self.doc.interchange_acks.append(
                InterchangeAck(seg.get(1).strip(), seg.get(4).strip() or None, seg.get(5).strip() or None, seg.line)
            )
            return
        if sid in ("ISA", "GS", "GE", "IEA"):
            return
        if sid == "ST":
            self._start_set(seg)
        elif sid == "SE":
            self._end_set(seg)
        elif self.kind is None:
            self.finding(
                "warning", "ack-segment-outside-set", f"{sid} segment outside a transaction set was ignored", seg
            )
        elif self.kind in ("999", "997"):
            self._feed_999(sid, seg)
        elif self.kind == "277":
            self._feed_277(sid, seg)

    def _start_set(self, seg: Segment) -> None:
        self.kind = seg.get(1).strip()
        self.set_segments = 1
        self.group = self.set = self.error = None
        self.level = self.claim = self.svc = None
        if self.kind not in ("999", "997", "277"):
            self.finding(
                "warning",
                "ack-unsupported-transaction",
                f"transaction set {self.kind or '(blank)'} is not a 999, 997 or 277CA; skipped",
                seg,
            )
            self.kind = "skip"
        self.doc.kinds.append(self.kind)

    def _end_set(self, seg: Segment) -> None:
        if self.kind in ("999", "997"):
            if self.group is None:
                self.finding("warning", "ack-missing-segment", "acknowledgment set has no AK1 group response", seg)
            elif self.group.code is None:
                self.finding("warning", "ack-missing-segment", "AK9 group response trailer is missing", seg)
            self._close_set_ack(seg)
        declared = _int(seg.get(1))
        if declared is not None and self.kind != "skip" and declared != self.set_segments:
            self.finding(
                "warning", "ack-segment-count", f"SE01 says {declared} segments, the set has {self.set_segments}", seg
            )
        self.kind = None

    # --- 999 / 997 --------------------------------------------------------------------------
    def _close_set_ack(self, seg: Segment) -> None:
        if self.set is not None and self.set.code is None:
            self.finding(
                "warning",
                "ack-missing-segment",
                f"no IK5/AK5 for acknowledged set {self.set.control_number}: its status is unknown",
                seg,
            )
        self.set = self.error = None

    def _feed_999(self, sid: str, seg: Segment) -> None:
        if sid == "AK1":
            self._close_set_ack(seg)
            self.group = GroupAck(
                seg.get(1).strip(),
                seg.get(2).strip(),
                seg.get(3).strip() or None,
                kind=self.kind or "999",
                line=seg.line,
            )
            self.doc.groups.append(self.group)
        elif self.group is None:
            self.finding("warning", "ack-segment-out-of-place", f"{sid} before the AK1 group response; ignored", seg)
        elif sid == "AK2":
            self._close_set_ack(seg)
            self.set = SetAck(seg.get(1).strip(), seg.get(2).strip(), line=seg.line)
            self.group.sets.append(self.set)
        elif sid in ("IK5", "AK5"):
            if self.set is None:
                self.finding("warning", "ack-segment-out-of-place", f"{sid} without an AK2 set response; ignored", seg)
                return
            if self.set.code is not None:
                self.finding(
                    "warning",
                    "ack-segment-out-of-place",
                    f"second {sid} for set {self.set.control_number}; the first is kept",
                    seg,
                )
                return
            self.set.code = seg.get(1).strip() or None
            if self.set.code not in ACCEPTED_CODES | REJECTED_CODES:
                self.finding(
                    "warning",
                    "ack-unknown-code",
                    f"{sid}01 code {self.set.code or '(blank)'} is neither accepted nor rejected: "
                    f"set {self.set.control_number} left with unknown status",
                    seg,
                )
            self.set.set_errors = [seg.get(i).strip() for i in range(2, 7) if seg.get(i).strip()]
            self.error = None
        elif sid in ("IK3", "AK3"):
            if self.set is None:
                self.finding("warning", "ack-segment-out-of-place", f"{sid} without an AK2 set response; ignored", seg)
                return
            self.error = AckError(
                seg.get(1).strip(), _int(seg.get(2)), seg.get(3).strip() or None, seg.get(4).strip() or None
            )
            self.set.errors.append(self.error)
        elif sid in ("IK4", "AK4"):
            self._element_error(sid, seg)
        elif sid == "CTX":
            self._context(seg)
        elif sid == "AK9":
            self._close_set_ack(seg)
            g = self.group
            g.code = seg.get(1).strip() or None
            g.sets_included, g.sets_received, g.sets_accepted = (_int(seg.get(i)) for i in (2, 3, 4))
            g.group_errors = [seg.get(i).strip() for i in range(5, 10) if seg.get(i).strip()]
        else:
            self.finding("info", "ack-segment-ignored", f"{sid} segment is not used by the 999 reader", seg)

    def _element_error(self, sid: str, seg: Segment) -> None:
        if self.set is None:
            self.finding("warning", "ack-segment-out-of-place", f"{sid} without an AK2 set response; ignored", seg)
            return
        base = self.error or AckError("?", None, None, None)
        if self.error is None:
            self.set.errors.append(base)
        pos = ":".join(c for c in seg.components(1) if c) or None
        if base.element_position is not None:  # a second element error on the same segment
            base = AckError(base.segment_id, base.segment_position, base.loop, base.code, claim=base.claim)
            self.set.errors.append(base)
        base.element_position = pos
        base.element_reference = seg.get(2).strip() or None
        base.element_code = seg.get(3).strip() or None
        self.error = base

    def _context(self, seg: Segment) -> None:
        comps = seg.components(1)
        if comps and comps[0].strip().upper() == "CLM01" and len(comps) > 1:
            if self.error is not None:
                self.error.claim = comps[1]
            elif self.set is not None:  # context before any IK3: applies to the next errors
                self.set.errors.append(AckError("CLM", None, None, None, claim=comps[1]))

    # --- 277CA ------------------------------------------------------------------------------
    def _feed_277(self, sid: str, seg: Segment) -> None:
        if sid == "HL":
            self.level = seg.get(3).strip()
            self.claim = self.svc = None
        elif sid == "TRN":
            self.svc = None
            if self.level in PATIENT_LEVELS:
                self.claim = ClaimStatus(seg.get(2).strip(), line=seg.line, segment_number=seg.number)
                self.doc.claims.append(self.claim)
        elif sid == "STC":
            self._stc(seg)
        elif sid == "REF":
            self._ref(seg)
        elif sid == "SVC":
            if self.claim is None:
                self.finding("warning", "ack-segment-out-of-place", "SVC outside a claim; ignored", seg)
                return
            comps = seg.components(1)
            self.svc = LineStatus(comps[1] if len(comps) > 1 else None, _dec(seg.get(2)))
            self.claim.lines.append(self.svc)
        elif sid == "DTP" and seg.get(1) == "472":
            target = self.svc or self.claim
            if target is not None:
                target.service_date = seg.get(3).strip() or None

    def _stc(self, seg: Segment) -> None:
        codes = _status_codes(seg)
        if not codes:
            self.finding("warning", "ack-missing-element", "STC without a status category (STC01-1)", seg)
        if self.svc is not None:
            self.svc.statuses.extend(codes)
        elif self.claim is not None:
            self.claim.statuses.extend(codes)
            self.claim.status_date = self.claim.status_date or (seg.get(2).strip() or None)
            self.claim.action_code = self.claim.action_code or (seg.get(3).strip() or None)
            if self.claim.charge is None:
                self.claim.charge = _dec(seg.get(4))
        else:
            self.doc.batch_statuses.extend(codes)

    def _ref(self, seg: Segment) -> None:
        qual, value = seg.get(1).strip().upper(), seg.get(2).strip() or None
        if self.svc is not None:
            if qual == "FJ":
                self.svc.line_control_number = value
            return
        if self.claim is None:
            return
        if qual == "1K":
            self.claim.payer_claim_number = value
        elif qual == "D9":
            self.claim.clearinghouse_trace = value
        elif qual == "BLT":
            self.claim.bill_type = value
        elif qual == "EJ":
            self.claim.patient_account_number = value
            if value and not self.claim.patient_control_number:
                self.claim.patient_control_number = value


def read_ack(source: str | Path | bytes | BinaryIO, filename: str | None = None) -> AckDocument:
    """Read a 999, 997 or 277CA file (path, bytes or stream) into an :class:`AckDocument`."""
    if filename is None and isinstance(source, (str, Path)) and not str(source).lstrip().startswith("ISA"):
        filename = str(source)
    doc = AckDocument(filename)
    reader = _Reader(doc)
    count = 0
    for seg in iter_segments(source, doc.findings, filename):
        count += 1
        reader.feed(seg)
    if reader.kind not in (None, "skip"):
        doc.findings.append(
            Finding("warning", "ack-truncated", "the file ends inside a transaction set (no SE)", file=filename)
        )
        if reader.kind in ("999", "997") and reader.set is not None and reader.set.code is None:
            doc.findings.append(
                Finding(
                    "warning",
                    "ack-missing-segment",
                    f"no IK5/AK5 for acknowledged set {reader.set.control_number}",
                    file=filename,
                )
            )
    if count == 0 or not (doc.kinds or doc.interchange_acks):
        doc.findings.append(Finding("error", "ack-empty", "no acknowledgment transaction set was found", file=filename))
    for c in doc.claims:
        if not c.patient_control_number:
            doc.findings.append(
                Finding(
                    "warning",
                    "ack-missing-element",
                    "277CA claim without a patient control number (TRN02)",
                    file=filename,
                    segment="TRN",
                    line=c.line,
                    loop="2200D",
                    segment_number=c.segment_number,
                )
            )
    return doc
