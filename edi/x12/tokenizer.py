"""Streaming X12 tokenizer shared by every X12 reader (835, 837, 999, 277CA).

Why a tokenizer of our own: pyx12 tokenizes at ~5 MB/s and chokes on a UTF-8 BOM, short ISA
segments and several interchanges per file. This one reads the file in chunks (memory does not
grow with file size) and re-reads the separators from every ISA it meets.

What it tolerates, each without losing a segment:

- separators from the ISA: element at ISA position 3, component separator = ISA16, segment
  terminator = the character after ISA16 (found by counting 16 element separators, so a short or
  long ISA like the 72-character one seen in the wild works), repetition separator = ISA11 when it
  is not a letter/digit/space (5010);
- a UTF-8 BOM, leading whitespace or indentation, CR / LF / CRLF after terminators or none,
  segments wrapped across lines (line breaks inside a segment are dropped when the terminator is
  not itself a line break), a line break used as the segment terminator;
- several ISA per file, each with its own separators; a missing IEA before the next ISA;
- truncated input: yields every segment it can and reports a finding;
- a segment longer than the limit (``_MAX_SEGMENT`` characters without a terminator): an error
  finding; with ``mark_unreadable`` (the 835 reader asks for it) the segment is skipped to its
  terminator and yielded as one marker ``[UNREADABLE_SEGMENT, its id or ""]`` with its own number
  and line, so a reader knows where something was lost instead of reading the tail as a segment.

Problems become :class:`coding.findings.Finding` values appended to ``findings``; only I/O errors
raise.

>>> segs = list(iter_segments("ISA*00*          *00*          *ZZ*A              *ZZ*B              "
...                           "*200101*1200*^*00501*000000001*0*P*:~GS*HP*A*B*20200101*1200*1*X*005010X221A1~"))
>>> [s.id for s in segs], segs[1].elements[1], segs[1].number
(['ISA', 'GS'], 'HP', 2)
>>> segs[0].get(16), segs[0].get(40, "none")
(':', 'none')
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

from coding.findings import Finding

__all__ = [
    "DEFAULT_SEPARATORS",
    "UNREADABLE_SEGMENT",
    "Segment",
    "Separators",
    "X12Tokenizer",
    "iter_segments",
    "open_source",
]

CHUNK_CHARS = 1 << 16  # 64 Ki characters per read: C-speed splitting, batches that stay in cache
_MAX_ISA_SCAN = 512  # an ISA longer than this is not an ISA
_MAX_GARBAGE = 1 << 16  # text kept while looking for an ISA
_MAX_SEGMENT = 1 << 20  # longest run without a terminator kept in memory
_WS = " \t\r\n\x0b\x0c\ufeff\x00"
#: id of the marker segment ``[UNREADABLE_SEGMENT, segment id or ""]`` that stands for a segment
#: the tokenizer could not read to its end (longer than :data:`_MAX_SEGMENT`); no segment read from
#: a file can have this id (leading control characters are stripped from every segment)
UNREADABLE_SEGMENT = "\x00unreadable"


@dataclass(frozen=True, slots=True)
class Separators:
    """The four delimiters of one interchange."""

    element: str = "*"
    component: str = ":"
    repetition: str | None = "^"
    segment: str = "~"

    @property
    def line_terminated(self) -> bool:
        """True when a line break ends each segment."""
        return self.segment in "\r\n"


DEFAULT_SEPARATORS = Separators()

#: ``scan(text, terminator, element, line, line_terminated)``: segment bounds of a regular run of
#: text, ``(count, line after, last segment id, its line, packed bounds, packed lines)``, or None
#: to leave the text to the Python code (see :meth:`X12Tokenizer.raw_batches`)
Scan = Callable[[str, str, str, int, bool], "tuple[int, int, str | None, int, bytes, bytes] | None"]
#: segments of one batch: element lists, segment texts (raw), or a scanned run ``(text, bounds)``
BatchItems = list[Any] | tuple[str, bytes]


class Segment:
    """One X12 segment: ``elements[0]`` is the segment id, so ``elements[1]`` is XX01."""

    __slots__ = ("elements", "id", "line", "number", "separators")

    def __init__(self, elements: list[str], number: int, line: int, separators: Separators) -> None:
        self.id = elements[0]
        self.elements = elements
        self.number = number  # 1-based ordinal of the segment in the file
        self.line = line  # 1-based line where the segment starts
        self.separators = separators

    def get(self, i: int, default: str = "") -> str:
        """Element i (1-based, like the guide's XX01), or ``default`` when absent or empty."""
        els = self.elements
        if i < len(els) and els[i] != "":
            return els[i]
        return default

    def components(self, i: int) -> list[str]:
        """Element i split on the component separator (``[]`` when absent)."""
        v = self.get(i)
        return v.split(self.separators.component) if v else []

    def repetitions(self, i: int) -> list[str]:
        """Element i split on the repetition separator."""
        v = self.get(i)
        rep = self.separators.repetition
        if not v:
            return []
        return v.split(rep) if rep else [v]

    def text(self) -> str:
        """The segment re-joined with its own separators (without terminator)."""
        return self.separators.element.join(self.elements)

    def __repr__(self) -> str:
        return f"Segment({self.number}:{self.text()!r})"


def _looks_like_x12(text: str) -> bool:
    """A ``str`` argument is X12 content (not a path) when it starts with an ISA/GS/ST segment."""
    t = text.lstrip(_WS)[:4]
    for tag in ("ISA", "GS", "ST"):
        if t.startswith(tag) and len(t) > len(tag):
            ch = t[len(tag)]
            return not ch.isalnum() and ch not in "/\\._- "
    return False


def open_source(source: str | Path | bytes | BinaryIO) -> tuple[BinaryIO, bool]:
    """(binary stream, close_when_done). ``str`` is X12 text when it starts with ISA, else a path."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), True
    if isinstance(source, str) and _looks_like_x12(source):
        return io.BytesIO(source.encode("utf-8")), True
    if isinstance(source, (str, Path)):
        return open(source, "rb"), True
    return source, False


def _skip_nl(buf: str, j: int) -> int:
    n = len(buf)
    while j < n and buf[j] in "\r\n":
        j += 1
    return j


def _detect(buf: str, start: int, final: bool) -> tuple[Separators, int] | str | None:
    """Separators of the ISA at ``buf[start:]``: (separators, index of its terminator).

    Returns None when more text is needed, or "bad" when this is not a usable ISA. Line breaks
    inside the ISA (a wrapped file) are skipped.
    """
    if len(buf) - start < 4:
        return None if not final else "bad"
    elem = buf[start + 3]
    if elem.isalnum() or elem in " \r\n":
        return "bad"
    pos = start + 3
    for _ in range(15):
        pos = buf.find(elem, pos + 1, start + _MAX_ISA_SCAN)
        if pos < 0:
            return "bad" if final or len(buf) - start >= _MAX_ISA_SCAN else None
    # pos is the separator before ISA16; ISA16 is one character, then the terminator
    j = _skip_nl(buf, pos + 1)
    k = j + 1
    if k >= len(buf) or (buf[k] in "\r\n" and _skip_nl(buf, k) >= len(buf)):
        if not final:
            return None
        if k > len(buf):
            return "bad"
    comp = buf[j]
    term = buf[k] if k < len(buf) else "\n"
    if term in "\r\n":
        m = _skip_nl(buf, k)
        nxt = buf[m] if m < len(buf) else "G"
        if nxt.isalnum() or nxt == " ":
            if term == "\r" and buf[k + 1 : k + 2] == "\n":
                term = "\n"  # CRLF as terminator: split on LF, strip the CR
        else:  # a wrapped ISA: the terminator follows the line break
            term, k = nxt, m
    if term.isalnum() or term == " " or term == elem or comp in "\r\n":
        return "bad"
    isa = buf[start:pos].split(elem)
    rep = isa[11] if len(isa) > 11 and len(isa[11]) == 1 else None
    if rep is not None and (rep.isalnum() or rep == " " or rep in (elem, comp, term)):
        rep = None
    return Separators(elem, comp, rep, term), k - start


def _detect_headerless(buf: str) -> Separators | None:
    """Guess separators for a file that starts at GS or ST (no ISA): seen in parser test suites."""
    elem = buf[2]
    if elem.isalnum() or elem in " \r\n":
        return None
    term = None
    for ch in buf[3:200]:
        if not ch.isalnum() and ch != elem and ch != " ":
            term = ch
            break
    if term is None:
        return None
    if term == "\r" and "\r\n" in buf[:200]:
        term = "\n"
    comp = ":"
    for tag in ("SVC", "CLM", "SV1", "SV2", "HI"):
        k = buf.find(term + tag + elem, 0, 1 << 16)
        if k < 0:
            k = buf.find("\n" + tag + elem, 0, 1 << 16)
        if k >= 0:
            val = buf[k + len(tag) + 2 : k + len(tag) + 12]
            cand = val[2:3] if len(val) > 2 else ""
            if cand and not cand.isalnum() and cand not in (elem, term, " "):
                comp = cand
            break
    return Separators(elem, comp, None, term)


class X12Tokenizer:
    """Streams raw segments as ``(elements, number, line)`` and tracks the current separators.

    Readers that care about speed iterate this directly (no per-segment object); others use
    :func:`iter_segments`. ``separators`` always holds those of the interchange being read.
    """

    def __init__(
        self,
        source: str | Path | bytes | BinaryIO,
        findings: list[Finding] | None = None,
        filename: str | None = None,
        chunk_chars: int = CHUNK_CHARS,
        mark_unreadable: bool = False,
    ) -> None:
        self.source = source
        #: a segment too long to read is skipped to its terminator and given to the reader as one
        #: marker segment ``[UNREADABLE_SEGMENT, its id or ""]`` (same number and line as the segment)
        #: so the reader can tell where it was; without it the tail after the limit is read as a segment
        self.mark_unreadable = mark_unreadable
        self.findings = findings if findings is not None else []
        if filename is None and isinstance(source, Path):
            filename = str(source)
        elif filename is None and isinstance(source, str) and not _looks_like_x12(source):
            filename = source
        self.filename = filename
        self.chunk_chars = chunk_chars
        self.separators: Separators | None = None
        self.interchanges = 0
        self.segments = 0
        self.truncated = False

    def _finding(
        self,
        severity: Literal["error", "warning", "info"],
        code: str,
        message: str,
        line: int | None = None,
        segment: str | None = None,
    ) -> None:
        self.findings.append(
            Finding(
                severity,
                code,
                message,
                file=self.filename,
                line=line,
                segment=segment,
            )
        )

    def _unterminated(self, sid: str, line: int) -> None:
        self.truncated = True
        self._finding(
            "warning",
            "x12-unterminated-segment",
            f"the file ends inside a {sid[:3]} segment (no terminator): "
            "the file may be truncated and that segment incomplete",
            segment=sid[:3],
            line=line,
        )

    def _chunks(self) -> Iterator[str]:
        stream, close = open_source(self.source)
        dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            while True:
                raw = stream.read(self.chunk_chars)
                if not raw:
                    tail = dec.decode(b"", final=True)
                    if tail:
                        yield tail
                    return
                text = dec.decode(raw)
                if text:
                    yield text
        finally:
            if close:
                stream.close()

    def __iter__(self) -> Iterator[tuple[list[str], int, int]]:
        for els_list, first, lines in self.batches():
            yield from zip(els_list, range(first, first + len(els_list)), lines)

    def batches(self) -> Iterator[tuple[list[list[str]], int, list[int]]]:
        """Segments in batches: (element lists, number of the first, line of each).

        All segments of one batch share the separators in :attr:`separators` at the time the
        batch is yielded (a batch never spans a change of separators).
        """
        return cast(Iterator[tuple[list[list[str]], int, list[int]]], self._batches(False))

    def raw_batches(self, scan: Scan | None = None) -> Iterator[tuple[BatchItems, int, list[int] | bytes, str]]:
        """As :meth:`batches`, but each segment is its text (not yet split into elements), and each
        batch comes with its element separator: ``(segments, first number, lines, element)``.
        ``segment.split(element)`` is exactly the element list :meth:`batches` gives.

        ``scan`` (the compiled ``edi.x835._accel.scan``) takes the regular runs of text: such a batch is
        ``(text, bounds)`` with ``lines`` packed, for the compiled driver, and holds the same
        segments, numbers and lines the Python code would give."""
        for batch, first, lines in self._batches(True, scan):
            yield batch, first, lines, (self.separators or DEFAULT_SEPARATORS).element

    def _batches(self, raw: bool, scan: Scan | None = None) -> Iterator[tuple[BatchItems, int, list[int] | bytes]]:
        chunks = self._chunks()
        batch: list[Any]
        buf = ""
        final = False
        number = 0
        line = 1  # line number at buf[0]
        seps: Separators | None = None
        skipping: tuple[str, int] | None = None  # (id, line) of a segment too long to read
        need_read = True
        while True:
            if need_read and not final:
                if seps is not None and len(buf) > _MAX_SEGMENT:  # a megabyte without a terminator
                    body = buf.lstrip(_WS)
                    seg_line = line + buf.count("\n", 0, len(buf) - len(body))
                    sid = body[:4].split(seps.element, 1)[0]
                    sid = sid if 2 <= len(sid) <= 3 and sid.isalnum() and seps.element in body[:4] else ""
                    self._finding(
                        "error",
                        "x12-no-terminator",
                        f"no segment terminator {seps.segment!r} in over {_MAX_SEGMENT} characters; "
                        "that text was skipped up to the next terminator",
                        line=seg_line,
                        segment=sid or None,
                    )
                    line += buf.count("\n")
                    buf = ""
                    if self.mark_unreadable:
                        skipping = (sid, seg_line)
                nxt = next(chunks, None)
                if nxt is None:
                    final = True
                else:
                    buf = buf + nxt if buf else nxt
            need_read = True
            if skipping is not None and seps is not None:
                # the rest of a segment too long to read: dropped up to its terminator, then the
                # marker stands for the whole segment (one segment number, the line where it began)
                k = buf.find(seps.segment)
                if k < 0 and not final:
                    line += buf.count("\n")
                    buf = ""
                    continue
                cut = len(buf) if k < 0 else k + 1
                line += buf.count("\n", 0, cut)
                buf = buf[cut:]
                sid, seg_line = skipping
                skipping = None
                marker = [UNREADABLE_SEGMENT, sid]
                yield [seps.element.join(marker) if raw else marker], number + 1, [seg_line]
                number += 1
                need_read = False
                continue
            if seps is None:
                # --- looking for an ISA -------------------------------------------------------
                stripped = buf.lstrip(_WS)
                if len(stripped) != len(buf):
                    line += buf.count("\n", 0, len(buf) - len(stripped))
                    buf = stripped
                if not buf:
                    if final:
                        break
                    continue
                if buf[:2] in ("GS", "ST") and not buf.startswith("ISA"):
                    if not final and len(buf) < 4096:
                        continue  # a little more text to guess the separators from
                    hl = _detect_headerless(buf)
                    if hl is not None:
                        self._finding(
                            "warning",
                            "x12-no-interchange-header",
                            "the file starts without an ISA segment; separators were guessed "
                            f"(element {hl.element!r}, component {hl.component!r}, "
                            f"terminator {hl.segment!r})",
                            line=line,
                        )
                        seps = hl
                        self.separators = seps
                        need_read = False
                        continue
                if not buf.startswith("ISA"):
                    k = buf.find("ISA")
                    if k < 0:
                        if final or len(buf) > _MAX_GARBAGE:
                            self._finding(
                                "error",
                                "x12-not-an-interchange",
                                "text outside any interchange (no ISA segment) was skipped",
                                line=line,
                            )
                            keep = 0 if final else 2
                            line += buf.count("\n", 0, len(buf) - keep)
                            buf = buf[len(buf) - keep :]
                        if final:
                            break
                        continue
                    self._finding("error", "x12-text-before-isa", "text before an ISA segment was skipped", line=line)
                    line += buf.count("\n", 0, k)
                    buf = buf[k:]
                det = _detect(buf, 0, final)
                if det is None:
                    continue
                if isinstance(det, str):  # "bad"
                    self._finding(
                        "error",
                        "x12-bad-isa",
                        "ISA segment is malformed (separators cannot be read); skipped to the next ISA",
                        line=line,
                        segment="ISA",
                    )
                    k = buf.find("ISA", 3)
                    cut = k if k > 0 else len(buf)
                    line += buf.count("\n", 0, cut)
                    buf = buf[cut:]
                    need_read = k < 0
                    if final and k < 0:
                        break
                    continue
                seps, isa_len = det
                self.separators = seps
                self.interchanges += 1
                number += 1
                isa_text = buf[:isa_len]
                if "\n" in isa_text or "\r" in isa_text:
                    isa_text = isa_text.replace("\r", "").replace("\n", "")
                yield [isa_text if raw else isa_text.split(seps.element)], number, [line]
                line += buf.count("\n", 0, isa_len)
                if buf[isa_len : isa_len + 1] == "\n" or buf[isa_len : isa_len + 2] == "\r":
                    line += 1
                rest = buf[isa_len + 1 :]
                stripped = rest.lstrip(_WS)
                line += rest.count("\n", 0, len(rest) - len(stripped))
                buf = stripped
                need_read = False
                continue
            # --- normal mode: split what we have on the terminator --------------------------------
            term = seps.segment
            elem = seps.element
            nl_term = term == "\n" or term == "\r"
            if scan is not None:
                # the compiled scan of the fast path below (same segments, numbers and lines); it
                # declines (None) whatever the slow path must see, which then runs as always
                if final:
                    region, rest = buf, ""
                else:
                    k = buf.rfind(term)
                    if k < 0:
                        continue  # no complete segment yet
                    region, rest = buf[:k], buf[k + 1 :]
                found = scan(region, term, elem, line, nl_term)
                if found is not None:
                    n_segs, line, last_sid, last_line, bounds, seg_lines = found
                    buf = rest
                    if n_segs:
                        if final and not nl_term and last_sid is not None and last_sid != "IEA":
                            self._unterminated(last_sid, last_line)
                        yield (region, bounds), number + 1, seg_lines
                        number += n_segs
                    if final:
                        break
                    continue
            pieces = buf.split(term)
            whole = buf
            buf = "" if final else pieces.pop()
            n_pieces = len(pieces)
            # "~\n" layouts: is every complete piece led by exactly one line break and no other?
            one_per_piece = False
            nl_total = -1
            if not nl_term:
                region = whole[: len(whole) - len(buf)] if buf else whole
                nl_total = region.count("\n")
                if nl_total == n_pieces and nl_total:
                    lead = region[:1] == "\n" or region[:2] == "\r\n"
                    crlf = region.count(term + "\r\n") if "\r" in region else 0
                    one_per_piece = nl_total == lead + region.count(term + "\n") + crlf
                del region
            del whole
            if not n_pieces:
                if final:
                    break
                continue
            strs = [p.strip(_WS) for p in pieces]
            joined = "".join(strs)
            restart = False
            if "ISA" not in joined and "\n" not in joined and "\r" not in joined:
                # fast path: no interchange boundary, no wrapped segment in this chunk
                if nl_term or nl_total == 0:
                    lines = list(range(line, line + n_pieces)) if nl_term else [line] * n_pieces
                    line += n_pieces if nl_term else 0
                elif one_per_piece:
                    # "~\n" layout: each piece starts with exactly one line break (the leftover too)
                    lines = list(range(line + 1, line + 1 + n_pieces))
                    line += n_pieces
                else:
                    lines = list(accumulate([p.count("\n") for p in pieces], initial=line))
                    line = lines[-1]
                    del lines[0]
                if "" in strs:
                    kept = [k for k in range(n_pieces) if strs[k]]
                    strs = [strs[k] for k in kept]
                    lines = [lines[k] for k in kept]
                if not strs:
                    if final:
                        break
                    continue
                batch = strs if raw else [t.split(elem) for t in strs]
                if final and not nl_term and pieces[-1].strip(_WS):
                    sid = strs[-1].split(elem, 1)[0]
                    if sid != "IEA":
                        self._unterminated(sid, lines[-1])
                yield batch, number + 1, lines
                number += len(batch)
                if final:
                    break
                continue
            # slow path: segment by segment (ISA inside, or line breaks inside segments)
            batch = []
            lines = []
            i = 0
            for piece in pieces:
                i += 1
                s = strs[i - 1]
                if not s:
                    line += 1 if nl_term else piece.count("\n")
                    continue
                seg_line = line
                if nl_term:
                    line += 1
                elif "\n" in piece:
                    indent = len(piece) - len(piece.lstrip(_WS))
                    seg_line = line + piece.count("\n", 0, indent)
                    line += piece.count("\n")
                    if "\n" in s or "\r" in s:
                        s = s.replace("\r", "").replace("\n", "")
                els = s.split(elem)
                if s[:3] == "ISA":
                    if batch:  # a batch never spans an interchange boundary
                        yield batch, number + 1, lines
                        number += len(batch)
                        batch, lines = [], []
                    if s[3:4] != elem or len(els) != 17 or len(els[16]) != 1:
                        # other separators in this interchange: re-detect from the raw text
                        rest = term.join(pieces[i - 1 :])
                        if buf or not final:
                            rest = rest + term + buf
                        buf = rest.lstrip(_WS)
                        line = seg_line
                        seps = None
                        self.separators = None
                        restart = True
                        break
                    rep = els[11] if len(els[11]) == 1 and not els[11].isalnum() and els[11] != " " else None
                    if els[16] != seps.component or rep != seps.repetition:
                        seps = Separators(elem, els[16], rep, term)
                        self.separators = seps
                    self.interchanges += 1
                if final and i == n_pieces and not nl_term and els[0] != "IEA":
                    self._unterminated(els[0], seg_line)
                batch.append(s if raw else els)
                lines.append(seg_line)
            if batch:
                yield batch, number + 1, lines
                number += len(batch)
            if restart:
                need_read = False
                continue
            if final:
                break
        self.segments = number


def iter_segments(
    source: str | Path | bytes | BinaryIO, findings: list[Finding] | None = None, filename: str | None = None
) -> Iterator[Segment]:
    """Stream the segments of an X12 file (path, bytes, text starting with ISA, or binary stream).

    Findings (no ISA, malformed ISA, unterminated last segment) go to ``findings`` when given.
    """
    tok = X12Tokenizer(source, findings, filename)
    for batch, first, lines in tok.batches():
        seps = tok.separators or DEFAULT_SEPARATORS
        for k, els in enumerate(batch):
            yield Segment(els, first + k, lines[k], seps)
