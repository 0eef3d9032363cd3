"""Validation of 837P/837I/835 files: pyx12 (the only place that imports it) plus our own checks.

- :mod:`edi.validate.pyx12`: the pyx12 adapter (cached maps, parallel pieces, findings).
- :mod:`edi.validate.findings`: pyx12 errors turned into findings.
- :mod:`edi.validate.files`: ``validate_any``, what ``dripline validate`` runs.
"""

from edi.validate.files import (
    detect_transaction,
    validate_any,
)

__all__ = ["detect_transaction", "validate_any"]
