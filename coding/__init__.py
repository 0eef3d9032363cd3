"""dripline.coding: infusion encounters in, coded claim service lines and findings out.

This is the bottom layer: it imports nothing from ``edi``, ``reconcile`` or ``dripline``.
"""
