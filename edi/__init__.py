"""dripline.edi: X12 in and out (837P/837I writer, 835/999/277CA readers, pyx12 adapter).

Depends on ``coding`` only. The package itself exports nothing: import from its subpackages, one
per transaction or job (``edi.x12``, ``edi.x835``, ``edi.x837``, ``edi.ack``, ``edi.validate``).
"""
