"""835 posting: the reader adapter, matching, batched writes, queries and results.

- :mod:`reconcile.posting.post`: ``post_files`` (one transaction per file) and the unmatched queue.
- :mod:`reconcile.posting.remit`: the 835 reader's claims as posting records.
- :mod:`reconcile.posting.records`: those records.
- :mod:`reconcile.posting.matching`: remittance claims and lines matched to what was sent.
- :mod:`reconcile.posting.queries`: posted totals per claim, claim summaries (claims joined with
  those totals) and the unmatched queue.
- :mod:`reconcile.posting.writer`, :mod:`reconcile.posting.result`.
"""

from reconcile.posting.post import (
    post_files,
    post_remittances,
)
from reconcile.posting.queries import claim_summaries, posting_totals, unmatched_queue

__all__ = ["claim_summaries", "post_files", "post_remittances", "posting_totals", "unmatched_queue"]
