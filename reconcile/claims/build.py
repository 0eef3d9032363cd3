"""``claims build``: encounters in, validated 837 files out, every claim recorded in the ledger.

Pipeline: load → code → refuse encounters already sent → plan interchanges → for each plan
reserve control numbers in the ledger (committed at once: never reused, even if the file is
refused or the process dies) → write the file (mode 0600, never overwriting) → validate it
(pyx12 through the adapter, plus our own edits) → record the interchange with its sets, claims
and lines in one transaction, only when the file has no errors (or ``allow_invalid``). A refused
file is renamed ``*.refused`` and its interchange row keeps status ``refused`` with the sha256,
so no claim of it is half-recorded and no control number of it is handed out again.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from coding.config import Config
from coding.findings import Finding, error, has_errors, info, warning
from coding.model import CodedEncounter
from reconcile.ledger import store as L
from reconcile.ledger.history import hit_history_from_conn

CORRECTION_FREQUENCIES = frozenset({"7", "8"})
REFUSAL_CODES = frozenset(
    {"already-sent", "duplicate-encounter", "missing-payer-claim-number", "output-exists", "file-refused"}
)
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

    @property
    def refused(self) -> bool:
        """A written file was refused (validation errors or a concurrent duplicate)."""
        return any(f.status == "refused" for f in self.files)

    @property
    def refused_anything(self) -> bool:
        """A file or an encounter was refused: the CLI exits 1."""
        return self.refused or any(f.code in REFUSAL_CODES for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [f.to_dict() for f in self.files],
            "claims": self.claims,
            "findings": [f.to_dict() for f in self.findings],
            "input_error": self.input_error,
            "refused": self.refused_anything,
        }


def _source(coded: CodedEncounter) -> dict[str, Any]:
    raw = coded.encounter.raw
    return raw if raw is not None else {"id": coded.encounter.id}


def screen_already_sent(
    conn: sqlite3.Connection, coded: Sequence[CodedEncounter]
) -> tuple[list[CodedEncounter], list[Finding]]:
    """Drop (with an error finding) originals already sent and corrections lacking a reference.

    An encounter whose claim the payer may still hold can only be sent again as a replacement
    (frequency 7) or void (8), which needs the payer claim number (REF*F8). A repeat of the same
    encounter id within one batch is refused too.
    """
    kept: list[CodedEncounter] = []
    findings: list[Finding] = []
    seen: set[str] = set()
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


def _ledger_payer_claim_number(active: list[sqlite3.Row]) -> str | None:
    for row in reversed(active):
        if row["payer_claim_number"]:
            return str(row["payer_claim_number"])
    return None


def _write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (0600, must not exist) with ``data``, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


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


def _fill_payer_claim_numbers(conn: sqlite3.Connection, plan: Any) -> None:
    for cp in plan.claims:
        if cp.frequency in CORRECTION_FREQUENCIES and not cp.payer_claim_number:
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


def _build_one(
    conn: sqlite3.Connection,
    plan: Any,
    cfg: Config,
    out_dir: Path,
    allow_invalid: bool,
    jobs: int,
    now: datetime,
    result: BuildResult,
) -> None:
    from edi.x837.model import EnvelopeNumbers, write_interchange

    n_lines = sum(len(cp.lines) for cp in plan.claims)
    res = L.reserve_numbers(conn, plan.claim_type, len(plan.transactions), n_lines, now)
    path = out_dir / f"{plan.claim_type}-{res.isa13:09d}.x12"
    try:
        _fill_payer_claim_numbers(conn, plan)
        _assign_line_numbers(plan, res.line_control_numbers)
        data = write_interchange(plan, cfg, EnvelopeNumbers(res.isa13, res.gs06, res.st02, res.bht03), now)
        sha = hashlib.sha256(data).hexdigest()
        try:
            _write_new(path, data)
        except FileExistsError:
            L.mark_interchange(conn, res.interchange_id, "refused", None, sha)
            result.findings.append(
                error(
                    "output-exists",
                    "output file already exists; not overwritten (use another --out directory or ledger)",
                    file=str(path),
                )
            )
            return
        found = validate_written(path, jobs)
    except BaseException:  # a bug or I/O error: the numbers stay spent, the row says what happened
        L.mark_interchange(conn, res.interchange_id, "failed", str(path) if path.exists() else None, None)
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
            path,
            sha,
            built,
            result,
            f"file has {errors} validation error(s); not recorded (use --allow-invalid to record anyway)",
        )
    else:
        built.status = "recorded-invalid" if errors else "recorded"
        try:
            L.record_interchange(conn, res, str(path), sha, txs, built.status, now)
        except L.DuplicateEncounterError as exc:
            _refuse(
                conn,
                res,
                path,
                sha,
                built,
                result,
                "an encounter of this file was recorded by another build meanwhile: " + ", ".join(exc.encounter_ids),
            )
    result.files.append(built)
    result.claims.extend(_claim_rows(txs, built))


def _refuse(
    conn: sqlite3.Connection, res: L.Reservation, path: Path, sha: str, built: BuiltFile, result: BuildResult, why: str
) -> None:
    refused = path.with_name(path.name + ".refused")
    os.replace(path, refused)
    L.mark_interchange(conn, res.interchange_id, "refused", str(refused), sha)
    built.path, built.status = str(refused), "refused"
    result.findings.append(error("file-refused", why, file=str(refused)))


def build_claims(
    paths: Sequence[str | Path],
    cfg: Config,
    ledger: sqlite3.Connection | str | Path,
    out_dir: str | Path,
    *,
    allow_invalid: bool = False,
    jobs: int = 1,
    now: datetime | None = None,
    progress: ProgressFn | None = None,
) -> BuildResult:
    """Code the encounters in ``paths`` and write, validate and record their 837 files.

    ``ledger`` is an open connection or a path. Bad input (any error while loading) builds
    nothing and sets ``input_error``. ``progress(stage, done, total)`` reports coding ("code",
    encounters) and writing/validating/recording ("write", claims) as they advance.
    """
    from coding.encounters.loader import load_encounters
    from coding.engine import code_encounters
    from edi.x837.model import plan_interchanges

    conn = ledger if isinstance(ledger, sqlite3.Connection) else L.connect(ledger)
    now = now or datetime.now(UTC).replace(microsecond=0)
    result = BuildResult()
    encounters, load_findings = load_encounters([Path(p) for p in paths], cfg)
    result.findings.extend(load_findings)
    if has_errors(load_findings):
        result.input_error = True
        return result
    history = hit_history_from_conn(conn)  # Medicare home-infusion history for the 60-day rule
    coded: list[CodedEncounter] = []
    for start in range(0, len(encounters), CODE_CHUNK):
        coded.extend(code_encounters(encounters[start : start + CODE_CHUNK], cfg, hit_history=history))
        if progress:
            progress("code", len(coded), len(encounters))
    for ce in coded:
        result.findings.extend(ce.findings)
    kept, screened = screen_already_sent(conn, coded)
    result.findings.extend(screened)
    plans, plan_findings = plan_interchanges(kept, cfg)
    result.findings.extend(plan_findings)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    n_claims = sum(len(p.claims) for p in plans)
    done = 0
    for plan in plans:
        if plan.claims:
            _build_one(conn, plan, cfg, out, allow_invalid, jobs, now, result)
        done += len(plan.claims)
        if progress:
            progress("write", done, n_claims)
    if not plans:
        result.findings.append(info("nothing-to-build", "no claim could be built from the input"))
    return result


def summarize_charges(result: BuildResult) -> Decimal:
    """Total charge of the claims recorded by a build."""
    return sum((c["charge"] for c in result.claims if c["recorded"]), Decimal("0"))
