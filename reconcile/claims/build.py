"""``claims build``: encounters in, validated 837 files out, every claim recorded in the ledger.

Pipeline: validate the whole input (a first pass that holds nothing; any error builds nothing)
→ read it again, code, refuse encounters already sent and plan interchanges (every CLM01 names
one claim, in the batch and in the ledger), chunk by chunk: an interchange is written as soon as
it is full (``max_file_bytes``), the rest at the end → for each plan reserve control numbers in the ledger
(committed at once: never reused, even if the file is refused or the process dies) → write the
file under a temporary name in the output folder (``.dripline-*.tmp``, mode 0600) → validate it
(pyx12 through the adapter, plus our own edits) → record the interchange with its sets, claims
and lines in one transaction, only when the file has no errors (or ``allow_invalid``) → rename
the file to ``837P-<ISA13>.x12`` in one step. A claim file is visible only once it is recorded.

A refused file is renamed ``*.refused`` and its interchange row keeps status ``refused`` with
the sha256, so no claim of it is half-recorded and no control number of it is handed out again.

A build killed part way leaves a temporary file that the ledger names on its interchange row;
the next build completes it (recorded: renamed to its final name; refused: to ``*.refused``) or
removes it (never recorded), each with a finding. A build holds an exclusive lock on each of its
temporary files and a shared lock on the output folder, so a running build's files are never
taken for leftovers.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from coding.codesets import NO_CODESETS, CodeSets
from coding.config import Config
from coding.findings import Finding, error, has_errors, info, warning
from coding.model import CodedEncounter, Encounter
from reconcile.ledger import store as L
from reconcile.ledger.db import Connection, Row
from reconcile.ledger.history import hit_history_from_conn
from reconcile.pricing.record import record_expected

CORRECTION_FREQUENCIES = frozenset({"7", "8"})
REFUSAL_CODES = frozenset(
    {
        "already-sent",
        "duplicate-encounter",
        "missing-payer-claim-number",
        "output-exists",
        "file-refused",
        "pcn-in-use",
        "pcn-collision",
        "input-changed",
    }
)
TEMP_PREFIX = ".dripline-"  # temporary 837 files: never match *.x12 or 837P-*.x12
TEMP_SUFFIX = ".tmp"
CODE_CHUNK = 500  # encounters coded between two progress reports
ProgressFn = Callable[[str, int, int], None]


@dataclass
class BuiltFile:
    """One interchange file written by a build."""

    path: str
    claim_type: str
    isa13: int
    gs06: int
    sha256: str
    claims: int
    lines: int
    status: str  # recorded / recorded-invalid / refused
    errors: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class BuildResult:
    """What a build wrote, recorded and found."""

    files: list[BuiltFile] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    input_error: bool = False  # the encounters could not be read: nothing was built
    not_billed: list[str] = field(default_factory=list)  # encounter ids read but with no recorded claim

    @property
    def refused(self) -> bool:
        """A written file was refused (validation errors or a concurrent duplicate)."""
        return any(f.status == "refused" for f in self.files)

    @property
    def refused_anything(self) -> bool:
        """A file was refused or an encounter was not billed (held, refused, unusable): the CLI exits 1."""
        return self.refused or bool(self.not_billed) or any(f.code in REFUSAL_CODES for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [f.to_dict() for f in self.files],
            "claims": self.claims,
            "findings": [f.to_dict() for f in self.findings],
            "input_error": self.input_error,
            "refused": self.refused_anything,
            "not_billed": list(self.not_billed),
        }

    def json_fields(self) -> dict[str, Any]:
        """:meth:`to_dict` with the long lists (files, claims, findings) as iterators that
        convert one item at a time, so printing them never holds a second copy of the result."""
        return {
            "files": (f.to_dict() for f in self.files),
            "claims": iter(self.claims),
            "findings": (f.to_dict() for f in self.findings),
            "input_error": self.input_error,
            "refused": self.refused_anything,
            "not_billed": list(self.not_billed),
        }


def _source(coded: CodedEncounter) -> dict[str, Any]:
    raw = coded.encounter.raw
    return raw if raw is not None else {"id": coded.encounter.id}


def screen_already_sent(
    conn: Connection, coded: Sequence[CodedEncounter], seen: set[str] | None = None
) -> tuple[list[CodedEncounter], list[Finding]]:
    """Drop (with an error finding) originals already sent and corrections lacking a reference.

    An encounter whose claim the payer may still hold can only be sent again as a replacement
    (frequency 7) or void (8), which needs the payer claim number (REF*F8). A repeat of the same
    encounter id within one batch is refused too (``seen``: the ids of the batch's earlier
    chunks, updated in place).
    """
    kept: list[CodedEncounter] = []
    findings: list[Finding] = []
    seen = set() if seen is None else seen
    for ce in coded:
        enc = ce.encounter
        if enc.id in seen:
            findings.append(
                error(
                    "duplicate-encounter",
                    "encounter id appears more than once in this batch; only the first is built",
                    encounter_id=enc.id,
                    field="id",
                )
            )
            continue
        seen.add(enc.id)
        active = L.active_claims_for_encounter(conn, enc.id)
        if enc.frequency in CORRECTION_FREQUENCIES:
            if not active:
                findings.append(
                    warning(
                        "correction-without-original",
                        f"frequency {enc.frequency} claim for an encounter this ledger never sent",
                        encounter_id=enc.id,
                        field="frequency",
                    )
                )
            if not (enc.payer_claim_number or _ledger_payer_claim_number(active)):
                findings.append(
                    error(
                        "missing-payer-claim-number",
                        f"frequency {enc.frequency} needs the payer claim number (REF*F8); "
                        "none given and none in the ledger",
                        encounter_id=enc.id,
                        field="payer_claim_number",
                    )
                )
                continue
        elif active:
            findings.append(
                error(
                    "already-sent",
                    "a claim for this encounter was already sent; send a replacement (frequency 7) or void (8) instead",
                    encounter_id=enc.id,
                    field="id",
                )
            )
            continue
        kept.append(ce)
    return kept, findings


def _ledger_payer_claim_number(active: list[Row]) -> str | None:
    for row in reversed(active):
        if row["payer_claim_number"]:
            return str(row["payer_claim_number"])
    return None


def _open_temp(out_dir: Path) -> tuple[int, Path]:
    """Create a new temporary file (mode 0600) in ``out_dir``, locked by this process until closed."""
    while True:
        temp = out_dir / f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}"
        try:
            fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd, temp.resolve()


def _write_all(fd: int, data: bytes) -> None:
    """Write ``data`` to ``fd`` and flush it to disk."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def _sync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(temp: Path) -> None:
    try:
        os.unlink(temp)
    except FileNotFoundError:
        pass


