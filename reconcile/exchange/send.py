"""``exchange send``: upload every recorded 837 interchange not yet sent to its partner.

What is sent: interchanges ``claims build`` recorded (status ``recorded``), whose file is in place
under its final name, and no partner has been sent yet. Never a file the ledger did not record, one refused by validation (``*.refused``,
status ``refused``), one recorded with validation errors (``recorded-invalid``), one already
answered by an acknowledgment or remittance (it reached the payer some other way), nor one whose
bytes differ from the sha256 recorded when it was built. Its ISA15 must be the partner's
``usage`` (T or P). The partner is the one named by the payer profile of the interchange's
transaction sets (``clearinghouse``), or the only partner configured.

How: a row ``uploading`` is written first, then the file is uploaded under a hidden temporary
name, its size on the server checked, and renamed to its final name; the row then becomes
``sent`` with the time. A run interrupted after the rename finds the file under its final name
with the right size next time and records it as sent instead of uploading it twice.

Where sending starts: the first ``exchange send`` for a partner records a cut-off (the last
interchange recorded by then, table ``exchange_partners``). Interchanges up to it were built
before the partner was set up and may have been uploaded by hand already; sending them again
would bill the payer twice, so they are held back and reported, and go out only with
``include_earlier``. The cut-off is the first *send*, not the first time any exchange command
saw the partner: between configuring a partner and first sending through it a practice may still
upload by hand, so only the moment it first asks dripline to send marks what dripline owns. A
partner with an upload started (an ``exchange_sent`` row) already has send history: an
interrupted upload is finished whatever the cut-off. Interchange ids only grow, so the cut-off is
an id rather than a time (no clock or time-format question); a file a concurrent build reserved
before the first send and recorded after it is held back too, the safe side. A dry run reads the ledger and the recorded
files, connects to nothing and records nothing (not even the cut-off).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coding.findings import Finding, error, info, warning
from reconcile.exchange.config import ExchangeConfig, Partner
from reconcile.exchange.mailbox import RETRIES, Mailbox, Opener
from reconcile.exchange.transport import (
    RemoteExists,
    TransientError,
    Transport,
    TransportError,
    is_temp_name,
    open_transport,
)
from reconcile.ledger import store as L
from reconcile.ledger.db import Connection, IntegrityError, Row

SENDABLE = "recorded"
ANSWERED = frozenset({"accepted", "rejected", "partial"})
FileProgress = Callable[[str, int, int], None]  # (file name, bytes done, bytes total)


@dataclass
class SentFile:
    interchange_id: int
    isa13: int
    path: str
    partner: str | None
    status: str  # sent / refused / failed / skipped / held (built before the partner) / would-send (dry run)
    remote_name: str | None = None
    size: int | None = None
    sha256: str | None = None
    sent_at: str | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SendResult:
    files: list[SentFile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    dry_run: bool = False

    @property
    def sent(self) -> int:
        return sum(1 for f in self.files if f.status == "sent")

    @property
    def would_send(self) -> int:
        return sum(1 for f in self.files if f.status == "would-send")

    @property
    def held(self) -> list[SentFile]:
        """Files built before their partner was set up, not sent."""
        return [f for f in self.files if f.status == "held"]

    @property
    def problems(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "dry_run": self.dry_run,
            "would_send": self.would_send,
            "built_before_setup": [{"partner": f.partner, "isa13": f.isa13, "path": f.path} for f in self.held],
            "files": [f.to_dict() for f in self.files],
            "findings": [f.to_dict() for f in self.findings],
        }


def partner_cutoff(conn: Connection, partner: str) -> int | None:
    """The last interchange built before ``partner`` was set up (its first send), or None before that."""
    row = conn.execute("SELECT cutoff_interchange FROM exchange_partners WHERE partner = ?", (partner,)).fetchone()
    return None if row is None else int(row[0])


def last_interchange(conn: Connection) -> int:
    """The highest interchange id recorded so far (0 for none); ids only grow, rows are never deleted."""
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM interchanges").fetchone()[0])


def cutoffs_now(conn: Connection, names: list[str]) -> dict[str, int]:
    """Each partner's cut-off, or for one never sent through, what its first send would record now."""
    latest = last_interchange(conn)
    out: dict[str, int] = {}
    for name in names:
        known = partner_cutoff(conn, name)
        out[name] = latest if known is None else known
    return out


