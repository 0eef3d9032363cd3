"""The CLI commands, one module per command group; each has ``register(app)``.

``code`` (and ``version``), ``validate``, ``claims`` (build, list), ``ack``, ``remit`` (show),
``posting`` (``remit post``, ``unmatched``, ``denials``, ``claims correct``), ``demo``, ``codesets``,
``exchange``, ``users``, ``serve``, ``work`` (assign, state, note, history of a denial).
The package itself exports nothing: :mod:`dripline.cli` imports each module and calls ``register``.
"""
