"""835 (005010X221A1) health care claim payment/advice: reader, model, envelope and renderings.

- :mod:`edi.x835.reader`: the streaming reader (``read_835``, its ``on_claim`` hook, the one
  ``dispatch``) with balancing findings.
- :mod:`edi.x835.model`: the typed model, loops named after the guide (``Loop2100``, ``Loop2110``).
- :mod:`edi.x835.state`: ``ReaderState``, the state of one read.
- :mod:`edi.x835.segments`, :mod:`edi.x835.envelope`: the segment handlers (the reference
  implementation of the 835 rules) and the envelope code.
- :mod:`edi.x835.report`: JSON, CSV and summary renderings.
- :mod:`edi.x835.summary`: the per-remittance summary of ``remit show --summary`` (read through
  the reader).
- :mod:`edi.x835.probe`: can a path be read as an 835?
- ``edi.x835._accel``: the optional compiled driver (``_accel.c``), the accelerator of the
  handlers' path; its boundary is documented in :mod:`edi.x835.reader`.
"""

from edi.x835.reader import (
    ACCELERATED,
    ACCELERATOR_AVAILABLE,
    ClaimHook,
    ReaderState,
    balance_findings_835,
    findings_835,
    probe_835,
    read_835,
    read_835_files,
    read_835_with_findings,
)

__all__ = [
    "ACCELERATED",
    "ACCELERATOR_AVAILABLE",
    "ClaimHook",
    "ReaderState",
    "balance_findings_835",
    "findings_835",
    "probe_835",
    "read_835",
    "read_835_files",
    "read_835_with_findings",
]
