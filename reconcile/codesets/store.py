"""Load CMS code-set files into the ledger and list what is loaded.

:func:`load_path` reads a file or zip, picks each data member by content, skips a member whose
sha256 is already loaded, and streams the parser's rows into the kind's table over fixed-size
chunks in one ``BEGIN IMMEDIATE`` transaction (a million-row PTP file loads with flat memory; a
failure leaves nothing behind): ``executemany`` on SQLite, ``COPY … FROM STDIN`` on PostgreSQL
(where a statement per row costs a round trip: ``COPY`` loads several times faster). Rows the parser rejects are
findings with file and line; the other rows load. A member that yields no row, or whose effective
date cannot be told (not given, not in the content nor the name), is not stored.

Effective period: ``--effective`` wins; then the period the content states (the ASP period row);
then the quarter in the file name; then the quarter of the newest effective/action date in the
content (HCPCS, PTP). The end is the content's "through" date when stated, else the day before
the next set of the kind starts. Within one kind and start date, a later file replaces an
earlier one of the same part (a corrected re-post); PTP parts f1-f4 together form one set.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from coding.findings import Finding
from reconcile.codesets.formats import PARSERS, mue, ptp
from reconcile.codesets.formats.common import ParseContext
from reconcile.codesets.formats.detect import KINDS, detect_kind, quarter_from_name
from reconcile.codesets.sources import Member, UnreadableInput, head_lines, iter_lines, members, sha256_of
from reconcile.ledger.db import Connection, IntegrityError, PgConnection
from reconcile.ledger.store import inserted_id, transaction

__all__ = [
    "CHUNK_ROWS",
    "KINDS",
    "LoadResult",
    "SetInfo",
    "UnreadableInput",
    "incomplete_sets",
    "list_sets",
    "load_path",
    "quarter_start",
    "set_label",
    "stale_kinds",
]

CHUNK_ROWS = 20_000

Progress = Callable[[str, int, int], None]  # (member name, bytes done, bytes total)

_TABLES: dict[str, tuple[str, int]] = {
    "hcpcs": (
        "codeset_hcpcs (set_id, code, is_modifier, added, terminated, action, description, short_description)",
        8,
    ),
    "asp": ("codeset_asp (set_id, code, dosage_text, quantity, unit, payment_limit)", 6),
    "asp-ndc": ("codeset_asp_ndc (set_id, ndc, code, units_per_item, units_per_package)", 5),
    "ptp": ("codeset_ptp (set_id, column1, column2, effective, deleted, indicator, line)", 7),
    "mue": ("codeset_mue (set_id, code, value, indicator, rationale)", 5),
    "pfs-rvu": (
        "codeset_pfs_rvu (set_id, code, modifier, status, work_rvu, pe_nonfacility_rvu, pe_facility_rvu,"
        " mp_rvu, conversion_factor)",
        9,
    ),
    "gpci": ("codeset_gpci (set_id, mac, locality, state, work_gpci, pe_gpci, mp_gpci)", 7),
    "opps-b": ("codeset_opps_b (set_id, code, status_indicator, apc, payment_rate)", 5),
}

_LABELS = {
    "hcpcs": "HCPCS",
    "asp": "ASP",
    "asp-ndc": "ASP NDC",
    "ptp-practitioner": "PTP practitioner",
    "ptp-hospital": "PTP hospital",
    "mue-practitioner": "MUE practitioner",
    "mue-facility": "MUE facility",
    "pfs-rvu": "PFS",
    "gpci": "GPCI",
    "opps-b": "OPPS B",
}


def _write_rows(conn: Connection, columns: str, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` into ``columns`` (``table (col, …)``): one ``COPY`` on PostgreSQL (values
    dumped by the connection's adapters, as its statements dump them), ``executemany(sql)`` else."""
    if isinstance(conn, PgConnection):
        with conn.raw.cursor() as cur, cur.copy(f"COPY {columns} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    conn.executemany(sql, rows)


def table_of(kind: str) -> str:
    return kind.split("-")[0] if kind.startswith(("ptp", "mue")) else kind


def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def set_label(kind: str, start: date) -> str:
    """ "ASP 2026Q3" for a quarter start, else "ASP 2026-07-15"."""
    when = f"{start.year}Q{(start.month - 1) // 3 + 1}" if start == quarter_start(start) else start.isoformat()
    return f"{_LABELS.get(kind, kind)} {when}"


@dataclass
class LoadResult:
    """What became of one member: ``loaded``, ``already-loaded``, ``skipped`` (not a code-set
    layout inside a zip) or ``refused`` (nothing stored; see findings)."""

    file: str
    status: str
    kind: str | None = None
    sha256: str | None = None
    rows: int = 0
    effective_from: date | None = None
    effective_to: date | None = None
    label: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "status": self.status,
            "kind": self.kind,
            "sha256": self.sha256,
            "rows": self.rows,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "label": self.label,
            "findings": [f.to_dict() for f in self.findings],
        }


