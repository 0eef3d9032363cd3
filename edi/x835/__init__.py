"""835 (005010X221A1) health care claim payment/advice: reader, model, envelope and renderings.

- :mod:`edi.x835.reader`: the streaming reader (``read_835``) with balancing findings.
- :mod:`edi.x835.model`: the typed model, loops named after the guide (``Loop2100``, ``Loop2110``).
- :mod:`edi.x835.envelope`, :mod:`edi.x835.segments`: the envelope and loop handlers.
- :mod:`edi.x835.report`: JSON, CSV and summary renderings.
- :mod:`edi.x835.summary`: the per-remittance summary of ``remit show --summary``.
- :mod:`edi.x835.probe`: can a path be read as an 835?
- ``edi.x835._accel``: the optional compiled driver (``_accel.c``).
"""

from edi.x835.reader import (
    ACCELERATOR_AVAILABLE,
    balance_findings_835,
    findings_835,
    probe_835,
    read_835,
    read_835_files,
    read_835_with_findings,
)

__all__ = [
    "ACCELERATOR_AVAILABLE",
    "balance_findings_835",
    "findings_835",
    "probe_835",
    "read_835",
    "read_835_files",
    "read_835_with_findings",
]
