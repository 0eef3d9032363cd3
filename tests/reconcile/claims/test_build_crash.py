"""A killed ``claims build`` leaves a claim file and its record together, or neither.

The builds run in a subprocess through :mod:`tests.killpoint`, which SIGKILLs
the process at a chosen SQL statement or file-system call; production code has no hook for it.
The kill-point tests at random events are SQLite only (their SQL events come from a SQLite trace
callback, and the ledger file is checked with integrity_check). On PostgreSQL the build is killed
at its file-system calls (the temporary file written but not recorded, recorded but not renamed),
where the server rolls back whatever the killed connection had not committed.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dripline.cli import app
from reconcile.ledger import store as L
from reconcile.ledger.db import is_server_url
from tests.killpoint import run_killed
from tests.reconcile.claims.files import segments
from tests.reconcile.claims.test_build import _hospital, _office, _write

REPO = Path(__file__).resolve().parents[3]
KILLED = -9


def _ledger(work: Path) -> str:
    """The ledger of a workspace: the URL in ``ledger.url`` (PostgreSQL), else the file ``l.db``."""
    url = work / "ledger.url"
    return url.read_text() if url.exists() else str(work / "l.db")


def _run(work: Path, target: int = 0, prefix: str = "") -> tuple[int, int]:
    """Run ``claims build`` in ``work`` (killed at counted event ``target``); (exit code, events seen)."""
    env = {k: v for k, v in os.environ.items() if k != "DRIPLINE_DB"}
    args = ["claims", "build", str(work / "batch.json"), "--out", str(work / "out")]
    args += ["--ledger", _ledger(work), "--json"]
    proc, seen = run_killed(args, work / "events.txt", target, prefix, env=env, timeout=300)
    return proc.returncode, seen


def _rerun(work: Path) -> int:
    """The same build again, uninterrupted, in this process (faster than a new interpreter)."""
    res = CliRunner().invoke(
        app,
        [
            "claims",
            "build",
            str(work / "batch.json"),
            "--out",
            str(work / "out"),
            "--ledger",
            _ledger(work),
            "--json",
        ],
    )
    assert "Traceback" not in res.output
    return res.exit_code


def _workspace(root: Path, ledger: str | None = None) -> Path:
    """A folder with an encounter batch and a ledger that exists already (its schema applied):
    ``ledger`` (a PostgreSQL URL is kept in ``ledger.url``), else the SQLite file ``l.db`` in the folder."""
    root.mkdir()
    if ledger is not None and is_server_url(ledger):
        (root / "ledger.url").write_text(ledger)
    L.connect(ledger or root / "l.db").close()
    _write(
        root / "batch.json",
        [_office("ENC-001"), _office("ENC-002", "commercial"), _hospital("ENC-003"), _hospital("ENC-004", "medicare")],
    )
    return root


def _open(work: Path) -> Any:
    """A plain connection to the workspace's ledger: a raw ``sqlite3`` one for a file (so that
    reading it applies no migration), the ledger's own for PostgreSQL."""
    ledger = _ledger(work)
    return L.connect(ledger) if is_server_url(ledger) else sqlite3.connect(ledger)


def _check_consistent(work: Path, after_restart: bool) -> None:
    """integrity_check ok; every claim file has its record (and, after a restart, every record its file)."""
    out = work / "out"
    conn = _open(work)
    try:
        if is_server_url(_ledger(work)):
            columns = {"temp_path"}  # the workspace's ledger was migrated before the build
        else:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            columns = {r[1] for r in conn.execute("PRAGMA table_info(interchanges)")}
        if not columns:  # killed before the ledger had its schema: no build began
            assert not (out.exists() and any(out.iterdir()))
            return
        recorded = {
            Path(p).name: sha
            for p, sha in conn.execute(
                "SELECT path, sha256 FROM interchanges WHERE status IN ('recorded', 'recorded-invalid')"
            )
        }
        claims_without_tx = conn.execute(
            "SELECT COUNT(*) FROM claims c LEFT JOIN transactions t ON t.id = c.transaction_id WHERE t.id IS NULL"
        ).fetchone()[0]
        pending = (
            conn.execute("SELECT COUNT(*) FROM interchanges WHERE temp_path IS NOT NULL").fetchone()[0]
            if "temp_path" in columns
            else 0
        )
    finally:
        conn.close()
    assert claims_without_tx == 0
    files = sorted(out.glob("*.x12")) if out.exists() else []
    for f in files:
        assert f.name in recorded, f"claim file {f.name} has no record"
        assert hashlib.sha256(f.read_bytes()).hexdigest() == recorded[f.name]
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".dripline-")] if out.exists() else []
    for name in leftovers:
        assert not name.endswith(".x12") and not name.startswith("837")
    if after_restart:
        assert sorted(recorded) == [f.name for f in files], "a record without its file"
        assert leftovers == [] and pending == 0


