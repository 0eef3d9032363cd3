"""Drug-administration codes (CPT 96360-96549): time rules and the initial/sequential/concurrent hierarchy.

- :mod:`coding.admin.timing`: minutes, time thresholds and families of administrations.
- :mod:`coding.admin.codes`: administration lines for one encounter, with their rationale.
"""

from coding.admin.codes import (
    ADD_ON_CODES,
    ADMIN_CODES,
    INITIAL_CODES,
    admin_lines,
)

__all__ = ["ADD_ON_CODES", "ADMIN_CODES", "INITIAL_CODES", "admin_lines"]
