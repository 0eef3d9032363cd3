"""837P (005010X222A1) and 837I (005010X223A2): batching plan, writer, reader and our own edits.

- :mod:`edi.x837.model`: the plan types and the public API (``plan_interchanges``, ``write_interchange``).
- :mod:`edi.x837.plan`: coded encounters to interchanges, transaction sets and claim parts.
- :mod:`edi.x837.write`: a plan serialized loop by loop (1000A ... 2400/2410).
- :mod:`edi.x837.read`: 837 files read back into claims.
- :mod:`edi.x837.edits`: the checks pyx12 does not make (balancing, NPI, NDC, JW/JZ, REF*F8 ...).
"""

from edi.x837.model import (
    ClaimPlan,
    EnvelopeNumbers,
    InterchangePlan,
    TransactionPlan,
    plan_interchanges,
    write_interchange,
)

__all__ = [
    "ClaimPlan",
    "EnvelopeNumbers",
    "InterchangePlan",
    "TransactionPlan",
    "plan_interchanges",
    "write_interchange",
]