def _state(work: Path) -> dict:
    """What a build leaves, without the control numbers and clock that differ between runs."""
    conn = _open(work)
    try:
        claims = sorted(
            tuple(r)
            for r in conn.execute(
                "SELECT patient_control_number, encounter_id, part, payer, claim_type, frequency, total_charge, status"
                " FROM claims"
            )
        )
        lines = conn.execute("SELECT COUNT(*), COUNT(DISTINCT line_control_number) FROM lines").fetchone()
        isa = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT isa13) FROM interchanges WHERE status LIKE 'recorded%'"
        ).fetchone()
    finally:
        conn.close()
    files = sorted(
        (f.name.split("-")[0], tuple(sorted(s[1] for s in segments(f) if s[0] == "CLM")))
        for f in (work / "out").glob("*.x12")
    )
    return {
        "claims": claims,
        "lines": lines[0],
        "line_control_numbers_unique": lines[0] == lines[1],
        "files": files,
        "isa13_unique": isa[0] == isa[1],
    }


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[dict, int]:
    """One uninterrupted build: its end state and how many events it went through."""
    work = _workspace(tmp_path_factory.mktemp("clean") / "w")
    code, seen = _run(work)
    assert code == 0 and seen > 0
    _check_consistent(work, after_restart=True)
    return _state(work), seen


@pytest.mark.slow
def test_claim_file_is_invisible_until_recorded_and_completed_after_a_kill(tmp_path: Path, clean) -> None:
    """Killed just after recording: no claim file yet; the next build renames the temporary file."""
    work = _workspace(tmp_path / "w")
    code, _ = _run(work, 1, "sql:INSERT INTO claim_status_history")  # inside the recording transaction
    assert code == KILLED
    _check_consistent(work, after_restart=False)
    assert not list((work / "out").glob("*.x12"))
    code, _ = _run(work, 1, "os.replace")  # the first file recorded, killed before it is renamed
    assert code == KILLED
    _check_consistent(work, after_restart=False)
    assert [p for p in (work / "out").iterdir() if p.name.startswith(".dripline-")]
    code, _ = _run(work)
    assert code in (0, 1)
    _check_consistent(work, after_restart=True)
    assert _state(work) == clean[0]


@pytest.mark.slow
def test_cleanup_killed_half_way_is_finished_by_the_next_build(tmp_path: Path, clean) -> None:
    """Killed after recording; the cleanup that renames the file killed before it forgets the temporary name."""
    work = _workspace(tmp_path / "w")
    assert _run(work, 1, "os.replace")[0] == KILLED
    assert _run(work, 1, "sql:UPDATE interchanges SET temp_path = NULL")[0] == KILLED
    _check_consistent(work, after_restart=False)
    assert _rerun(work) in (0, 1)
    _check_consistent(work, after_restart=True)
    assert _state(work) == clean[0]


@pytest.mark.slow
def test_temporary_file_is_private_and_never_named_like_a_claim_file(tmp_path: Path, clean) -> None:
    work2 = _workspace(tmp_path / "w2")
    assert _run(work2, 1, "os.fsync")[0] == KILLED  # the temporary file written, not yet validated
    temps = [p for p in (work2 / "out").iterdir()]
    assert len(temps) == 1 and temps[0].name.startswith(".dripline-") and temps[0].suffix == ".tmp"
    assert stat.S_IMODE(temps[0].stat().st_mode) == 0o600
    _check_consistent(work2, after_restart=False)
    assert _run(work2)[0] == 0
    _check_consistent(work2, after_restart=True)
    assert _state(work2) == clean[0]


KILLS = 25


