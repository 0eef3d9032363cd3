"""``exchange receive``: fetch the partner's responses, apply them, record what each one did.

For each partner: list ``receive_dir``; a file is new unless one with the same name, size and
sha256 was already handled (a file with the same name, size and modification time is taken as
handled without downloading it again). Each new file is downloaded into the inbox under a hidden
temporary name (mode 0600), flushed to disk and only then renamed to its own name, so a dropped
connection never leaves a partial file where anything reads it; the download is recorded
(``downloaded``). The files are then classified by their content and applied in the order the
answers come (TA1, 999/997, 277CA, then 835) through the library code of ``ack`` and ``remit
post``; anything else is kept in the inbox and reported. Each file's outcome is recorded:
``applied``, ``duplicate`` (already applied), ``kept`` (not something dripline applies), ``error``
(its content could not be applied) or ``failed`` (an I/O or network problem: tried again on the
next run, the other files are not held up). With ``delete_after_download`` a file is removed from
the mailbox only once it is on disk and its outcome is recorded, and never while it is ``failed``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coding.config import Config
from coding.findings import Finding, error, info, warning
from reconcile.exchange.config import Partner
from reconcile.exchange.mailbox import RETRIES, Mailbox, Opener
from reconcile.exchange.transport import RemoteFile, TransientError, TransportError, is_temp_name, open_transport
from reconcile.ledger import store as L
from reconcile.ledger.db import Connection, Row

DONE = ("applied", "duplicate", "kept", "error")  # outcomes that are final: never fetched again
RETRY = ("failed", "downloaded")
APPLY_ORDER = {"TA1": 0, "999": 1, "997": 1, "277CA": 2, "835": 3, "other": 4}
FileProgress = Callable[[str, int, int], None]  # (file name, bytes done, bytes total)
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


@dataclass
class ReceivedFile:
    partner: str
    remote_name: str
    size: int
    outcome: str
    local_path: str | None = None
    sha256: str | None = None
    kind: str | None = None
    error: str | None = None
    attempts: int = 0
    deleted: bool = False
    summary: dict[str, Any] | None = None
    row_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d.pop("row_id")
        return d


@dataclass
class ReceiveResult:
    files: list[ReceivedFile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    already_seen: int = 0

    @property
    def failed(self) -> bool:
        return any(f.outcome in ("failed", "error") for f in self.files) or any(
            f.severity == "error" for f in self.findings
        )

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.outcome] = counts.get(f.outcome, 0) + 1
        return {
            "files": [f.to_dict() for f in self.files],
            "outcomes": counts,
            "already_seen": self.already_seen,
            "findings": [f.to_dict() for f in self.findings],
        }


def _iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def classify(path: Path) -> str:
    """What a downloaded file holds: 835, TA1, 999, 997, 277CA, or other (not applied)."""
    from edi.ack.read import read_ack
    from edi.x835.probe import probe_835
    from reconcile.claims.acks import is_acknowledgment

    if probe_835(path) is None:
        return "835"
    doc = read_ack(path, filename=str(path))
    return doc.kind if is_acknowledgment(doc) else "other"


def local_name(remote: str) -> str:
    """A safe file name in the inbox for a name from the mailbox (no folders, no hidden names)."""
    name = _UNSAFE.sub("_", remote.replace("/", "_")).lstrip(".") or "file"
    return name[:200]


def _completed(conn: Connection, partner: str, rf: RemoteFile) -> Row | None:
    row: Row | None = conn.execute(
        "SELECT * FROM exchange_received WHERE partner = ? AND remote_name = ? AND size = ? AND remote_mtime IS ? "
        f"AND outcome IN ({','.join('?' * len(DONE))}) ORDER BY id DESC LIMIT 1",
        (partner, rf.name, rf.size, rf.mtime, *DONE),
    ).fetchone()
    return row


def _completed_sha(conn: Connection, partner: str, rf: RemoteFile, sha: str) -> Row | None:
    row: Row | None = conn.execute(
        "SELECT * FROM exchange_received WHERE partner = ? AND remote_name = ? AND size = ? AND sha256 = ? "
        f"AND outcome IN ({','.join('?' * len(DONE))}) ORDER BY id DESC LIMIT 1",
        (partner, rf.name, rf.size, sha, *DONE),
    ).fetchone()
    return row


def _retry_row(conn: Connection, partner: str, rf: RemoteFile) -> Row | None:
    row: Row | None = conn.execute(
        "SELECT * FROM exchange_received WHERE partner = ? AND remote_name = ? AND size = ? "
        f"AND outcome IN ({','.join('?' * len(RETRY))}) ORDER BY id DESC LIMIT 1",
        (partner, rf.name, rf.size, *RETRY),
    ).fetchone()
    return row


def _record_attempt(conn: Connection, partner: str, rf: RemoteFile, entry: ReceivedFile) -> None:
    """Insert or update the file's row with the entry's download outcome (one more attempt)."""
    now = _iso()
    with L.transaction(conn):
        row = _retry_row(conn, partner, rf)
        if row is None:
            cur = conn.execute(
                "INSERT INTO exchange_received (partner, remote_name, size, remote_mtime, sha256, local_path, kind, "
                "outcome, error, attempts, first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, 1, ?, ?)",
                (
                    partner,
                    rf.name,
                    rf.size,
                    rf.mtime,
                    entry.sha256,
                    entry.local_path,
                    entry.outcome,
                    entry.error,
                    now,
                    now,
                ),
            )
            entry.row_id, entry.attempts = L.inserted_id(cur), 1
        else:
            conn.execute(
                "UPDATE exchange_received SET remote_mtime = ?, sha256 = ?, local_path = ?, outcome = ?, error = ?, "
                "attempts = attempts + 1, updated_at = ? WHERE id = ?",
                (rf.mtime, entry.sha256, entry.local_path, entry.outcome, entry.error, now, row["id"]),
            )
            entry.row_id, entry.attempts = row["id"], row["attempts"] + 1


def _record_outcome(conn: Connection, entry: ReceivedFile) -> None:
    with L.transaction(conn):
        conn.execute(
            "UPDATE exchange_received SET kind = ?, outcome = ?, error = ?, summary = ?, updated_at = ? WHERE id = ?",
            (
                entry.kind,
                entry.outcome,
                entry.error,
                json.dumps(entry.summary, default=str) if entry.summary is not None else None,
                _iso(),
                entry.row_id,
            ),
        )


def _mark_deleted(conn: Connection, row_id: int) -> None:
    with L.transaction(conn):
        conn.execute("UPDATE exchange_received SET deleted_at = ? WHERE id = ?", (_iso(), row_id))


def _inbox(folder: Path) -> Path:
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700)
        os.chmod(folder, 0o700)
    elif not folder.is_dir():
        raise TransportError(f"inbox {folder} is not a folder")
    return folder


def _publish_local(tmp: Path, folder: Path, name: str, sha: str) -> Path:
    """Give the finished download its own name without overwriting a different file."""
    stem, dot, suffix = name.partition(".")
    n = 0
    while True:
        candidate = folder / (name if n == 0 else f"{stem}.{n}{dot}{suffix}")
        try:
            os.link(tmp, candidate)
        except FileExistsError:
            if candidate.is_file() and _sha_file(candidate) == sha:
                tmp.unlink()
                return candidate
            n += 1
            continue
        tmp.unlink()
        return candidate


def _sha_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(
    mailbox: Mailbox, partner: Partner, rf: RemoteFile, folder: Path, progress: FileProgress | None
) -> tuple[Path, str]:
    """Download into a hidden temporary file, fsync, check the size, then rename into place."""

    def fetch(t: Any) -> tuple[Path, str]:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{local_name(rf.name)}.", suffix=".part")  # 0600
        tmp = Path(tmp_name)
        try:
            h = hashlib.sha256()
            with os.fdopen(fd, "wb") as raw:

                class _Out:
                    def write(self, block: bytes) -> int:
                        h.update(block)
                        return raw.write(block)

                cb = (lambda done: progress(rf.name, done, rf.size)) if progress else None
                got = t.download(partner.receive_dir, rf.name, _Out(), cb)
                raw.flush()
                os.fsync(raw.fileno())
            if got != rf.size:
                raise TransientError(f"{rf.name}: {got} bytes arrived of {rf.size}")
            return _publish_local(tmp, folder, local_name(rf.name), h.hexdigest()), h.hexdigest()
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    result: tuple[Path, str] = mailbox.run(fetch)
    return result


def _apply(conn: Connection, cfg: Config, entry: ReceivedFile, result: ReceiveResult) -> None:
    """Classify and apply one downloaded file; set its kind, outcome and summary."""
    from reconcile.claims.acks import apply_ack_file
    from reconcile.posting.matching import PayerDirectory
    from reconcile.posting.post import post_files

    path = Path(entry.local_path or "")
    entry.kind = entry.kind or classify(path)
    if entry.kind == "835":
        res = post_files(conn, [path], payers=PayerDirectory.from_config(cfg)).files[0]
        result.findings.extend(res.findings)
        entry.summary = res.to_dict(findings=False)
        entry.outcome = {"posted": "applied", "duplicate": "duplicate"}.get(res.status, "error")
        if entry.outcome == "error":
            entry.error = "; ".join(f.message for f in res.findings if f.severity == "error")[:500] or res.status
    elif entry.kind == "other":
        entry.outcome = "kept"
        result.findings.append(
            warning(
                "exchange-kept-file",
                f"{entry.partner}: {entry.remote_name} is not a TA1, 999/997, 277CA or 835; "
                "kept in the inbox, not applied",
                file=str(path),
            )
        )
    else:
        ack = apply_ack_file(conn, path)
        result.findings.extend(ack.findings)
        entry.summary = {
            "kind": ack.kind,
            "updates": len(ack.updates),
            "unchanged": len(ack.unchanged),
            "unknown": len(ack.unknown),
        }
        empty = [f for f in ack.findings if f.code == "ack-empty"]
        entry.outcome = "duplicate" if ack.duplicate else "error" if empty else "applied"
        if empty:
            entry.error = empty[0].message


def _error_text(exc: BaseException) -> str:
    """What went wrong, for the ledger: transport and I/O messages (no file content), else the type."""
    if isinstance(exc, TransportError):
        return str(exc)[:500]
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or ''}".strip()
    return type(exc).__name__


def receive_files(
    conn: Connection,
    cfg: Config,
    partners: list[Partner],
    inbox: Path | None = None,
    *,
    opener: Opener = open_transport,
    retries: int = RETRIES,
    progress: FileProgress | None = None,
) -> ReceiveResult:
    """Fetch, apply and record every new file of each partner; see the module docstring.

    ``inbox``: where downloads are kept (default ``./inbox/PARTNER``); with several partners each
    gets ``inbox/PARTNER``.
    """
    result = ReceiveResult()
    for partner in partners:
        if inbox is None:
            folder = Path("inbox") / partner.name
        else:
            folder = inbox if len(partners) == 1 else inbox / partner.name
        _receive_partner(conn, cfg, partner, folder, result, opener, retries, progress)
    return result


def _receive_partner(
    conn: Connection,
    cfg: Config,
    partner: Partner,
    folder: Path,
    result: ReceiveResult,
    opener: Opener,
    retries: int,
    progress: FileProgress | None,
) -> None:
    mailbox = Mailbox(partner, opener, retries)
    try:
        try:
            _inbox(folder)
            listing = mailbox.run(lambda t: t.list_files(partner.receive_dir))
        except (TransportError, OSError) as exc:
            result.findings.append(error("exchange-receive-failed", f"{partner.name}: {_error_text(exc)}"))
            return
        fetched: list[ReceivedFile] = []
        for rf in listing:
            if rf.name.startswith(".") or is_temp_name(rf.name):
                continue  # a file still being written by the partner, or a hidden one
            done = _completed(conn, partner.name, rf)
            if done is not None:
                result.already_seen += 1
                if partner.delete_after_download and done["deleted_at"] is None:
                    _delete(conn, mailbox, partner, rf.name, done["id"], result)
                continue
            entry = ReceivedFile(partner.name, rf.name, rf.size, "failed")
            try:
                path, sha = _download(mailbox, partner, rf, folder, progress)
            except (TransportError, OSError) as exc:
                entry.error = _error_text(exc)
                _record_attempt(conn, partner.name, rf, entry)
                result.files.append(entry)
                result.findings.append(
                    error(
                        "exchange-download-failed",
                        f"{partner.name}: {rf.name} not downloaded ({entry.error}); tried again next run",
                    )
                )
                if isinstance(exc, TransientError):
                    break  # the connection is gone after every retry: the rest waits for the next run
                continue
            seen = _completed_sha(conn, partner.name, rf, sha)
            if seen is not None:  # same name, size and content as a file already handled
                result.already_seen += 1
                with L.transaction(conn):
                    conn.execute("UPDATE exchange_received SET remote_mtime = ? WHERE id = ?", (rf.mtime, seen["id"]))
                if Path(seen["local_path"] or "") != path:
                    path.unlink(missing_ok=True)
                if partner.delete_after_download and seen["deleted_at"] is None:
                    _delete(conn, mailbox, partner, rf.name, seen["id"], result)
                continue
            entry.local_path, entry.sha256, entry.outcome = str(path), sha, "downloaded"
            _record_attempt(conn, partner.name, rf, entry)
            fetched.append(entry)
        fetched.sort(key=_apply_rank)
        for entry in fetched:
            try:
                _apply(conn, cfg, entry, result)
            except Exception as exc:  # one file's failure never holds up the others
                entry.outcome, entry.error = "failed", _error_text(exc)
                result.findings.append(
                    error(
                        "exchange-apply-failed",
                        f"{partner.name}: {entry.remote_name} could not be applied ({entry.error}); tried again next run",
                        file=entry.local_path,
                    )
                )
            _record_outcome(conn, entry)
            result.files.append(entry)
            if entry.outcome in DONE and partner.delete_after_download and entry.row_id is not None:
                entry.deleted = _delete(conn, mailbox, partner, entry.remote_name, entry.row_id, result)
    finally:
        mailbox.close()


def _apply_rank(entry: ReceivedFile) -> int:
    """Where a file comes in the order answers are applied (classified here; a file that cannot
    be classified comes last and fails when it is applied)."""
    try:
        entry.kind = classify(Path(entry.local_path or ""))
    except Exception:
        return len(APPLY_ORDER)
    return APPLY_ORDER.get(entry.kind, len(APPLY_ORDER))


def _delete(
    conn: Connection, mailbox: Mailbox, partner: Partner, name: str, row_id: int, result: ReceiveResult
) -> bool:
    try:
        mailbox.run(lambda t: t.remove(partner.receive_dir, name))
    except TransportError as exc:
        result.findings.append(
            warning("exchange-delete-failed", f"{partner.name}: {name} not removed from the mailbox: {exc}")
        )
        return False
    _mark_deleted(conn, row_id)
    return True


def describe(result: ReceiveResult) -> Finding | None:
    """An info finding when nothing new arrived."""
    if not result.files:
        return info("exchange-nothing-new", f"no new file in the mailbox ({result.already_seen} handled before)")
    return None