def validate_written(path: Path, jobs: int = 1) -> list[Finding]:
    """pyx12 (through the adapter, in ``jobs`` processes when it can) plus our own 837 edits."""
    from edi.validate import pyx12 as px
    from edi.x837.edits import run_edits
    from edi.x837.read import read_837

    found = list(px.validate_file(path, jobs))
    doc = read_837(path)
    found.extend(doc.findings)
    found.extend(run_edits(doc.claims, str(path), strict=True))
    return found


def _assign_line_numbers(plan: Any, numbers: list[str]) -> None:
    """Give every line of the plan (copied, never the coder's objects) its line control number."""
    it = iter(numbers)
    for cp in plan.claims:
        cp.lines = [replace(ln, line_control_number=next(it)) for ln in cp.lines]


def _fill_payer_claim_numbers(conn: Connection, plan: Any) -> None:
    """REF*F8 of each replacement/void: the part's own payer claim number for a split claim.

    One payer claim number cannot stand for several parts, so a part the ledger knows gets the
    number recorded for its own CLM01; otherwise the encounter's, then the ledger's latest for
    the encounter.
    """
    for cp in plan.claims:
        if cp.frequency not in CORRECTION_FREQUENCIES:
            continue
        own = L.payer_claim_number_for_pcn(conn, cp.patient_control_number) if cp.parts else None
        if own:
            cp.payer_claim_number = own
        elif not cp.payer_claim_number:
            cp.payer_claim_number = _ledger_payer_claim_number(
                L.active_claims_for_encounter(conn, cp.coded.encounter.id)
            )


