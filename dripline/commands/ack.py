"""CLI commands: ``dripline ack`` — apply 999/997 and 277CA acknowledgments to the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dripline.common import Col, JsonOption, LedgerOption, fail, print_findings, print_json, print_table, say

ACK_COLUMNS = (Col("patient_control_number", "keep"), Col("previous", "keep"), Col("status", "keep"), Col("note"))

if TYPE_CHECKING:  # annotations only: the ledger code is imported when a command runs
    from reconcile.claims.acks import AckResult


def _print_result(res: AckResult) -> None:
    if res.duplicate:
        say(f"{res.file}: already applied; nothing changed")
        return
    say(
        f"{res.file}: {res.kind} — {len(res.updates)} claim status change(s), "
        f"{len(res.unchanged)} kept, {len(res.unknown)} unknown reference(s)"
    )
    if res.updates or res.unchanged:
        rows = [[u["patient_control_number"], u["previous"], u["status"], ""] for u in res.updates]
        rows += [[u["patient_control_number"], u["previous"], u["status"], u.get("reason", "")] for u in res.unchanged]
        print_table(ACK_COLUMNS, rows)
    print_findings(res.findings, title=f"Findings: {Path(res.file).name}")


def register(app: typer.Typer) -> None:
    """Add ``ack`` to the app."""

    @app.command("ack")
    def ack(
        files: list[Path] = typer.Argument(..., help="999, 997, TA1 or 277CA files."),
        ledger: str | None = LedgerOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Read 999/277CA acknowledgments and update claim status in the ledger.

        999: claims of accepted/rejected transaction sets (matched by GS06 + ST02) become
        accepted/rejected with the IK3/IK4 errors. 277CA: claims matched by patient control number
        take the STC category status (acknowledged, accepted, rejected, pended, ...) and the payer
        claim number. Unknown references are reported. Exit 1 when a file is not an acknowledgment.
        """
        from dripline.common import open_ledger
        from reconcile.claims.acks import apply_ack_file

        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            fail([f"acknowledgment file not found: {m}" for m in missing])
        conn = open_ledger(ledger)
        results = [apply_ack_file(conn, f) for f in files]
        if as_json:
            print_json({"files": [r.to_dict() for r in results]})
        else:
            for r in results:
                _print_result(r)
        if any(f.code == "ack-empty" for r in results for f in r.findings):
            raise typer.Exit(1)
