"""CLI commands: ``dripline exchange send|receive|status`` — claim files to and answers from clearinghouses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dripline.common import (
    Col,
    ConfigOption,
    JsonOption,
    LedgerOption,
    err_console,
    fail,
    get_config,
    print_findings,
    print_json,
    print_table,
    say,
)

if TYPE_CHECKING:
    from reconcile.exchange.config import ExchangeConfig, Partner

exchange_app = typer.Typer(
    help="Send claim files to clearinghouses and fetch their answers (SFTP or a shared folder).",
    no_args_is_help=True,
)

PartnerArgument = typer.Argument(None, help="Clearinghouse name ([clearinghouses.NAME]); default: every one.")
SENT_COLUMNS = (
    Col("isa13", "keep"),
    Col("partner", "keep"),
    Col("status", "keep"),
    Col("remote name", "keep"),
    Col("file", drop=2),
    Col("note", drop=1),
)
RECEIVED_COLUMNS = (
    Col("partner", "keep"),
    Col("remote name", "keep"),
    Col("kind", "keep"),
    Col("outcome", "keep"),
    Col("attempts", "keep", justify="right"),
    Col("local file", drop=2),
    Col("note", drop=1),
)
STATUS_COLUMNS = (
    Col("partner", "keep"),
    Col("sent", "keep", justify="right"),
    Col("waiting", "keep", justify="right"),
    Col("received", "keep", justify="right"),
    Col("applied", "words"),
    Col("problems", "keep", justify="right"),
    Col("last sent", "keep", drop=2),
    Col("last received", "keep", drop=1),
)


def _setup(config: Path | None, partner: str | None) -> tuple[Any, ExchangeConfig, list[Partner]]:
    """The coding config, the exchange config and the partners to run for, or exit 2 with the findings."""
    from reconcile.exchange.config import load_exchange_config, select_partners

    cfg = get_config(config)
    xc = load_exchange_config(config, cfg)
    chosen, found = select_partners(xc, partner) if xc.ok else ([], [])
    problems = [f for f in xc.findings + found if f.severity == "error"]
    if problems:
        fail([f.message for f in problems])
    return cfg, xc, chosen


def _bar(enabled: bool, verb: str) -> tuple[Callable[[str, int, int], None] | None, Any]:
    """A rich progress bar (bytes of the current file) on stderr when it is a terminal."""
    if not enabled or not err_console.is_terminal:
        return None, None
    from rich.markup import escape
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from coding.display import visible

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err_console,
        transient=True,
    )
    task = progress.add_task(verb, total=None)
    current = [""]

    def update(name: str, done: int, total: int) -> None:
        if name != current[0]:  # one bar, for the file being moved now
            current[0] = name
            progress.reset(task, total=total or None, description=f"{verb} {escape(visible(name))}")
        progress.update(task, completed=done)

    return update, progress


def register(app: typer.Typer) -> None:
    """Add the ``exchange`` group to the app."""
    app.add_typer(exchange_app, name="exchange")


@exchange_app.command("send")
def send(
    partner: str | None = PartnerArgument,
    config: Path | None = ConfigOption,
    ledger: str | None = LedgerOption,
    include_earlier: bool = typer.Option(
        False,
        "--include-earlier",
        help="Also send files built before the partner was set up (its first send); only if they were never uploaded.",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List what would be sent; connect to nothing and record nothing."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Upload every recorded 837 not yet sent to its clearinghouse.

    Each file goes up under a temporary name, its size on the server is checked, then it is
    renamed; the remote name, time and sha256 are recorded so it is never sent twice. A file the
    ledger did not record, one refused by validation, one whose bytes changed since it was built,
    or whose ISA15 is not the partner's usage (T/P) is never sent. Sending through a partner starts
    at its first send: files built before it may have been uploaded by hand, so they are listed and
    held back unless --include-earlier is given. Exit 0 when everything waiting was sent (or held
    back), 1 when a file was refused or could not be sent, 2 for configuration problems.
    """
    from dripline.common import open_ledger
    from reconcile.exchange.send import send_files

    _, xc, chosen = _setup(config, partner)
    conn = open_ledger(ledger)
    update, bar = _bar(not as_json and not dry_run, "sending")
    if bar is not None:
        bar.start()
    try:
        result = send_files(conn, xc, chosen, progress=update, include_earlier=include_earlier, dry_run=dry_run)
    finally:
        if bar is not None:
            bar.stop()
    if as_json:
        print_json(result.to_dict())
    else:
        say(f"dry run: {result.would_send} file(s) would be sent" if dry_run else f"{result.sent} file(s) sent")
        if result.files:
            rows = [
                [f"{f.isa13:09d}", f.partner or "", f.status, f.remote_name or "", f.path, f.message or ""]
                for f in result.files
            ]
            print_table(SENT_COLUMNS, rows)
        print_findings(result.findings)
    if result.problems:
        raise typer.Exit(1)