@pytest.mark.slow
def test_killed_at_random_points_build_leaves_file_and_record_together(tmp_path: Path, clean) -> None:
    """Kill at 25 seeded random events; each time the ledger is sound, and a re-run ends as one clean run."""
    state, events = clean
    rng = random.Random(20261205)
    targets = sorted(rng.sample(range(1, events + 1), min(KILLS, events)))
    for i, target in enumerate(targets):
        work = _workspace(tmp_path / f"k{i}")
        code, _ = _run(work, target)
        assert code == KILLED, f"event {target} of {events} did not kill the build"
        _check_consistent(work, after_restart=False)
        code = _rerun(work)
        assert code in (0, 1), f"re-run after a kill at event {target}"
        _check_consistent(work, after_restart=True)
        assert _state(work) == state, f"kill at event {target} of {events}"


def test_a_running_builds_temporary_file_is_not_taken_for_a_leftover(tmp_path: Path, ledger_target: str) -> None:
    """Leftover cleanup skips a temporary file whose build still holds its lock, and sweeps it once free."""
    import fcntl

    from reconcile.claims import build as billing

    out = tmp_path / "out"
    out.mkdir()
    conn = L.connect(ledger_target)
    live = out / ".dripline-0123456789abcdef.tmp"
    fd = os.open(live, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a build in another process holds it
    res = L.reserve_numbers(conn, "837P", 1, 1, temp_path=str(live.resolve()))
    stray = out / ".dripline-fedcba9876543210.tmp"
    stray.write_bytes(b"ISA*left by a killed build~")
    try:
        found = billing.recover_leftovers(conn, out, sweep=True)
        assert live.exists() and not stray.exists()
        assert [f.code for f in found] == ["leftover-removed"]
        assert [r["id"] for r in L.pending_files(conn)] == [res.interchange_id]
    finally:
        os.close(fd)
    found = billing.recover_leftovers(conn, out, sweep=True)
    assert not live.exists() and [f.code for f in found] == ["leftover-removed"]
    assert L.pending_files(conn) == []


def test_a_recording_that_fails_leaves_no_file_behind(tmp_path: Path, monkeypatch, ledger_target: str) -> None:
    """The ledger refuses the write (locked, full disk): the temporary file goes, the numbers stay spent."""
    from coding.config import load_config
    from reconcile.claims import build as billing

    refused: type[Exception] = sqlite3.OperationalError
    if is_server_url(ledger_target):
        import psycopg.errors

        refused = psycopg.errors.LockNotAvailable

    def locked(*a: object, **kw: object) -> list[int]:
        raise refused("database is locked")

    work = _workspace(tmp_path / "w", ledger_target)
    monkeypatch.setattr(L, "record_interchange", locked)
    conn = L.connect(ledger_target)
    with pytest.raises(refused):
        billing.build_claims([work / "batch.json"], load_config(), conn, work / "out")
    assert list((work / "out").iterdir()) == []
    assert [tuple(r) for r in conn.execute("SELECT status, temp_path FROM interchanges")] == [("failed", None)]


@pytest.mark.slow
def test_killed_between_file_and_record_on_postgresql(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """PostgreSQL: killed with the temporary file written but not recorded, then with the file recorded
    but not yet renamed; each time the ledger and the folder agree, and a re-run ends as one clean run."""
    from tests.reconcile.ledger.targets import fresh_ledger

    def workspace(name: str) -> Path:
        return _workspace(tmp_path / name, fresh_ledger(request, "postgresql"))

    clean = workspace("clean")
    assert _run(clean)[0] == 0
    _check_consistent(clean, after_restart=True)
    state = _state(clean)
    assert len(state["claims"]) == 4 and state["files"]

    work = workspace("w1")
    assert _run(work, 1, "os.fsync")[0] == KILLED  # the temporary file written, not yet recorded
    _check_consistent(work, after_restart=False)
    assert not list((work / "out").glob("*.x12"))
    conn = L.connect(_ledger(work))
    assert conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    conn.close()
    assert _run(work, 1, "os.replace")[0] == KILLED  # the first file recorded, not yet renamed
    _check_consistent(work, after_restart=False)
    assert [p for p in (work / "out").iterdir() if p.name.startswith(".dripline-")]
    assert _rerun(work) in (0, 1)
    _check_consistent(work, after_restart=True)
    assert _state(work) == state
