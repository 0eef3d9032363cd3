"""Logging in to the worklist application in tests, and reading CSRF tokens from its pages."""

from __future__ import annotations

import re
import warnings

with warnings.catch_warnings():  # starlette asks for httpx2 when plain httpx drives its test client
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from tests.reconcile.workqueue.support import PASSWORD

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token(html: str) -> str:
    m = TOKEN.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def client(app) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1")


def login(c: TestClient, name: str = "alice", password: str = PASSWORD) -> str:
    """Log in through the form; return the session's CSRF token."""
    r = c.post("/login", data={"username": name, "password": password, "csrf_token": token(c.get("/login").text)})
    assert r.status_code == 200 and r.url.path == "/denials", (r.status_code, r.url)
    return token(r.text)
