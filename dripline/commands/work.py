"""CLI commands ``work assign``, ``work state``, ``work note`` and ``work history``: denial work from the shell.

The same changes the worklist pages make (:mod:`reconcile.workqueue.work`), for scripts and for
people who work from a terminal: each change is one ledger transaction, recorded with the user
(``--user``, a user of the ledger, see ``dripline users add``) and the time. Denials are named by
the ``denial_id`` that ``dripline denials --json`` prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from dripline.common import Col, JsonOption, LedgerOption, fail, open_ledger, print_json, print_table, say

if TYPE_CHECKING:
    from reconcile.ledger.db import Connection
    from reconcile.workqueue.work import WorkState

work_app = typer.Typer(help="Work on a denial: assign it, change its state, add a note.", no_args_is_help=True)

UserOption = typer.Option(..., "--user", help="Who makes the change (a user of the ledger: dripline users add).")


def register(app: typer.Typer) -> None:
    """Add the ``work`` group."""
    app.add_typer(work_app, name="work")

    def _apply(
        ledger: str | None, user: str, as_json: bool, change: str, do: Callable[[Connection], WorkState]
    ) -> None:
        from reconcile.workqueue.users import user_exists
        from reconcile.workqueue.work import WorkError

        conn = open_ledger(ledger)
        try:
            if not user_exists(conn, user):
                fail([f"--user: no active user {user!r} in this ledger (dripline users add NAME)"])
            try:
                state = do(conn)
            except WorkError as exc:
                fail([str(exc)])
        finally:
            conn.close()
        if as_json:
            print_json({"change": change, "work": state.to_dict()})
        else:
            who = state.assignee or "nobody"
            say(f"denial {state.denial_id}: {state.state}, assigned to {who}")

    @work_app.command("assign")
    def assign_cmd(
        denial_id: int = typer.Argument(..., help="The denial (denial_id of dripline denials --json)."),
        assignee: str = typer.Argument(..., help="The user who works it; '-' for nobody."),
        user: str = UserOption,
        ledger: str | None = LedgerOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Give a denial to a user (or to nobody with '-')."""
        from reconcile.workqueue.work import assign

        who = None if assignee == "-" else assignee
        _apply(ledger, user, as_json, "assign", lambda conn: assign(conn, denial_id, who, user=user))

    @work_app.command("state")
    def state_cmd(
        denial_id: int = typer.Argument(..., help="The denial (denial_id of dripline denials --json)."),
        state: str = typer.Argument(..., help="The new work state (e.g. in_progress, corrected, appealed)."),
        user: str = UserOption,
        ledger: str | None = LedgerOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Move a denial to another work state, when the state table allows the move."""
        from reconcile.workqueue.work import set_state

        _apply(ledger, user, as_json, "state", lambda conn: set_state(conn, denial_id, state, user=user))

    @work_app.command("note")
    def note_cmd(
        denial_id: int = typer.Argument(..., help="The denial (denial_id of dripline denials --json)."),
        text: str = typer.Argument(..., help="The note."),
        user: str = UserOption,
        ledger: str | None = LedgerOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Add a note to a denial (kept whole in its history)."""
        from reconcile.workqueue.work import add_note

        _apply(ledger, user, as_json, "note", lambda conn: add_note(conn, denial_id, text, user=user))

    @work_app.command("history")
    def history_cmd(
        denial_id: int = typer.Argument(..., help="The denial (denial_id of dripline denials --json)."),
        ledger: str | None = LedgerOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Every recorded change of a denial, oldest first, with its user and time."""
        from reconcile.workqueue.work import WorkError, history, work_state

        conn = open_ledger(ledger)
        try:
            try:
                state = work_state(conn, denial_id)
            except WorkError as exc:
                fail([str(exc)])
            events = history(conn, denial_id)
        finally:
            conn.close()
        if as_json:
            print_json({"work": state.to_dict(), "history": events})
            return
        cols = (Col("at", "keep"), Col("user", "keep"), Col("change", "keep"), Col("from"), Col("to"))
        rows = [[e["at"], e["user"], e["kind"], e["old"] or "", e["new"] or ""] for e in events]
        print_table(cols, rows, f"Denial {denial_id}: {state.state}, assigned to {state.assignee or 'nobody'}")
