"""Encounter input: reading and checking the contract of ``docs/encounter-format.md``.

- :mod:`coding.encounters.loader`: JSON, JSON Lines or a directory in; encounters and findings out.
"""

from coding.encounters.loader import (
    load_encounters,
    validate_encounter,
)

__all__ = ["load_encounters", "validate_encounter"]
