"""CLI commands ``users add`` and ``users list``: the people who may log in to ``dripline serve``.

A password is never taken from the command line (it would sit in the shell history and in the
process list): it is asked for twice at a hidden prompt, or read as one line from standard input
with ``--password-stdin``.
"""

from __future__ import annotations

import sys

import typer

from dripline.common import Col, JsonOption, LedgerOption, console, fail, open_ledger, print_json, print_table, say

users_app = typer.Typer(help="Users of the denial worklist (dripline serve).", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def register(app: typer.Typer) -> None:
    """Add the ``users`` group."""
    app.add_typer(users_app, name="users")

    @users_app.command("add")
    def add(
        name: str = typer.Argument(..., help="User name (letters, digits, '.', '_', '@', '-')."),
        ledger: str | None = LedgerOption,
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password as one line from standard input."
        ),
        as_json: bool = JsonOption,
    ) -> None:
        """Add a user who may log in to the worklist; the password is stored as a scrypt hash."""
        from reconcile.workqueue.users import UserError, add_user, check_name, check_password

        problem = check_name(name)
        if problem:
            fail([problem])
        password = _read_password(password_stdin)
        problem = check_password(password)
        if problem:
            fail([problem])
        try:
            user = add_user(open_ledger(ledger), name, password)
        except UserError as exc:
            fail([str(exc)])
        if as_json:
            print_json({"user": user.to_dict()})
        else:
            say(f"added user {user.name}")

    @users_app.command("list")
    def list_(ledger: str | None = LedgerOption, as_json: bool = JsonOption) -> None:
        """The users of this ledger (names and when they were added; never their passwords)."""
        from reconcile.workqueue.users import list_users

        users = list_users(open_ledger(ledger))
        if as_json:
            print_json({"users": [u.to_dict() for u in users]})
            return
        if not users:
            console.print("No users yet: add one with `dripline users add NAME`.", highlight=False)
            return
        cols = (Col("name", "keep"), Col("added", "keep"), Col("active", "keep"))
        print_table(cols, [[u.name, u.created_at, "yes" if u.active else "no"] for u in users], "Users")