#: Companion tables CMS ships in the same zip with the same columns: chosen by name, not loaded.
_OTHER_TABLES: dict[str, re.Pattern[str]] = {
    "asp": re.compile(r"not[ _-]?payable|(?<![a-z])noc(?![a-z])|awp|opps|prep|restated"),
    "asp-ndc": re.compile(r"awp|opps|prep|not[ _-]?payable"),
}


def _part_of(kind: str, name: str) -> str:
    if kind == "pfs-rvu":  # the QPP twin (other conversion factor) is its own part of the quarter
        return "qpp" if re.search(r"(?<!non)(?<!non_)(?<!non-)qpp", name.lower()) else ""
    if kind.startswith("ptp"):
        m = re.search(r"-f(\d)(?:\D|$)", name.lower())
        if m:
            return f"f{m.group(1)}"
    return ""


def _same_family(a: str, b: str) -> bool:
    return table_of(a) == table_of(b)


def _candidates(path: Path, kind: str | None) -> list[tuple[Member, str | None, str, bool]]:
    """(member, detected kind, why, utf8) of every member of ``path``."""
    out = []
    for m in members(path):
        try:
            head, utf8 = head_lines(m)
        except (OSError, ValueError) as exc:
            raise UnreadableInput(f"cannot read {m.name}: {exc}") from None
        hint = f"{m.container} {m.member_name}"
        detected, why = detect_kind(head, hint)
        if detected is None and kind is not None:
            # a PTP/MUE layout whose setting neither the name nor the header states: --kind gives it
            family = {"ptp": ptp.looks_like, "mue": mue.looks_like}.get(table_of(kind))
            if family is not None and family(head):
                detected = kind
        out.append((m, detected, why, utf8))
    return out


