"""Expected allowed amount of each claim line, computed when the claim is built.

- :mod:`reconcile.pricing.terms`: the contract terms of a payer profile (``drug_rate``,
  ``service_rate``, ``fee_schedule``, ``per_diem_rates``).
- :mod:`reconcile.pricing.expected`: the amount and its basis per line (Medicare ASP, PFS, OPPS;
  contract terms for other payers), over :class:`reconcile.codesets.fees.FeeSchedules`.
- :mod:`reconcile.pricing.record`: :func:`record_expected`, called by ``claims build`` after an
  interchange is recorded, stores one ``expected_allowed`` row per line.
"""

from reconcile.pricing.expected import ClaimContext, Expected, expected_for_claim
from reconcile.pricing.record import record_expected
from reconcile.pricing.terms import Contract, contract_of

__all__ = ["ClaimContext", "Contract", "Expected", "contract_of", "expected_for_claim", "record_expected"]
