"""The one module that imports pyx12 (pinned 4.0.0): X12 validation as :class:`Finding` values.

Why our own driver instead of ``pyx12.x12n_document.x12n_document``:

- maps are loaded once per process (:func:`load_map`), not on every call (0.2-0.4 s each);
- no 997/999/HTML/XML output is produced, so its crash when writing a 999 for an 835 cannot
  happen, and no time is spent on it;
- its logger is captured for the run: messages that never reach the error tree (a file that
  does not look like X12, a map that does not exist) become findings instead of being lost;
- every error of the tree becomes a finding with segment id, loop, line (pyx12 counts
  segments: line N is the N-th segment of the file), element position and pyx12's error code.

Messages never carry element values (pyx12 appends the bad value; we drop it: it could be
patient data).
"""
from __future__ import annotations

import gc
import io
import logging
import multiprocessing
import re
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import pyx12.error_handler
import pyx12.errors
import pyx12.map_if
import pyx12.map_index
import pyx12.params
import pyx12.path
import pyx12.segment
import pyx12.validation
import pyx12.x12file
from pyx12.map_if._segment import apply_segment_errors
from pyx12.map_walker import apply_walk_errors, walk_tree
from pyx12.nodeCounter import NodeCounter

from coding.findings import Finding
from edi.pyx12_findings import finding as _finding, log_finding as _log_finding, tree_findings as _tree_findings
from edi.tokenizer import iter_segments
from edi.x12split import envelope_ok, make_pieces, split_segments

_MAPS: dict[str, Any] = {}
_PARAMS: pyx12.params.ParamsBase | None = None
_INDEX: Any = None
_ERRH_FUNCS = {"isa_error", "gs_error", "st_error", "seg_error", "ele_error"}


def params() -> pyx12.params.ParamsBase:
    """pyx12 run-time parameters (one instance per process)."""
    global _PARAMS
    if _PARAMS is None:
        _PARAMS = pyx12.params.params()
    return _PARAMS


def load_map(map_file: str) -> Any:
    """A pyx12 map, parsed once per process and then reused (pyx12 itself reloads every call)."""
    m = _MAPS.get(map_file)
    if m is None:
        m = _MAPS[map_file] = pyx12.map_if.load_map_file(map_file, params(), None)
    return m


def map_file_for(icvn: str | None, vriic: str | None, fic: str | None) -> str | None:
    """Map file name pyx12 uses for a GS version/functional id, or None when it has none."""
    global _INDEX
    if _INDEX is None:
        _INDEX = pyx12.map_index.map_index(None)
    return _INDEX.get_filename(icvn, vriic, fic)


def preload(*versions: str) -> None:
    """Load the maps of these GS08 versions now (worker initializer, before forking)."""
    for v in versions:
        fic = "HP" if v.startswith("005010X221") else "HC"
        name = map_file_for("00501", v, fic)
        if name:
            load_map(name)
    load_map("x12.control.00501.xml")


def _path_key(xpath: Any) -> str:
    """The string a pyx12 X12Path hashes by (memoized on the path objects of the cached maps)."""
    if isinstance(xpath, str):
        key = _STR_KEYS.get(xpath)
        if key is None:
            key = _STR_KEYS[xpath] = pyx12.path.X12Path(xpath).format()
        return key
    key = getattr(xpath, "_dripline_key", None)
    if key is None:
        key = xpath.format()
        xpath._dripline_key = key
    return key


_STR_KEYS: dict[str, str] = {}


class _FastCounter(NodeCounter):
    """pyx12's loop/segment counter with the same semantics, keyed by path strings.

    pyx12 re-formats every counted path on every loop reset (a third of its run time); this
    keeps the formatted keys instead. Same deletions, same counts.
    """

    def __init__(self) -> None:
        super().__init__()
        self._s: dict[str, int] = {}

    def reset_to_node(self, xpath: Any) -> None:
        key = _path_key(xpath)
        if key and not key.endswith("/"):  # same test as pyx12's part-by-part prefix comparison
            prefix = key + "/"
            doomed = [k for k in self._s if k.startswith(prefix)]
        else:
            root = key.split("/")
            n = len(root)
            doomed = [k for k in self._s if (parts := k.split("/")) and len(parts) > n and parts[:n] == root]
        for k in doomed:
            del self._s[k]

    def increment(self, xpath: Any) -> None:
        k = _path_key(xpath)
        self._s[k] = self._s.get(k, 0) + 1

    def setCount(self, xpath: Any, ct: int) -> None:
        self._s[_path_key(xpath)] = ct

    def get_count(self, xpath: Any) -> int:
        return self._s.get(_path_key(xpath), 0)