def _records(plan: Any, res: L.Reservation, cfg: Config) -> list[L.TransactionRecord]:
    out: list[L.TransactionRecord] = []
    for tp, st02, bht03 in zip(plan.transactions, res.st02, res.bht03):
        payer = cfg.payers.get(tp.payer_key)
        tx = L.TransactionRecord(st02=st02, bht03=bht03, payer=tp.payer_key)
        for cp in tp.claims:
            enc = cp.coded.encounter
            tx.claims.append(
                L.ClaimRecord(
                    patient_control_number=cp.patient_control_number,
                    encounter_id=enc.id,
                    payer=tp.payer_key,
                    payer_id=payer.payer_id if payer else "",
                    claim_type=plan.claim_type,
                    frequency=cp.frequency,
                    lines=list(cp.lines),
                    payer_claim_number=cp.payer_claim_number,
                    source=_source(cp.coded),
                    part=cp.part,
                    coverage_order=cp.cob.coverage_order if cp.cob is not None else 1,
                    prior_claim_id=cp.cob.prior_claim_id if cp.cob is not None else None,
                )
            )
        out.append(tx)
    return out


def _claim_rows(txs: list[L.TransactionRecord], built: BuiltFile) -> list[dict[str, Any]]:
    return [
        {
            "patient_control_number": c.patient_control_number,
            "encounter_id": c.encounter_id,
            "payer": c.payer,
            "claim_type": c.claim_type,
            "frequency": c.frequency,
            "charge": c.total_charge,
            "lines": len(c.lines),
            "file": built.path,
            "isa13": built.isa13,
            "st02": tx.st02,
            "recorded": built.status != "refused",
        }
        for tx in txs
        for c in tx.claims
    ]


def _named(found: list[Finding], temp: Path, path: Path) -> list[Finding]:
    """Findings of the temporary file as findings of the file under its final name."""
    return [replace(f, file=str(path)) if f.file == str(temp) else f for f in found]


def _build_one(
    conn: Connection,
    plan: Any,
    cfg: Config,
    out_dir: Path,
    allow_invalid: bool,
    jobs: int,
    now: datetime,
    result: BuildResult,
) -> None:
    n_lines = sum(len(cp.lines) for cp in plan.claims)
    fd, temp = _open_temp(out_dir)
    try:
        try:
            res = L.reserve_numbers(conn, plan.claim_type, len(plan.transactions), n_lines, now, temp_path=str(temp))
        except BaseException:
            _discard(temp)
            raise
        _build_reserved(conn, plan, cfg, out_dir, allow_invalid, jobs, now, result, res, fd, temp)
    finally:
        os.close(fd)  # releases the lock on the temporary file


