"""Split a well-formed X12 file into independently valid pieces for parallel validation.

pyx12 validates at well under 1 MB/s and on one core. A batch is split into pieces, each a
complete interchange (the original ISA and GS, one ST set or part of one, and trailers with
the right counts), validated in worker processes, and each finding's line (pyx12 counts
segments) is mapped back to the original file through the piece's segment map.

A large ST set is cut between 2000B subscriber blocks (HL level 22) of an 837: each piece
repeats the ST header (BHT, 1000A, 1000B) and its 2000A billing provider block, and its HL
numbers are renumbered 1..n (parents mapped). Everything that crosses pieces -- SE/GE/IEA
counts and control numbers, HL numbering and parents, unique control numbers -- is checked
once on the whole file by :func:`envelope_ok`; when anything there is off (or the file is
not plain ASCII with a 106-character ISA), the caller validates the whole file in one pass
instead, so the parallel result is the same as pyx12's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Piece:
    """One interchange to validate and the original segment number of each of its segments."""

    segments: list[str]
    lines: list[int]

    def text(self, term: str) -> str:
        return (term + "\n").join(self.segments) + term + "\n"


def split_segments(text: str) -> tuple[list[str], str, str] | None:
    """The file's segments (without terminators) and its element separator / terminator."""
    if len(text) < 106 or not text.startswith("ISA"):
        return None
    elem, term = text[3], text[105]
    if term in "\r\n" or elem.isalnum():
        return None
    segs = [s.strip("\r\n") for s in text.split(term)]
    if segs and not segs[-1].strip():
        segs.pop()
    if any(not s or s[0] in " \t" for s in segs):
        return None
    return segs, elem, term


def envelope_ok(segs: list[str], elem: str) -> bool:
    """Counts, control numbers and HL structure are consistent across the whole file."""
    isa13 = gs06 = st02 = ""
    n_gs = n_st = n_seg = hl_count = 0
    hl_stack: list[int] = []
    seen_isa: set[str] = set()
    seen_gs: set[str] = set()
    seen_st: set[str] = set()
    state = "out"
    for s in segs:
        e = s.split(elem)
        sid = e[0]
        if sid == "ISA":
            if state != "out" or len(e) != 17 or e[13] in seen_isa:
                return False
            isa13, n_gs, state = e[13], 0, "isa"
            seen_isa.add(isa13)
            seen_gs = set()
        elif sid == "GS":
            if state != "isa" or len(e) < 9 or e[6] in seen_gs:
                return False
            gs06, n_st, state = e[6], 0, "gs"
            seen_gs.add(gs06)
            seen_st = set()
            n_gs += 1
        elif sid == "ST":
            if state != "gs" or len(e) < 3 or e[2] in seen_st:
                return False
            st02, n_seg, hl_count, hl_stack, state = e[2], 1, 0, [], "st"
            seen_st.add(st02)
            n_st += 1
        elif sid == "SE":
            if state != "st" or len(e) < 3 or e[2] != st02 or e[1] != str(n_seg + 1):
                return False
            state = "gs"
        elif sid == "GE":
            if state != "gs" or len(e) < 3 or e[1] != str(n_st) or e[2] != gs06:
                return False
            state = "isa"
        elif sid == "IEA":
            if state != "isa" or len(e) < 3 or e[1] != str(n_gs) or e[2] != isa13:
                return False
            state = "out"
        elif state != "st":
            return False
        else:
            n_seg += 1
            if sid == "HL":
                hl_count += 1
                if len(e) < 4 or e[1] != str(hl_count):
                    return False
                if e[2]:
                    if not e[2].isdigit() or int(e[2]) not in hl_stack:
                        return False
                    while hl_stack and hl_stack[-1] != int(e[2]):
                        hl_stack.pop()
                hl_stack.append(hl_count)
    return state == "out"


def _renumber(seg: str, elem: str, ids: dict[str, str]) -> str:
    e = seg.split(elem)
    new = str(len(ids) + 1)
    ids[e[1]] = new
    e[1] = new
    if e[2]:
        e[2] = ids[e[2]]
    return elem.join(e)


def _st_blocks(
    body: list[int], segs: list[str], elem: str
) -> tuple[list[int], list[tuple[list[int], list[list[int]]]]]:
    """Header segment numbers and, per 2000A block, its own segments and its 2000B blocks."""
    header: list[int] = []
    providers: list[tuple[list[int], list[list[int]]]] = []
    for i in body:
        s = segs[i]
        level = s.split(elem, 4)[3] if s.startswith("HL" + elem) and s.count(elem) >= 3 else None
        if level == "20":
            providers.append(([i], []))
        elif level == "22" and providers:
            providers[-1][1].append([i])
        elif providers and providers[-1][1]:
            providers[-1][1][-1].append(i)
        elif providers:
            providers[-1][0].append(i)
        else:
            header.append(i)
    return header, providers


def make_pieces(segs: list[str], elem: str, term: str, target: int) -> list[Piece]:
    """Pieces of about ``target`` segments each (an ST set is cut only between 2000B blocks)."""
    pieces: list[Piece] = []
    isa = gs = st = -1
    body: list[int] = []
    for i, s in enumerate(segs):
        sid = s.split(elem, 1)[0]
        if sid == "ISA":
            isa = i
        elif sid == "GS":
            gs = i
        elif sid == "ST":
            st, body = i, []
        elif sid == "SE":
            pieces += _st_pieces(segs, elem, term, isa, gs, st, body, i, target)
        elif sid not in ("GE", "IEA"):
            body.append(i)
    return [_close(p, segs, elem) for p in pieces]


def _st_pieces(
    segs: list[str], elem: str, term: str, isa: int, gs: int, st: int, body: list[int], se: int, target: int
) -> list[Piece]:
    header, providers = _st_blocks(body, segs, elem)
    groups: list[tuple[list[int], list[list[int]]]] = []
    for own, subs in providers:
        chunk: list[list[int]] = []
        size = 0
        for block in subs:
            chunk.append(block)
            size += len(block)
            if size >= target:
                groups.append((own, chunk))
                chunk, size = [], 0
        if chunk or not subs:
            groups.append((own, chunk))
    if not providers:
        groups = [([], [])]
        header = body
    out = []
    for own, chunk in groups:
        idx = [st, *header, *own, *(i for b in chunk for i in b)]
        ids: dict[str, str] = {}
        texts = [segs[isa], segs[gs]]
        for i in idx:
            s = segs[i]
            texts.append(_renumber(s, elem, ids) if s.startswith("HL" + elem) else s)
        st02 = segs[st].split(elem)[2]
        texts.append(f"SE{elem}{len(idx) + 1}{elem}{st02}")
        out.append(Piece(texts, [isa + 1, gs + 1, *(i + 1 for i in idx), se + 1]))
    return out


def _close(p: Piece, segs: list[str], elem: str) -> Piece:
    """Append GE/IEA trailers with counts for a single ST (mapped to the original trailers)."""
    isa13 = segs[p.lines[0] - 1].split(elem)[13]
    gs06 = segs[p.lines[1] - 1].split(elem)[6]
    ge = _next_index(segs, elem, p.lines[-1], "GE")
    iea = _next_index(segs, elem, ge, "IEA")
    return Piece([*p.segments, f"GE{elem}1{elem}{gs06}", f"IEA{elem}1{elem}{isa13}"], [*p.lines, ge + 1, iea + 1])


def _next_index(segs: list[str], elem: str, start: int, sid: str) -> int:
    for i in range(start, len(segs)):
        if segs[i].split(elem, 1)[0] == sid:
            return i
    return len(segs) - 1