def record_first_send(conn: Connection, partner: str, now: datetime) -> int:
    """The partner's cut-off, recorded now when this is its first send (two runs at once agree)."""
    with L.transaction(conn):
        conn.execute(
            "INSERT INTO exchange_partners (partner, first_send_at, cutoff_interchange, origin) "
            "SELECT ?, ?, COALESCE(MAX(id), 0), 'first-send' FROM interchanges WHERE TRUE"
            " ON CONFLICT (partner) DO NOTHING",
            (partner, now.isoformat()),
        )
    cutoff = partner_cutoff(conn, partner)
    assert cutoff is not None
    return cutoff


def built_before_setup(conn: Connection, ic: Row, cutoff: int | None) -> bool:
    """Whether ``ic`` was recorded before its partner's cut-off and no upload of it ever started."""
    return cutoff is not None and ic["id"] <= cutoff and _already_sent(conn, ic["id"]) is None


def held_finding(partner: str, files: list[str]) -> Finding:
    """One finding for every file of ``partner`` held back because it predates the partner."""
    return warning(
        "exchange-built-before-setup",
        f"{len(files)} file(s) built before clearinghouse {partner} was set up: not sent; send them with "
        f"`dripline exchange send {partner} --include-earlier` if they were never uploaded: {', '.join(files)}",
        field=f"clearinghouses.{partner}",
    )


def read_isa15(data: bytes) -> str | None:
    """ISA15 (usage indicator) of the first interchange in ``data``; None when there is no ISA."""
    at = data.find(b"ISA")
    if at < 0 or len(data) < at + 4:
        return None
    sep = data[at + 3 : at + 4]
    elements = data[at : at + 200].split(sep)
    return elements[15].decode("ascii", "replace").strip() if len(elements) > 15 else None


def _payers(conn: Connection, interchange_id: int) -> list[str]:
    """The payers of an interchange in code-point order (sorted here: not by the database's collation)."""
    rows = conn.execute("SELECT DISTINCT payer FROM transactions WHERE interchange_id = ?", (interchange_id,))
    return sorted(r[0] or "" for r in rows)


def _already_sent(conn: Connection, interchange_id: int) -> Row | None:
    row: Row | None = conn.execute("SELECT * FROM exchange_sent WHERE interchange_id = ?", (interchange_id,)).fetchone()
    return row


def _answered(conn: Connection, interchange_id: int) -> bool:
    """Whether an acknowledgment or remittance already answered a claim of the interchange."""
    return (
        conn.execute(
            "SELECT 1 FROM claim_status_history h JOIN claims c ON c.id = h.claim_id "
            "JOIN transactions t ON t.id = c.transaction_id WHERE t.interchange_id = ? "
            "AND h.source IN ('TA1', '999', '997', '277CA', '835') LIMIT 1",
            (interchange_id,),
        ).fetchone()
        is not None
    )


def pending_interchanges(conn: Connection, xc: ExchangeConfig) -> list[tuple[Row, str | None, list[Finding]]]:
    """Recorded 837 interchanges not yet sent, each with its partner (None when it has none) and
    findings that keep it from being sent."""
    out: list[tuple[Row, str | None, list[Finding]]] = []
    rows = conn.execute(
        "SELECT * FROM interchanges WHERE path IS NOT NULL AND claim_type LIKE '837%' "
        "AND status NOT IN ('reserved', 'refused', 'failed') "
        "AND temp_path IS NULL ORDER BY id"  # a file still under its temporary name is not in place yet
    ).fetchall()
    for ic in rows:
        sent = _already_sent(conn, ic["id"])
        if sent is not None and sent["status"] == "sent":
            continue
        found: list[Finding] = []
        payers = _payers(conn, ic["id"])
        partners = {xc.partner_for_payer(p) for p in payers}
        partner = next(iter(partners)) if len(partners) == 1 else None
        if sent is not None:
            partner = sent["partner"]  # an interrupted upload finishes where it started
        elif None in partners:
            found.append(
                error(
                    "exchange-no-partner",
                    f"interchange {ic['isa13']:09d}: payer(s) {', '.join(p for p in payers if xc.partner_for_payer(p) is None)} "
                    'name no clearinghouse (set clearinghouse = "NAME" in the payer profile); not sent',
                    file=ic["path"],
                )
            )
        elif len(partners) > 1:
            found.append(
                error(
                    "exchange-mixed-partners",
                    f"interchange {ic['isa13']:09d} holds claims for payers sent through different clearinghouses "
                    f"({', '.join(sorted(p for p in partners if p))}); not sent",
                    file=ic["path"],
                )
            )
        if ic["status"] == "recorded-invalid":
            found.append(
                warning(
                    "exchange-invalid-file",
                    f"interchange {ic['isa13']:09d} was recorded with validation errors; not sent",
                    file=ic["path"],
                )
            )
        elif sent is None and (ic["status"] in ANSWERED or _answered(conn, ic["id"])):
            continue  # answered already: it reached the payer without this exchange
        elif ic["status"] != SENDABLE and sent is None:
            found.append(
                warning(
                    "exchange-not-sendable",
                    f"interchange {ic['isa13']:09d} has status {ic['status']}; not sent",
                    file=ic["path"],
                )
            )
        out.append((ic, partner, found))
    return out


