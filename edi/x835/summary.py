"""Fast per-remittance summary of 835 files (``dripline remit show --summary``).

Why a second path: the summary is what a biller checks before posting, often on very large
files, and it needs only counts, sums and the balancing verdicts, not the typed model. This
scanner walks the segments once without building any per-claim object, applying the same
balancing rules as :mod:`edi.x835.reader` (claim, service line, transaction).

Where the reader's compiled driver is built (edi/x835/_accel.c), reading with the full reader and
keeping only totals is faster than this scanner, and :func:`summarize_files` does that by default;
the scanner serves pure-Python installations.

It only handles the regular case. The moment a file does anything irregular (other separators
in a later interchange, a line-break terminator, wrapped segments, an unknown or misplaced
segment, an unreadable amount, a missing or miscounted SE/GE/IEA, a non-835 set, an unterminated
last segment...), it gives up on that file and the full reader summarizes it instead, so the
result is always exactly what :func:`edi.x835.report.summarize` gives over :func:`edi.x835.reader.read_835`
(a test holds the two against each other).
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from coding.findings import Finding
from edi.x12.tokenizer import _WS, _detect
from edi.x835.report import RemitSummary, iso_date

# the full reader (edi.x835.reader) is imported only when a file needs it: a regular file is summarized
# without loading the typed model (start-up counts for `dripline remit show --summary`)
_BIG = Decimal("1e15")  # as edi.x835.model._amt

CHUNK = 1 << 18


class _Irregular(Exception):
    """This file needs the full reader."""


# loops in which the full reader accepts each segment (anything else: irregular here)
_ALLOWED = {
    "DTM": frozenset({"HEADER", "2100", "2110"}),
    "REF": frozenset({"HEADER", "1000A", "1000B", "2100", "2110"}),
    "AMT": frozenset({"2100", "2110"}),
    "QTY": frozenset({"2100", "2110"}),
    "NM1": frozenset({"2100"}),
    "MIA": frozenset({"2100"}),
    "MOA": frozenset({"2100"}),
    "LQ": frozenset({"2110"}),
    "N3": frozenset({"1000A", "1000B"}),
    "N4": frozenset({"1000A", "1000B"}),
    "PER": frozenset({"1000A", "1000B", "2100"}),
    "RDM": frozenset({"1000B"}),
    "TS3": frozenset({"2000"}),
    "TS2": frozenset({"2000"}),
    "CUR": frozenset({"HEADER"}),
    "TRN": frozenset({"HEADER"}),
}


def _dec(s: str) -> Decimal:
    """The reader's amount rule (same as :func:`edi.x835.reader._amt`); what it refuses is irregular here."""
    try:
        d = Decimal(s)
        if -_BIG < d < _BIG:
            return d
    except (InvalidOperation, ValueError, TypeError):  # also NaN comparisons
        pass
    raise _Irregular


def _separators(path: Path):
    """Separators of the ISA that starts the file (irregular when it does not start with one)."""
    with open(path, "rb") as fh:
        dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
        buf = dec.decode(fh.read(CHUNK)).lstrip(_WS)
        final = False
        while True:
            det = _detect(buf, 0, final) if buf.startswith("ISA") else "bad"
            if det is not None:
                break
            more = fh.read(CHUNK)
            final = not more
            buf += dec.decode(more, final=final)
    if det == "bad":
        raise _Irregular
    seps, _ = det  # type: ignore[misc]
    if seps.segment in "\r\n":
        raise _Irregular
    return seps


@dataclass
class _Part:
    """What one scanned byte range found (for joining the two halves of a parallel scan)."""

    summaries: list[RemitSummary]
    isa13: str | None = None
    gs06: str | None = None
    gs_sets: int = 0
    ge: tuple[str, str, int] | None = None  # mid part: (GE01, GE02, sets counted before GE)
    iea: tuple[str, str] | None = None  # mid part: (IEA01, IEA02)


