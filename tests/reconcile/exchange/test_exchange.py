"""``dripline exchange``: claim files to a clearinghouse mailbox and its answers back into the ledger.

The SFTP tests run against a real OpenSSH server on a loopback port (``tests.reconcile.exchange.sshd``);
the clearinghouse on the other side (``tests.reconcile.exchange.clearinghouse``) reads only the files it
was sent and answers them with a 999, a 277CA and an 835 each.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coding.config import load_config
from dripline.cli import app
from reconcile.claims.build import build_claims
from reconcile.demo.run import demo_encounter_files
from reconcile.demo.simulate import Envelope, write_835
from reconcile.exchange.config import load_exchange_config
from reconcile.exchange.receive import receive_files
from reconcile.exchange.send import record_first_send
from reconcile.ledger import store as L
from reconcile.posting.records import RClaim, RLine, RRemit
from tests.pgserver import database_name
from tests.reconcile.exchange.clearinghouse import Answered, answer_inbox
from tests.reconcile.exchange.sshd import Sshd, make_sshd

runner = CliRunner()


PARTNERS = ("acme", "other")  # the partner names these tests configure


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A ledger with the demo encounters built into two recorded 837 files (built once, copied per test).

    The partners were set up (first ``exchange send``, with nothing built yet) before the claims
    were built, so sending starts before these files; ``earlier`` is a ledger where they were not.
    """
    root = tmp_path_factory.mktemp("built")
    conn = L.connect(root / "ledger.db")
    for name in PARTNERS:
        assert record_first_send(conn, name, datetime(2026, 1, 2, tzinfo=UTC)) == 0
    result = build_claims(demo_encounter_files(), load_config(), conn, root / "claims")
    assert [f.status for f in result.files] == ["recorded", "recorded"]
    conn.close()
    return root


