"""dripline.edi: X12 in and out (837P/837I writer, 835/999/277CA readers, pyx12 adapter).

Depends on ``coding`` only.
"""
