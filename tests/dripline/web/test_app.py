"""The worklist application through Starlette's TestClient: login, CSRF, filters, paging, work."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from typer.testing import CliRunner

from dripline.cli import app as cli_app
from dripline.web.app import create_app
from tests.dripline.web.support import client, login, token
from tests.reconcile.workqueue.support import HOSTILE_PAYER, PASSWORD, denial_ids, denials_ledger

PAGES = ["/", "/denials", "/denials?payer=x", "/denials/1", "/claims/1", "/unmatched", "/underpayments"]


@pytest.fixture
def web(ledger_target):
    db = ledger_target
    conn = denials_ledger(db)
    yield db, conn, denial_ids(conn), create_app(db)
    conn.close()


@pytest.mark.parametrize("path", PAGES)
def test_no_page_without_login(web, path):
    _, _, _, app = web
    r = client(app).get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/denials/1/state", "/denials/1/note", "/denials/1/assign", "/logout", "/denials"])
def test_a_post_without_a_session_is_refused(web, path):
    _db, conn, _ids, app = web
    r = client(app).post(path, data={"state": "in_progress", "note": "x", "csrf_token": "guess"})
    assert r.status_code == 403
    assert conn.execute("SELECT COUNT(*) FROM denial_events").fetchone()[0] == 0


def test_login_page_is_public_and_login_needs_its_token(web):
    _, _, _, app = web
    c = client(app)
    assert c.get("/login").status_code == 200
    r = c.post("/login", data={"username": "alice", "password": PASSWORD})
    assert r.status_code == 403
    assert c.get("/denials", follow_redirects=False).status_code == 303


def test_wrong_password_and_unknown_user(web):
    _, _, _, app = web
    c = client(app)
    for name, pw in (("alice", "wrong password"), ("mallory", PASSWORD)):
        r = c.post("/login", data={"username": name, "password": pw, "csrf_token": token(c.get("/login").text)})
        assert r.status_code == 401 and "Unknown user or wrong password" in r.text
    assert c.get("/denials", follow_redirects=False).status_code == 303


def test_session_cookie_is_signed_httponly_samesite(web):
    _, _, _, app = web
    c = client(app)
    tok = token(c.get("/login").text)
    r = c.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": tok}, follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith("dripline_session=") and "httponly" in cookie and "samesite=lax" in cookie
    # a forged cookie (same payload, no valid signature) is no session
    forged = client(app)
    forged.cookies.set("dripline_session", r.cookies["dripline_session"].split(".")[0] + ".AAAA.BBBB")
    assert forged.get("/denials", follow_redirects=False).status_code == 303
    # login rotates the CSRF token: the one from before the login is no longer accepted
    assert tok != token(c.get("/denials").text)


def test_login_redirects_only_within_the_site(web):
    _, _, _, app = web
    c = client(app)
    for target, expected in (("/claims/1", "/claims/1"), ("//evil.example/x", "/denials"), ("http://x", "/denials")):
        c.cookies.clear()
        r = c.post(
            "/login",
            data={"username": "alice", "password": PASSWORD, "next": target, "csrf_token": token(c.get("/login").text)},
            follow_redirects=False,
        )
        assert r.headers["location"] == expected


def test_security_headers(web):
    _, _, _, app = web
    c = client(app)
    login(c)
    r = c.get("/denials")
    assert "script-src" not in r.headers["content-security-policy"]
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("bad", [None, "", "wrong-token"])
def test_state_change_without_the_csrf_token_is_refused(web, bad):
    _, conn, ids, app = web
    c = client(app)
    login(c)
    data = {"state": "in_progress"} | ({} if bad is None else {"csrf_token": bad})
    r = c.post(f"/denials/{ids['ENC1']}/state", data=data)
    assert r.status_code == 403
    assert conn.execute("SELECT COUNT(*) FROM denial_work").fetchone()[0] == 0


def test_another_sessions_token_is_refused(web):
    _, _conn, ids, app = web
    a, b = client(app), client(app)
    login(a)
    tok_b = login(b, "bob")
    r = a.post(f"/denials/{ids['ENC1']}/note", data={"note": "x", "csrf_token": tok_b})
    assert r.status_code == 403


def test_payer_text_is_escaped(web):
    _, _, _, app = web
    c = client(app)
    login(c)
    html = c.get("/denials").text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; PLAN" in html


def test_filters_and_paging(web):
    _, _, _, app = web
    c = client(app)
    login(c)

    def rows(url):
        return c.get(url).text.count("<tr data-denial=")

    assert rows("/denials") == 3
    assert rows("/denials?payer=ACME+HEALTH+PLAN") == 2
    assert rows("/denials?" + urlencode({"payer": HOSTILE_PAYER})) == 1
    assert rows("/denials?category=missing_information") == 1
    assert rows("/denials?state=written_off") == 0
    assert rows("/denials?assignee=-") == 3
    first = c.get("/denials?per_page=2").text
    assert first.count("<tr data-denial=") == 2 and "Page 1 of 2" in first
    assert 'href="/denials?per_page=2&amp;page=2"' in first
    second = c.get("/denials?per_page=2&page=2").text
    assert second.count("<tr data-denial=") == 1 and "Page 2 of 2" in second and 'rel="prev"' in second
    assert "No open denials match" in c.get("/denials?page=99").text
    assert c.get("/denials?page=abc&per_page=-5").status_code == 200  # nonsense paging falls back


def test_work_on_a_denial_shows_in_the_cli_json(web):
    db, _, ids, app = web
    c = client(app)
    tok = login(c)
    d = ids["ENC2"]
    assert c.post(f"/denials/{d}/assign", data={"assignee": "bob", "csrf_token": tok}).status_code == 200
    assert c.post(f"/denials/{d}/state", data={"state": "in_progress", "csrf_token": tok}).status_code == 200
    page = c.post(f"/denials/{d}/note", data={"note": "appeal <with> records", "csrf_token": tok})
    assert page.status_code == 200 and "appeal &lt;with&gt; records" in page.text
    assert "In progress" in page.text and "alice" in page.text
    refused = c.post(f"/denials/{d}/state", data={"state": "open", "csrf_token": tok})
    assert refused.status_code == 200  # in progress -> open is allowed
    refused = c.post(f"/denials/{d}/state", data={"state": "written_off", "csrf_token": tok})
    assert refused.status_code == 409 and "cannot move" in refused.text
    out = CliRunner().invoke(cli_app, ["denials", "--json", "--ledger", str(db)])
    assert out.exit_code == 0, out.output
    item = next(i for i in json.loads(out.output)["denials"] if i["patient_control_number"] == "ENC2")
    assert (item["state"], item["assignee"], item["last_note"]) == ("open", "bob", "appeal <with> records")
    assert c.get("/denials?assignee=bob").text.count("<tr data-denial=") == 1


def test_claim_unmatched_and_underpayment_pages(web):
    _, conn, ids, app = web
    c = client(app)
    login(c)
    claim_id = conn.execute("SELECT claim_id FROM denials WHERE id = ?", (ids["ENC1"],)).fetchone()[0]
    html = c.get(f"/claims/{claim_id}").text
    assert "J1745" in html and "835 posting" in html and f'href="/denials/{ids["ENC1"]}"' in html
    assert c.get("/claims/999999").status_code == 404
    assert c.get("/denials/999999").status_code == 404
    assert "unmatched queue is empty" in c.get("/unmatched").text
    assert "No underpayments." in c.get("/underpayments").text
    assert 'href="/underpayments"' in c.get("/denials").text


@pytest.mark.parametrize("path", ["/denials", "/denials/1", "/claims/1", "/unmatched", "/underpayments"])
def test_a_page_opens_one_ledger_connection(web, path, monkeypatch):
    import dripline.web.app as web_app

    _, _, _, app = web
    c = client(app)
    login(c)
    opened = []
    real = web_app.connect

    def counting(target):
        opened.append(target)
        return real(target)

    monkeypatch.setattr(web_app, "connect", counting)
    assert c.get(path).status_code == 200
    assert len(opened) == 1


def test_logout_ends_the_session(web):
    _, _, _, app = web
    c = client(app)
    tok = login(c)
    assert c.post("/logout", data={}).status_code == 403  # logging out is a form too
    assert c.post("/logout", data={"csrf_token": tok}, follow_redirects=False).status_code == 303
    assert c.get("/denials", follow_redirects=False).status_code == 303


def test_a_removed_user_loses_the_session(web):
    _, conn, _, app = web
    c = client(app)
    login(c, "bob")
    conn.execute("UPDATE users SET active = 0 WHERE name = 'bob'")
    assert c.get("/denials", follow_redirects=False).status_code == 403
    assert c.get("/denials", follow_redirects=False).status_code == 303  # the session was ended


def test_failed_logins_are_throttled_per_name(web):
    _, _, _, app = web
    clock = [1000.0]
    throttle = app.state.login_throttle
    throttle.clock = lambda: clock[0]
    c = client(app)

    def attempt(name, pw):
        return c.post("/login", data={"username": name, "password": pw, "csrf_token": token(c.get("/login").text)})

    for _ in range(throttle.limit):
        assert attempt("alice", "wrong password").status_code == 401
    # the right password is refused too while the name is throttled; other names are not
    assert attempt("alice", PASSWORD).status_code == 429
    assert c.get("/denials", follow_redirects=False).status_code == 303
    assert attempt("bob", PASSWORD).status_code == 200
    c.cookies.clear()
    clock[0] += throttle.window + 1
    assert attempt("alice", PASSWORD).status_code == 200
