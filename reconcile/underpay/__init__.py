"""Underpayments: lines the payer allowed less than their expected allowed amount.

:mod:`reconcile.underpay.worklist` compares, for every posted line with an expected allowed
amount (stored at build by :mod:`reconcile.pricing`), the payer's allowed amount with the
expected one, applies the payer's tolerance, and names the likely cause. Denied lines are the
denial worklist's, never an underpayment.
"""

from reconcile.underpay.worklist import (
    UNDERPAYMENT_FIELDS,
    Tolerance,
    expected_payment,
    is_underpaid,
    tolerance_of,
    underpayment_worklist,
    underpayments_csv,
)

__all__ = [
    "UNDERPAYMENT_FIELDS",
    "Tolerance",
    "expected_payment",
    "is_underpaid",
    "tolerance_of",
    "underpayment_worklist",
    "underpayments_csv",
]
