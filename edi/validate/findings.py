"""pyx12's error tree and log lines turned into :class:`Finding` values (no pyx12 import here).

Positions: ``line`` is pyx12's segment counter (line N = the N-th segment of the file; the
adapter then moves it to ``segment_number`` and puts the physical line in ``line``), ``loop`` the
guide loop path of the segment (``2000A/2000B/2300``), ``element`` like ``CLM05-03``; ``code`` is
``x12-`` + pyx12's error code. Messages never carry element values: pyx12 appends the bad value,
which may be patient data, so it is removed.
"""

from __future__ import annotations

import re
from typing import Any

from coding.findings import Finding, Severity

CANNOT_VALIDATE = "x12-cannot-validate"  # pyx12 has no map for the file's version: not checked, not invalid

_VALUE_INLINE = re.compile(r"with a value of \([^()]*\)\s*")
_VALUE_LEAD = re.compile(r"^\([^()]*\)\s*")


def scrub(message: str, value: Any = None) -> str:
    """Drop the element value pyx12 puts in its messages (it may be patient data)."""
    text = _VALUE_INLINE.sub("", message)
    if value not in (None, ""):
        text = text.replace(f"({value})", "").replace(str(value), "...")
    text = _VALUE_LEAD.sub("value ", " ".join(text.split()))
    return "value " + text if text.startswith("is ") else text


def finding(
    code: str,
    message: str,
    file: str | None,
    line: int | None,
    segment: str | None = None,
    loop: str | None = None,
    element: str | None = None,
    value: Any = None,
    severity: Severity = "error",
) -> Finding:
    return Finding(
        severity,
        f"x12-{code.lower()}" if code else "x12-error",
        scrub(message, value),
        file=file,
        segment=segment,
        loop=loop,
        element=element,
        line=line,
    )


_LOG_LINE = re.compile(r"Line:(\d+) (?:(ISA|GS|ST|SEG|ELE):)?(\w*) - (.*)$")


def log_finding(message: str, file: str | None) -> Finding:
    """A finding from a pyx12 log line (``... Line:N SEG:code - text``) that missed the tree."""
    m = _LOG_LINE.search(message)
    if m is None:
        return finding("log", message, file, None)
    return finding(
        m.group(3) or "log",
        m.group(4),
        file,
        int(m.group(1)),
        m.group(2) if m.group(2) in ("ISA", "GS", "ST") else None,
    )


def element_name(seg_id: str, ele: Any) -> str:
    pos = f"{seg_id}{int(ele.ele_pos):02d}" if ele.ele_pos is not None else seg_id
    return pos + (f"-{int(ele.subele_pos):02d}" if ele.subele_pos else "")


def tree_findings(errh: Any, file: str | None, loops: dict[int, str]) -> list[Finding]:
    """Every error in pyx12's error tree, in file order."""
    out: list[Finding] = []

    def envelope(node: Any, seg_id: str) -> None:
        line = node.get_cur_line()
        for cde, msg in node.errors:
            out.append(finding(cde, msg, file, line, seg_id))
        for ele in node.elements:
            for cde, msg, val in ele.errors:
                out.append(finding(cde, msg, file, line, seg_id, element=element_name(seg_id, ele), value=val))

    for isa in errh.children:
        envelope(isa, "ISA")
        for gs in isa.children:
            envelope(gs, "GS")
            for st in gs.children:
                envelope(st, "ST")
                for seg in st.children:
                    line = seg.get_cur_line()
                    loop = loops.get(line)
                    for cde, msg, val in seg.errors:
                        out.append(finding(cde, msg, file, line, seg.seg_id, loop, value=val))
                    for ele in seg.elements:
                        for cde, msg, val in ele.errors:
                            out.append(
                                finding(cde, msg, file, line, seg.seg_id, loop, element_name(seg.seg_id, ele), val)
                            )
    return out
