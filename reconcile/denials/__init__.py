"""Denials: CARC/RARC categories and rework actions, the worklist and its HTML report.

- :mod:`reconcile.denials.worklist`: categorizing and the worklist (JSON/CSV).
- :mod:`reconcile.denials.report`: the self-contained HTML page with its chart.
"""

from reconcile.denials.worklist import (
    ACTIONS,
    CATEGORIES,
    categorize,
    denial_worklist,
    is_denial,
    worklist_csv,
)

__all__ = ["ACTIONS", "CATEGORIES", "categorize", "denial_worklist", "is_denial", "worklist_csv"]