def _scan(
    path: Path,
    seps=None,
    start: int = 0,
    end: int | None = None,
    mid: bool = False,
) -> _Part:
    """Scan bytes [start, end) of the file. ``mid``: the range starts at an ST inside the file's
    one open interchange/group, whose GE/IEA checks are left to the caller."""
    fname = str(path)
    D = Decimal
    ZERO = D(0)
    BIG = _BIG
    if seps is None:
        seps = _separators(path)
    elem, comp, term = seps.element, seps.component, seps.segment
    with open(path, "rb") as fh:
        fh.seek(start)
        left = None if end is None else end - start
        dec = codecs.getincrementaldecoder("utf-8")(errors="replace")

        def read() -> bytes:
            nonlocal left
            if left is None:
                return fh.read(CHUNK)
            data = fh.read(min(CHUNK, left)) if left > 0 else b""
            left -= len(data)
            return data

        first = read()
        final = not first
        buf = dec.decode(first, final=final)
        if not mid:
            buf = buf.lstrip(_WS)  # BOM, leading blank lines
        skip_keys = {k + ("" if len(k) == 3 else elem): _ALLOWED[k] for k in _ALLOWED}
        fast_keys = {k + elem: _ALLOWED[k] for k in ("DTM", "REF", "NM1", "MIA", "MOA", "PER")}
        key_len = 3
        out: list[RemitSummary] = []
        part = _Part(out)
        num = 0
        in_isa = in_gs = mid
        in_st = False
        isa13 = gs06 = st02 = ""
        isa_groups = 1 if mid else 0
        gs_sets = st_num = 0
        loop = ""
        # per remittance
        payer = trace = pay_date = ""
        pay_amount = ZERO
        payer_set = payee_set = bpr_seen = False
        claims = lines = bal = 0
        total_paid = plb_total = ZERO
        # per claim / line
        in_claim = in_line = False
        c_charge = c_paid = c_adj = c_ladj = ZERO
        l_charge = l_paid = l_adj = ZERO
        k_isa, k_gs, k_ge, k_st, k_se = "ISA", "GS" + elem, "GE" + elem, "ST" + elem, "SE" + elem
        k_lx, k_n1, k_lq = "LX" + elem, "N1" + elem, "LQ" + elem
        k_cas, k_svc, k_amt, k_qty = "CAS" + elem, "SVC" + elem, "AMT" + elem, "QTY" + elem
        while True:
            pieces = buf.split(term)
            if final:
                buf = ""
                tail = pieces[-1].strip(_WS)
                if tail and not tail.startswith("IEA" + elem):
                    raise _Irregular  # unterminated last segment
            else:
                buf = pieces.pop()
            strs = [p.strip() for p in pieces]  # BOM/NUL would make the id unknown: irregular, never wrong
            if "" in strs:
                strs = [x for x in strs if x]
            joined = "".join(strs)
            if "\n" in joined or "\r" in joined:
                raise _Irregular  # a segment wrapped across lines
            del joined
            for num, s in enumerate(strs, num + 1):  # noqa: B020 (num: the last one after the loop)
                k4 = s[:4]
                allowed = fast_keys.get(k4)
                if allowed is not None:  # DTM, REF, NM1, MIA, MOA, PER kept as they are
                    if loop not in allowed:
                        raise _Irregular
                    continue
                if k4 == k_amt or k4 == k_qty:  # the reader's amount rule, plain digits without a Decimal
                    if not (loop == "2110" or loop == "2100"):
                        raise _Irregular
                    e = s.split(elem)
                    a = e[2] if len(e) > 2 else ""
                    if len(a) > 15 or not (a.isascii() and a.replace(".", "", 1).isdigit()):
                        _dec(a)
                    continue
                if k4 == k_cas:
                    if not (loop == "2110" or loop == "2100"):
                        raise _Irregular
                    e = s.split(elem)
                    n = len(e)
                    if n > 20:
                        raise _Irregular
                    if (n == 4 or n == 5) and e[2]:  # one triplet, the usual shape
                        try:
                            total = D(e[3])
                            if not -BIG < total < BIG:
                                raise _Irregular
                        except (InvalidOperation, ValueError):
                            raise _Irregular from None
                    else:
                        total = ZERO
                        for j in range(2, n, 3):
                            a = e[j + 1] if j + 1 < n else ""
                            if not a and not e[j] and not (e[j + 2] if j + 2 < n else ""):
                                continue
                            try:
                                d = D(a)
                                if not -BIG < d < BIG:
                                    raise _Irregular
                            except (InvalidOperation, ValueError):
                                raise _Irregular from None
                            total += d
                    if loop == "2110":
                        l_adj += total
                    else:
                        c_adj += total
                    continue
                if k4 == k_svc:
                    if not (loop == "2100" or loop == "2110"):
                        raise _Irregular
                    if in_line:
                        if l_charge - l_adj != l_paid:
                            bal += 1
                        c_ladj += l_adj
                    e = s.split(elem)
                    if len(e) < 4:
                        raise _Irregular
                    try:
                        l_charge, l_paid, l_adj = D(e[2]), D(e[3]), ZERO
                        if not (-BIG < l_charge < BIG and -BIG < l_paid < BIG):
                            raise _Irregular
                    except (InvalidOperation, ValueError):
                        raise _Irregular from None
                    in_line = True
                    lines += 1
                    loop = "2110"
                    continue
                k = s[:key_len]
                if len(s) > 3 and s[3] != elem and s[2] != elem:
                    raise _Irregular  # a longer, unknown segment id
                allowed = skip_keys.get(k)
                if allowed is not None:
                    if loop not in allowed:
                        raise _Irregular
                    if k == "AMT" or k == "QTY":
                        e = s.split(elem)
                        a = e[2] if len(e) > 2 else ""
                        if len(a) > 15 or not (a.isascii() and a.replace(".", "", 1).isdigit()):
                            _dec(a)  # plain digits with one point are valid and small: no Decimal
                    elif k == "TRN":
                        e = s.split(elem)
                        trace = e[2] if len(e) > 2 else ""
                    continue
                if k == "CLP" or k == "PLB" or k == k_lx or k == k_se:
                    if in_claim:  # end of the claim: line, then claim balance
                        if in_line:
                            if l_charge - l_adj != l_paid:
                                bal += 1
                            c_ladj += l_adj
                        if c_charge - c_adj - c_ladj != c_paid:
                            bal += 1
                        in_claim = in_line = False
                    if not in_st:
                        raise _Irregular
                    if k == "CLP":
                        if loop == "FOOTER":
                            raise _Irregular
                        e = s.split(elem)
                        if len(e) < 5 or not e[1] or not e[2]:
                            raise _Irregular
                        try:
                            c_charge, c_paid = D(e[3]), D(e[4])
                            if not (-BIG < c_charge < BIG and -BIG < c_paid < BIG):
                                raise _Irregular
                        except (InvalidOperation, ValueError):
                            raise _Irregular from None
                        if len(e) > 5:
                            a = e[5]
                            if a and (len(a) > 15 or not (a.isascii() and a.replace(".", "", 1).isdigit())):
                                _dec(a)
                        c_adj = c_ladj = ZERO
                        in_claim = True
                        claims += 1
                        total_paid += c_paid
                        loop = "2100"
                    elif k == "PLB":
                        e = s.split(elem)
                        n = len(e)
                        if n > 15:
                            raise _Irregular
                        for j in range(3, n, 2):
                            a = e[j + 1] if j + 1 < n else ""
                            if not e[j] and not a:
                                continue
                            plb_total += _dec(a)
                        loop = "FOOTER"
                    elif k == k_lx:
                        if loop == "FOOTER":
                            raise _Irregular
                        loop = "2000"
                    else:  # SE
                        e = s.split(elem)
                        if len(e) < 3 or e[1] != str(num - st_num + 1) or e[2] != st02 or not bpr_seen:
                            raise _Irregular
                        if total_paid - plb_total != pay_amount:
                            bal += 1
                        out.append(
                            RemitSummary(
                                fname,
                                payer,
                                trace,
                                pay_amount,
                                iso_date(pay_date),
                                claims,
                                lines,
                                total_paid,
                                plb_total,
                                bal,
                                bal,
                            )
                        )
                        in_st = False
                        loop = ""
                    continue
                if k == k_n1:
                    e = s.split(elem)
                    q = e[1] if len(e) > 1 else ""
                    if q == "PR" and loop in ("HEADER", "1000A", "1000B") and not payer_set:
                        payer, payer_set, loop = (e[2] if len(e) > 2 else ""), True, "1000A"
                    elif q == "PE" and loop in ("HEADER", "1000A", "1000B") and not payee_set:
                        payee_set, loop = True, "1000B"
                    else:
                        raise _Irregular
                    continue
                if k == "BPR":
                    if loop != "HEADER":
                        raise _Irregular
                    e = s.split(elem)
                    pay_amount = _dec(e[2] if len(e) > 2 else "")
                    bpr_seen = True
                    pay_date = e[16] if len(e) > 16 else ""
                    continue
                if k == k_st:
                    if in_st or not in_gs:
                        raise _Irregular
                    e = s.split(elem)
                    if len(e) < 3 or e[1] != "835":
                        raise _Irregular
                    in_st, st_num, st02, loop = True, num, e[2], "HEADER"
                    gs_sets += 1
                    payer = trace = pay_date = ""
                    pay_amount = ZERO
                    payer_set = payee_set = bpr_seen = False
                    claims = lines = bal = 0
                    total_paid = plb_total = ZERO
                    continue
                if k == k_gs:
                    e = s.split(elem)
                    if (
                        in_st
                        or in_gs
                        or not in_isa
                        or len(e) < 9
                        or e[1] != "HP"
                        or not e[8].startswith("005010X221")
                        or mid
                        or (end is not None and isa_groups)
                    ):
                        raise _Irregular
                    in_gs, gs06, gs_sets = True, e[6], 0
                    isa_groups += 1
                    continue
                if k == k_ge:
                    e = s.split(elem)
                    if in_st or not in_gs or len(e) < 3 or (end is not None and not mid):
                        raise _Irregular
                    if mid:
                        if part.ge is not None:
                            raise _Irregular
                        part.ge = (e[1], e[2], gs_sets)
                    elif e[1] != str(gs_sets) or e[2] != gs06:
                        raise _Irregular
                    in_gs = False
                    continue
                if k == "IEA":
                    e = s.split(elem)
                    if in_st or in_gs or not in_isa or len(e) < 3 or (end is not None and not mid):
                        raise _Irregular
                    if mid:
                        part.iea = (e[1], e[2])
                    elif e[1] != str(isa_groups) or e[2] != isa13:
                        raise _Irregular
                    in_isa = False
                    continue
                if k == k_isa:
                    e = s.split(elem)
                    if in_isa or len(e) != 17 or e[16] != comp or s[3] != elem or mid or (end is not None and isa13):
                        raise _Irregular
                    in_isa, isa13, isa_groups = True, e[13], 0
                    continue
                if k == "TA1":
                    continue
                raise _Irregular  # anything else: unknown or misplaced
            if final:
                break
            more = read()
            if not more:
                final = True
                buf += dec.decode(b"", final=True)
            else:
                buf += dec.decode(more)
    if in_st:
        raise _Irregular
    if end is None and (in_gs or in_isa):
        raise _Irregular
    if mid and (part.ge is None or part.iea is None):
        raise _Irregular
    part.isa13, part.gs06, part.gs_sets = isa13, gs06, gs_sets
    return part


