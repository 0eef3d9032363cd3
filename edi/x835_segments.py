"""Loop handlers of the 835 reader: one method per segment id (header, 1000A/B, 2000, 2100,
2110, PLB), mixed into :class:`edi.x835._Reader`.

Each handler gets the split elements, the segment's ordinal and its line; a segment that does not
fit the current loop is kept verbatim through ``self._unknown`` with a finding.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from edi.x835_model import (  # noqa: F401  (_amt, _BIG re-exported for older importers)
    _BIG, _D, LINE_ADJ, Contact, DateRef, Loop2000, Loop2100, Loop2110, Party, ProviderAdjustment, Reference,
    _amt,
)

_ZERO = Decimal(0)
_new = object.__new__


def _plain(s: str) -> bool:
    """True for a short unsigned decimal (digits, at most one point): valid for ``_amt`` without
    converting it (at most 15 characters, so below 1e15)."""
    return len(s) < 16 and s.isascii() and s.replace(".", "", 1).isdigit()


def _pad(els: list[str], n: int) -> list[str]:
    return els if len(els) >= n else els + [""] * (n - len(els))


class SegmentsMixin:
    """Segment handlers; state (``rem``, ``loop``, ``claim``, ``svc``, ``comp``...) lives in the reader."""

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
        loop = self.loop
        if loop == "2110":
            self.sraw.append(els)
        elif loop == "2100":
            self.craw.append(els)
        elif loop == "HEADER":
            self.rem.refs.append(Reference(els[1] if len(els) > 1 else "", els[2] if len(els) > 2 else ""))  # type: ignore[union-attr]
        elif loop == "1000A":
            self.rem.payer.refs.append(Reference(els[1] if len(els) > 1 else "", els[2] if len(els) > 2 else ""))  # type: ignore[union-attr]
        elif loop == "1000B":
            self.rem.payee.refs.append(Reference(els[1] if len(els) > 1 else "", els[2] if len(els) > 2 else ""))  # type: ignore[union-attr]
        else:
            self._unknown(els, num, line)

    def _dtm(self, els: list[str], num: int, line: int) -> None:
        loop = self.loop
        if loop == "2110":
            self.sraw.append(els)
        elif loop == "2100":
            self.craw.append(els)
        elif loop == "HEADER":
            d = DateRef(els[1] if len(els) > 1 else "", els[2] if len(els) > 2 else "")
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
        loop = self.loop
        if loop == "2100":
            self.craw.append(els)
            return
        if loop != "1000A" and loop != "1000B":
            return self._unknown(els, num, line)
        e = _pad(els, 9)
        c = Contact(e[1], e[2], [(e[i], e[i + 1]) for i in (3, 5, 7) if e[i] or e[i + 1]])
        (self.rem.payer if loop == "1000A" else self.rem.payee).contacts.append(c)  # type: ignore[union-attr]

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
        n = len(els)
        pcn = els[1] if n > 1 else ""
        charge = _amt(els[3]) if n > 3 else None
        paid = _amt(els[4]) if n > 4 else None
        claim = _new(Loop2100)  # the other fields (lines too) are filled from _raw on first read
        claim.patient_control_number = pcn
        claim.charge = charge
        claim.paid = paid
        claim.header_number = self.lx
        claim.segment_number = num
        claim.line = line
        claim._adj = _ZERO
        self.craw = craw = []
        self.lraw = lraw = []
        claim._raw = [els, self.elem, craw, lraw]  # see x835_model._fill_2100
        self.claim = claim
        self.svc = None
        self.loop = "2100"
        if charge is None:
            self._bad_amount(els, 3, num, line, "2100")
        if paid is None:
            self._bad_amount(els, 4, num, line, "2100")
        if n > 5 and els[5] and not _plain(els[5]) and _amt(els[5]) is None:
            self._bad_amount(els, 5, num, line, "2100")
        if not pcn or n < 3 or not els[2]:
            self._find("error", "x835-missing-element",
                       "CLP01 (patient control number) or CLP02 (status) is empty", num, line,
                       segment="CLP", loop="2100", element="CLP01" if not pcn else "CLP02")

    def _cas(self, els: list[str], num: int, line: int) -> None:
        loop = self.loop
        if loop == "2110":
            owner = None  # the line's CAS total is at sraw[LINE_ADJ]
            self.sraw.append(els)
        elif loop == "2100":
            owner = self.claim
            self.craw.append(els)
        else:
            return self._unknown(els, num, line)
        n = len(els)
        if (n == 4 or n == 5) and els[2]:  # one triplet, the usual shape
            try:
                amount = _D(els[3])
                if -_BIG < amount < _BIG:
                    if owner is None:
                        self.sraw[LINE_ADJ] += amount
                    else:
                        owner._adj += amount
                    return
            except (InvalidOperation, ValueError):
                pass
            self._bad_amount(els, 3, num, line, loop)
            return
        if n > 20:
            self._find("warning", "x835-cas-too-many",
                       "CAS has more than six reason/amount/quantity triplets; all were read", num, line,
                       segment="CAS", loop=loop)
        total = _ZERO
        for j in range(2, n, 3):
            s = els[j + 1] if j + 1 < n else ""
            if not els[j] and not s and not (els[j + 2] if j + 2 < n else ""):
                continue
            amount = _amt(s)
            if amount is None:
                self._bad_amount(els, j + 1, num, line, loop)
            else:
                total += amount
        if owner is None:
            self.sraw[LINE_ADJ] += total
        else:
            owner._adj += total

    def _nm1(self, els: list[str], num: int, line: int) -> None:
        if self.loop != "2100":
            return self._unknown(els, num, line)
        self.craw.append(els)

    _mia = _moa = _nm1

    def _amt_seg(self, els: list[str], num: int, line: int) -> None:
        loop = self.loop
        if loop == "2110":
            self.sraw.append(els)
        elif loop == "2100":
            self.craw.append(els)
        else:
            return self._unknown(els, num, line)
        if len(els) < 3 or not _plain(els[2]):
            if _amt(els[2] if len(els) > 2 else "") is None:
                self._bad_amount(els, 2, num, line, loop)

    _qty = _amt_seg

    def _svc(self, els: list[str], num: int, line: int) -> None:
        claim = self.claim
        loop = self.loop
        if claim is None or (loop != "2110" and loop != "2100"):
            return self._unknown(els, num, line, " (service line without a claim)")
        s1 = els[1] if len(els) > 1 else ""
        sep = comp = self.comp
        if sep not in s1 and len(s1) > 3 and not s1[2].isalnum() and s1[2] != " ":
            sep = self._other_component(s1[2], num, line)
        try:
            charge = _D(els[2])
            paid = _D(els[3])
            if not (-_BIG < charge < _BIG and -_BIG < paid < _BIG):
                raise ValueError
        except (InvalidOperation, ValueError, IndexError):
            e = _pad(els, 4)
            charge, paid = _amt(e[2]), _amt(e[3])
        # a service line is kept as its SVC, where it is, its amounts and later segments; the
        # Loop2110 object is made when the claim's lines are first read (x835_model._fill_2100)
        self.sraw = [els, sep, comp, self.elem, num, line, charge, paid, _ZERO]
        self.lraw.append(self.sraw)
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
        self.sraw.append(els)

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
