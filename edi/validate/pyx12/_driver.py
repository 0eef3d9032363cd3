"""Our pyx12 driver: the segment loop of ``x12n_document`` with cached maps, no 997/999/HTML
output (so its 999-on-835 crash cannot happen), its logger captured, GC paused, findings out."""

from __future__ import annotations

import gc
import io
import logging
from dataclasses import replace
from typing import Any

import pyx12.error_handler
import pyx12.errors
import pyx12.map_if
import pyx12.map_index
import pyx12.params
import pyx12.x12file
from pyx12.map_if._segment import apply_segment_errors
from pyx12.map_walker import apply_walk_errors, walk_tree

from coding.findings import Finding
from edi.validate.findings import CANNOT_VALIDATE
from edi.validate.findings import finding as _finding
from edi.validate.findings import log_finding as _log_finding
from edi.validate.findings import tree_findings as _tree_findings
from edi.validate.pyx12._speed import _accelerated, _FastCounter
from edi.x12.tokenizer import iter_segments

_MAPS: dict[str, Any] = {}
_PARAMS: pyx12.params.ParamsBase | None = None
_INDEX: Any = None
_ERRH_FUNCS = {"isa_error", "gs_error", "st_error", "seg_error", "ele_error"}


class NoMapError(pyx12.errors.EngineError):
    """pyx12 has no map for the version/functional id of a GS: the file cannot be validated."""


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


_ENVELOPE_LOOPS = {"ISA_LOOP", "GS_LOOP", "ST_LOOP", "HEADER", "DETAIL", "FOOTER"}
_PATHS: dict[int, str] = {}


def loop_path(loop_node: Any) -> str:
    """Guide loop path of a map loop inside its transaction, e.g. ``2000A/2000B/2300/2400``
    (``HEADER`` etc. only when the segment sits in no numbered loop)."""
    key = id(loop_node)  # map nodes live as long as the cached map
    path = _PATHS.get(key)
    if path is None:
        parts = [p for p in loop_node.get_path().split("/") if p]
        named = [p for p in parts if p not in _ENVELOPE_LOOPS]
        path = _PATHS[key] = "/".join(named) if named else (parts[-1] if parts else "")
    return path


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
                node, seg, src.get_seg_count(), src.get_cur_line(), src.get_ls_id()
            )
            apply_walk_errors(errh, walk_errors)
        if node is None:  # segment not found: report it in the loop where the search started
            node = orig_node
            parent = getattr(orig_node, "parent", None)
            if parent is not None and parent.id:
                loops[src.get_cur_line()] = loop_path(parent)
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
                raise NoMapError(f"pyx12 has no map for version {vriic}, functional id {fic}")
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
                loops[src.get_cur_line()] = loop_path(parent)
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
        except NoMapError as exc:  # not invalid: this version cannot be checked at all
            out.append(
                _finding(
                    CANNOT_VALIDATE.removeprefix("x12-"),
                    f"cannot validate: {exc}",
                    file,
                    src.get_cur_line(),
                    "GS",
                    severity="warning",
                )
            )
        except pyx12.errors.EngineError as exc:
            out.append(_finding("engine", f"pyx12 cannot validate this file: {exc}", file, src.get_cur_line()))
        except Exception as exc:  # pyx12 bug on odd input: contained, reported, never raised
            out.append(
                _finding("crash", f"pyx12 failed ({type(exc).__name__}) at this segment", file, src.get_cur_line() + 1)
            )
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