def load_path(
    conn: Connection,
    path: Path,
    kind: str | None = None,
    effective: date | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> list[LoadResult]:
    """Load every code-set member of ``path`` (a file or a zip); one result per member.

    Raises :class:`UnreadableInput` when the path cannot be read at all.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    found = _candidates(path, kind)
    results: list[LoadResult] = []
    in_zip = any(m.container for m, *_ in found)
    chosen = []
    for m, detected, why, utf8 in found:
        if kind is not None and detected is not None and detected != kind:
            if in_zip and not _same_family(detected, kind):
                results.append(LoadResult(m.name, "skipped", detected, findings=[]))
                continue
            results.append(
                LoadResult(
                    m.name,
                    "refused",
                    detected,
                    findings=[
                        Finding("error", "codeset-kind-mismatch", f"content is {detected}, not {kind}", file=m.name)
                    ],
                )
            )
            continue
        if detected is None and (kind is None or in_zip):
            if in_zip:  # documents and other tables of the archive; --kind names the data member's kind
                results.append(
                    LoadResult(
                        m.name, "skipped", None, findings=[Finding("info", "codeset-not-data", why, file=m.name)]
                    )
                )
                continue
            results.append(
                LoadResult(
                    m.name, "refused", None, findings=[Finding("error", "codeset-unknown-kind", why, file=m.name)]
                )
            )
            continue
        found_kind = str(detected or kind)
        other = _OTHER_TABLES.get(found_kind)
        hit = other.search(m.member_name.lower()) if in_zip and other is not None else None
        if hit is not None:
            note = f"a companion table ({hit.group(0)}), not the {found_kind} file"
            results.append(
                LoadResult(
                    m.name, "skipped", detected, findings=[Finding("info", "codeset-not-data", note, file=m.name)]
                )
            )
            continue
        chosen.append((m, kind or detected, utf8))
    if not chosen and not any(r.status == "refused" for r in results):
        results.append(
            LoadResult(
                path.name,
                "refused",
                kind,
                findings=[Finding("error", "codeset-no-data", "no member of a known code-set layout", file=path.name)],
            )
        )
    for m, k, utf8 in chosen:
        assert k is not None
        results.append(_load_member(conn, m, k, utf8, effective, progress, now))
    return results


def _load_member(
    conn: Connection,
    m: Member,
    kind: str,
    utf8: bool,
    effective: date | None,
    progress: Progress | None,
    now: datetime | None,
) -> LoadResult:
    try:
        sha = sha256_of(m)
    except (OSError, ValueError) as exc:
        raise UnreadableInput(f"cannot read {m.name}: {exc}") from None
    res = LoadResult(m.name, "loaded", kind, sha)
    prior = conn.execute(
        "SELECT kind, row_count, effective_from, effective_to, label, source_file FROM codesets WHERE sha256 = ?",
        (sha,),
    ).fetchone()
    if prior is not None:
        res.status = "already-loaded"
        res.kind, res.rows, res.label = prior[0], prior[1], prior[4]
        res.effective_from = date.fromisoformat(prior[2])
        res.effective_to = date.fromisoformat(prior[3]) if prior[3] else None
        res.findings.append(
            Finding(
                "info",
                "codeset-already-loaded",
                f"same content already loaded as {prior[5]}; nothing changed",
                file=m.name,
            )
        )
        return res
    name_start = quarter_from_name(f"{m.container} {m.member_name}", kind) or quarter_from_name(m.member_name, kind)
    ctx = ParseContext(file=m.name, kind=kind)
    columns, width = _TABLES[table_of(kind)]
    sql = f"INSERT INTO {columns} VALUES ({', '.join('?' * width)})"
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    counter = [0]

    class _Refuse(Exception):
        pass

    try:
        with transaction(conn), m.open() as stream:
            cur = conn.execute(
                "INSERT INTO codesets (kind, sha256, source_file, part, effective_from, label, row_count, loaded_at)"
                " VALUES (?, ?, ?, ?, '', '', 0, ?)",
                (kind, sha, m.name, _part_of(kind, m.member_name), stamp),
            )
            set_id = inserted_id(cur)
            rows: Iterator[tuple[Any, ...]] = PARSERS[kind](iter_lines(stream, utf8, counter), ctx)
            tagged: Iterable[tuple[Any, ...]] = ((set_id, *r) for r in rows)
            it = iter(tagged)
            while True:
                chunk = list(itertools.islice(it, CHUNK_ROWS))
                if not chunk:
                    break
                _write_rows(conn, columns, sql, chunk)
                if progress is not None:
                    progress(m.name, counter[0], m.size)
            ctx.close()
            if ctx.setting and kind.startswith("mue") and not kind.endswith(ctx.setting):
                ctx.error("codeset-kind-mismatch", f"the header names the {ctx.setting} table, not {kind}")
                raise _Refuse
            if ctx.rows == 0:
                raise _Refuse
            start = effective or ctx.period_from or name_start
            if start is None and ctx.latest_date is not None and kind != "asp-ndc":
                start = quarter_start(ctx.latest_date)
            if start is None:
                ctx.error(
                    "codeset-no-effective-date",
                    "the effective date is neither in the content nor in the file name: give --effective YYYY-MM-DD",
                )
                raise _Refuse
            end = ctx.period_to if ctx.period_to is not None and ctx.period_to >= start else None
            label = set_label(kind, start)
            conn.execute(
                "UPDATE codesets SET effective_from = ?, effective_to = ?, label = ?, row_count = ?, errors = ?,"
                " warnings = ? WHERE id = ?",
                (
                    start.isoformat(),
                    end.isoformat() if end else None,
                    label,
                    ctx.rows,
                    ctx.n_errors,
                    ctx.n_warnings,
                    set_id,
                ),
            )
            res.rows, res.effective_from, res.effective_to, res.label = ctx.rows, start, end, label
    except _Refuse:
        res.status = "refused"
        res.rows = 0
    except IntegrityError:  # another process loaded the same bytes meanwhile
        res.status = "already-loaded"
        res.findings.append(
            Finding("info", "codeset-already-loaded", "loaded meanwhile by another process", file=m.name)
        )
        return res
    except (OSError, EOFError) as exc:
        raise UnreadableInput(f"cannot read {m.name}: {exc}") from None
    except (ValueError, RuntimeError) as exc:  # zip member CRC/decompression failures
        raise UnreadableInput(f"cannot read {m.name}: {exc}") from None
    if progress is not None:
        progress(m.name, m.size, m.size)
    res.findings.extend(ctx.findings)
    return res


@dataclass
class SetInfo:
    """One loaded file as ``codesets list`` shows it."""

    id: int
    kind: str
    label: str
    source_file: str
    part: str
    effective_from: date
    effective_to: date | None  # stated by the file, else the day before the next set starts
    row_count: int
    errors: int
    warnings: int
    loaded_at: str
    superseded: bool  # a later file of the same kind, start and part replaced it
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "source_file": self.source_file,
            "part": self.part,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "row_count": self.row_count,
            "errors": self.errors,
            "warnings": self.warnings,
            "loaded_at": self.loaded_at,
            "superseded": self.superseded,
            "sha256": self.sha256,
        }


def list_sets(conn: Connection) -> list[SetInfo]:
    """Every loaded file, by kind and start date, with its period end resolved."""
    rows = conn.execute(
        "SELECT id, kind, label, source_file, part, effective_from, effective_to, row_count, errors, warnings,"
        " loaded_at, sha256 FROM codesets WHERE effective_from != '' ORDER BY kind, effective_from, id"
    ).fetchall()
    latest_of: dict[tuple[str, str, str], int] = {}
    starts: dict[str, list[str]] = {}
    for r in rows:
        latest_of[(r[1], r[5], r[4])] = r[0]
        starts.setdefault(r[1], [])
        if r[5] not in starts[r[1]]:
            starts[r[1]].append(r[5])
    out = []
    for r in rows:
        end = date.fromisoformat(r[6]) if r[6] else None
        if end is None:
            later = [s for s in starts[r[1]] if s > r[5]]
            if later:
                end = date.fromisoformat(later[0]) - timedelta(days=1)
        out.append(
            SetInfo(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                date.fromisoformat(r[5]),
                end,
                r[7],
                r[8],
                r[9],
                r[10],
                latest_of[(r[1], r[5], r[4])] != r[0],
                r[11],
            )
        )
    return out


def stale_kinds(sets: list[SetInfo], today: date) -> dict[str, str]:
    """Kinds whose newest set starts before the quarter of ``today``: kind -> warning text."""
    q = quarter_start(today)
    newest: dict[str, SetInfo] = {}
    for s in sets:
        if s.kind not in newest or s.effective_from > newest[s.kind].effective_from:
            newest[s.kind] = s
    out = {}
    for kind, s in sorted(newest.items()):
        if s.effective_from < q or (s.effective_to is not None and s.effective_to < today):
            out[kind] = (
                f"newest {kind} set is {s.label} (from {s.effective_from.isoformat()}); "
                f"the quarter of {today.isoformat()} starts {q.isoformat()}: load the current file"
            )
    return out


#: CMS publishes each quarter's PTP edits of a setting in four files by code range.
PTP_PARTS = ("f1", "f2", "f3", "f4")


def incomplete_sets(sets: list[SetInfo]) -> dict[str, str]:
    """PTP sets (kind and start) holding only some of CMS's four code-range parts: label -> warning.

    Edits whose column 1 code falls in a missing part's range are unknown to the scrubber."""
    parts: dict[tuple[str, date, str], set[str]] = {}
    for s in sets:
        if s.kind.startswith("ptp") and not s.superseded:
            parts.setdefault((s.kind, s.effective_from, s.label), set()).add(s.part)
    out = {}
    for (_kind, _start, label), have in sorted(parts.items()):
        if "" in have:
            continue  # a file whose name states no part: nothing to compare
        missing = [p for p in PTP_PARTS if p not in have]
        if missing:
            out[label] = f"{label}: part(s) {', '.join(missing)} not loaded; their edits are not checked"
    return out