def _check_file(ic: Row, partner: Partner) -> tuple[bytes | None, Finding | None]:
    path = Path(ic["path"])
    if path.name.endswith(".refused"):
        return None, error("exchange-refused-file", "a file refused by validation is never sent", file=str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, error("exchange-file-missing", f"cannot read the recorded file: {exc.strerror}", file=str(path))
    sha = hashlib.sha256(data).hexdigest()
    if ic["sha256"] and sha != ic["sha256"]:
        return None, error(
            "exchange-file-changed",
            "the file's bytes differ from what the ledger recorded when it was built (sha256); not sent",
            file=str(path),
        )
    usage = read_isa15(data)
    if usage != partner.usage:
        return None, error(
            "exchange-usage-mismatch",
            f"ISA15 is {usage or '(none)'} but clearinghouse {partner.name} takes usage {partner.usage}; not sent",
            file=str(path),
            segment="ISA",
            element="ISA15",
        )
    return data, None


def _checked_entry(ic: Row, partner: Partner, status: str, result: SendResult) -> tuple[SentFile, bytes | None]:
    """The file's entry in ``result`` (``status`` until it is sent) and its bytes, checked by
    :func:`_check_file`; a refused file gets status ``refused``, its finding, and no bytes."""
    entry = SentFile(ic["id"], ic["isa13"], ic["path"], partner.name, status)
    result.files.append(entry)
    data, problem = _check_file(ic, partner)
    if problem is not None:
        entry.status, entry.message = "refused", problem.message
        result.findings.append(problem)
        return entry, None
    assert data is not None
    entry.sha256, entry.size = hashlib.sha256(data).hexdigest(), len(data)
    return entry, data


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC).replace(microsecond=0)


def send_files(
    conn: Connection,
    xc: ExchangeConfig,
    partners: list[Partner],
    *,
    now: datetime | None = None,
    opener: Opener = open_transport,
    retries: int = RETRIES,
    progress: FileProgress | None = None,
    include_earlier: bool = False,
    dry_run: bool = False,
) -> SendResult:
    """Send every pending interchange whose partner is in ``partners``; see the module docstring.

    ``include_earlier``: also send files built before the partner's first send (the cut-off).
    ``dry_run``: list what would be sent; connect to nothing, record nothing.
    """
    result = SendResult(dry_run=dry_run)
    wanted = {p.name: p for p in partners}
    if dry_run:
        cutoffs = cutoffs_now(conn, list(wanted))
    else:
        cutoffs = {name: record_first_send(conn, name, _now(now)) for name in wanted}
    todo: dict[str, list[Row]] = {}
    held: dict[str, list[str]] = {}
    every_partner = set(wanted) == set(xc.partners)
    for ic, partner_name, found in pending_interchanges(conn, xc):
        if partner_name not in wanted and (partner_name is not None or not every_partner):
            continue  # another partner's file (or one with none, reported when every partner runs)
        if found:
            result.findings.extend(found)
            result.files.append(
                SentFile(ic["id"], ic["isa13"], ic["path"], partner_name, "refused", message=found[0].message)
            )
            continue
        assert partner_name is not None
        if not include_earlier and built_before_setup(conn, ic, cutoffs.get(partner_name)):
            result.files.append(
                SentFile(
                    ic["id"],
                    ic["isa13"],
                    ic["path"],
                    partner_name,
                    "held",
                    message="built before this partner was set up: not sent",
                )
            )
            held.setdefault(partner_name, []).append(ic["path"])
            continue
        todo.setdefault(partner_name, []).append(ic)
    for name, paths in held.items():
        result.findings.append(held_finding(name, paths))
    for name, ics in todo.items():
        if dry_run:
            _list_partner(conn, wanted[name], ics, result)
        else:
            _send_partner(conn, wanted[name], ics, result, _now(now), opener, retries, progress)
    if not result.files:
        result.findings.append(info("exchange-nothing-to-send", "no recorded claim file waits to be sent"))
    return result


