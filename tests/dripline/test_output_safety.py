"""What payer data can do to our outputs: terminals, tables, CSV and the HTML report.

A crafted 835 puts its text in the ledger (payer names, claim and line numbers, codes); these
tests put such text in a demo ledger and check every output keeps it inert and visible.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import html as lhtml
from typer.testing import CliRunner

from coding.display import csv_cell, visible
from dripline.cli import app
from dripline.common import REPORT_MARKER, ReportPathError, write_report
from reconcile.demo.run import DEMO_835
from reconcile.ledger import store as L
from reconcile.ledger.db import is_server_url

runner = CliRunner()
HOSTILE_PAYER = (
    '=HYPERLINK("http://evil.example","x") [/] [link=http://evil.example]click[/link] '
    "<script>alert(1)</script> \x1b[2J\x07\u202e"
)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory, module_ledger_target: str) -> Path | str:
    """The demo ledger with one denial carrying hostile payer text: the workspace's SQLite file,
    then a PostgreSQL database."""
    ws = tmp_path_factory.mktemp("safety") / "ws"
    server = is_server_url(module_ledger_target)
    res = runner.invoke(
        app, ["demo", "--workspace", str(ws), *(["--ledger", module_ledger_target] if server else []), "--json"]
    )
    assert res.exit_code == 0, res.output
    db = module_ledger_target if server else ws / "dripline.db"
    conn = L.connect(db)
    with L.transaction(conn):
        (first,) = conn.execute("SELECT min(id) FROM denials WHERE status = 'open'").fetchone()
        conn.execute("UPDATE denials SET payer = ?, rarc = ? WHERE id = ?", (HOSTILE_PAYER, "@SUM(1)", first))
    conn.close()
    return db


def _denials(db: Path | str, *args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, ["denials", "--ledger", str(db), *args], env=env)


# ---------------------------------------------------------------- text helpers


@given(st.text())
def test_visible_leaves_no_control_or_direction_character(text):
    shown = visible(text)
    assert all(unicodedata.category(c) not in ("Cc", "Cs") for c in shown)
    assert not any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in shown)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp"))))
def test_visible_keeps_ordinary_text(text):
    assert visible(text) == text


@given(st.text(min_size=1))
def test_csv_cell_never_starts_a_formula(text):
    cell = csv_cell(text)
    number = cell.lstrip("+-").replace(".", "", 1).isdigit() and cell.isascii()
    assert number or not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r", "\n"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\\x09=1"),
        ("\r=1", "'\\x0d=1"),
        (" =1", "' =1"),
        ("-12.50", "-12.50"),
        ("123.45", "123.45"),
        ("ACME", "ACME"),
        (None, ""),
        (7, "7"),
    ],
)
def test_csv_cell_table(value, expected):
    assert csv_cell(value) == expected


# ---------------------------------------------------------------- denials: CSV, table, HTML


def test_denials_csv_cells_are_not_formulas(ledger):
    res = _denials(ledger, "--csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    hostile = next(r for r in rows if "HYPERLINK" in r["payer"])
    assert hostile["payer"].startswith("'=HYPERLINK")
    assert "\\x1b[2J" in hostile["payer"] and "\x1b" not in res.stdout and "\u202e" not in res.stdout
    assert hostile["rarc"] == "'@SUM(1)"
    assert all(not v.startswith(("=", "+", "@")) for r in rows for v in r.values())


def test_denials_table_shows_payer_markup_as_text(ledger):
    res = _denials(ledger, env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    assert "[/]" in res.stdout and "[link=http://evil.example]click[/link]" in res.stdout
    assert "\x1b" not in res.stdout and "\x07" not in res.stdout and "\\x1b[2J" in res.stdout


def test_denials_html_escapes_control_characters(ledger, tmp_path):
    out = tmp_path / "report.html"
    res = _denials(ledger, "--html", str(out))
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "\\x1b[2J" in page and "\x1b" not in page and "\u202e" not in page
    doc = lhtml.fromstring(page.encode("utf-8"))
    assert doc.xpath("//script") == [] and doc.xpath("//a") == []  # payer text stays text
    (table,) = (t for t in doc.iter("table") if t.get("id") == "worklist")
    cells = ["".join(str(part) for part in td.itertext()) for td in table.iter("td")]
    assert visible(HOSTILE_PAYER) in cells
    assert out.stat().st_mode & 0o777 == 0o600 and REPORT_MARKER.decode() in page


# ---------------------------------------------------------------- --html: where it may write


def test_html_refuses_to_overwrite_a_file_that_is_not_a_report(ledger, tmp_path):
    victim = tmp_path / "notes.txt"
    victim.write_text("important")
    res = _denials(ledger, "--html", str(victim))
    assert res.exit_code == 2 and "not a dripline report" in res.output and "Traceback" not in res.output
    assert victim.read_text() == "important"


def test_html_never_overwrites_the_ledger(ledger, tmp_path):
    if is_server_url(ledger):
        pytest.skip("a PostgreSQL ledger is no file that --html could name")
    copy = tmp_path / "ledger.db"
    shutil.copy(ledger, copy)
    before = copy.read_bytes()
    res = _denials(copy, "--html", str(copy))
    assert res.exit_code == 2 and copy.read_bytes() == before


def test_html_does_not_follow_a_symlink(ledger, tmp_path):
    target = tmp_path / "target.html"
    target.write_bytes(b"<!DOCTYPE html>" + REPORT_MARKER + b"old")
    link = tmp_path / "link.html"
    link.symlink_to(target)
    res = _denials(ledger, "--html", str(link))
    assert res.exit_code == 2 and "symbolic link" in res.output
    assert link.is_symlink() and target.read_bytes().endswith(b"old")


def test_html_replaces_an_earlier_report_atomically_with_mode_0600(ledger, tmp_path):
    out = tmp_path / "denials.html"
    assert _denials(ledger, "--html", str(out)).exit_code == 0
    out.chmod(0o644)
    first_inode = out.stat().st_ino
    assert _denials(ledger, "--html", str(out)).exit_code == 0
    assert out.stat().st_mode & 0o777 == 0o600
    assert out.stat().st_ino != first_inode  # a new file renamed over the old one, not rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["denials.html"]  # no temporary file left


def test_write_report_leaves_nothing_when_the_write_fails(tmp_path, monkeypatch):
    def broken(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        write_report(tmp_path / "r.html", b"<html/>")
    assert list(tmp_path.iterdir()) == []


def test_a_killed_writers_temporary_report_is_swept_by_the_next_write(tmp_path):
    out = tmp_path / "denials.html"
    stale = tmp_path / ".denials.html.deadbeef.tmp"  # what a run killed between link and rename leaves
    stale.write_bytes(b"claim data")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = tmp_path / ".denials.html.cafe.tmp"  # another run's, in flight: left alone
    fresh.write_bytes(b"in flight")
    write_report(out, b"<!DOCTYPE html>" + REPORT_MARKER)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".denials.html.cafe.tmp", "denials.html"]


def test_report_bytes_are_never_under_a_name_before_they_are_complete(tmp_path, monkeypatch):
    """Killed while writing (here: the sync fails), nothing is left: the bytes go to an unnamed file first."""
    if not getattr(os, "O_TMPFILE", 0):
        pytest.skip("no O_TMPFILE on this system")
    names_seen: list[list[str]] = []
    real_fsync = os.fsync

    def fsync_then_fail(fd: int) -> None:
        names_seen.append(sorted(p.name for p in tmp_path.iterdir()))
        real_fsync(fd)
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", fsync_then_fail)
    with pytest.raises(OSError):
        write_report(tmp_path / "r.html", b"<html/>")
    assert names_seen and names_seen[0] == []
    assert list(tmp_path.iterdir()) == []


def test_write_report_refusals_are_their_own_error(tmp_path):
    (tmp_path / "dir.html").mkdir()
    with pytest.raises(ReportPathError):
        write_report(tmp_path / "dir.html", b"x")


# ---------------------------------------------------------------- remit show --csv


def test_remit_show_csv_neutralizes_payer_text(tmp_path):
    text = DEMO_835.read_text()
    hostile = text.replace("N1*PR*ACME HEALTH PLAN*", "N1*PR*=cmd|' /C calc'!A0\x07*", 1)
    assert hostile != text
    p = tmp_path / "hostile.835"
    p.write_text(hostile)
    res = runner.invoke(app, ["remit", "show", "--csv", str(p)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    payers = {r["payer"] for r in rows}
    assert "'=cmd|' /C calc'!A0\\x07" in payers
    assert all(not v.startswith(("=", "@")) for r in rows for v in r.values())
    negative = [r["line_paid"] for r in rows if r["line_paid"].startswith("-")]
    assert all(v.replace("-", "", 1).replace(".", "", 1).isdigit() for v in negative)  # numbers stay numbers


def test_remit_show_table_shows_payer_markup_as_text(tmp_path):
    p = tmp_path / "markup.835"
    p.write_text(DEMO_835.read_text().replace("N1*PR*ACME HEALTH PLAN*", "N1*PR*[/][link=http://evil]X[/link]*", 1))
    res = runner.invoke(app, ["remit", "show", str(p)], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "[/][link=http://evil]X[/link]" in res.stdout


# ---------------------------------------------------------------- narrow terminals and pipes


def _money_and_ids(db: Path | str) -> set[str]:
    items = json.loads(_denials(db, "--json").stdout)["denials"]
    values = set()
    for d in items:
        values |= {d["amount"], d["patient_control_number"]}
        values |= {v for v in (d["line_control_number"], d["code"]) if v}
    claims = json.loads(runner.invoke(app, ["claims", "list", "--ledger", str(db), "--json"]).stdout)["claims"]
    for c in claims:
        values |= {c["patient_control_number"], c["charge"], c["paid"], c["balance"]}
    return values


@pytest.mark.parametrize("columns", ["40", "60", "80"])
def test_narrow_console_never_cuts_amounts_codes_or_claim_numbers(ledger, columns):
    wanted = _money_and_ids(ledger)
    shown = ""
    for args in (["denials"], ["claims", "list"]):
        res = runner.invoke(app, [*args, "--ledger", str(ledger)], env={"COLUMNS": columns})
        assert res.exit_code == 0, res.output
        assert "…" not in res.stdout
        assert max(len(line) for line in res.stdout.splitlines()) <= int(columns)
        shown += res.stdout
    words = set(shown.replace("│", " ").replace("┃", " ").split())
    missing = {v for v in wanted if v not in words}
    assert not missing


@pytest.mark.parametrize("columns", ["40", "60"])
def test_narrow_remit_show_keeps_every_amount(columns):
    res = runner.invoke(app, ["remit", "show", str(DEMO_835)], env={"COLUMNS": columns})
    assert res.exit_code == 0, res.output
    assert "…" not in res.stdout
    doc = json.loads(runner.invoke(app, ["remit", "show", "--json", str(DEMO_835)]).stdout)
    words = set(res.stdout.replace("│", " ").split())
    for r in doc["remittances"]:
        for c in r["claims"]:
            assert {c["patient_control_number"], c["charge"], c["paid"]} <= words
            for ln in c["lines"]:
                assert {ln["charge"], ln["paid"]} <= words


def test_piped_output_never_cuts_amounts(ledger):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    proc = subprocess.run(
        [sys.executable, "-m", "dripline", "denials", "--ledger", str(ledger)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "…" not in proc.stdout and "\x1b" not in proc.stdout
    words = set(proc.stdout.replace("│", " ").split())
    items = json.loads(_denials(ledger, "--json").stdout)["denials"]
    assert {d["amount"] for d in items} <= words and {d["patient_control_number"] for d in items} <= words


def test_remit_show_summary_escapes_control_characters(tmp_path):
    p = tmp_path / "esc.835"
    p.write_text(DEMO_835.read_text().replace("N1*PR*ACME HEALTH PLAN*", "N1*PR*ACME\x1b]8;;http://evil\x07X*", 1))
    res = runner.invoke(app, ["remit", "show", "--summary", str(p)])
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.stdout and "\x07" not in res.stdout and "ACME\\x1b]8;;http://evil\\x07X" in res.stdout
    fast = subprocess.run(
        [sys.executable, "-m", "dripline", "remit", "show", str(p), "--summary"],
        capture_output=True,
        timeout=120,
    )
    assert fast.returncode == 0 and fast.stdout.decode() == res.stdout