_REFDES: dict[tuple[str | None, str], tuple[int | None, int | None]] = {}
_ORIG = {
    "refdes": pyx12.segment.Segment._parse_refdes,
    "child": pyx12.map_if.segment_if.get_child_node_by_idx,
    "len": pyx12.map_if.loop_if.__len__,
    "ctrl": pyx12.validation.contains_control_character,
    "element": pyx12.map_if.element_if.is_valid_errors,
}
_MEMO_MAX = 4096  # valid values remembered per map element (names and ids stop being cached)
_CTRL = re.compile("[\x01-\x07\x09-\x0d\x11-\x17\x1c-\x1f]")


def _cached_parse_refdes(self: Any, ref_des: str) -> tuple[int | None, int | None]:
    """Segment._parse_refdes memoized by (segment id, designator): a pure function of both."""
    key = (self.seg_id, ref_des)
    hit = _REFDES.get(key)
    if hit is None:
        hit = _REFDES[key] = _ORIG["refdes"](self, ref_des)
    return hit


def _cached_child(self: Any, idx: int) -> Any:
    """segment_if.get_child_node_by_idx memoized per map node (maps never change once loaded)."""
    memo = self.__dict__.setdefault("_dripline_children", {})
    if idx not in memo:
        memo[idx] = _ORIG["child"](self, idx)  # raises exactly as pyx12 does
    return memo[idx]


def _cached_len(self: Any) -> int:
    """loop_if.__len__ memoized per map node."""
    n = self.__dict__.get("_dripline_len")
    if n is None:
        n = self.__dict__["_dripline_len"] = _ORIG["len"](self)
    return n


def _fast_control(str_val: str, charset: str = "B", icvn: str = "00401") -> tuple[bool, str | None]:
    """pyx12's control-character check, skipped when the value has none of those characters."""
    if _CTRL.search(str_val) is None:
        return (False, None)
    return _ORIG["ctrl"](str_val, charset, icvn)


def _cached_element_valid(self: Any, elem: Any, type_list: list[str | None] | None = None) -> tuple[bool, list]:
    """element_if.is_valid_errors (documented pure) skipped for a value this element already accepted."""
    if elem is None or elem.is_composite():
        return _ORIG["element"](self, elem, type_list)
    key = (elem.get_value(), tuple(type_list) if type_list else ())
    memo = self.__dict__.setdefault("_dripline_valid", set())
    if key in memo:
        return True, []
    ok, errors = _ORIG["element"](self, elem, type_list)
    if ok and not errors and key[0] and len(memo) < _MEMO_MAX:
        memo.add(key)
    return ok, errors


@contextmanager
def _accelerated() -> Iterator[None]:
    """Swap in result-identical memoized versions of pyx12 hot spots for one run, then restore.

    Outside our runs (e.g. :func:`plain_pyx12_pass`) pyx12 is untouched.
    """
    seg_cls, loop_cls = pyx12.map_if.segment_if, pyx12.map_if.loop_if
    pyx12.segment.Segment._parse_refdes = _cached_parse_refdes  # type: ignore[method-assign]
    seg_cls.get_child_node_by_idx = _cached_child  # type: ignore[method-assign]
    loop_cls.__len__ = _cached_len  # type: ignore[method-assign]
    pyx12.validation.contains_control_character = _fast_control
    pyx12.map_if.element_if.is_valid_errors = _cached_element_valid  # type: ignore[method-assign]
    try:
        yield
    finally:
        pyx12.segment.Segment._parse_refdes = _ORIG["refdes"]  # type: ignore[method-assign]
        seg_cls.get_child_node_by_idx = _ORIG["child"]  # type: ignore[method-assign]
        loop_cls.__len__ = _ORIG["len"]  # type: ignore[method-assign]
        pyx12.validation.contains_control_character = _ORIG["ctrl"]
        pyx12.map_if.element_if.is_valid_errors = _ORIG["element"]  # type: ignore[method-assign]


