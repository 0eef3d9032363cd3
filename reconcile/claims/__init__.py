"""Claims out: ``claims build``, corrections (frequency 7/8) and acknowledgments applied to claims.

- :mod:`reconcile.claims.build`: encounters in, validated and recorded 837 files out.
- :mod:`reconcile.claims.correct`: a replacement or void rebuilt from the stored encounter.
- :mod:`reconcile.claims.acks`: TA1, 999/997 and 277CA applied to the ledger.
"""

from reconcile.claims.build import (
    build_claims,
)

__all__ = ["build_claims"]
