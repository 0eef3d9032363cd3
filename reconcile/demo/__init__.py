"""``dripline demo``: the whole loop on the bundled fixtures, and the payer simulator it answers with.

- :mod:`reconcile.demo.run`: ``run_demo`` in a fresh workspace.
- :mod:`reconcile.demo.simulate`: an 835 that answers claims, written from posting records.
"""

from reconcile.demo.run import (
    run_demo,
)

__all__ = ["run_demo"]