class _Capture(logging.Handler):
    """Collects pyx12 log records of level WARNING and above during one run."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _walk(src: Any, errh: Any, loops: dict[int, str]) -> None:
    """The segment loop of pyx12's x12n_document, without 997/HTML/XML output."""
    control_map = load_map("x12.control.00501.xml" if src.icvn == "00501" else "x12.control.00401.xml")
    node = control_map.getnodebypath("/ISA_LOOP/ISA")
    walker = walk_tree()
    walker.counter = _FastCounter()
    icvn = fic = vriic = None
    cur_map: Any = None
    map_file = None
    for seg in src:
        orig_node = node
        sid = seg.get_seg_id()
        if sid == "ISA":
            node = control_map.getnodebypath("/ISA_LOOP/ISA")
            walker.forceWalkCounterToLoopStart("/ISA_LOOP", "/ISA_LOOP/ISA")
        elif sid == "GS":
            node = control_map.getnodebypath("/ISA_LOOP/GS_LOOP/GS")
            walker.forceWalkCounterToLoopStart("/ISA_LOOP/GS_LOOP", "/ISA_LOOP/GS_LOOP/GS")
        else:
            node, _pop, _push, walk_errors = walker.walk_errors(
                node, seg, src.get_seg_count(), src.get_cur_line(), src.get_ls_id())
            apply_walk_errors(errh, walk_errors)
        if node is None:  # segment not found: report it in the loop where the search started
            node = orig_node
            parent = getattr(orig_node, "parent", None)
            if parent is not None and parent.id:
                loops[src.get_cur_line()] = parent.id
            continue
        if sid == "ISA":
            errh.add_isa_loop(seg, src)
            icvn = seg.get_value("ISA12")
            errh.handle_errors(src.pop_errors())
        elif sid == "IEA":
            errh.handle_errors(src.pop_errors())
            errh.close_isa_loop(node, seg, src)
        elif sid == "GS":
            fic, vriic = seg.get_value("GS01"), seg.get_value("GS08")
            new = map_file_for(icvn, vriic, fic)
            if new is None:
                raise pyx12.errors.EngineError(f"no pyx12 map for version {vriic}, functional id {fic}")
            if new != map_file:
                map_file, cur_map = new, load_map(new)
                src.check_837_lx = cur_map.id == "837"
            node = cur_map.getnodebypath("/ISA_LOOP/GS_LOOP/GS")
            errh.add_gs_loop(seg, src)
            errh.handle_errors(src.pop_errors())
        elif sid == "GE":
            errh.handle_errors(src.pop_errors())
            errh.close_gs_loop(node, seg, src)
        elif sid == "ST":
            errh.add_st_loop(seg, src)
            errh.handle_errors(src.pop_errors())
        elif sid == "SE":
            errh.handle_errors(src.pop_errors())
            errh.close_st_loop(node, seg, src)
        else:
            errh.add_seg(node, seg, src.get_seg_count(), src.get_cur_line(), src.get_ls_id())
            errh.handle_errors(src.pop_errors())
            parent = node.parent
            if parent is not None and parent.id:
                loops[src.get_cur_line()] = parent.id
        apply_segment_errors(node, seg, errh)
    src.cleanup()
    errh.handle_errors(src.pop_errors())


def validate_text(text: str, file: str | None = None) -> list[Finding]:
    """Validate X12 text with pyx12; every problem is a finding (never raises for bad data).

    ``segment_number`` is pyx12's position (the N-th segment of the file) and ``line`` the
    physical line where that segment starts.
    """
    return positions(_validate_raw(text, file), text)


def positions(findings: list[Finding], text: str) -> list[Finding]:
    """Move pyx12's segment counter to ``segment_number`` and put the physical line in ``line``."""
    if not any(f.line for f in findings):
        return findings
    starts = [seg.line for seg in iter_segments(text.encode("ascii", "replace"), [])]
    out = []
    for f in findings:
        if f.line:
            n = f.line
            f = replace(f, segment_number=n, line=starts[n - 1] if 0 < n <= len(starts) else None)
        out.append(f)
    return out


def _validate_raw(text: str, file: str | None = None) -> list[Finding]:
    """pyx12 findings with ``line`` = pyx12's segment counter (see :func:`validate_text`)."""
    logger = logging.getLogger("pyx12")
    cap = _Capture()
    logger.addHandler(cap)
    old_propagate, logger.propagate = logger.propagate, False
    errh = pyx12.error_handler.err_handler()
    loops: dict[int, str] = {}
    out: list[Finding] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()  # pyx12 + its big maps make every full collection slow: validation went superlinear
    try:
        try:
            src = pyx12.x12file.X12Reader(io.StringIO(text))
        except pyx12.errors.X12Error as exc:
            return [_finding("not-x12", f"not an X12 interchange pyx12 can read: {exc}".split(":")[0], file, 1, "ISA")]
        try:
            with _accelerated():
                _walk(src, errh, loops)
        except pyx12.errors.EngineError as exc:
            out.append(_finding("engine", f"pyx12 cannot validate this file: {exc}", file, src.get_cur_line()))
        except Exception as exc:  # pyx12 bug on odd input: contained, reported, never raised
            out.append(_finding("crash", f"pyx12 failed ({type(exc).__name__}) at this segment", file,
                                src.get_cur_line() + 1))
        out = _tree_findings(errh, file, loops) + out
        for rec in cap.records:  # errors pyx12 only logged (never attached to its error tree)
            msg = rec.getMessage()
            if rec.levelno >= logging.ERROR and (rec.funcName not in _ERRH_FUNCS or "No current segment" in msg):
                out.append(_log_finding(msg, file))
        return out
    finally:
        if gc_was_enabled:
            gc.enable()
        logger.removeHandler(cap)
        logger.propagate = old_propagate