PARALLEL_MIN_BYTES = 2 << 20  # below this, a second process costs more than it saves


def _find_split(path: Path, seps, near: int) -> int | None:
    """Byte offset of an ``ST*835*`` segment start at or after ``near`` (None when none close by)."""
    e = seps.element.encode()
    t = seps.segment.encode()
    pat = b"ST" + e + b"835" + e
    with open(path, "rb") as fh:
        fh.seek(near)
        window = fh.read(4 << 20)
    k = window.find(pat)
    while k > 0:
        j = k - 1
        while j >= 0 and window[j : j + 1] in (b"\n", b"\r", b" ", b"\t"):
            j -= 1
        if j >= 0 and window[j : j + 1] == t:
            return near + k
        k = window.find(pat, k + 1)
    return None


def _start_child_scan(path: Path, seps, split: int) -> tuple[int, int] | None:
    """Fork a child that scans from ``split`` to the end and writes the pickled result to a pipe:
    (pid, read end), or None when this platform cannot fork. A forked child costs a few
    milliseconds, a process pool tens (that decides whether a 4 MB file gains from two cores)."""
    if not hasattr(os, "fork"):
        return None
    import pickle

    r, w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return None
    if pid == 0:  # child: never returns
        code = 0
        try:
            os.close(r)
            try:
                res: tuple = ("ok", _scan(path, seps, split, None, True))
            except _Irregular:
                res = ("irregular", None)
            except BaseException:  # the parent scans this half itself and meets the same error
                res = ("error", None)
            with os.fdopen(w, "wb") as fh:
                fh.write(pickle.dumps(res, protocol=pickle.HIGHEST_PROTOCOL))
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    return pid, r


