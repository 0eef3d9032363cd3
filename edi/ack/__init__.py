"""Acknowledgments: 999 (005010X231A1) and 997, TA1, and the 277CA (005010X214).

- :mod:`edi.ack.read`: the readers.
- :mod:`edi.ack.model`: their typed results and code meanings.
"""

from edi.ack.read import (
    AckDocument,
    ClaimStatus,
    GroupAck,
    SetAck,
    code_meaning,
    read_ack,
)

__all__ = ["AckDocument", "ClaimStatus", "GroupAck", "SetAck", "code_meaning", "read_ack"]