@pytest.fixture(scope="module")
def built_pg(tmp_path_factory, pg_server, pg_ledger_template) -> Iterator[str]:
    """``built`` in a PostgreSQL database (the name of a template each test's ledger is cloned from)."""
    root = tmp_path_factory.mktemp("built_pg")
    url = pg_server.create_database(template=pg_ledger_template)
    conn = L.connect(url)
    for name in PARTNERS:
        assert record_first_send(conn, name, datetime(2026, 1, 2, tzinfo=UTC)) == 0
    result = build_claims(demo_encounter_files(), load_config(), conn, root / "claims")
    assert [f.status for f in result.files] == ["recorded", "recorded"]
    conn.close()
    yield database_name(url)
    pg_server.drop_database(database_name(url))


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, built: Path, tmp_path: Path) -> Iterator[str]:
    """A copy of ``built``: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        db = tmp_path / "ledger.db"
        shutil.copyfile(built / "ledger.db", db)
        yield str(db)
        return
    server = request.getfixturevalue("pg_server")
    url = server.create_database(template=request.getfixturevalue("built_pg"))
    yield url
    server.drop_database(database_name(url))


@pytest.fixture()
def earlier(ledger: str) -> str:
    """The same ledger where no partner was set up yet: its two files were built before any send."""
    conn = L.connect(ledger)
    with L.transaction(conn):
        conn.execute("DELETE FROM exchange_partners")
    conn.close()
    return ledger


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = make_sshd(tmp_path_factory.mktemp("sshd"))
    yield s
    s.stop()


def _mailbox(tmp_path: Path) -> tuple[Path, Path]:
    send_dir, receive_dir = tmp_path / "mailbox" / "to_ch", tmp_path / "mailbox" / "from_ch"
    send_dir.mkdir(parents=True)
    receive_dir.mkdir(parents=True)
    return send_dir, receive_dir


def _config(tmp_path: Path, partner: str, extra: str = "", payers: str = "") -> Path:
    path = tmp_path / "dripline.toml"
    path.write_text(f"{payers}\n[clearinghouses.acme]\n{partner}\n{extra}\n")
    return path


def _sftp(server: Sshd, send_dir: Path, receive_dir: Path, fingerprint: str | None = None) -> str:
    return (
        f'host = "127.0.0.1"\nport = {server.port}\nusername = "{server.user}"\nkey_file = "{server.user_key}"\n'
        f'host_key = "{fingerprint or server.fingerprint}"\nsend_dir = "{send_dir}"\nreceive_dir = "{receive_dir}"\n'
        'usage = "T"\n'
    )


def _folder(send_dir: Path, receive_dir: Path, usage: str = "T") -> str:
    return f'kind = "folder"\nsend_dir = "{send_dir}"\nreceive_dir = "{receive_dir}"\nusage = "{usage}"\n'


def _run(*args: str) -> tuple[int, dict]:
    res = runner.invoke(app, ["exchange", *args, "--json"])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    try:
        return res.exit_code, json.loads(res.stdout)
    except json.JSONDecodeError:
        return res.exit_code, {"output": res.output}


def _rows(db: str | Path, sql: str, *params) -> list[tuple]:
    conn = L.connect(db)
    try:
        return [tuple(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _check_ledger_matches(db: str | Path, answered: Answered) -> None:
    """Every claim accepted by the 277CA, and posted exactly as the 835 paid it."""
    claims = _rows(db, "SELECT id, patient_control_number, status, payer_claim_number, total_charge FROM claims")
    assert len(claims) == len(answered.paid) > 0
    for cid, pcn, _status, icn, charge in claims:
        assert icn == answered.icn[pcn]
        assert Decimal(charge) == answered.charge[pcn]
        sources = {r[0] for r in _rows(db, "SELECT source FROM claim_status_history WHERE claim_id = ?", cid)}
        assert {"999", "277CA", "835"} <= sources
        accepted = _rows(db, "SELECT status FROM claim_status_history WHERE claim_id = ? AND source = '277CA'", cid)
        assert accepted == [("accepted",)]
        paid = _rows(db, "SELECT paid FROM claim_postings WHERE claim_id = ?", cid)
        assert [Decimal(p[0]) for p in paid] == [answered.paid[pcn]]
        lines = _rows(
            db,
            "SELECT lp.paid FROM line_postings lp JOIN claim_postings cp ON cp.id = lp.claim_posting_id "
            "WHERE cp.claim_id = ? AND lp.line_id IS NOT NULL",
            cid,
        )
        assert sum((Decimal(r[0]) for r in lines), Decimal(0)) == answered.paid[pcn]
    assert _rows(db, "SELECT COUNT(*) FROM unmatched") == [(0,)]
    assert _rows(db, "SELECT COUNT(*) FROM line_postings WHERE line_id IS NULL") == [(0,)]


def _ledger_counts(db: str | Path) -> tuple:
    return tuple(
        _rows(db, f"SELECT COUNT(*) FROM {t}")[0][0]
        for t in ("claim_postings", "claim_status_history", "acknowledgments", "remit_files", "exchange_sent")
    )


# ----------------------------------------------------------------------------------- SFTP


@pytest.mark.slow
def test_send_uploads_every_recorded_file_once(server, ledger, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _sftp(server, send_dir, receive_dir))
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0, out
    assert out["sent"] == 2
    recorded = _rows(ledger, "SELECT path, sha256 FROM interchanges ORDER BY id")
    assert _visible(send_dir) == sorted(Path(p).name for p, _ in recorded)  # no temporary file left
    for path, sha in recorded:
        assert (send_dir / Path(path).name).read_bytes() == Path(path).read_bytes()
        row = _rows(
            ledger, "SELECT status, sha256, size, sent_at FROM exchange_sent WHERE remote_name = ?", Path(path).name
        )
        assert row[0][:3] == ("sent", sha, Path(path).stat().st_size) and row[0][3]
    mtimes = {p.name: p.stat().st_mtime_ns for p in send_dir.iterdir()}
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0 and out["sent"] == 0 and out["files"] == []
    assert {p.name: p.stat().st_mtime_ns for p in send_dir.iterdir()} == mtimes


@pytest.mark.slow
def test_receive_applies_the_answers_and_a_rerun_does_nothing(server, ledger, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _sftp(server, send_dir, receive_dir) + "delete_after_download = true\n")
    assert _run("send", "--config", str(cfg), "--ledger", str(ledger))[0] == 0
    answered = Answered()
    assert answer_inbox(send_dir, receive_dir, answered) == 2
    code, out = _run("receive", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0, out
    assert out["outcomes"] == {"applied": 6}
    assert sorted(f["kind"] for f in out["files"]) == ["277CA", "277CA", "835", "835", "999", "999"]
    assert _visible(receive_dir) == []  # deleted only once on disk and recorded
    inbox = tmp_path / "inbox" / "acme"
    assert stat.S_IMODE(inbox.stat().st_mode) == 0o700
    assert sorted(_visible(inbox)) == sorted(answered.files)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in inbox.iterdir())
    _check_ledger_matches(ledger, answered)
    before = _ledger_counts(ledger)
    # a rerun of both jobs does nothing: nothing to send, nothing new to fetch
    assert _run("send", "--config", str(cfg), "--ledger", str(ledger))[1]["sent"] == 0
    code, out = _run("receive", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0 and out["files"] == []
    assert _ledger_counts(ledger) == before
    code, status = _run("status", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0
    (acme,) = status["partners"]
    assert (acme["sent"], acme["received"], acme["waiting_to_send"]) == (2, 6, 0)
    assert acme["applied"] == {"999": 2, "277CA": 2, "835": 2} and acme["problems"] == []


@pytest.mark.slow
def test_the_same_files_left_in_the_mailbox_are_not_applied_twice(server, ledger, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _sftp(server, send_dir, receive_dir))
    _run("send", "--config", str(cfg), "--ledger", str(ledger))
    answered = Answered()
    answer_inbox(send_dir, receive_dir, answered)
    inbox = tmp_path / "in"
    assert _run("receive", "--config", str(cfg), "--ledger", str(ledger), "--inbox", str(inbox))[0] == 0
    before = _ledger_counts(ledger)
    assert len(_visible(receive_dir)) == 6  # kept on the server (delete_after_download is false)
    for p in receive_dir.iterdir():  # touched: same name, size and content, a new time
        os.utime(p, (1_800_000_000, 1_800_000_000))
    code, out = _run("receive", "--config", str(cfg), "--ledger", str(ledger), "--inbox", str(inbox))
    assert code == 0 and out["files"] == [] and out["already_seen"] == 6
    assert _ledger_counts(ledger) == before
    assert sorted(_visible(inbox)) == sorted(answered.files)


@pytest.mark.slow
def test_a_changed_host_key_refuses_the_connection(ledger, tmp_path):
    server = make_sshd(tmp_path / "sshd")
    try:
        send_dir, receive_dir = _mailbox(tmp_path)
        old = server.fingerprint
        server.restart_with_new_host_key()
        assert server.fingerprint != old
        cfg = _config(tmp_path, _sftp(server, send_dir, receive_dir, fingerprint=old))
        (receive_dir / "a.999").write_text("ISA")
        code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
        assert code == 1
        assert any("host key" in f["message"] and server.fingerprint in f["message"] for f in out["findings"])
        assert _visible(send_dir) == [] and _rows(
            ledger, "SELECT COUNT(*) FROM exchange_sent WHERE status = 'sent'"
        ) == [(0,)]
        code, out = _run("receive", "--config", str(cfg), "--ledger", str(ledger), "--inbox", str(tmp_path / "in"))
        assert code == 1 and any("host key" in f["message"] for f in out["findings"])
        assert not (tmp_path / "in").exists() or _visible(tmp_path / "in") == []
        assert "Accepted publickey" not in server.log.read_text()  # refused before any login
    finally:
        server.stop()


def _big_835(claims: int) -> str:
    """A large 835 (claims this ledger never sent: they go to the unmatched queue)."""
    rcs = [
        RClaim(
            f"OTHER{i:06d}",
            "1",
            Decimal("100.00"),
            Decimal("80.00"),
            lines=[RLine("96365", Decimal("100.00"), Decimal("80.00"))],
        )
        for i in range(claims)
    ]
    return write_835(
        [RRemit("00952", "BIGTRACE1", Decimal(80 * claims), "MEDICARE", "ACH", "2026-04-01", rcs)],
        Envelope(isa13=77, gs06=77),
    )


@pytest.mark.slow
def test_a_dropped_connection_mid_download_applies_nothing_partial_and_the_next_run_completes(server, ledger, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg_path = _config(tmp_path, _sftp(server, send_dir, receive_dir))
    cfg = load_config(cfg_path)
    partner = load_exchange_config(cfg_path, cfg).partners["acme"]
    _run("send", "--config", str(cfg_path), "--ledger", str(ledger))
    answered = Answered()
    answer_inbox(send_dir, receive_dir, answered)
    big = receive_dir / "zz-big.835"
    big.write_text(_big_835(24000))
    os.utime(big, (2_000_000_000, 2_000_000_000))  # listed last
    assert big.stat().st_size > 2_000_000
    killed: list[int] = []

    def kill_mid_transfer(name: str, done: int, total: int) -> None:
        if name == big.name and not killed and 0 < done < total:
            killed.append(server.kill_sessions())

    inbox = tmp_path / "in"
    conn = L.connect(ledger)
    first = receive_files(conn, cfg, [partner], inbox, retries=0, progress=kill_mid_transfer)
    assert killed and killed[0] > 0
    outcome = {f.remote_name: f.outcome for f in first.files}
    assert outcome.pop(big.name) == "failed"
    assert set(outcome.values()) == {"applied"} and len(outcome) == 6  # the other files were not held up
    assert big.name not in _visible(inbox) and not [n for n in _visible(inbox) if n.endswith(".part")]
    assert _rows(ledger, "SELECT COUNT(*) FROM remit_files WHERE path LIKE '%big%'") == [(0,)]
    assert _rows(ledger, "SELECT outcome, attempts FROM exchange_received WHERE remote_name = ?", big.name) == [
        ("failed", 1)
    ]
    second = receive_files(conn, cfg, [partner], inbox)
    assert [(f.remote_name, f.outcome, f.attempts) for f in second.files] == [(big.name, "applied", 2)]
    assert (inbox / big.name).read_bytes() == big.read_bytes()
    assert _rows(ledger, "SELECT COUNT(*) FROM unmatched") == [(24000,)]
    conn.close()
    _check_ledger_matches_paid_only(ledger, answered)


def _check_ledger_matches_paid_only(db: str | Path, answered: Answered) -> None:
    for pcn, paid in answered.paid.items():
        rows = _rows(
            db,
            "SELECT p.paid FROM claim_postings p JOIN claims c ON c.id = p.claim_id WHERE c.patient_control_number = ?",
            pcn,
        )
        assert [Decimal(r[0]) for r in rows] == [paid]


@pytest.mark.slow
def test_a_file_that_is_not_x12_is_kept_and_reported(server, ledger, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _sftp(server, send_dir, receive_dir) + "delete_after_download = true\n")
    (receive_dir / "monthly-report.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    inbox = tmp_path / "in"
    code, out = _run("receive", "--config", str(cfg), "--ledger", str(ledger), "--inbox", str(inbox))
    assert code == 0, out
    (f,) = out["files"]
    assert (f["kind"], f["outcome"]) == ("other", "kept")
    assert (inbox / "monthly-report.pdf").read_bytes().startswith(b"%PDF")
    assert any(x["code"] == "exchange-kept-file" for x in out["findings"])
    assert _visible(receive_dir) == []
    code, status = _run("status", "--config", str(cfg), "--ledger", str(ledger))
    assert [p["outcome"] for p in status["partners"][0]["problems"]] == ["kept"]


# ----------------------------------------------------------------------------------- folder partner


def test_folder_partner_round_trip(ledger, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0 and out["sent"] == 2
    answered = Answered()
    answer_inbox(send_dir, receive_dir, answered)
    inbox = tmp_path / "in"
    code, out = _run("receive", "acme", "--config", str(cfg), "--ledger", str(ledger), "--inbox", str(inbox))
    assert code == 0 and out["outcomes"] == {"applied": 6}
    _check_ledger_matches(ledger, answered)
    before = _ledger_counts(ledger)
    assert _run("send", "--config", str(cfg), "--ledger", str(ledger))[1]["sent"] == 0
    assert _run("receive", "--config", str(cfg), "--ledger", str(ledger), "--inbox", str(inbox))[1]["files"] == []
    assert _ledger_counts(ledger) == before


def test_usage_must_match_isa15(ledger, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir, usage="P"))
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 1 and out["sent"] == 0
    assert {f["code"] for f in out["findings"]} == {"exchange-usage-mismatch"}
    assert _visible(send_dir) == []


def test_a_file_changed_since_it_was_recorded_is_not_sent(ledger, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    conn = L.connect(ledger)
    (path,) = conn.execute("SELECT path FROM interchanges ORDER BY id LIMIT 1").fetchone()
    copy = tmp_path / Path(path).name
    copy.write_bytes(Path(path).read_bytes().replace(b"~", b"~\n", 1))
    with L.transaction(conn):
        conn.execute("UPDATE interchanges SET path = ? WHERE path = ?", (str(copy), path))
    conn.close()
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 1 and out["sent"] == 1
    assert [f["code"] for f in out["findings"]] == ["exchange-file-changed"]
    assert copy.name not in _visible(send_dir)


def test_refused_and_invalid_files_are_never_sent(ledger, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    conn = L.connect(ledger)
    ids = [r[0] for r in conn.execute("SELECT id FROM interchanges ORDER BY id")]
    with L.transaction(conn):
        conn.execute("UPDATE interchanges SET status = 'refused' WHERE id = ?", (ids[0],))
        conn.execute("UPDATE interchanges SET status = 'recorded-invalid' WHERE id = ?", (ids[1],))
    conn.close()
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0 and out["sent"] == 0 and _visible(send_dir) == []
    assert [f["code"] for f in out["findings"]] == ["exchange-invalid-file"]


def test_a_file_not_yet_in_place_is_not_sent(ledger, tmp_path):
    """A build renames its file into place after recording it; until then it waits."""
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    conn = L.connect(ledger)
    ic = conn.execute("SELECT id, path FROM interchanges ORDER BY id LIMIT 1").fetchone()
    with L.transaction(conn):
        conn.execute("UPDATE interchanges SET temp_path = ? WHERE id = ?", (ic["path"] + ".tmp", ic["id"]))
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0 and out["sent"] == 1 and Path(ic["path"]).name not in _visible(send_dir)
    L.file_in_place(conn, ic["id"])
    conn.close()
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0 and out["sent"] == 1 and Path(ic["path"]).name in _visible(send_dir)


def test_an_interrupted_upload_is_recorded_not_sent_again(ledger, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    conn = L.connect(ledger)
    ic = conn.execute("SELECT id, path, sha256 FROM interchanges ORDER BY id LIMIT 1").fetchone()
    name = Path(ic["path"]).name
    # the previous run renamed the file into place and stopped before recording it as sent
    shutil.copyfile(ic["path"], send_dir / name)
    with L.transaction(conn):
        conn.execute(
            "INSERT INTO exchange_sent (interchange_id, partner, remote_name, status, sha256, size, started_at) "
            "VALUES (?, 'acme', ?, 'uploading', ?, ?, '2026-03-01T00:00:00+00:00')",
            (ic["id"], name, ic["sha256"], Path(ic["path"]).stat().st_size),
        )
    conn.close()
    before = (send_dir / name).stat().st_mtime_ns
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0 and out["sent"] == 2
    assert (send_dir / name).stat().st_mtime_ns == before
    assert "interrupted" in next(f["message"] for f in out["files"] if f["remote_name"] == name)


# ----------------------------------------------------------------------------------- where sending starts


def _paths(db: str | Path) -> list[str]:
    return [r[0] for r in _rows(db, "SELECT path FROM interchanges ORDER BY id")]


def _build_one_more(db: str | Path, tmp_path: Path) -> str:
    """Record one more 837 (a new encounter) in the ledger; its path."""
    encounters = json.loads(Path(demo_encounter_files()[0]).read_text())["encounters"]
    one = tmp_path / "more.json"
    one.write_text(json.dumps({"encounters": [dict(encounters[0], id="ENC-LATER-1")]}))
    conn = L.connect(db)
    result = build_claims([one], load_config(), conn, tmp_path / "more_claims")
    conn.close()
    assert [f.status for f in result.files] == ["recorded"]
    return _paths(db)[-1]


def test_the_first_send_holds_back_files_built_before_the_partner_was_set_up(earlier, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    code, out = _run("send", "--config", str(cfg), "--ledger", str(earlier))
    assert code == 0 and out["sent"] == 0
    assert _visible(send_dir) == []
    assert out["built_before_setup"] == [
        {"partner": "acme", "isa13": isa13, "path": path}
        for isa13, path in _rows(earlier, "SELECT isa13, path FROM interchanges ORDER BY id")
    ]
    assert {f["status"] for f in out["files"]} == {"held"}
    (finding,) = out["findings"]
    assert finding["code"] == "exchange-built-before-setup" and finding["severity"] == "warning"
    assert "built before clearinghouse acme was set up: not sent" in finding["message"]
    assert "`dripline exchange send acme --include-earlier` if they were never uploaded" in finding["message"]
    assert all(p in finding["message"] for p in _paths(earlier))
    # the cut-off is the first send: the last interchange recorded then
    assert _rows(earlier, "SELECT partner, cutoff_interchange, origin FROM exchange_partners") == [
        ("acme", 2, "first-send")
    ]
    assert _rows(earlier, "SELECT COUNT(*) FROM exchange_sent") == [(0,)]
    # a later run holds them back as well, and says so again
    code, out = _run("send", "acme", "--config", str(cfg), "--ledger", str(earlier))
    assert code == 0 and out["sent"] == 0 and len(out["built_before_setup"]) == 2
    code, out = _run("status", "--config", str(cfg), "--ledger", str(earlier))
    (acme,) = out["partners"]
    assert acme["waiting_to_send"] == 0 and acme["built_before_setup"] == 2 and acme["first_send_at"]
    res = runner.invoke(
        app, ["exchange", "send", "--config", str(cfg), "--ledger", str(earlier)], env={"COLUMNS": "400"}
    )
    assert res.exit_code == 0 and "send them with `dripline exchange send acme --include-earlier`" in res.output
    assert res.output.count(" held ") == 2


def test_status_before_the_first_send_counts_the_files_it_would_hold(earlier, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    code, out = _run("status", "--config", str(cfg), "--ledger", str(earlier))
    (acme,) = out["partners"]
    assert code == 0 and acme["waiting_to_send"] == 0 and acme["built_before_setup"] == 2
    assert acme["first_send_at"] is None
    # status and receive do not set the partner up: only a send does
    assert _run("receive", "--config", str(cfg), "--ledger", str(earlier), "--inbox", str(tmp_path / "in"))[0] == 0
    assert _rows(earlier, "SELECT COUNT(*) FROM exchange_partners") == [(0,)]


@pytest.mark.parametrize("held_first", [True, False], ids=["after-a-plain-send", "on-the-first-send"])
def test_include_earlier_sends_them_exactly_once(earlier, tmp_path, held_first):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    if held_first:
        assert _run("send", "--config", str(cfg), "--ledger", str(earlier))[1]["sent"] == 0
    code, out = _run("send", "acme", "--include-earlier", "--config", str(cfg), "--ledger", str(earlier))
    assert code == 0 and out["sent"] == 2 and out["built_before_setup"] == []
    assert _visible(send_dir) == sorted(Path(p).name for p in _paths(earlier))
    for again in (["--include-earlier"], []):
        code, out = _run("send", *again, "--config", str(cfg), "--ledger", str(earlier))
        assert code == 0 and out["sent"] == 0 and out["built_before_setup"] == []
    assert len(_visible(send_dir)) == 2
    assert _rows(earlier, "SELECT interchange_id, status FROM exchange_sent ORDER BY interchange_id") == [
        (1, "sent"),
        (2, "sent"),
    ]


def test_dry_run_sends_nothing_records_nothing_and_connects_to_nothing(earlier, tmp_path, monkeypatch):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))

    def no_connection(self, partner):
        raise AssertionError("a dry run opened the mailbox")

    monkeypatch.setattr("reconcile.exchange.transport.FolderTransport.__init__", no_connection)
    tables = ("exchange_sent", "exchange_partners", "exchange_received", "interchanges", "claim_status_history")

    def snapshot() -> list:
        return [sorted(_rows(earlier, f"SELECT * FROM {t}"), key=repr) for t in tables]

    before = snapshot()
    code, out = _run("send", "--dry-run", "--config", str(cfg), "--ledger", str(earlier))
    assert code == 0 and out["dry_run"] is True and out["sent"] == 0 and out["would_send"] == 0
    assert [f["path"] for f in out["built_before_setup"]] == _paths(earlier)
    code, out = _run("send", "--dry-run", "--include-earlier", "--config", str(cfg), "--ledger", str(earlier))
    assert code == 0 and out["sent"] == 0 and out["would_send"] == 2 and out["built_before_setup"] == []
    assert [(f["path"], f["status"]) for f in out["files"]] == [(p, "would-send") for p in _paths(earlier)]
    res = runner.invoke(app, ["exchange", "send", "--dry-run", "--config", str(cfg), "--ledger", str(earlier)])
    assert res.exit_code == 0 and "dry run: 0 file(s) would be sent" in res.output
    assert snapshot() == before and _visible(send_dir) == []


def test_dry_run_lists_what_the_real_send_sends(ledger, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    code, dry = _run("send", "--dry-run", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0 and dry["would_send"] == 2 and _visible(send_dir) == []
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0 and out["sent"] == 2
    assert [f["path"] for f in dry["files"]] == [f["path"] for f in out["files"]]
    assert [f["sha256"] for f in dry["files"]] == [f["sha256"] for f in out["files"]]


def test_a_file_built_after_the_cut_off_is_sent_normally(earlier, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    old = _paths(earlier)
    assert _run("send", "--config", str(cfg), "--ledger", str(earlier))[1]["sent"] == 0  # sets the partner up
    later = _build_one_more(earlier, tmp_path)
    code, out = _run("send", "--config", str(cfg), "--ledger", str(earlier))
    assert code == 0 and out["sent"] == 1
    assert [f["path"] for f in out["files"] if f["status"] == "sent"] == [later]
    assert [f["path"] for f in out["built_before_setup"]] == old
    assert _visible(send_dir) == [Path(later).name]


def test_a_practice_that_sets_the_partner_up_first_sends_everything_built_afterwards(tmp_path, ledger_target):
    db = ledger_target
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    code, out = _run("send", "--config", str(cfg), "--ledger", str(db))
    assert code == 0 and out["sent"] == 0 and out["findings"][0]["code"] == "exchange-nothing-to-send"
    later = _build_one_more(db, tmp_path)
    code, out = _run("send", "--config", str(cfg), "--ledger", str(db))
    assert (
        code == 0 and out["sent"] == 1 and out["built_before_setup"] == [] and _visible(send_dir) == [Path(later).name]
    )


def test_a_partner_that_sent_before_cut_offs_existed_holds_nothing_back(built, tmp_path):
    """Upgrading a ledger: a partner with send history keeps sending everything not yet sent."""
    from reconcile.ledger.migrations import MIGRATIONS, apply_migrations

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    apply_migrations(conn, [m for m in MIGRATIONS if m[0] != "0402_exchange_partner_cutoff"])
    src = sqlite3.connect(built / "ledger.db")
    for table in ("interchanges", "transactions", "claims", "lines", "claim_status_history"):
        rows = src.execute(f"SELECT * FROM {table}").fetchall()
        cols = [d[0] for d in src.execute(f"SELECT * FROM {table} LIMIT 0").description]
        conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
    src.close()
    first = conn.execute("SELECT id, path, sha256 FROM interchanges ORDER BY id LIMIT 1").fetchone()
    conn.execute(
        "INSERT INTO exchange_sent (interchange_id, partner, remote_name, status, sha256, size, started_at, sent_at) "
        "VALUES (?, 'acme', 'x.x12', 'sent', ?, 1, '2026-02-01T00:00:00+00:00', '2026-02-01T00:00:00+00:00')",
        (first[0], first[2]),
    )
    conn.close()
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    code, out = _run("send", "--config", str(cfg), "--ledger", str(db))  # opening applies the new migration
    assert _rows(db, "SELECT partner, cutoff_interchange, origin FROM exchange_partners") == [
        ("acme", 0, "sent-before-cutoffs")
    ]
    assert code == 0 and out["sent"] == 1 and out["built_before_setup"] == []


# ----------------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'kind = "folder"\nsend_dir = "a"\nreceive_dir = "b"\nusage = "T"\npassword = "hunter2"\n',
            "never put a secret",
        ),
        (
            'host = "h"\nusername = "u"\nkey_file = "k"\nhost_key = "MD5:aa"\nsend_dir = "a"\nreceive_dir = "b"\nusage = "T"\n',
            "SHA256 fingerprint",
        ),
        (
            'host = "h"\nusername = "u"\nhost_key = "SHA256:'
            + "A" * 43
            + '"\nsend_dir = "a"\nreceive_dir = "b"\nusage = "T"\n',
            "exactly one of key_file",
        ),
        ('kind = "folder"\nsend_dir = "a"\nreceive_dir = "b"\nusage = "X"\n', '"T" (test) or "P"'),
        (
            'kind = "folder"\nsend_dir = "a"\nreceive_dir = "b"\nusage = "T"\nupload_name = "{nope}.x12"\n',
            "unknown field",
        ),
        ('kind = "ftp"\nsend_dir = "a"\nreceive_dir = "b"\nusage = "T"\n', '"sftp" or "folder"'),
        (
            'kind = "folder"\nsend_dir = "a"\nreceive_dir = "b"\nusage = "T"\nupload_name = "claims.x12"\n',
            "its own name",
        ),
    ],
)
def test_configuration_problems_exit_2(tmp_path, ledger, body, message):
    cfg = _config(tmp_path, body)
    res = runner.invoke(app, ["exchange", "send", "--config", str(cfg), "--ledger", str(ledger)])
    assert res.exit_code == 2
    assert message in " ".join(res.output.split())
    assert "hunter2" not in res.output


def test_a_payer_naming_an_unknown_clearinghouse_is_a_config_problem(tmp_path, ledger):
    payers = '[payers.medicare]\npayer_id = "00952"\nclearinghouse = "nobody"\n'
    cfg = _config(tmp_path, _folder(tmp_path, tmp_path), payers=payers)
    res = runner.invoke(app, ["exchange", "receive", "--config", str(cfg), "--ledger", str(ledger)])
    assert res.exit_code == 2 and "nobody" in res.output


def test_claims_go_to_the_partner_their_payer_names(tmp_path, ledger):
    a_send, a_recv = _mailbox(tmp_path / "a")
    b_send, b_recv = _mailbox(tmp_path / "b")
    cfg = tmp_path / "two.toml"
    cfg.write_text(
        '[payers.medicare]\npayer_id = "00952"\nfiling_indicator = "MB"\nhome_infusion_model = "medicare_hit"\nclearinghouse = "acme"\n'
        '[payers.commercial]\npayer_id = "ACME01"\nclearinghouse = "acme"\n'
        f"[clearinghouses.acme]\n{_folder(a_send, a_recv)}\n[clearinghouses.other]\n{_folder(b_send, b_recv)}\n"
    )
    code, out = _run("send", "other", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0 and out["sent"] == 0 and _visible(b_send) == []
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0 and out["sent"] == 2 and len(_visible(a_send)) == 2


def test_upload_name_template(tmp_path, ledger):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir) + 'upload_name = "RIVERSIDE_{claim_type}_{isa13}.837"\n')
    assert _run("send", "--config", str(cfg), "--ledger", str(ledger))[0] == 0
    assert _visible(send_dir) == ["RIVERSIDE_837I_000000002.837", "RIVERSIDE_837P_000000001.837"]


def test_the_readme_example_configuration_is_valid(tmp_path):
    """The worked example in the README parses without findings and routes the payer as it says."""
    import re

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(\[clearinghouses\..*?)```", readme, re.S)
    assert block is not None
    path = tmp_path / "example.toml"
    path.write_text(block.group(1))
    xc = load_exchange_config(path, load_config(path))
    assert xc.findings == [] and set(xc.partners) == {"acme", "share"}
    assert xc.payer_partner == {"commercial": "acme"}
    assert xc.partners["acme"].host_key.startswith("SHA256:") and xc.partners["share"].kind == "folder"


@pytest.mark.slow
def test_a_dropped_connection_is_retried_in_the_same_run(server, ledger, tmp_path, monkeypatch):
    monkeypatch.setattr("reconcile.exchange.mailbox.BACKOFF_S", (0.1,))
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg_path = _config(tmp_path, _sftp(server, send_dir, receive_dir))
    cfg = load_config(cfg_path)
    partner = load_exchange_config(cfg_path, cfg).partners["acme"]
    big = receive_dir / "big.835"
    big.write_text(_big_835(24000))
    killed: list[int] = []

    def kill_once(name: str, done: int, total: int) -> None:
        if not killed and 0 < done < total:
            killed.append(server.kill_sessions())

    conn = L.connect(ledger)
    result = receive_files(conn, cfg, [partner], tmp_path / "in", retries=2, progress=kill_once)
    conn.close()
    assert killed and [(f.outcome, f.attempts) for f in result.files] == [("applied", 1)]
    assert (tmp_path / "in" / big.name).read_bytes() == big.read_bytes()


def test_a_file_that_fails_to_apply_is_retried_next_run_and_holds_up_no_other(ledger, tmp_path, monkeypatch):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir) + "delete_after_download = true\n")
    _run("send", "--config", str(cfg), "--ledger", str(ledger))
    answered = Answered()
    answer_inbox(send_dir, receive_dir, answered)
    isa13 = _rows(ledger, "SELECT isa13 FROM interchanges ORDER BY id LIMIT 1")[0][0]
    (receive_dir / "envelope.ta1").write_text(
        "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*DRIPLINE01     *260301*1200*^*00501*000000900*0*T*:~"
        f"TA1*{isa13:09d}*260301*1200*A*000~IEA*0*000000900~"
    )
    import reconcile.posting.post as post

    real = post.post_files

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(post, "post_files", disk_full)
    inbox = tmp_path / "in"
    code, out = _run("receive", "--config", str(cfg), "--ledger", str(ledger), "--inbox", str(inbox))
    assert code == 1
    outcomes = sorted((f["kind"], f["outcome"]) for f in out["files"])
    assert outcomes == [("277CA", "applied")] * 2 + [("835", "failed")] * 2 + [("999", "applied")] * 2 + [
        ("TA1", "applied")
    ]
    assert sorted(_visible(receive_dir)) == sorted(
        n for n in answered.files if n.endswith(".835")
    )  # kept until applied
    assert all("No space left" in f["error"] for f in out["files"] if f["outcome"] == "failed")
    code, status = _run("status", "--config", str(cfg), "--ledger", str(ledger))
    assert sorted((p["outcome"], p["attempts"]) for p in status["partners"][0]["problems"]) == [("failed", 1)] * 2
    monkeypatch.setattr(post, "post_files", real)
    code, out = _run("receive", "--config", str(cfg), "--ledger", str(ledger), "--inbox", str(inbox))
    assert code == 0, out
    assert sorted((f["kind"], f["outcome"], f["attempts"]) for f in out["files"]) == [("835", "applied", 2)] * 2
    assert _visible(receive_dir) == []
    _check_ledger_matches(ledger, answered)


def test_a_missing_password_variable_is_reported(ledger, tmp_path, monkeypatch):
    monkeypatch.delenv("ACME_SFTP_PASSWORD", raising=False)
    body = (
        'host = "127.0.0.1"\nport = 1\nusername = "u"\npassword_env = "ACME_SFTP_PASSWORD"\n'
        f'host_key = "SHA256:{"A" * 43}"\nsend_dir = "/in"\nreceive_dir = "/out"\nusage = "T"\n'
    )
    cfg = _config(tmp_path, body)
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 1 and out["sent"] == 0
    assert any("ACME_SFTP_PASSWORD" in f["message"] and "not set" in f["message"] for f in out["findings"])


def test_status_without_any_clearinghouse(ledger):
    code, out = _run("status", "--ledger", str(ledger))
    assert code == 0 and out == {"partners": [], "not_sendable": []}


def test_a_partner_name_that_is_not_a_plain_folder_name_is_a_config_problem(tmp_path, ledger):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(f'[clearinghouses."../up"]\n{_folder(tmp_path, tmp_path)}')
    res = runner.invoke(app, ["exchange", "receive", "--config", str(cfg), "--ledger", str(ledger)])
    assert res.exit_code == 2 and "names the inbox folder" in " ".join(res.output.split())


def test_a_name_taken_in_the_mailbox_is_not_overwritten_nor_taken_for_ours(ledger, tmp_path):
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    first = _rows(ledger, "SELECT path FROM interchanges ORDER BY id LIMIT 1")[0][0]
    size = Path(first).stat().st_size
    foreign = send_dir / Path(first).name
    foreign.write_bytes(b"x" * size)  # someone else's file, even of the same size
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 1 and out["sent"] == 1
    assert any("already exists" in f["message"] for f in out["findings"])
    assert foreign.read_bytes() == b"x" * size
    assert _rows(ledger, "SELECT COUNT(*) FROM exchange_sent WHERE remote_name = ?", foreign.name) == [(0,)]
    foreign.unlink()  # the partner took its file away
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0 and out["sent"] == 1
    assert foreign.read_bytes() == Path(first).read_bytes()


def test_an_interchange_already_answered_is_not_sent(ledger, tmp_path):
    """A file whose claims a 277CA or an 835 already answered reached the payer some other way."""
    send_dir, receive_dir = _mailbox(tmp_path)
    cfg = _config(tmp_path, _folder(send_dir, receive_dir))
    conn = L.connect(ledger)
    ic = conn.execute("SELECT id, path FROM interchanges ORDER BY id LIMIT 1").fetchone()
    claim = conn.execute(
        "SELECT c.id FROM claims c JOIN transactions t ON t.id = c.transaction_id WHERE t.interchange_id = ? LIMIT 1",
        (ic["id"],),
    ).fetchone()
    with L.transaction(conn):
        L.set_claim_status(conn, claim["id"], "accepted", "277CA", {"ack": "277CA"})
    conn.close()
    code, out = _run("send", "--config", str(cfg), "--ledger", str(ledger))
    assert code == 0 and out["sent"] == 1
    assert Path(ic["path"]).name not in _visible(send_dir)


@pytest.mark.slow
def test_a_pinned_rsa_key_is_found_on_a_server_that_shows_ed25519_first(ledger, tmp_path):
    import subprocess

    server = make_sshd(tmp_path / "sshd", rsa_too=True)
    try:
        line = subprocess.run(
            ["ssh-keygen", "-lf", str(server.extra_host_keys[0]) + ".pub"], capture_output=True, text=True, check=True
        ).stdout.strip()
        rsa = line.split()[1]
        for n, pinned in enumerate((rsa, line)):  # the bare fingerprint, then the whole ssh-keygen line
            send_dir, receive_dir = _mailbox(tmp_path / f"run{n}")
            (receive_dir / f"note{n}.txt").write_text("hello")
            cfg = _config(tmp_path / f"run{n}", _sftp(server, send_dir, receive_dir, fingerprint=pinned))
            code, out = _run(
                "receive", "--config", str(cfg), "--ledger", str(ledger), "--inbox", str(tmp_path / f"in{n}")
            )
            assert code == 0, out
            assert [(f["remote_name"], f["outcome"]) for f in out["files"]] == [(f"note{n}.txt", "kept")]
        # an Ed25519 fingerprint that is not the server's is still refused, after asking for every key type
        send_dir, receive_dir = _mailbox(tmp_path / "run9")
        wrong = "SHA256:" + "B" * 43
        cfg = _config(tmp_path / "run9", _sftp(server, send_dir, receive_dir, fingerprint=wrong))
        code, out = _run("receive", "--config", str(cfg), "--ledger", str(ledger), "--inbox", str(tmp_path / "in9"))
        assert code == 1
        (msg,) = [f["message"] for f in out["findings"] if "host key" in f["message"]]
        assert server.fingerprint in msg and rsa in msg
    finally:
        server.stop()


@pytest.mark.slow
def test_a_dropped_connection_mid_upload_publishes_nothing_and_the_next_run_sends_it(server, ledger, tmp_path):
    from reconcile.exchange.send import send_files

    send_dir, receive_dir = _mailbox(tmp_path)
    cfg_path = _config(tmp_path, _sftp(server, send_dir, receive_dir))
    xc = load_exchange_config(cfg_path, load_config(cfg_path))
    conn = L.connect(ledger)
    ic = conn.execute("SELECT id, path FROM interchanges ORDER BY id LIMIT 1").fetchone()
    big = tmp_path / Path(ic["path"]).name
    big.write_bytes(Path(ic["path"]).read_bytes() + b"\n" * 6_000_000)  # a large claim file
    with L.transaction(conn):
        conn.execute(
            "UPDATE interchanges SET path = ?, sha256 = ? WHERE id = ?",
            (str(big), hashlib.sha256(big.read_bytes()).hexdigest(), ic["id"]),
        )
    killed: list[int] = []

    def kill_mid_transfer(name: str, done: int, total: int) -> None:
        if name == big.name and not killed and 0 < done < total:
            killed.append(server.kill_sessions())

    first = send_files(conn, xc, list(xc.partners.values()), retries=0, progress=kill_mid_transfer)
    assert killed and killed[0] > 0
    assert {f.path: f.status for f in first.files}[str(big)] == "failed"
    assert big.name not in _visible(send_dir)  # nothing published under the final name
    assert [n for n in _visible(send_dir) if n.endswith(".part")]  # what the dropped upload left
    second = send_files(conn, xc, list(xc.partners.values()))
    assert [f.status for f in second.files] == ["sent", "sent"] and second.files[0].path == str(big)
    assert (send_dir / big.name).read_bytes() == big.read_bytes()
    assert not [n for n in _visible(send_dir) if n.endswith(".part")]  # the partial upload was removed
    assert _rows(ledger, "SELECT status FROM exchange_sent WHERE interchange_id = ?", ic["id"]) == [("sent",)]
    conn.close()