def plain_pyx12_pass(path: str | Path) -> bool:
    """pyx12's own entry point, unchanged (map loaded per call, no 997): the benchmark baseline."""
    import pyx12.x12n_document

    logger = logging.getLogger("pyx12")
    cap = _Capture()
    logger.addHandler(cap)
    old_propagate, logger.propagate = logger.propagate, False
    try:
        return bool(pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), None, None))
    finally:
        logger.removeHandler(cap)
        logger.propagate = old_propagate


def _piece_findings(args: tuple[str, list[int], str | None]) -> list[Finding]:
    """Worker: validate one piece and map its segment numbers back to the original file."""
    text, lines, file = args
    out = []
    for f in _validate_raw(text, file):
        if f.line is not None and 0 < f.line <= len(lines):
            f = replace(f, line=lines[f.line - 1])
        out.append(f)
    return out


def _read_ascii(p: Path) -> tuple[str | None, list[Finding]]:
    data = p.read_bytes()
    try:
        return data.decode("ascii"), []
    except UnicodeDecodeError as exc:
        what = ("starts with a UTF-8 byte order mark" if data.startswith(b"\xef\xbb\xbf")
                else f"contains a non-ASCII byte at offset {exc.start}")
        return None, [Finding("error", "x12-encoding", f"file {what}; X12 data must be ASCII", file=str(p))]


def validate_path(path: str | Path) -> list[Finding]:
    """Validate one file as pyx12 reads it (ASCII); undecodable bytes become a finding."""
    return validate_file(path, 1)


def validate_file(path: str | Path, jobs: int = 1) -> list[Finding]:
    """pyx12 findings for one file; ``jobs`` > 1 validates pieces in parallel processes.

    The parallel path (see :mod:`edi.x12split`) is taken only for a well-formed envelope; each
    worker loads the maps once (inherited from this process when forked), findings come back
    with line numbers of the original file and duplicates from repeated headers are merged.
    """
    p = Path(path)
    text, problems = _read_ascii(p)
    if text is None:
        return problems
    file = str(p)
    if jobs <= 1:
        return validate_text(text, file)
    split = split_segments(text)
    if split is None or not envelope_ok(split[0], split[1]):
        return validate_text(text, file)
    segs, elem, term = split
    pieces = make_pieces(segs, elem, term, max(200, len(segs) // (jobs * 4)))
    if len(pieces) < 2:
        return validate_text(text, file)
    preload(*{s.split(elem)[8] for s in segs if s.startswith("GS" + elem) and s.count(elem) >= 8})
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(min(jobs, len(pieces))) as pool:
        results = pool.map(_piece_findings, [(pc.text(term), pc.lines, file) for pc in pieces], chunksize=1)
    seen: set[tuple] = set()
    merged: list[Finding] = []
    for f in (f for r in results for f in r):
        key = (f.line, f.code, f.segment, f.element, f.message)
        if key not in seen:
            seen.add(key)
            merged.append(f)
    return positions(sorted(merged, key=lambda f: f.line or 0), text)


def plain_pyx12_errors(path: str | Path) -> list[tuple[str, int]]:
    """(error code, segment number) of every error in pyx12's own JSON error output.

    The reference for equivalence tests: our driver (cached maps, memoized hot spots, no GC,
    split pieces) must report the same errors at the same segments.
    """
    import json

    import pyx12.x12n_document

    fd = io.StringIO()
    logger = logging.getLogger("pyx12")
    cap = _Capture()
    logger.addHandler(cap)
    old_propagate, logger.propagate = logger.propagate, False
    try:
        pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), None, None, fd_json=fd)
    finally:
        logger.removeHandler(cap)
        logger.propagate = old_propagate
    doc = json.loads(fd.getvalue() or '{"interchanges": []}')
    out: list[tuple[str, int]] = []

    def errs(node: dict, line: int) -> None:
        out.extend((e["err_cde"].lower(), line) for e in node.get("errors", []))

    for isa in doc["interchanges"]:
        errs(isa, isa["cur_line"])
        for gs in isa["groups"]:
            errs(gs, gs["cur_line"])
            for st in gs["transactions"]:
                errs(st, st["cur_line"])
                for seg in st["segments"]:
                    errs(seg, seg["cur_line"])
                    for ele in seg["elements"]:
                        errs(ele, seg["cur_line"])
    return sorted(out)