def _child_result(path: Path, seps, split: int, child: tuple[int, int]) -> _Part:
    import pickle

    pid, r = child
    with os.fdopen(r, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    try:
        kind, part = pickle.loads(data)
    except Exception:  # the child died before writing: do its half here
        kind, part = "error", None
    if kind == "irregular":
        raise _Irregular
    if kind != "ok":
        return _scan(path, seps, split, None, True)
    return part


def _scan_parallel(path: Path) -> list[RemitSummary]:
    """Scan the two halves of a large one-interchange file in two processes and join them."""
    seps = _separators(path)
    split = _find_split(path, seps, path.stat().st_size // 2)
    if split is None:
        return _scan(path, seps).summaries
    child = _start_child_scan(path, seps, split)
    if child is None:
        return _scan(path, seps).summaries
    try:
        p1 = _scan(path, seps, 0, split, False)
    finally:
        p2 = _child_result(path, seps, split, child)  # always reaped, even when p1 gives up
    if p2.ge is None or p2.iea is None or p1.isa13 is None:
        raise _Irregular
    if p2.ge[0] != str(p1.gs_sets + p2.ge[2]) or p2.ge[1] != p1.gs06 or p2.iea != ("1", p1.isa13):
        raise _Irregular  # the full reader reports what is wrong
    return p1.summaries + p2.summaries


def _compiled_reader_available() -> bool:
    from edi.x835 import reader as x835

    return bool(x835._Reader.accelerated)


def summarize_files(
    paths: Iterable[str | Path], jobs: int | None = None, engine: str = "auto"
) -> tuple[list[RemitSummary], list[Finding]]:
    """One summary per remittance of every file, plus file-level findings.

    ``engine``: ``"reader"`` summarizes what the full reader reads (``keep_claims=False``: only
    totals are kept); ``"scan"`` runs this module's scanner, which falls back to the reader for
    an irregular file (``jobs``, default 2 on a 2-core machine: a file of ``PARALLEL_MIN_BYTES`` or
    more is scanned in two halves, the second in a forked child); ``"auto"`` is ``"reader"`` when
    the reader's compiled driver is built (it is then faster than this scanner on one core) and
    ``"scan"`` otherwise. The summaries are the same whichever runs (tests hold them equal)."""
    if engine == "auto":
        engine = "reader" if _compiled_reader_available() else "scan"
    if engine not in ("reader", "scan"):
        raise ValueError(f"unknown summary engine {engine!r}")
    if jobs is None:
        jobs = min(2, os.cpu_count() or 1)
    rows: list[RemitSummary] = []
    file_findings: list[Finding] = []
    for p in paths:
        path = Path(p)
        try:
            if engine == "reader":
                raise _Irregular
            if jobs > 1 and path.stat().st_size >= PARALLEL_MIN_BYTES:
                try:
                    rows.extend(_scan_parallel(path))
                    continue
                except _Irregular:
                    pass
            rows.extend(_scan(path).summaries)
        except _Irregular:
            from edi.x835.reader import read_835
            from edi.x835.report import summarize

            rows.extend(summarize(r) for r in read_835(p, str(p), file_findings, keep_claims=False))
    return rows, file_findings
