"""``dripline users add`` / ``users list`` and ``dripline serve --help``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dripline.cli import app
from reconcile.ledger.store import connect
from reconcile.workqueue.users import verify_login


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin)


def test_add_from_stdin_and_list(ledger_target):
    db = ledger_target
    r = run("users", "add", "alice", "--ledger", db, "--password-stdin", "--json", stdin="long password\n")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["user"]["name"] == "alice"
    assert verify_login(connect(db), "alice", "long password") is not None
    listed = json.loads(run("users", "list", "--ledger", db, "--json").output)["users"]
    assert [u["name"] for u in listed] == ["alice"] and "password_hash" not in listed[0]
    assert "alice" in run("users", "list", "--ledger", db).output


def test_add_from_the_prompt_asks_twice(ledger_target):
    db = ledger_target
    r = run("users", "add", "bob", "--ledger", db, stdin="pass-word-1\npass-word-1\n")
    assert r.exit_code == 0, r.output
    assert verify_login(connect(db), "bob", "pass-word-1") is not None
    r = run("users", "add", "carol", "--ledger", db, stdin="pass-word-1\nother-word\npass-word-2\npass-word-2\n")
    assert r.exit_code == 0 and verify_login(connect(db), "carol", "pass-word-2") is not None


def test_refusals_exit_2(ledger_target):
    db = ledger_target
    assert run("users", "add", "alice", "--ledger", db, "--password-stdin", stdin="short\n").exit_code == 2
    assert run("users", "add", "bad name", "--ledger", db, "--password-stdin", stdin="long password\n").exit_code == 2
    assert run("users", "add", "alice", "--ledger", db, "--password-stdin", stdin="long password\n").exit_code == 0
    again = run("users", "add", "alice", "--ledger", db, "--password-stdin", stdin="other password\n")
    assert again.exit_code == 2 and "already exists" in again.output
    # there is no option that takes the password itself
    assert run("users", "add", "dave", "--ledger", db, "--password", "x" * 10).exit_code == 2


def test_serve_listens_on_loopback_by_default():
    r = run("serve", "--help")
    assert r.exit_code == 0 and "127.0.0.1" in r.output and "8350" in r.output
