"""``dripline work``: denial work from the shell, on both ledger backends, seen in ``dripline denials --json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coding.config import load_config
from dripline.cli import app
from reconcile.demo.run import run_demo
from reconcile.ledger.store import connect
from reconcile.workqueue.users import add_user


def _cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def worked_ledger(ledger_target: str, tmp_path: Path) -> str:
    """A ledger after the demo (denials to work) with two users."""
    run_demo(tmp_path / "ws", load_config(None), ledger=ledger_target)
    conn = connect(ledger_target)
    add_user(conn, "alice", "correct horse battery")
    add_user(conn, "bob", "correct horse battery")
    conn.close()
    return ledger_target


def _denial(ledger: str, denial_id: int) -> dict:
    code, out, _ = _cli("denials", "--json", "--ledger", ledger)
    assert code == 0
    (d,) = [d for d in json.loads(out)["denials"] if d["denial_id"] == denial_id]
    return d


def test_assign_state_note_and_history(worked_ledger: str) -> None:
    first = json.loads(_cli("denials", "--json", "--ledger", worked_ledger)[1])["denials"][0]["denial_id"]
    code, out, _ = _cli("work", "assign", str(first), "bob", "--user", "alice", "--ledger", worked_ledger, "--json")
    assert code == 0 and json.loads(out)["work"]["assignee"] == "bob"
    assert _cli("work", "state", str(first), "in_progress", "--user", "bob", "--ledger", worked_ledger)[0] == 0
    assert _cli("work", "note", str(first), "asked for the NDC", "--user", "bob", "--ledger", worked_ledger)[0] == 0
    d = _denial(worked_ledger, first)
    assert (d["state"], d["assignee"], d["last_note"]) == ("in_progress", "bob", "asked for the NDC")
    code, out, _ = _cli("work", "history", str(first), "--ledger", worked_ledger, "--json")
    events = json.loads(out)["history"]
    assert code == 0
    assert [(e["kind"], e["user"], e["new"]) for e in events] == [
        ("assign", "alice", "bob"),
        ("state", "bob", "in_progress"),
        ("note", "bob", "asked for the NDC"),
    ]
    assert _cli("work", "assign", str(first), "-", "--user", "bob", "--ledger", worked_ledger)[0] == 0
    assert _denial(worked_ledger, first)["assignee"] is None


def test_refusals_exit_2_and_change_nothing(worked_ledger: str) -> None:
    first = json.loads(_cli("denials", "--json", "--ledger", worked_ledger)[1])["denials"][0]["denial_id"]
    before = _denial(worked_ledger, first)
    refused = [
        ("work", "note", str(first), "x", "--user", "mallory"),  # not a user of the ledger
        ("work", "assign", str(first), "mallory", "--user", "alice"),  # assignee unknown
        ("work", "state", str(first), "no-such-state", "--user", "alice"),
        ("work", "state", str(first), "resolved", "--user", "alice"),  # not allowed from open
        ("work", "note", "999999", "x", "--user", "alice"),  # no such denial
        ("work", "note", str(first), "   ", "--user", "alice"),  # empty note
    ]
    for args in refused:
        code, _, err = _cli(*args, "--ledger", worked_ledger)
        assert code == 2, args
        assert "error:" in err and "Traceback" not in err
    assert _denial(worked_ledger, first) == before
    code, out, _ = _cli("work", "history", str(first), "--ledger", worked_ledger, "--json")
    assert code == 0 and json.loads(out)["history"] == []