def _list_partner(conn: Connection, partner: Partner, ics: list[Row], result: SendResult) -> None:
    """A dry run: each file as the real run would treat it, checked locally, without connecting."""
    for ic in ics:
        entry, data = _checked_entry(ic, partner, "would-send", result)
        if data is None:
            continue
        row = _already_sent(conn, ic["id"])
        if row is not None:
            entry.remote_name = row["remote_name"]
            entry.message = "an interrupted upload: the server is checked for it first"


def _send_partner(
    conn: Connection,
    partner: Partner,
    ics: list[Row],
    result: SendResult,
    now: datetime,
    opener: Opener,
    retries: int,
    progress: FileProgress | None,
) -> None:
    mailbox = Mailbox(partner, opener, retries)
    try:
        for i, ic in enumerate(ics):
            entry, data = _checked_entry(ic, partner, "failed", result)
            if data is None or entry.sha256 is None:
                continue
            try:
                _send_one(conn, mailbox, partner, ic, Path(ic["path"]), len(data), entry.sha256, entry, now, progress)
            except TransportError as exc:
                entry.message = str(exc)
                result.findings.append(error("exchange-send-failed", f"{partner.name}: {exc}", file=ic["path"]))
                if isinstance(exc, TransientError) or not mailbox.connected:
                    # no connection (host key, login, network gone after every retry): the other
                    # files would fail the same way; they wait for the next run
                    for rest in ics[i + 1 :]:
                        result.files.append(
                            SentFile(
                                rest["id"],
                                rest["isa13"],
                                rest["path"],
                                partner.name,
                                "failed",
                                message="not attempted: no connection to the clearinghouse",
                            )
                        )
                    return
    finally:
        mailbox.close()


def _remove_our_partial_uploads(t: Transport, folder: str, remote: str) -> None:
    """Remove what a dropped upload of ``remote`` left under its temporary name."""
    for f in t.list_files(folder):
        if is_temp_name(f.name) and f.name.startswith(f".{remote}."):
            t.remove(folder, f.name)


def _send_one(
    conn: Connection,
    mailbox: Mailbox,
    partner: Partner,
    ic: Row,
    path: Path,
    size: int,
    sha: str,
    entry: SentFile,
    now: datetime,
    progress: FileProgress | None,
) -> None:
    row = _already_sent(conn, ic["id"])
    if row is None:
        remote = partner.remote_name(path, ic["isa13"], ic["gs06"], ic["claim_type"], now)
        try:
            with L.transaction(conn):
                conn.execute(
                    "INSERT INTO exchange_sent (interchange_id, partner, remote_name, status, sha256, size, started_at) "
                    "VALUES (?, ?, ?, 'uploading', ?, ?, ?)",
                    (ic["id"], partner.name, remote, sha, size, now.isoformat()),
                )
        except IntegrityError:  # another run started sending it a moment ago
            entry.status, entry.message = "skipped", "being sent by another run"
            return
        there: int | None = None
    else:
        remote = row["remote_name"]
        # an earlier run stopped after starting this upload: the file may be there already
        there = mailbox.run(lambda t: t.size(partner.send_dir, remote))
    entry.remote_name = remote
    note = None
    if there is not None and there == size:
        note = "found on the server after an interrupted run; not uploaded again"
    else:
        if there is not None:
            raise TransportError(
                f"{remote} is on the server with {there} bytes, not the {size} sent; left for a person to check"
            )
        cb = (lambda done: progress(path.name, done, size)) if progress else None
        tries = [0 if row is None else 1]

        def upload(t: Transport) -> int:
            tries[0] += 1
            if tries[0] > 1:  # a retry: the connection may have dropped after the rename
                found = t.size(partner.send_dir, remote)
                if found == size:
                    return found
                _remove_our_partial_uploads(t, partner.send_dir, remote)
            return t.upload(path, partner.send_dir, remote, cb)

        try:
            got = mailbox.run(upload)
        except RemoteExists:
            # nothing was published under the name: forget it, so a later run never mistakes
            # the other file for this one
            with L.transaction(conn):
                conn.execute("DELETE FROM exchange_sent WHERE interchange_id = ? AND status = 'uploading'", (ic["id"],))
            raise
        if got != size:
            raise TransportError(f"{remote}: the server holds {got} bytes of {size}")
    sent_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    with L.transaction(conn):
        conn.execute(
            "UPDATE exchange_sent SET status = 'sent', sent_at = ?, note = ? WHERE interchange_id = ?",
            (sent_at, note, ic["id"]),
        )
    entry.status, entry.sent_at, entry.message = "sent", sent_at, note