def _build_reserved(
    conn: Connection,
    plan: Any,
    cfg: Config,
    out_dir: Path,
    allow_invalid: bool,
    jobs: int,
    now: datetime,
    result: BuildResult,
    res: L.Reservation,
    fd: int,
    temp: Path,
) -> None:
    from edi.x837.model import EnvelopeNumbers, write_interchange

    n_lines = sum(len(cp.lines) for cp in plan.claims)
    path = out_dir / f"{plan.claim_type}-{res.isa13:09d}.x12"
    try:
        _fill_payer_claim_numbers(conn, plan)
        _assign_line_numbers(plan, res.line_control_numbers)
        data = write_interchange(plan, cfg, EnvelopeNumbers(res.isa13, res.gs06, res.st02, res.bht03), now)
        sha = hashlib.sha256(data).hexdigest()
        if path.exists():
            _discard(temp)
            L.mark_interchange(conn, res.interchange_id, "refused", None, sha, file_done=True)
            result.findings.append(
                error(
                    "output-exists",
                    "output file already exists; not overwritten (use another --out directory or ledger)",
                    file=str(path),
                )
            )
            return
        _write_all(fd, data)
        found = _named(validate_written(temp, jobs), temp, path)
    except BaseException:  # a bug or I/O error: the numbers stay spent, the row says what happened
        _discard(temp)
        L.mark_interchange(conn, res.interchange_id, "failed", None, None, file_done=True)
        raise
    result.findings.extend(found)
    errors = sum(1 for f in found if f.severity == "error")
    txs = _records(plan, res, cfg)
    built = BuiltFile(
        str(path), plan.claim_type, res.isa13, res.gs06, sha, len(plan.claims), n_lines, "recorded", errors
    )
    if errors and not allow_invalid:
        _refuse(
            conn,
            res,
            temp,
            path,
            sha,
            built,
            result,
            f"file has {errors} validation error(s); not recorded (use --allow-invalid to record anyway)",
        )
    else:
        built.status = "recorded-invalid" if errors else "recorded"
        try:
            try:
                L.record_interchange(conn, res, str(path), sha, txs, built.status, now)
            except (L.DuplicateEncounterError, L.PcnConflictError):
                raise
            except BaseException:  # not recorded (rolled back): the file must not stay behind
                _abandon_if_unrecorded(conn, res, temp)
                raise
        except L.DuplicateEncounterError as exc:
            why = "an encounter of this file was recorded by another build meanwhile: " + ", ".join(exc.encounter_ids)
            _refuse(conn, res, temp, path, sha, built, result, why)
        except L.PcnConflictError as exc:
            why = "a patient control number of this file names another claim in the ledger: " + ", ".join(exc.pcns)
            _refuse(conn, res, temp, path, sha, built, result, why)
        else:
            os.replace(temp, path)  # recorded: the file appears under its final name in one step
            _sync_dir(out_dir)
            L.file_in_place(conn, res.interchange_id)
            result.findings.extend(record_expected(conn, plan, cfg, now))  # each line's expected allowed
    result.files.append(built)
    result.claims.extend(_claim_rows(txs, built))


def _abandon_if_unrecorded(conn: Connection, res: L.Reservation, temp: Path) -> None:
    """After a failed recording: remove the temporary file unless the ledger did record it."""
    row = conn.execute("SELECT status FROM interchanges WHERE id = ?", (res.interchange_id,)).fetchone()
    if row is not None and row[0] == "reserved":
        _discard(temp)
        L.mark_interchange(conn, res.interchange_id, "failed", None, None, file_done=True)


def _refuse(
    conn: Connection,
    res: L.Reservation,
    temp: Path,
    path: Path,
    sha: str,
    built: BuiltFile,
    result: BuildResult,
    why: str,
) -> None:
    refused = path.with_name(path.name + ".refused")
    L.mark_interchange(conn, res.interchange_id, "refused", str(refused), sha)
    os.replace(temp, refused)
    _sync_dir(path.parent)
    L.file_in_place(conn, res.interchange_id)
    built.path, built.status = str(refused), "refused"
    result.findings.append(error("file-refused", why, file=str(refused)))


