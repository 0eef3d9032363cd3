"""Parsers of CMS's code-set files, one module per layout; pure: text lines in, row tuples and
findings (with file and line number) out.

- :mod:`~reconcile.codesets.formats.hcpcs`: HCPCS Level II alpha-numeric file (fixed width).
- :mod:`~reconcile.codesets.formats.asp`: ASP pricing file (CSV with preamble).
- :mod:`~reconcile.codesets.formats.asp_ndc`: ASP NDC-HCPCS crosswalk.
- :mod:`~reconcile.codesets.formats.ptp`: NCCI PTP edits (practitioner and hospital).
- :mod:`~reconcile.codesets.formats.mue`: NCCI MUE tables (practitioner and facility).
- :mod:`~reconcile.codesets.formats.pfs_rvu`, :mod:`~reconcile.codesets.formats.gpci`,
  :mod:`~reconcile.codesets.formats.opps_b`: fee schedules (PFS relative values, GPCIs, OPPS Addendum B).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from reconcile.codesets.formats import asp, asp_ndc, gpci, hcpcs, mue, opps_b, pfs_rvu, ptp
from reconcile.codesets.formats.common import ParseContext, split_lines

__all__ = ["PARSERS", "ParseContext", "parse_text"]

Parser = Callable[[Iterable[str], ParseContext], Iterator[tuple[Any, ...]]]

#: Parser of each kind (PTP and MUE settings share a layout).
PARSERS: dict[str, Parser] = {
    "hcpcs": hcpcs.parse,
    "asp": asp.parse,
    "asp-ndc": asp_ndc.parse,
    "ptp-practitioner": ptp.parse,
    "ptp-hospital": ptp.parse,
    "mue-practitioner": mue.parse,
    "mue-facility": mue.parse,
    "pfs-rvu": pfs_rvu.parse,
    "gpci": gpci.parse,
    "opps-b": opps_b.parse,
}


def parse_text(kind: str, text: str, file: str = "<text>") -> tuple[list[tuple[Any, ...]], ParseContext]:
    """Parse a whole file given as text: ``(rows, context)`` (tests and small files)."""
    ctx = ParseContext(file=file, kind=kind)
    rows = list(PARSERS[kind](split_lines(text), ctx))
    ctx.close()
    return rows, ctx
