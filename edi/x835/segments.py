"""Loop handlers of the 835 reader: one method per segment id (header, 1000A/B, 2000, 2100,
2110, PLB), mixed into :class:`edi.x835.reader._Reader`.

Each handler gets the split elements, the segment's ordinal and its line; a segment that does not
fit the current loop is kept verbatim through ``self._unknown`` with a finding.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

_ZERO = Decimal(0)

from edi.x835.model import (
    Adjustment,
    AmountRef,
    Contact,
    DateRef,
    Loop2000,
    Loop2100,
    Loop2110,
    Name,
    Party,
    ProviderAdjustment,
    Reference,
)

_D = Decimal
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
        (
            p.sender_dfi_qualifier,
            p.sender_dfi,
            p.sender_account_qualifier,
            p.sender_account,
            p.originating_company,
            p.originating_supplemental,
            p.receiver_dfi_qualifier,
            p.receiver_dfi,
            p.receiver_account_qualifier,
            p.receiver_account,
            p.date,
        ) = e[6:17]

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
        claim = Loop2100(
            e[1],
            e[2],
            charge,
            paid,
            pr,
            e[6],
            e[7],
            e[8],
            e[9],
            e[10],
            e[11],
            _amt(e[12]) if e[12] else None,
            _amt(e[13]) if e[13] else None,
            e[14],
            self.lx,
            num,
            line,
        )
        claim._adj = _ZERO
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
            self._find(
                "error",
                "x835-missing-element",
                "CLP01 (patient control number) or CLP02 (status) is empty",
                num,
                line,
                segment="CLP",
                loop="2100",
                element="CLP01" if not e[1] else "CLP02",
            )

    def _cas(self, els: list[str], num: int, line: int) -> None:
        loop = self.loop
        if loop == "2110":
            owner = self.svc
        elif loop == "2100":
            owner = self.claim
        else:
            return self._unknown(els, num, line)
        target = owner.adjustments  # type: ignore[union-attr]
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
            else:
                owner._adj += amount  # type: ignore[union-attr]
            q = els[4] if n == 5 else ""
            target.append(Adjustment(group, els[2], amount, _amt(q) if q else None))
            return
        if n > 20:
            self._find(
                "warning",
                "x835-cas-too-many",
                "CAS has more than six reason/amount/quantity triplets; all were read",
                num,
                line,
                segment="CAS",
                loop=loop,
            )
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
            else:
                owner._adj += amount  # type: ignore[union-attr]
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
        self._amount_ref(els, num, line, "amounts")

    def _qty(self, els: list[str], num: int, line: int) -> None:
        self._amount_ref(els, num, line, "quantities")

    def _amount_ref(self, els: list[str], num: int, line: int, attr: str) -> None:
        """AMT or QTY in 2100/2110: qualifier + amount, kept on the line or the claim."""
        loop = self.loop
        if loop not in ("2100", "2110"):
            return self._unknown(els, num, line)
        s = els[2] if len(els) > 2 else ""
        a = AmountRef(els[1] if len(els) > 1 else "", _amt(s))
        if a.amount is None:
            self._bad_amount(els, 2, num, line, loop)
        getattr(self.svc if loop == "2110" else self.claim, attr).append(a)

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
        svc = Loop2110(
            comp[0],
            comp[1] if nc > 1 else "",
            [m for m in comp[2:6] if m] if nc > 2 else [],
            charge,
            paid,
            e[4],
            units,
            comp[6] if nc > 6 else "",
            "",
            "",
            None,
            None,
            num,
            line,
        )
        if e[6]:
            osep = self.comp if self.comp in e[6] or len(e[6]) < 4 or e[6][2].isalnum() else e[6][2]
            orig = e[6].split(osep)
            svc.original_qualifier = orig[0]
            svc.original_code = orig[1] if len(orig) > 1 else ""
            svc.original_modifiers = [m for m in orig[2:6] if m]
        if e[7]:
            svc.original_units = _amt(e[7])
        svc._adj = _ZERO
        claim.lines.append(svc)
        self.svc = svc
        self.loop = "2110"
        if charge is None:
            self._bad_amount(els, 2, num, line, "2110")
        if paid is None:
            self._bad_amount(els, 3, num, line, "2110")

    def _other_component(self, sep: str, num: int, line: int) -> str:
        """SVC01 split on a character other than ISA16 (seen from real payers): read, and said."""
        self._find(
            "warning",
            "x835-component-separator",
            f"SVC01 uses {sep!r} between its components although ISA16 is {self.comp!r}; read with {sep!r}",
            num,
            line,
            segment="SVC",
            loop="2110",
            element="SVC01",
        )
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
            self._find(
                "warning",
                "x835-plb-too-many",
                "PLB has more than six adjustment pairs; all were read",
                num,
                line,
                segment="PLB",
                loop="FOOTER",
            )
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
            rem.provider_adjustments.append(
                ProviderAdjustment(provider, period, parts[0], parts[1] if len(parts) > 1 else "", amount, num)
            )
