"""dripline.coding: infusion encounters in, coded claim service lines and findings out.

This is the bottom layer: it imports nothing from ``edi``, ``reconcile`` or ``dripline``.
The package itself exports nothing: import from its modules and subpackages (``coding.engine``,
``coding.admin``, ``coding.drugs``, ``coding.home``, ``coding.encounters``, ``coding.identifiers``).
"""