@exchange_app.command("receive")
def receive(
    partner: str | None = PartnerArgument,
    inbox: Path | None = typer.Option(
        None, "--inbox", help="Folder for downloaded files (default ./inbox/PARTNER/; several partners: DIR/PARTNER/)."
    ),
    config: Path | None = ConfigOption,
    ledger: str | None = LedgerOption,
    as_json: bool = JsonOption,
) -> None:
    """Download new answers (TA1, 999/997, 277CA, 835), apply them, and record each file's outcome.

    A file is new unless one with the same name, size and sha256 was handled before. Downloads land
    in the inbox (folder 0700, files 0600) under a temporary name and are renamed once complete;
    acknowledgments are applied as `dripline ack` does, remittances posted as `dripline remit post`
    does, anything else is kept and reported. With delete_after_download a file leaves the mailbox
    only after it is on disk and recorded. Network errors are retried with back-off; a file that
    still fails is tried again next run. Exit 0 when every file was handled, 1 when one failed or
    could not be applied, 2 for configuration problems.
    """
    from dripline.common import open_ledger
    from reconcile.exchange.receive import describe, receive_files

    cfg, _, chosen = _setup(config, partner)
    conn = open_ledger(ledger)
    update, bar = _bar(not as_json, "receiving")
    if bar is not None:
        bar.start()
    try:
        result = receive_files(conn, cfg, chosen, inbox, progress=update)
    finally:
        if bar is not None:
            bar.stop()
    note = describe(result)
    if note is not None:
        result.findings.append(note)
    if as_json:
        print_json(result.to_dict())
    else:
        say(f"{len(result.files)} new file(s); {result.already_seen} handled before")
        if result.files:
            rows = [
                [f.partner, f.remote_name, f.kind or "", f.outcome, f.attempts, f.local_path or "", f.error or ""]
                for f in result.files
            ]
            print_table(RECEIVED_COLUMNS, rows)
        print_findings(result.findings)
    if result.failed:
        raise typer.Exit(1)


@exchange_app.command("status")
def status(
    config: Path | None = ConfigOption,
    ledger: str | None = LedgerOption,
    as_json: bool = JsonOption,
) -> None:
    """Per clearinghouse: files sent, waiting, held back (built before the partner was set up), received and applied, and what failed and why."""
    from dripline.common import open_ledger
    from reconcile.exchange.status import exchange_status

    _, xc, _ = _setup(config, None) if _has_partners(config) else (None, _empty(config), [])
    conn = open_ledger(ledger)
    data = exchange_status(conn, xc)
    if as_json:
        print_json(data)
        return
    if not data["partners"]:
        say("no clearinghouse configured and nothing exchanged yet")
        return
    rows = [
        [
            p["partner"],
            p["sent"],
            p["waiting_to_send"],
            p["received"],
            ", ".join(f"{k} {v}" for k, v in sorted(p["applied"].items())) or "-",
            len(p["problems"]),
            p["last_sent_at"] or "",
            p["last_received_at"] or "",
        ]
        for p in data["partners"]
    ]
    print_table(STATUS_COLUMNS, rows, "Clearinghouse exchange")
    for p in data["partners"]:
        if p["problems"]:
            prows = [
                [
                    p["partner"],
                    q["remote_name"],
                    q["kind"] or "",
                    q["outcome"],
                    q["attempts"],
                    q["local_path"] or "",
                    q["error"] or "",
                ]
                for q in p["problems"]
            ]
            print_table(RECEIVED_COLUMNS, prows, f"{p['partner']}: files that need a look")
    for b in data["not_sendable"]:
        say(f"not sent: {b['path']}: {'; '.join(b['reasons'])}")
    for p in data["partners"]:
        if p["built_before_setup"]:
            say(
                f"{p['partner']}: {p['built_before_setup']} file(s) built before this partner was set up are held back; "
                f"send them with `dripline exchange send {p['partner']} --include-earlier` if they were never uploaded"
            )


def _has_partners(config: Path | None) -> bool:
    """Whether the config names any clearinghouse (status also works on a ledger without one)."""
    import tomllib

    from coding.config import DEFAULT_CONFIG_PATH

    p = config or DEFAULT_CONFIG_PATH
    try:
        return bool(tomllib.loads(p.read_text(encoding="utf-8")).get("clearinghouses"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return True  # let _setup report the unreadable file


def _empty(config: Path | None) -> ExchangeConfig:
    from reconcile.exchange.config import ExchangeConfig

    get_config(config)
    return ExchangeConfig({}, {}, [])
