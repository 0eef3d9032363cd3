"""Streaming, never-lossy 835 (005010X221A1) reader with SNIP type 3 balancing findings.

Why its own reader: the parsers in use crash on several payers or interchanges per file, drop
reversals and PLB recoupments, or reject a whole remittance when one claim does not balance.
This one streams remittance by remittance (one :class:`~edi.x835_model.Remittance` per ST/SE),
keeps every amount, keeps segments it has no place for verbatim, and reports what does not add up
as :class:`~coding.findings.Finding` values with file, segment number, loop and element:

- claim: CLP03 - claim CAS - line CAS = CLP04 (claims with or without service lines),
- service line: SVC02 - line CAS = SVC03,
- transaction: BPR02 = sum of CLP04 - sum of PLB amounts.

Reversals (CLP02 22) carry negative amounts and balance the same way. Envelope problems
(missing SE/GE/IEA, wrong SE01/GE01/IEA01 counts, mismatched control numbers, truncation) are
findings too; every claim that could be read is returned.

Hot path (performance-notes.md): the shared tokenizer splits each segment once; a dict maps the
segment id to a bound handler; each amount goes through ``Decimal`` once; no regex.
"""
from __future__ import annotations

import gc
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

from coding.findings import Finding
from edi.tokenizer import DEFAULT_SEPARATORS, X12Tokenizer
from edi.x835_model import (
    BALANCING_CODES, Adjustment, AmountRef, Contact, DateRef, Loop2000, Loop2100, Loop2110, Name,
    Party, ProviderAdjustment, Reference, Remittance, UnknownSegment,
)

__all__ = ["read_835", "read_835_files", "read_835_with_findings", "findings_835",
           "balance_findings_835", "Remittance"]

_D = Decimal
_ZERO = Decimal(0)
Source = str | Path | bytes | BinaryIO


_BIG = Decimal("1e15")  # no X12 amount (18 characters at most) is this large


def _amt(s: str) -> Decimal | None:
    """Decimal of an X12 R element, None when empty, not a number, or absurdly large."""
    try:
        d = _D(s)
        return d if -_BIG < d < _BIG else None
    except (InvalidOperation, ValueError, TypeError):  # also NaN comparisons
        return None


def _pad(els: list[str], n: int) -> list[str]:
    return els if len(els) >= n else els + [""] * (n - len(els))


