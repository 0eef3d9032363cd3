"""Identifier validators in python-stdnum shape.

Each module has ``compact(value)``, ``validate(value)`` (returns the normalized form or raises
:class:`InvalidIdentifier`), ``is_valid(value)`` (never raises) and ``format(value)``.
"""

from __future__ import annotations


class InvalidIdentifier(ValueError):
    """The value is not a valid identifier of the kind asked for; the message names the reason
    (never echoes the value, which may be patient-linked)."""


__all__ = ["InvalidIdentifier"]