@contextmanager
def _locked_if_free(temp: Path) -> Iterator[bool]:
    """Yield True while holding the lock of ``temp`` (its build is gone or it does not exist)."""
    try:
        fd = os.open(temp, os.O_RDONLY)
    except FileNotFoundError:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # a running build writes it
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _recover_row(conn: Connection, row: Row) -> list[Finding]:
    """Complete or remove the temporary file of one interrupted interchange; say what was done."""
    temp = Path(row["temp_path"])
    final = temp.parent / f"{row['claim_type']}-{int(row['isa13']):09d}.x12"
    status = row["status"]
    out: list[Finding] = []
    there = temp.exists()
    if status in ("reserved", "failed"):
        if there:
            _discard(temp)
            out.append(
                warning(
                    "leftover-removed",
                    f"an interrupted build left the unrecorded file of ISA13 {int(row['isa13']):09d}; removed",
                    file=str(temp),
                )
            )
    elif status == "refused":
        target = final.with_name(final.name + ".refused")
        if there and not target.exists():
            os.replace(temp, target)
            out.append(
                warning("leftover-completed", "an interrupted build's refused file was put in place", file=str(target))
            )
        elif there:
            _discard(temp)
    elif there and final.exists():
        _discard(temp)
    elif there and _file_sha(temp) == row["sha256"]:
        os.replace(temp, final)
        out.append(
            warning(
                "leftover-completed",
                "an interrupted build recorded this file but did not rename it; renamed to its final name",
                file=str(final),
            )
        )
    elif there:
        return [
            error(
                "leftover-damaged",
                "an interrupted build's file differs from the one recorded; left under its temporary name",
                file=str(temp),
            )
        ]
    elif not final.exists():
        out.append(error("recorded-file-missing", "the file of a recorded interchange is missing", file=str(final)))
    if there:
        _sync_dir(temp.parent)
    L.file_in_place(conn, int(row["id"]))
    return out


def recover_leftovers(conn: Connection, out_dir: Path, sweep: bool) -> list[Finding]:
    """Finish what killed builds left: every interchange with a temporary file, then stray files.

    Rows whose temporary file a running build still holds are left alone. With ``sweep`` (no
    other build uses ``out_dir``), temporary files in ``out_dir`` that no interchange names (a
    build killed before it reserved numbers) are removed.
    """
    findings: list[Finding] = []
    pending: set[str] = set()
    for row in L.pending_files(conn):
        with _locked_if_free(Path(row["temp_path"])) as free:
            if free:
                findings.extend(_recover_row(conn, row))
            else:
                pending.add(row["temp_path"])
    if sweep:
        for temp in sorted(out_dir.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}")):
            if str(temp.resolve()) in pending or not temp.is_file():
                continue
            with _locked_if_free(temp) as free:
                if free and temp.exists():
                    _discard(temp)
                    findings.append(
                        warning(
                            "leftover-removed", "an interrupted build left an unrecorded file; removed", file=str(temp)
                        )
                    )
    return findings


