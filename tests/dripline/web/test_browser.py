"""The worklist in a real browser: Playwright drives the machine's Chromium against `dripline serve`.

The server is the real command (uvicorn) on a free loopback port over a ledger with posted
denials; Chromium comes from Debian's package (installed here when missing and we may), never
from a browser download.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests import debian
from tests.reconcile.workqueue.support import HOSTILE_PAYER, PASSWORD, denial_ids, denials_ledger

pytestmark = pytest.mark.slow

LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    return debian.chromium()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dripline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dripline", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def server(module_ledger_target: str) -> Iterator[tuple[str, str, dict[str, int]]]:
    """`dripline serve` on a free loopback port, over a SQLite file then a PostgreSQL database;
    yields (base URL, ledger, denial ids)."""
    db = module_ledger_target
    conn = denials_ledger(db)
    ids = denial_ids(conn)
    conn.close()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dripline", "serve", "--ledger", db, "--port", str(port), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"dripline serve exited: {proc.stderr.read() if proc.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("dripline serve did not start listening")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", db, ids
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(chromium):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


def test_work_a_denial_in_the_browser(server, browser):
    base, db, ids = server
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    dialogs: list[str] = []

    def on_dialog(d) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)

    # no page without login: the worklist sends us to the login form
    page.goto(base + "/denials")
    assert page.url.startswith(base + "/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(base + "/denials")
    assert page.locator("#worklist tbody tr").count() == 3
    # hostile payer text is shown as text, never run
    assert page.locator("#worklist", has_text=HOSTILE_PAYER).count() == 1
    assert dialogs == []

    # filter by payer
    page.select_option("select[name=payer]", "ACME HEALTH PLAN")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**/denials?*payer=ACME+HEALTH+PLAN*")
    assert page.locator("#worklist tbody tr").count() == 2

    # open the claim, then its denial
    page.click("#worklist a:text-is('ENC1')")
    page.wait_for_url("**/claims/*")
    assert "Claim ENC1" in page.inner_text("h1")
    assert page.locator("#timeline", has_text="835 posting").count() == 1
    assert page.locator("#lines", has_text="J1745").count() == 1
    page.click(f"#denials tr[data-denial='{ids['ENC1']}'] a:text-is('work')")
    page.wait_for_url(f"**/denials/{ids['ENC1']}")

    # change its state and add a note
    page.select_option("#state-form select[name=state]", "in_progress")
    page.click("#state-form button")
    page.wait_for_load_state()
    assert page.inner_text("#state") == "In progress"
    page.fill("#note-form textarea[name=note]", "Resubmit with the NDC <N4> segment")
    page.click("#note-form button")
    page.wait_for_load_state()
    assert page.inner_text("#last-note") == "Resubmit with the NDC <N4> segment"
    assert page.locator("#history tbody tr").count() == 2

    # ... and the command line sees it
    out = _dripline("denials", "--json", "--ledger", db)
    assert out.returncode == 0, out.stderr
    item = next(i for i in json.loads(out.stdout)["denials"] if i["denial_id"] == ids["ENC1"])
    assert (item["state"], item["last_note"]) == ("in_progress", "Resubmit with the NDC <N4> segment")

    # a POST in this session without the CSRF token is refused
    r = page.request.post(f"{base}/denials/{ids['ENC1']}/state", form={"state": "resolved"})
    assert r.status == 403
    # a request without a session is refused (GET: sent to login; POST: 403)
    fresh = browser.new_context()
    try:
        r = fresh.request.post(f"{base}/denials/{ids['ENC1']}/state", form={"state": "resolved", "csrf_token": "x"})
        assert r.status == 403
        r = fresh.request.get(f"{base}/claims/1", max_redirects=0)
        assert r.status == 303 and r.headers["location"].startswith("/login")
    finally:
        fresh.close()
    page.reload()
    assert page.inner_text("#state") == "In progress"  # neither refused request changed anything
    context.close()
