"""Drug lines: HCPCS billing units, waste (JW/JZ), 340B (JG/TB), NDC and revenue codes.

- :mod:`coding.drugs.lines`: the drug table and one HCPCS line per drug (and waste).
"""

from coding.drugs.lines import (
    DrugInfo,
    billing_units,
    drug_info,
    drug_lines,
    is_separately_payable,
    known_drug_codes,
    order_modifiers,
    resolve_purpose,
)

__all__ = [
    "DrugInfo",
    "billing_units",
    "drug_info",
    "drug_lines",
    "is_separately_payable",
    "known_drug_codes",
    "order_modifiers",
    "resolve_purpose",
]