class _Reader:
    """State machine over the tokenizer's segments; one instance per file."""

    def __init__(self, source: Source, filename: str | None, findings: list[Finding] | None,
                 keep_claims: bool) -> None:
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
            "BPR": self._bpr, "TRN": self._trn, "CUR": self._cur, "REF": self._ref, "DTM": self._dtm,
            "N1": self._n1, "N3": self._n3, "N4": self._n4, "PER": self._per, "RDM": self._rdm,
            "LX": self._lx, "TS3": self._ts3, "TS2": self._ts2, "CLP": self._clp, "CAS": self._cas,
            "NM1": self._nm1, "MIA": self._mia, "MOA": self._moa, "AMT": self._amt_seg,
            "QTY": self._qty, "SVC": self._svc, "LQ": self._lq, "PLB": self._plb,
        }

    # ------------------------------------------------------------------ findings
    def _find(self, severity: str, code: str, message: str, num: int | None, line: int | None,
              segment: str | None = None, loop: str | None = None, element: str | None = None,
              pcn: str | None = None, to_file: bool = False) -> None:
        f = Finding(severity, code, message, encounter_id=pcn, file=self.file,  # type: ignore[arg-type]
                    segment=segment, loop=loop, element=element, line=line, segment_number=num)
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
        self._find("warning", "x835-unexpected-segment",
                   f"segment {sid} does not fit loop {loop} here{why}; kept verbatim", num, line,
                   segment=sid, loop=loop)

    def _bad_amount(self, els: list[str], i: int, num: int, line: int, loop: str,
                    required: bool = True) -> None:
        sid = els[0]
        present = i < len(els) and els[i] != ""
        if not present and not required:
            return
        what = "is not a number" if present else "is missing"
        self._find("error", "x835-bad-amount", f"{sid}{i:02d} {what}; counted as 0 in totals",
                   num, line, segment=sid, loop=loop, element=f"{sid}{i:02d}",
                   pcn=self.claim.patient_control_number if self.claim else None)

    # ------------------------------------------------------------------ driver
    def __iter__(self) -> Iterator[Remittance]:
        # The model has no reference cycles, so reference counting frees it; the cyclic collector
        # would only re-walk the young objects of every batch (performance-notes.md). It is paused
        # while this generator works and restored whenever control goes back to the caller.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            body = self.body
            get = body.get
            other = self._other
            in_set = False  # body handlers never open or close a set: only other() does
            for batch, first, lines in self.tok.batches():
                num = first - 1
                for els, line in zip(batch, lines):
                    num += 1
                    if in_set:
                        h = get(els[0])
                        if h is not None:
                            h(els, num, line)
                            continue
                    done = other(els, num, line)
                    in_set = self.rem is not None
                    if done is not None:
                        if was_enabled:
                            gc.enable()
                        yield done
                        gc.disable()
            done = self._eof()
            if done is not None:
                if was_enabled:
                    gc.enable()
                yield done
                gc.disable()
        finally:
            if was_enabled:
                gc.enable()
        if self.remittances == 0:
            self._find("error", "x835-no-remittance",
                       "no 835 transaction set (ST*835) was found in this file", None, None, to_file=True)

    def _other(self, els: list[str], num: int, line: int) -> Remittance | None:
        sid = els[0]
        if sid == "SE":
            if self.rem is not None:
                return self._se(els, num, line)
            if self.skipping is not None:
                self.skipping = None
                return None
            return self._stray(els, num, line)
        if sid == "ST":
            done = self._close_set(num, line, "ST")
            self._st(els, num, line)
            return done
        if sid == "ISA":
            done = self._close_set(num, line, "ISA")
            self._close_group(num, line, "ISA")
            self._close_interchange(num, line, "ISA")
            self.isa, self.isa_groups, self.isa_number = _pad(els, 17), 0, num
            seps = self.tok.separators or DEFAULT_SEPARATORS
            self.comp, self.elem = seps.component, seps.element
            return done
        if sid == "GS":
            done = self._close_set(num, line, "GS")
            self._close_group(num, line, "GS")
            self.gs, self.gs_sets, self.gs_number = _pad(els, 9), 0, num
            self.isa_groups += 1
            if self.gs[1] and self.gs[1] != "HP":
                self._find("info", "x12-not-remittance-group",
                           f"functional group GS01 {self.gs[1]!r} is not HP (remittance)", num, line,
                           segment="GS", element="GS01", to_file=True)
            elif not self.gs[8].startswith("005010X221"):
                self._find("warning", "x835-version",
                           f"GS08 version {self.gs[8]!r} is not 005010X221A1; read with the 5010 layout",
                           num, line, segment="GS", element="GS08", to_file=True)
            return done
        if sid == "GE":
            done = self._close_set(num, line, "GE")
            self._ge(els, num, line)
            return done
        if sid == "IEA":
            done = self._close_set(num, line, "IEA")
            self._close_group(num, line, "IEA")
            self._iea(els, num, line)
            return done
        if sid == "TA1":
            return None
        if self.skipping is not None:
            return None
        if self.rem is not None:
            self._unknown(els, num, line)
            return None
        return self._stray(els, num, line)

    def _stray(self, els: list[str], num: int, line: int) -> None:
        sid = els[0][:3]
        self._find("warning", "x12-segment-outside-transaction",
                   f"segment {sid} outside any ST/SE transaction set was ignored", num, line,
                   segment=sid, to_file=True)
        return None

    def _eof(self) -> Remittance | None:
        done = self._close_set(None, None, "end of file")
        self._close_group(None, None, "end of file")
        self._close_interchange(None, None, "end of file")
        return done

    # ------------------------------------------------------------------ envelope
    def _st(self, els: list[str], num: int, line: int) -> None:
        self.gs_sets += 1
        self.st_number = num
        st01 = els[1] if len(els) > 1 else ""
        if st01 != "835":
            self.skipping = st01
            self._find("info", "x835-other-transaction",
                       f"transaction set {st01[:6]!r} is not an 835 and was skipped", num, line,
                       segment="ST", element="ST01", to_file=True)
            return
        self.skipping = None
        isa, gs = self.isa or [""] * 17, self.gs or [""] * 9
        seps = self.tok.separators or DEFAULT_SEPARATORS
        self.comp, self.elem = seps.component, seps.element
        self.rem = Remittance(file=self.file, interchange_control=isa[13], sender=isa[6].strip(),
                              receiver=isa[8].strip(), group_control=gs[6], version=gs[8],
                              control_number=els[2] if len(els) > 2 else "", start_segment=num)
        self.loop = "HEADER"
        self.claim = self.svc = None
        self.lx = ""
        self.bpr_pos = (None, None)

    def _se(self, els: list[str], num: int, line: int) -> Remittance:
        rem = self.rem
        assert rem is not None
        counted = num - self.st_number + 1
        e = _pad(els, 3)
        if e[1] != str(counted):
            self._find("error", "x12-se-count",
                       f"SE01 says {e[1] or 'nothing'} segments but the transaction set has {counted}",
                       num, line, segment="SE", element="SE01")
        if e[2] != rem.control_number:
            self._find("error", "x12-se-control",
                       "SE02 does not match ST02", num, line, segment="SE", element="SE02")
        rem.segment_count = counted
        rem.complete = True
        return self._finish(num, line)

    def _close_set(self, num: int | None, line: int | None, by: str) -> Remittance | None:
        if self.skipping is not None:
            self._find("error", "x12-missing-se",
                       f"transaction set {self.skipping[:6]!r} has no SE before {by}", num, line,
                       segment="SE", to_file=True)
            self.skipping = None
            return None
        if self.rem is None:
            return None
        self._find("error", "x12-missing-se",
                   f"the 835 transaction set has no SE before {by}: the file may be truncated; "
                   "every claim read so far is kept", num, line, segment="SE")
        return self._finish(num, line)

    def _ge(self, els: list[str], num: int, line: int) -> None:
        e = _pad(els, 3)
        if self.gs is None:
            self._find("error", "x12-missing-gs", "GE without a GS", num, line, segment="GE", to_file=True)
            return
        if e[1] != str(self.gs_sets):
            self._find("error", "x12-ge-count",
                       f"GE01 says {e[1] or 'nothing'} transaction sets but the group has {self.gs_sets}",
                       num, line, segment="GE", element="GE01", to_file=True)
        if e[2] != self.gs[6]:
            self._find("error", "x12-ge-control", "GE02 does not match GS06", num, line,
                       segment="GE", element="GE02", to_file=True)
        self.gs = None

    def _close_group(self, num: int | None, line: int | None, by: str) -> None:
        if self.gs is not None:
            self._find("error", "x12-missing-ge", f"functional group has no GE before {by}", num, line,
                       segment="GE", to_file=True)
            self.gs = None

    def _iea(self, els: list[str], num: int, line: int) -> None:
        e = _pad(els, 3)
        if self.isa is None:
            self._find("error", "x12-missing-isa", "IEA without an ISA", num, line, segment="IEA",
                       to_file=True)
            return
        if e[1] != str(self.isa_groups):
            self._find("error", "x12-iea-count",
                       f"IEA01 says {e[1] or 'nothing'} groups but the interchange has {self.isa_groups}",
                       num, line, segment="IEA", element="IEA01", to_file=True)
        if e[2] != self.isa[13]:
            self._find("error", "x12-iea-control", "IEA02 does not match ISA13", num, line,
                       segment="IEA", element="IEA02", to_file=True)
        self.isa = None

    def _close_interchange(self, num: int | None, line: int | None, by: str) -> None:
        if self.isa is not None:
            self._find("error", "x12-missing-iea", f"interchange has no IEA before {by}", num, line,
                       segment="IEA", to_file=True)
            self.isa = None

    # ------------------------------------------------------------------ claims and balancing
    def _end_claim(self) -> None:
        claim = self.claim
        if claim is None:
            return
        rem = self.rem
        assert rem is not None
        self.claim = self.svc = None
        line_adj = _ZERO
        for ln in claim.lines:
            adj = _ZERO
            for a in ln.adjustments:
                if a.amount is not None:
                    adj += a.amount
            line_adj += adj
            ch, pd = ln.charge, ln.paid
            if ch is not None and pd is not None and ch - adj != pd:
                self._find("error", "service-line-out-of-balance",
                           f"claim {claim.patient_control_number} line {ln.code}: SVC02 {ch} - adjustments "
                           f"{adj} = {ch - adj}, but SVC03 is {pd} (difference {ch - adj - pd})",
                           ln.segment_number, ln.line, segment="SVC", loop="2110", element="SVC03",
                           pcn=claim.patient_control_number)
        claim_adj = _ZERO
        for a in claim.adjustments:
            if a.amount is not None:
                claim_adj += a.amount
        ch, pd = claim.charge, claim.paid
        if ch is not None and pd is not None:
            expect = ch - claim_adj - line_adj
            if expect != pd:
                self._find("error", "claim-out-of-balance",
                           f"claim {claim.patient_control_number}: CLP03 {ch} - claim adjustments {claim_adj}"
                           f" - line adjustments {line_adj} = {expect}, but CLP04 is {pd}"
                           f" (difference {expect - pd})",
                           claim.segment_number, claim.line, segment="CLP", loop="2100", element="CLP04",
                           pcn=claim.patient_control_number)
        rem.claim_count += 1
        rem.line_count += len(claim.lines)
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
            self._find("error", "x835-missing-segment",
                       "the transaction set has no BPR (payment) segment: it cannot be balanced",
                       rem.start_segment or None, None, segment="BPR", loop="HEADER")
        if bpr is not None:
            expect = rem.total_paid - rem.plb_total
            if expect != bpr:
                self._find("error", "transaction-out-of-balance",
                           f"BPR02 {bpr} differs from claim payments {rem.total_paid} - provider "
                           f"adjustments {rem.plb_total} = {expect} (difference {bpr - expect})",
                           self.bpr_pos[0], self.bpr_pos[1], segment="BPR", loop="HEADER", element="BPR02")
        if not rem.complete and rem.segment_count == 0 and num is not None:
            rem.segment_count = num - self.st_number
        self.rem = None
        self.loop = ""
        self.remittances += 1
        return rem

    # ------------------------------------------------------------------ header segments
    def _bpr(self, els: list[str], num: int, line: int) -> None:
        if self.loop != "HEADER":
            return self._unknown(els, num, line)
        e = _pad(els, 17)
        p = self.rem.payment  # type: ignore[union-attr]
        self.bpr_pos = (num, line)
        p.handling, p.credit_debit, p.method, p.format = e[1], e[3], e[4], e[5]
        p.amount = _amt(e[2])
        if p.amount is None:
            self._bad_amount(els, 2, num, line, "HEADER")
        (p.sender_dfi_qualifier, p.sender_dfi, p.sender_account_qualifier, p.sender_account,
         p.originating_company, p.originating_supplemental, p.receiver_dfi_qualifier, p.receiver_dfi,
         p.receiver_account_qualifier, p.receiver_account, p.date) = e[6:17]

    def _trn(self, els: list[str], num: int, line: int) -> None:
        if self.loop != "HEADER":
            return self._unknown(els, num, line)
        e = _pad(els, 5)
        p = self.rem.payment  # type: ignore[union-attr]
        p.trace_type, p.trace, p.trace_originator, p.trace_supplemental = e[1:5]

    def _cur(self, els: list[str], num: int, line: int) -> None:
        if self.loop != "HEADER":
            return self._unknown(els, num, line)
        self.rem.currency = els[1:]  # type: ignore[union-attr]

    def _ref(self, els: list[str], num: int, line: int) -> None:
        r = Reference(els[1] if len(els) > 1 else "", els[2] if len(els) > 2 else "")
        loop = self.loop
        if loop == "2110":
            self.svc.refs.append(r)  # type: ignore[union-attr]
        elif loop == "2100":
            self.claim.refs.append(r)  # type: ignore[union-attr]
        elif loop == "HEADER":
            self.rem.refs.append(r)  # type: ignore[union-attr]
        elif loop == "1000A":
            self.rem.payer.refs.append(r)  # type: ignore[union-attr]
        elif loop == "1000B":
            self.rem.payee.refs.append(r)  # type: ignore[union-attr]
        else:
            self._unknown(els, num, line)

    def _dtm(self, els: list[str], num: int, line: int) -> None:
        d = DateRef(els[1] if len(els) > 1 else "", els[2] if len(els) > 2 else "")
        loop = self.loop
        if loop == "2110":
            self.svc.dates.append(d)  # type: ignore[union-attr]
        elif loop == "2100":
            self.claim.dates.append(d)  # type: ignore[union-attr]
        elif loop == "HEADER":
            rem = self.rem
            rem.dates.append(d)  # type: ignore[union-attr]
            if d.qualifier == "405":
                rem.production_date = d.date  # type: ignore[union-attr]
        else:
            self._unknown(els, num, line)

    def _party(self) -> Party | None:
        if self.loop == "1000A":
            return self.rem.payer  # type: ignore[union-attr]
        if self.loop == "1000B":
            return self.rem.payee  # type: ignore[union-attr]
        return None

    def _n1(self, els: list[str], num: int, line: int) -> None:
        e = _pad(els, 5)
        rem = self.rem
        assert rem is not None
        if self.loop in ("HEADER", "1000A", "1000B") and e[1] == "PR" and not rem.payer.entity:
            self.loop, party = "1000A", rem.payer
        elif self.loop in ("HEADER", "1000A", "1000B") and e[1] == "PE" and not rem.payee.entity:
            self.loop, party = "1000B", rem.payee
        else:
            return self._unknown(els, num, line, " (N1 qualifier or position)")
        party.entity, party.name, party.id_qualifier, party.id = e[1], e[2], e[3], e[4]

    def _n3(self, els: list[str], num: int, line: int) -> None:
        party = self._party()
        if party is None:
            return self._unknown(els, num, line)
        party.address.extend(x for x in els[1:3] if x)

    def _n4(self, els: list[str], num: int, line: int) -> None:
        party = self._party()
        if party is None:
            return self._unknown(els, num, line)
        e = _pad(els, 5)
        party.city, party.state, party.zip, party.country = e[1], e[2], e[3], e[4]

    def _per(self, els: list[str], num: int, line: int) -> None:
        e = _pad(els, 9)
        c = Contact(e[1], e[2], [(e[i], e[i + 1]) for i in (3, 5, 7) if e[i] or e[i + 1]])
        if self.loop == "1000A":
            self.rem.payer.contacts.append(c)  # type: ignore[union-attr]
        elif self.loop == "2100":
            self.claim.contacts.append(c)  # type: ignore[union-attr]
        elif self.loop == "1000B":
            self.rem.payee.contacts.append(c)  # type: ignore[union-attr]
        else:
            self._unknown(els, num, line)

    def _rdm(self, els: list[str], num: int, line: int) -> None:
        if self.loop != "1000B":
            return self._unknown(els, num, line)
        self.rem.payee.rdm = els[1:]  # type: ignore[union-attr]

    # ------------------------------------------------------------------ detail
    def _lx(self, els: list[str], num: int, line: int) -> None:
        if self.loop == "FOOTER":
            return self._unknown(els, num, line, " (after PLB)")
        self._end_claim()
        self.lx = els[1] if len(els) > 1 else ""
        self.rem.header_groups.append(Loop2000(self.lx, segment_number=num))  # type: ignore[union-attr]
        self.loop = "2000"

    def _ts3(self, els: list[str], num: int, line: int) -> None:
        if self.loop != "2000":
            return self._unknown(els, num, line)
        self.rem.header_groups[-1].ts3 = els[1:]  # type: ignore[union-attr]

    def _ts2(self, els: list[str], num: int, line: int) -> None:
        if self.loop != "2000":
            return self._unknown(els, num, line)
        self.rem.header_groups[-1].ts2 = els[1:]  # type: ignore[union-attr]

    def _clp(self, els: list[str], num: int, line: int) -> None:
        if self.loop == "FOOTER":
            return self._unknown(els, num, line, " (after PLB)")
        if self.claim is not None:
            self._end_claim()
        e = els if len(els) >= 15 else els + [""] * (15 - len(els))
        charge, paid = _amt(e[3]), _amt(e[4])
        pr = _amt(e[5]) if e[5] else None
        claim = Loop2100(e[1], e[2], charge, paid, pr, e[6], e[7], e[8], e[9], e[10], e[11],
                         _amt(e[12]) if e[12] else None, _amt(e[13]) if e[13] else None, e[14],
                         self.lx, num, line)
        self.claim = claim
        self.svc = None
        self.loop = "2100"
        if charge is None:
            self._bad_amount(els, 3, num, line, "2100")
        if paid is None:
            self._bad_amount(els, 4, num, line, "2100")
        if pr is None and e[5]:
            self._bad_amount(els, 5, num, line, "2100")
        if not e[1] or not e[2]:
            self._find("error", "x835-missing-element",
                       "CLP01 (patient control number) or CLP02 (status) is empty", num, line,
                       segment="CLP", loop="2100", element="CLP01" if not e[1] else "CLP02")

    def _cas(self, els: list[str], num: int, line: int) -> None:
        loop = self.loop
        if loop == "2110":
            target = self.svc.adjustments  # type: ignore[union-attr]
        elif loop == "2100":
            target = self.claim.adjustments  # type: ignore[union-attr]
        else:
            return self._unknown(els, num, line)
        n = len(els)
        group = els[1] if n > 1 else ""
        if (n == 4 or n == 5) and els[2]:  # one triplet, the usual shape
            s = els[3]
            try:
                amount = _D(s)
                if not -_BIG < amount < _BIG:
                    amount = None
            except (InvalidOperation, ValueError):
                amount = None
            if amount is None:
                self._bad_amount(els, 3, num, line, loop)
            q = els[4] if n == 5 else ""
            target.append(Adjustment(group, els[2], amount, _amt(q) if q else None))
            return
        if n > 20:
            self._find("warning", "x835-cas-too-many",
                       "CAS has more than six reason/amount/quantity triplets; all were read", num, line,
                       segment="CAS", loop=loop)
        for j in range(2, n, 3):
            reason = els[j]
            s = els[j + 1] if j + 1 < n else ""
            q = els[j + 2] if j + 2 < n else ""
            if not reason and not s and not q:
                continue
            try:
                amount = _D(s)
                if not -_BIG < amount < _BIG:
                    amount = None
            except (InvalidOperation, ValueError):
                amount = None
            if amount is None:
                self._bad_amount(els, j + 1, num, line, loop)
            target.append(Adjustment(group, reason, amount, _amt(q) if q else None))

    def _nm1(self, els: list[str], num: int, line: int) -> None:
        if self.loop != "2100":
            return self._unknown(els, num, line)
        e = _pad(els, 10)
        self.claim.names.append(Name(e[1], e[2], e[3], e[4], e[5], e[7], e[8], e[9]))  # type: ignore[union-attr]

    def _mia(self, els: list[str], num: int, line: int) -> None:
        if self.loop != "2100":
            return self._unknown(els, num, line)
        self.claim.inpatient = els[1:]  # type: ignore[union-attr]

    def _moa(self, els: list[str], num: int, line: int) -> None:
        if self.loop != "2100":
            return self._unknown(els, num, line)
        self.claim.outpatient = els[1:]  # type: ignore[union-attr]

    def _amt_seg(self, els: list[str], num: int, line: int) -> None:
        loop = self.loop
        if loop not in ("2100", "2110"):
            return self._unknown(els, num, line)
        s = els[2] if len(els) > 2 else ""
        a = AmountRef(els[1] if len(els) > 1 else "", _amt(s))
        if a.amount is None:
            self._bad_amount(els, 2, num, line, loop)
        (self.svc.amounts if loop == "2110" else self.claim.amounts).append(a)  # type: ignore[union-attr]

    def _qty(self, els: list[str], num: int, line: int) -> None:
        loop = self.loop
        if loop not in ("2100", "2110"):
            return self._unknown(els, num, line)
        s = els[2] if len(els) > 2 else ""
        a = AmountRef(els[1] if len(els) > 1 else "", _amt(s))
        if a.amount is None:
            self._bad_amount(els, 2, num, line, loop)
        (self.svc.quantities if loop == "2110" else self.claim.quantities).append(a)  # type: ignore[union-attr]

    def _svc(self, els: list[str], num: int, line: int) -> None:
        claim = self.claim
        if claim is None or self.loop not in ("2100", "2110"):
            return self._unknown(els, num, line, " (service line without a claim)")
        e = els if len(els) >= 8 else els + [""] * (8 - len(els))
        sep = self.comp
        if sep not in e[1] and len(e[1]) > 3 and not e[1][2].isalnum() and e[1][2] != " ":
            sep = self._other_component(e[1][2], num, line)
        comp = e[1].split(sep)
        nc = len(comp)
        try:
            charge = _D(e[2])
            paid = _D(e[3])
            if not (-_BIG < charge < _BIG and -_BIG < paid < _BIG):
                raise ValueError
        except (InvalidOperation, ValueError):
            charge, paid = _amt(e[2]), _amt(e[3])
        units = _amt(e[5]) if e[5] else None
        svc = Loop2110(comp[0], comp[1] if nc > 1 else "", [m for m in comp[2:6] if m] if nc > 2 else [],
                       charge, paid, e[4], units, comp[6] if nc > 6 else "", "", "", None, None, num, line)
        if e[6]:
            osep = self.comp if self.comp in e[6] or len(e[6]) < 4 or e[6][2].isalnum() else e[6][2]
            orig = e[6].split(osep)
            svc.original_qualifier = orig[0]
            svc.original_code = orig[1] if len(orig) > 1 else ""
            svc.original_modifiers = [m for m in orig[2:6] if m]
        if e[7]:
            svc.original_units = _amt(e[7])
        claim.lines.append(svc)
        self.svc = svc
        self.loop = "2110"
        if charge is None:
            self._bad_amount(els, 2, num, line, "2110")
        if paid is None:
            self._bad_amount(els, 3, num, line, "2110")

    def _other_component(self, sep: str, num: int, line: int) -> str:
        """SVC01 split on a character other than ISA16 (seen from real payers): read, and said."""
        self._find("warning", "x835-component-separator",
                   f"SVC01 uses {sep!r} between its components although ISA16 is {self.comp!r}; read with {sep!r}",
                   num, line, segment="SVC", loop="2110", element="SVC01")
        return sep

    def _lq(self, els: list[str], num: int, line: int) -> None:
        if self.loop != "2110":
            return self._unknown(els, num, line)
        self.svc.remarks.append((els[1] if len(els) > 1 else "", els[2] if len(els) > 2 else ""))  # type: ignore[union-attr]

    def _plb(self, els: list[str], num: int, line: int) -> None:
        self._end_claim()
        self.loop = "FOOTER"
        rem = self.rem
        assert rem is not None
        e = _pad(els, 5)
        provider, period = e[1], e[2]
        n = len(els)
        if n > 15:
            self._find("warning", "x835-plb-too-many",
                       "PLB has more than six adjustment pairs; all were read", num, line,
                       segment="PLB", loop="FOOTER")
        for j in range(3, n, 2):
            ident = els[j]
            s = els[j + 1] if j + 1 < n else ""
            if not ident and not s:
                continue
            parts = ident.split(self.comp, 1)
            amount = _amt(s)
            if amount is None:
                self._bad_amount(els, j + 1, num, line, "FOOTER")
            else:
                rem.plb_total += amount
            rem.provider_adjustments.append(ProviderAdjustment(
                provider, period, parts[0], parts[1] if len(parts) > 1 else "", amount, num))


