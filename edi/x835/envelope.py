"""Envelope handling of the 835 reader (ISA/GS/ST/SE/GE/IEA), the end of a transaction set
(transaction balancing) and the end of the file, on the reader's :class:`~edi.x835.state.ReaderState`.

:func:`envelope` takes every segment that :data:`edi.x835.segments.SEGMENT_HANDLERS` does not
(envelope segments, anything outside an 835 set, unknown ids). Missing trailers, wrong counts
(SE01, GE01, IEA01) and mismatched control numbers become findings; an open transaction set is
closed and returned with every claim read so far.
"""

from __future__ import annotations

from edi.x12.tokenizer import DEFAULT_SEPARATORS, UNREADABLE_SEGMENT
from edi.x835.model import Remittance
from edi.x835.segments import end_claim, pad
from edi.x835.state import ReaderState

__all__ = ["envelope", "eof", "finish"]


def envelope(st: ReaderState, els: list[str], num: int, line: int) -> Remittance | None:
    """An envelope segment, or one outside the handlers of a set: the set it finishes, if any."""
    sid = els[0]
    if sid == "SE":
        if st.rem is not None:
            return se(st, els, num, line)
        if st.skipping is not None:
            st.skipping = None
            return None
        stray(st, els, num, line)
        return None
    if sid == "ST":
        done = close_set(st, num, line, "ST")
        start(st, els, num, line)
        return done
    if sid == "ISA":
        done = close_set(st, num, line, "ISA")
        close_group(st, num, line, "ISA")
        close_interchange(st, num, line, "ISA")
        st.isa, st.isa_groups, st.isa_number = pad(els, 17), 0, num
        seps = st.tok.separators or DEFAULT_SEPARATORS
        st.comp, st.elem = seps.component, seps.element
        return done
    if sid == "GS":
        done = close_set(st, num, line, "GS")
        close_group(st, num, line, "GS")
        st.gs, st.gs_sets, st.gs_number = pad(els, 9), 0, num
        st.isa_groups += 1
        if st.gs[1] and st.gs[1] != "HP":
            st.find(
                "info",
                "x12-not-remittance-group",
                f"functional group GS01 {st.gs[1]!r} is not HP (remittance)",
                num,
                line,
                segment="GS",
                element="GS01",
                to_file=True,
            )
        elif not st.gs[8].startswith("005010X221"):
            st.find(
                "warning",
                "x835-version",
                f"GS08 version {st.gs[8]!r} is not 005010X221A1; read with the 5010 layout",
                num,
                line,
                segment="GS",
                element="GS08",
                to_file=True,
            )
        return done
    if sid == "GE":
        done = close_set(st, num, line, "GE")
        ge(st, els, num, line)
        return done
    if sid == "IEA":
        done = close_set(st, num, line, "IEA")
        close_group(st, num, line, "IEA")
        iea(st, els, num, line)
        return done
    if sid == "TA1":
        return None
    if st.skipping is not None:
        return None
    if sid == UNREADABLE_SEGMENT:  # outside a set (inside one it is a handler's)
        lost = els[1] if len(els) > 1 else ""
        st.find(
            "error",
            "x835-unreadable-segment",
            f"{'segment ' + lost if lost else 'a segment'} outside any 835 set could not be read (longer than the"
            " reader's limit) and was skipped",
            num,
            line,
            segment=lost or None,
            to_file=True,
        )
        return None
    if st.rem is not None:
        st.unknown(els, num, line)
        return None
    stray(st, els, num, line)
    return None


