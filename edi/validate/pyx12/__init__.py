"""The one place that imports pyx12 (pinned 4.0.0): X12 validation as :class:`Finding` values.

Modules: ``_driver`` (maps, the segment loop, findings), ``_speed`` (result-identical
memoized hot spots), ``_parallel`` (files, ``jobs`` worker processes), ``_baseline`` (pyx12's
own entry point, for benchmarks and equivalence tests).

Why our own driver instead of ``pyx12.x12n_document.x12n_document``:

- maps are loaded once per process (:func:`load_map`), not on every call (0.2-0.4 s each);
- no 997/999/HTML/XML output is produced, so its crash when writing a 999 for an 835 cannot
  happen, and no time is spent on it;
- its logger is captured for the run: messages that never reach the error tree (a file that
  does not look like X12, a map that does not exist) become findings instead of being lost;
- every error of the tree becomes a finding with segment id, loop, ``segment_number`` (pyx12
  counts segments: N is the N-th segment of the file), ``line`` (the physical line where that
  segment starts), element position and pyx12's error code (``x12-<code>``).

Messages never carry element values (pyx12 appends the bad value; we drop it: it could be
patient data).
"""

from __future__ import annotations

from edi.validate.pyx12._baseline import plain_pyx12_errors, plain_pyx12_pass
from edi.validate.pyx12._driver import load_map, map_file_for, params, positions, preload, validate_text
from edi.validate.pyx12._parallel import validate_file, validate_path

__all__ = [
    "load_map",
    "map_file_for",
    "params",
    "plain_pyx12_errors",
    "plain_pyx12_pass",
    "positions",
    "preload",
    "validate_file",
    "validate_path",
    "validate_text",
]
