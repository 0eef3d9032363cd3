"""CLI command ``serve``: the denial worklist as a web application (:mod:`dripline.web`)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from dripline.common import (
    ConfigOption,
    JsonOption,
    LedgerOption,
    err_console,
    fail,
    get_config,
    ledger_name,
    ledger_path,
    print_json,
    say,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8350
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def register(app: typer.Typer) -> None:
    """Add ``serve``."""

    @app.command("serve")
    def serve(
        ledger: str | None = LedgerOption,
        config: Path | None = ConfigOption,
        host: str = typer.Option(DEFAULT_HOST, "--host", help="Address to listen on (default: this machine only)."),
        port: int = typer.Option(DEFAULT_PORT, "--port", help="TCP port."),
        as_json: bool = JsonOption,
    ) -> None:
        """Serve the denial worklist, claim pages and unmatched queue in the browser (login required).

        Listens on 127.0.0.1 unless --host names another address. Add users first with
        `dripline users add NAME`. With --json the address is printed as one JSON line before serving.
        """
        import uvicorn

        from dripline.web.app import create_app
        from reconcile.ledger.store import LedgerError
        from reconcile.workqueue.users import list_users

        if not 0 < port < 65536:
            fail([f"--port: not a TCP port: {port}"])
        path = ledger_path(ledger)
        try:
            web = create_app(path, get_config(config))
        except LedgerError as exc:
            fail([str(exc)])
        url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
        if host not in LOOPBACK:
            say(
                f"warning: listening on {host}: other machines can reach the login page over plain HTTP;"
                " put a TLS proxy in front",
                out=err_console,
            )
        if as_json:
            print_json({"url": url, "ledger": ledger_name(path)})
            sys.stdout.flush()  # a caller reading the pipe sees the address before the server starts
        else:
            say(f"dripline worklist on {url} (ledger {ledger_name(path)}); Ctrl+C stops it")
            from reconcile.ledger.store import connect

            conn = connect(path)
            try:
                if not list_users(conn):
                    say("no users yet: add one with `dripline users add NAME`")
            finally:
                conn.close()
        # no access log: request lines carry claim numbers and filter values
        uvicorn.run(web, host=host, port=port, log_level="warning", access_log=False)