def stray(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """A segment outside any ST/SE set: ignored, with a warning about the file."""
    sid = els[0][:3]
    st.find(
        "warning",
        "x12-segment-outside-transaction",
        f"segment {sid} outside any ST/SE transaction set was ignored",
        num,
        line,
        segment=sid,
        to_file=True,
    )


def eof(st: ReaderState) -> Remittance | None:
    """The end of the file closes what is open: the set (returned), the group, the interchange."""
    done = close_set(st, None, None, "end of file")
    close_group(st, None, None, "end of file")
    close_interchange(st, None, None, "end of file")
    return done


# ------------------------------------------------------------------ envelope


def start(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """ST: opens an 835 set (a Remittance) or starts skipping another transaction set."""
    st.gs_sets += 1
    st.st_number = num
    st01 = els[1] if len(els) > 1 else ""
    if st01 != "835":
        st.skipping = st01
        st.find(
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
    st.skipping = None
    isa, gs = st.isa or [""] * 17, st.gs or [""] * 9
    seps = st.tok.separators or DEFAULT_SEPARATORS
    st.comp, st.elem = seps.component, seps.element
    st.rem = Remittance(
        file=st.file,
        interchange_control=isa[13],
        sender=isa[6].strip(),
        receiver=isa[8].strip(),
        group_control=gs[6],
        version=gs[8],
        control_number=els[2] if len(els) > 2 else "",
        start_segment=num,
    )
    st.loop = "HEADER"
    st.claim = st.svc = None
    st.lx = ""
    st.bpr_pos = (None, None)


def se(st: ReaderState, els: list[str], num: int, line: int) -> Remittance:
    """SE: checks SE01 (segment count) and SE02, and finishes the open set."""
    rem = st.rem
    assert rem is not None
    counted = num - st.st_number + 1
    e = pad(els, 3)
    if e[1] != str(counted):
        st.find(
            "error",
            "x12-se-count",
            f"SE01 says {e[1] or 'nothing'} segments but the transaction set has {counted}",
            num,
            line,
            segment="SE",
            element="SE01",
        )
    if e[2] != rem.control_number:
        st.find("error", "x12-se-control", "SE02 does not match ST02", num, line, segment="SE", element="SE02")
    rem.segment_count = counted
    rem.complete = True
    return finish(st, num, line)


def close_set(st: ReaderState, num: int | None, line: int | None, by: str) -> Remittance | None:
    """A set still open when ``by`` (a header or the end of the file) comes: finished, with a finding."""
    if st.skipping is not None:
        st.find(
            "error",
            "x12-missing-se",
            f"transaction set {st.skipping[:6]!r} has no SE before {by}",
            num,
            line,
            segment="SE",
            to_file=True,
        )
        st.skipping = None
        return None
    if st.rem is None:
        return None
    st.find(
        "error",
        "x12-missing-se",
        f"the 835 transaction set has no SE before {by}: the file may be truncated; every claim read so far is kept",
        num,
        line,
        segment="SE",
    )
    return finish(st, num, line)


def ge(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """GE: checks GE01 (set count) and GE02 against the open GS."""
    e = pad(els, 3)
    if st.gs is None:
        st.find("error", "x12-missing-gs", "GE without a GS", num, line, segment="GE", to_file=True)
        return
    if e[1] != str(st.gs_sets):
        st.find(
            "error",
            "x12-ge-count",
            f"GE01 says {e[1] or 'nothing'} transaction sets but the group has {st.gs_sets}",
            num,
            line,
            segment="GE",
            element="GE01",
            to_file=True,
        )
    if e[2] != st.gs[6]:
        st.find(
            "error",
            "x12-ge-control",
            "GE02 does not match GS06",
            num,
            line,
            segment="GE",
            element="GE02",
            to_file=True,
        )
    st.gs = None


def close_group(st: ReaderState, num: int | None, line: int | None, by: str) -> None:
    """A functional group still open when ``by`` comes: closed, with a finding."""
    if st.gs is not None:
        st.find(
            "error",
            "x12-missing-ge",
            f"functional group has no GE before {by}",
            num,
            line,
            segment="GE",
            to_file=True,
        )
        st.gs = None


def iea(st: ReaderState, els: list[str], num: int, line: int) -> None:
    """IEA: checks IEA01 (group count) and IEA02 against the open ISA."""
    e = pad(els, 3)
    if st.isa is None:
        st.find("error", "x12-missing-isa", "IEA without an ISA", num, line, segment="IEA", to_file=True)
        return
    if e[1] != str(st.isa_groups):
        st.find(
            "error",
            "x12-iea-count",
            f"IEA01 says {e[1] or 'nothing'} groups but the interchange has {st.isa_groups}",
            num,
            line,
            segment="IEA",
            element="IEA01",
            to_file=True,
        )
    if e[2] != st.isa[13]:
        st.find(
            "error",
            "x12-iea-control",
            "IEA02 does not match ISA13",
            num,
            line,
            segment="IEA",
            element="IEA02",
            to_file=True,
        )
    st.isa = None


def close_interchange(st: ReaderState, num: int | None, line: int | None, by: str) -> None:
    """An interchange still open when ``by`` comes: closed, with a finding."""
    if st.isa is not None:
        st.find(
            "error",
            "x12-missing-iea",
            f"interchange has no IEA before {by}",
            num,
            line,
            segment="IEA",
            to_file=True,
        )
        st.isa = None


def finish(st: ReaderState, num: int | None, line: int | None) -> Remittance:
    """Close the open set: its last claim, then BPR02 = sum of CLP04 - sum of PLB amounts."""
    end_claim(st)
    rem = st.rem
    assert rem is not None
    bpr = rem.payment.amount
    if st.bpr_pos[0] is None:
        st.find(
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
            st.find(
                "error",
                "transaction-out-of-balance",
                f"BPR02 {bpr} differs from claim payments {rem.total_paid} - provider "
                f"adjustments {rem.plb_total} = {expect} (difference {bpr - expect})",
                st.bpr_pos[0],
                st.bpr_pos[1],
                segment="BPR",
                loop="HEADER",
                element="BPR02",
            )
    if not rem.complete and rem.segment_count == 0 and num is not None:
        rem.segment_count = num - st.st_number
    st.rem = None
    st.loop = ""
    st.remittances += 1
    return rem