def read_835(source: Source, filename: str | None = None, findings: list[Finding] | None = None,
             keep_claims: bool = True) -> Iterator[Remittance]:
    """Stream the remittances (ST/SE sets) of one 835 file.

    ``source``: a path, bytes, X12 text, or a binary stream. Findings about a remittance are in
    its ``findings``; findings about the file (tokenizer, envelope outside a set, no 835 at all)
    are appended to ``findings`` when given. ``keep_claims=False`` keeps only the running totals
    (claim/line counts, sums) so memory stays flat even for one huge transaction set.
    """
    return iter(_Reader(source, filename, findings, keep_claims))


def read_835_files(paths: Iterable[str | Path], findings: list[Finding] | None = None,
                   keep_claims: bool = True) -> Iterator[Remittance]:
    """Stream the remittances of several files, one after the other."""
    for p in paths:
        yield from read_835(p, str(p), findings, keep_claims)


def read_835_with_findings(source: Source, filename: str | None = None,
                           keep_claims: bool = True) -> tuple[list[Remittance], list[Finding]]:
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


def probe_835(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as an 835 (a message naming the file), or None when it can.

    Reads only up to the first ST*835 (streaming), so the CLI can refuse a wrong file before it
    prints anything. I/O problems are reported, not raised.
    """
    p = Path(path)
    if not p.exists():
        return f"{path}: no such file"
    if p.is_dir():
        return f"{path}: is a directory, not an 835 file"
    try:
        with open(p, "rb"):
            pass
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror or exc.__class__.__name__})"
    seen: list[str] = []
    try:
        for els, _, _ in X12Tokenizer(p, [], str(path)):
            if els[0] == "ST":
                st01 = els[1] if len(els) > 1 else ""
                if st01 == "835":
                    return None
                if st01 not in seen:
                    seen.append(st01[:6])
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror or exc.__class__.__name__})"
    if seen:
        return f"{path}: not an 835 (transaction sets found: {', '.join(seen)})"
    return f"{path}: not an 835 (no ST*835 transaction set; not an X12 interchange?)"
