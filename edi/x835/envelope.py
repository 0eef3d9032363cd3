"""Envelope handling of the 835 reader (ISA/GS/ST/SE/GE/IEA), mixed into :class:`edi.x835.reader._Reader`.

Missing trailers, wrong counts (SE01, GE01, IEA01) and mismatched control numbers become
findings; an open transaction set is closed and returned with every claim read so far.
"""

from __future__ import annotations

from edi.x12.tokenizer import DEFAULT_SEPARATORS
from edi.x835.model import Remittance
from edi.x835.segments import _pad


class EnvelopeMixin:
    """Envelope segments and the end of file; state lives in the reader."""

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
                self._find(
                    "info",
                    "x12-not-remittance-group",
                    f"functional group GS01 {self.gs[1]!r} is not HP (remittance)",
                    num,
                    line,
                    segment="GS",
                    element="GS01",
                    to_file=True,
                )
            elif not self.gs[8].startswith("005010X221"):
                self._find(
                    "warning",
                    "x835-version",
                    f"GS08 version {self.gs[8]!r} is not 005010X221A1; read with the 5010 layout",
                    num,
                    line,
                    segment="GS",
                    element="GS08",
                    to_file=True,
                )
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
        self._find(
            "warning",
            "x12-segment-outside-transaction",
            f"segment {sid} outside any ST/SE transaction set was ignored",
            num,
            line,
            segment=sid,
            to_file=True,
        )
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
            self._find(
                "info",
                "x835-other-transaction",
                f"transaction set {st01[:6]!r} is not an 835 and was skipped",
                num,
                line,
                segment="ST",
                element="ST01",
                to_file=True,
            )
            return
        self.skipping = None
        isa, gs = self.isa or [""] * 17, self.gs or [""] * 9
        seps = self.tok.separators or DEFAULT_SEPARATORS
        self.comp, self.elem = seps.component, seps.element
        self.rem = Remittance(
            file=self.file,
            interchange_control=isa[13],
            sender=isa[6].strip(),
            receiver=isa[8].strip(),
            group_control=gs[6],
            version=gs[8],
            control_number=els[2] if len(els) > 2 else "",
            start_segment=num,
        )
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
            self._find(
                "error",
                "x12-se-count",
                f"SE01 says {e[1] or 'nothing'} segments but the transaction set has {counted}",
                num,
                line,
                segment="SE",
                element="SE01",
            )
        if e[2] != rem.control_number:
            self._find("error", "x12-se-control", "SE02 does not match ST02", num, line, segment="SE", element="SE02")
        rem.segment_count = counted
        rem.complete = True
        return self._finish(num, line)

    def _close_set(self, num: int | None, line: int | None, by: str) -> Remittance | None:
        if self.skipping is not None:
            self._find(
                "error",
                "x12-missing-se",
                f"transaction set {self.skipping[:6]!r} has no SE before {by}",
                num,
                line,
                segment="SE",
                to_file=True,
            )
            self.skipping = None
            return None
        if self.rem is None:
            return None
        self._find(
            "error",
            "x12-missing-se",
            f"the 835 transaction set has no SE before {by}: the file may be truncated; "
            "every claim read so far is kept",
            num,
            line,
            segment="SE",
        )
        return self._finish(num, line)

    def _ge(self, els: list[str], num: int, line: int) -> None:
        e = _pad(els, 3)
        if self.gs is None:
            self._find("error", "x12-missing-gs", "GE without a GS", num, line, segment="GE", to_file=True)
            return
        if e[1] != str(self.gs_sets):
            self._find(
                "error",
                "x12-ge-count",
                f"GE01 says {e[1] or 'nothing'} transaction sets but the group has {self.gs_sets}",
                num,
                line,
                segment="GE",
                element="GE01",
                to_file=True,
            )
        if e[2] != self.gs[6]:
            self._find(
                "error",
                "x12-ge-control",
                "GE02 does not match GS06",
                num,
                line,
                segment="GE",
                element="GE02",
                to_file=True,
            )
        self.gs = None

    def _close_group(self, num: int | None, line: int | None, by: str) -> None:
        if self.gs is not None:
            self._find(
                "error",
                "x12-missing-ge",
                f"functional group has no GE before {by}",
                num,
                line,
                segment="GE",
                to_file=True,
            )
            self.gs = None

    def _iea(self, els: list[str], num: int, line: int) -> None:
        e = _pad(els, 3)
        if self.isa is None:
            self._find("error", "x12-missing-isa", "IEA without an ISA", num, line, segment="IEA", to_file=True)
            return
        if e[1] != str(self.isa_groups):
            self._find(
                "error",
                "x12-iea-count",
                f"IEA01 says {e[1] or 'nothing'} groups but the interchange has {self.isa_groups}",
                num,
                line,
                segment="IEA",
                element="IEA01",
                to_file=True,
            )
        if e[2] != self.isa[13]:
            self._find(
                "error",
                "x12-iea-control",
                "IEA02 does not match ISA13",
                num,
                line,
                segment="IEA",
                element="IEA02",
                to_file=True,
            )
        self.isa = None

    def _close_interchange(self, num: int | None, line: int | None, by: str) -> None:
        if self.isa is not None:
            self._find(
                "error",
                "x12-missing-iea",
                f"interchange has no IEA before {by}",
                num,
                line,
                segment="IEA",
                to_file=True,
            )
            self.isa = None
