"""CMS code sets in the ledger: load the quarterly files, answer dated look-ups.

- :mod:`reconcile.codesets.formats`: one pure parser per layout (HCPCS, ASP, ASP NDC crosswalk,
  NCCI PTP, MUE), text in, rows and findings out.
- :mod:`reconcile.codesets.store`: :func:`load_path` (file or zip, member chosen by content,
  sha256 de-duplication, streamed bulk insert) and :func:`list_sets`.
- :mod:`reconcile.codesets.lookup`: :class:`LedgerCodeSets`, the :class:`coding.codesets.CodeSets`
  the coder and the scrubber ask by date of service.
"""

from reconcile.codesets.formats.detect import KINDS
from reconcile.codesets.lookup import LedgerCodeSets, open_codesets
from reconcile.codesets.sources import UnreadableInput
from reconcile.codesets.store import (
    LoadResult,
    SetInfo,
    incomplete_sets,
    list_sets,
    load_path,
    quarter_start,
    stale_kinds,
)

__all__ = [
    "KINDS",
    "LedgerCodeSets",
    "LoadResult",
    "SetInfo",
    "UnreadableInput",
    "incomplete_sets",
    "list_sets",
    "load_path",
    "open_codesets",
    "quarter_start",
    "stale_kinds",
]
