"""The denial worklist in the browser: a Starlette application with server-rendered Jinja2 pages.

- :mod:`dripline.web.app`: ``create_app(ledger_path)``, the routes, login cookie and CSRF checks.
- ``templates/``: the pages (autoescaped HTML, no JavaScript).
"""

from dripline.web.app import create_app

__all__ = ["create_app"]