@contextmanager
def _output_folder(conn: Connection, out_dir: Path, result: BuildResult) -> Iterator[None]:
    """Hold a shared lock on ``out_dir`` for the build, after cleaning up what killed builds left.

    Stray temporary files are swept only under an exclusive lock (no other build in the folder).
    """
    fd = os.open(out_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True
        except BlockingIOError:
            alone = False
        if alone:
            result.findings.extend(recover_leftovers(conn, out_dir, sweep=True))
        fcntl.flock(fd, fcntl.LOCK_SH)
        if not alone:
            result.findings.extend(recover_leftovers(conn, out_dir, sweep=False))
        yield
    finally:
        os.close(fd)


class LedgerPcns:
    """The ledger as the planner's :class:`edi.x837.plan.PcnRegistry`."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def owner(self, pcn: str) -> tuple[str, int] | None:
        """The claim ``pcn`` names; an encounter id of the ledger stays reserved for that encounter."""
        found = L.pcn_owner(self.conn, pcn)
        if found is None and L.encounter_known(self.conn, pcn):
            return (pcn, 0)
        return found

    def recorded(self, encounter_id: str, part: int) -> str | None:
        return L.recorded_pcn(self.conn, encounter_id, part)


def build_claims(
    paths: Sequence[str | Path],
    cfg: Config,
    ledger: Connection | str | Path,
    out_dir: str | Path,
    *,
    allow_invalid: bool = False,
    jobs: int = 1,
    now: datetime | None = None,
    progress: ProgressFn | None = None,
    codesets: CodeSets = NO_CODESETS,
) -> BuildResult:
    """Code the encounters in ``paths`` and write, validate and record their 837 files.

    ``ledger`` is an open connection or a path. Bad input (any error while loading) builds
    nothing and sets ``input_error``. ``progress(stage, done, total)`` reports coding ("code",
    encounters) and writing/validating/recording ("write", claims) as they advance.

    ``codesets``: the loaded CMS sets the encounters are coded with; the scrubber
    (:mod:`coding.scrub`) then runs over each coded claim before anything is written. Its errors
    hold the claim like a coding error, unless ``allow_invalid``: then they are reported and the
    claim is written.
    """
    from coding.encounters.loader import iter_encounters

    files = [Path(p) for p in paths]
    # first pass: validate everything, hold nothing (bad input builds nothing)
    checked = iter_encounters(files, cfg, codesets)
    ids = [e.id for e in checked]
    if has_errors(checked.findings):  # nothing is built (the ledger is still opened, as always)
        return build_encounters([], checked.findings, cfg, ledger, out_dir, batch_ids=ids)
    # second pass: the same encounters again, coded, planned and written as they come
    stream = iter_encounters(files, cfg, codesets)
    result = build_encounters(
        stream,
        checked.findings,
        cfg,
        ledger,
        out_dir,
        allow_invalid=allow_invalid,
        jobs=jobs,
        now=now,
        progress=progress,
        batch_ids=ids,
        codesets=codesets,
    )
    if has_errors(stream.findings) or stream.count != checked.count:  # the input changed meanwhile
        result.findings.append(error("input-changed", "the input changed while it was read; the build is incomplete"))
    return result


def build_encounters(
    encounters: Iterable[Encounter],
    load_findings: Sequence[Finding],
    cfg: Config,
    ledger: Connection | str | Path,
    out_dir: str | Path,
    *,
    allow_invalid: bool = False,
    jobs: int = 1,
    now: datetime | None = None,
    progress: ProgressFn | None = None,
    only: Callable[[Any], bool] | None = None,
    batch_ids: Sequence[str] | None = None,
    codesets: CodeSets = NO_CODESETS,
) -> BuildResult:
    """:func:`build_claims` for encounters already read (``load_findings``: what reading found).

    ``encounters`` may be a stream (``batch_ids`` then lists their ids, in order): they are
    coded, screened and planned ``CODE_CHUNK`` at a time, and an interchange is written as soon
    as it is full, so only the open interchanges and one chunk are held. Findings keep the order
    of a whole-batch run: coding, then screening, then planning, then the files.
    ``only(claim_plan)`` keeps just the claims it accepts (a correction sends the one part it
    names); an encounter none of whose claims is kept counts as not billed. ``codesets``: as
    :func:`build_claims` (coding and the scrubber before writing).
    """
    from coding.engine import code_stream
    from coding.scrub import Scrubber
    from edi.x837.plan import Planner

    if batch_ids is None:
        encounters = list(encounters)
        batch_ids = [e.id for e in encounters]
    conn = L.connect(ledger) if isinstance(ledger, (str, Path)) else ledger
    now = now or datetime.now(UTC).replace(microsecond=0)
    result = BuildResult()
    result.findings.extend(load_findings)
    if has_errors(load_findings):
        result.input_error = True
        return result
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _output_folder(conn, out, result):
        history = hit_history_from_conn(conn)  # Medicare home-infusion history for the 60-day rule
        planner = Planner(cfg, LedgerPcns(conn), batch_ids)
        step = _Step(conn, cfg, out, allow_invalid, jobs, now, result, planner, only, progress, len(batch_ids))
        chunk: list[CodedEncounter] = []
        scrubber = Scrubber(codesets)
        scrub_fs: list[Finding] = []  # reported, not holding the claim (allow_invalid)
        for ce in code_stream(encounters, cfg, hit_history=history, chunk=CODE_CHUNK, codesets=codesets):
            scrubbed = scrubber.encounter(ce)
            if scrubbed:
                # the scrubber's errors hold the claim like coding errors (edi.x837.plan:
                # claim-held), unless allow_invalid: then they are reported and it is written
                (scrub_fs if allow_invalid else ce.findings).extend(scrubbed)
            chunk.append(ce)
            if len(chunk) >= CODE_CHUNK:
                step.build(step.plan(chunk))
                chunk = []
        step.build(step.plan(chunk))
        step.build(planner.finish())
        result.findings += step.coded_fs + scrub_fs + step.screened_fs + planner.findings + step.built_fs
        if not step.selected:
            result.findings.append(info("nothing-to-build", "no claim could be built from the input"))
    billed = {c["encounter_id"] for c in result.claims if c["recorded"]}
    result.not_billed = [eid for eid in batch_ids if eid not in billed]
    return result


class _Step:
    """One build's chunk-by-chunk work: screen and plan a chunk, write the interchanges it filled."""

    def __init__(
        self,
        conn: Connection,
        cfg: Config,
        out: Path,
        allow_invalid: bool,
        jobs: int,
        now: datetime,
        result: BuildResult,
        planner: Any,
        only: Callable[[Any], bool] | None,
        progress: ProgressFn | None,
        total: int,
    ) -> None:
        self.conn, self.cfg, self.out, self.allow_invalid, self.jobs, self.now = (
            conn,
            cfg,
            out,
            allow_invalid,
            jobs,
            now,
        )
        self.result, self.planner, self.only, self.progress, self.total = result, planner, only, progress, total
        self.coded_fs: list[Finding] = []
        self.screened_fs: list[Finding] = []
        self.built_fs: list[Finding] = []
        self.seen: set[str] = set()
        self.coded = self.selected = self.written = 0

    def plan(self, chunk: list[CodedEncounter]) -> list[Any]:
        """Screen and plan one chunk of coded encounters; the interchanges it completed."""
        self.coded += len(chunk)
        if self.progress and chunk:
            self.progress("code", self.coded, self.total)
        for ce in chunk:
            self.coded_fs.extend(ce.findings)
        kept, screened = screen_already_sent(self.conn, chunk, self.seen)
        self.screened_fs.extend(screened)
        done: list[Any] = []
        for ce in kept:
            done += self.planner.add(ce)
        return done

    def build(self, plans: list[Any]) -> None:
        """Write, validate and record each plan (only the claims ``only`` accepts)."""
        if self.only is not None:
            plans = _select(plans, self.only)
        for plan in plans:
            self.selected += len(plan.claims)
            if plan.claims:
                before = len(self.result.findings)
                _build_one(self.conn, plan, self.cfg, self.out, self.allow_invalid, self.jobs, self.now, self.result)
                self.built_fs.extend(self.result.findings[before:])
                del self.result.findings[before:]
            self.written += len(plan.claims)
            if self.progress:
                total = self.planner.planned if self.only is None else self.selected
                self.progress("write", self.written, max(total, self.written))


def _select(plans: list[Any], only: Callable[[Any], bool]) -> list[Any]:
    """The plans with only the claims ``only`` accepts (empty sets and interchanges dropped)."""
    kept = []
    for plan in plans:
        for tp in plan.transactions:
            tp.claims = [c for c in tp.claims if only(c)]
        plan.transactions = [tp for tp in plan.transactions if tp.claims]
        if plan.transactions:
            kept.append(plan)
    return kept


def summarize_charges(result: BuildResult) -> Decimal:
    """Total charge of the claims recorded by a build."""
    return sum((c["charge"] for c in result.claims if c["recorded"]), Decimal("0"))
