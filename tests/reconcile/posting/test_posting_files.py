"""Posting real 835 files (written by the payer simulator, read by the real reader)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.demo.simulate import Envelope, write_835
from reconcile.ledger import store as ledger
from reconcile.posting.post import post_files
from reconcile.posting.queries import claim_summaries
from reconcile.posting.remit import read_remittances
from tests.killpoint import run_killed
from tests.reconcile.posting.support import D, Ledgers, claim, line, make_ledger, remit

REPO = Path(__file__).resolve().parents[3]


def _answer_all(lcns: dict[str, list[str]], charges: dict[str, list[str]], paid_ratio="0.8", trace="T1"):
    claims = []
    total = D(0)
    for pcn, nums in lcns.items():
        lines = []
        for lcn, ch in zip(nums, charges[pcn]):
            paid = (D(ch) * D(paid_ratio)).quantize(D("0.01"))
            lines.append(line("96372", ch, str(paid), lcn, adjs=[("CO", "45", str(D(ch) - paid))]))
        c_charge = sum(D(x) for x in charges[pcn])
        c_paid = sum(ln.paid for ln in lines)
        claims.append(claim(pcn, "1", str(c_charge), str(c_paid), lines=lines, icn="I" + pcn))
        total += c_paid
    return remit(claims, str(total), trace=trace)


def test_post_file_twice_and_same_payment_in_other_bytes(tmp_path, ledger_target):
    conn, lcns = make_ledger(ledger_target, [(f"E{i}", [("96372", (), 1, "45.00", None)]) for i in range(3)])
    rm = _answer_all(lcns, {p: ["45.00"] for p in lcns})
    f1 = tmp_path / "a.835"
    f1.write_text(write_835([rm]))
    r1 = post_files(conn, [f1])
    assert r1.files[0].status == "posted" and r1.files[0].claims == 3
    assert r1.files[0].paid == D("108.00")
    before = [(s["paid"], s["balance"]) for s in claim_summaries(conn)]
    assert before == [(D("36.00"), D(0))] * 3
    assert post_files(conn, [f1]).files[0].status == "duplicate"
    f2 = tmp_path / "b.835"
    f2.write_text(write_835([rm], Envelope(isa13=99, gs06=99)))  # other bytes, same payment
    r2 = post_files(conn, [f2]).files[0]
    assert r2.status == "duplicate" and r2.duplicate_payments == 1
    assert [(s["paid"], s["balance"]) for s in claim_summaries(conn)] == before


def _run_killed(kill_at: int, count: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """``dripline ARGS`` in a child process killed (SIGKILL) at its ``kill_at``-th SQLite statement
    (0: never), through the test-side wrapper :mod:`tests.killpoint`; with the statements it ran."""
    return run_killed(args, count, kill_at, prefix="sql:")


def test_kill_during_posting_leaves_nothing_partial(tmp_path):
    n = 1200
    db = tmp_path / "l.db"
    conn, lcns = make_ledger(db, [(f"K{i}", [("96372", (), 1, "45.00", None)]) for i in range(n)])
    f = tmp_path / "big.835"
    f.write_text(write_835([_answer_all(lcns, {p: ["45.00"] for p in lcns})]))
    conn.close()
    clean = tmp_path / "clean.db"
    shutil.copyfile(db, clean)
    ran, total = _run_killed(0, tmp_path / "count", "remit", "post", str(f), "--ledger", str(clean), "--json")
    assert ran.returncode == 0, ran.stderr
    assert total > 0
    # killed late in the file: after the first chunks were written inside the transaction
    proc, _ = _run_killed(total * 3 // 4, tmp_path / "count", "remit", "post", str(f), "--ledger", str(db), "--json")
    assert proc.returncode == -signal.SIGKILL
    conn = ledger.connect(db)
    for table in ("remit_files", "payments", "claim_postings", "line_postings", "adjustments", "denials"):
        assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
    assert {s["status"] for s in claim_summaries(conn)} == {"sent"}
    res = post_files(conn, [f]).files[0]
    assert res.status == "posted" and res.claims == n
    assert sum((s["paid"] for s in claim_summaries(conn)), D(0)) == D("36.00") * n


def test_every_corpus_835_posts_and_reposts_as_duplicate(corpus_dir, ledger_target):
    files = sorted(p for p in (corpus_dir / "835").iterdir() if p.is_file())
    conn = ledger.connect(ledger_target)
    first = post_files(conn, files)
    for fr in first.files:
        assert fr.status in ("posted", "duplicate"), fr.path
        read = [(rm.payer_id, rm.trace, rm.amount, list(rm.claims)) for rm in read_remittances(Path(fr.path), [])]
        # every remittance is either posted whole or reported as a duplicate payment
        assert fr.remittances + fr.duplicate_payments == len(read)
        if fr.duplicate_payments == 0:
            assert fr.claims == sum(len(r[3]) for r in read)
            assert fr.paid == sum((c.paid for r in read for c in r[3]), D(0))
    total = sum((D(r[0]) for r in conn.execute("SELECT paid FROM claim_postings")), D(0))
    assert total == sum((fr.paid for fr in first.files), D(0))
    # nothing of ours in the corpus: every claim is in the unmatched queue, none is lost
    n_claims = conn.execute("SELECT COUNT(*) FROM claim_postings").fetchone()[0]
    assert n_claims == sum(fr.claims for fr in first.files) > 0
    assert conn.execute("SELECT COUNT(*) FROM unmatched WHERE kind='claim'").fetchone()[0] == n_claims
    again = post_files(conn, files)
    assert all(fr.status == "duplicate" for fr in again.files)
    assert conn.execute("SELECT COUNT(*) FROM claim_postings").fetchone()[0] == n_claims


money = st.integers(min_value=0, max_value=500_000).map(lambda c: Decimal(c) / 100)


@st.composite
def scenario(draw):
    """Claims with lines; the payer pays part, adjusts the rest by random groups/reasons."""
    n_claims = draw(st.integers(1, 5))
    claims = []
    for i in range(n_claims):
        lines = []
        for _ in range(draw(st.integers(1, 4))):
            charge = draw(money.filter(lambda m: m > 0))
            paid = draw(st.integers(0, int(charge * 100))) / Decimal(100)
            rest = charge - paid
            split = draw(st.integers(0, int(rest * 100))) / Decimal(100)
            adjs = [
                (
                    draw(st.sampled_from(["CO", "OA", "PI", "CR"])),
                    draw(st.sampled_from(["45", "16", "4", "97"])),
                    str(rest - split),
                )
            ]
            if split:
                adjs.append(("PR", draw(st.sampled_from(["1", "2", "3"])), str(split)))
            lines.append((str(charge), str(paid), [a for a in adjs if D(a[2]) != 0]))
        status = draw(st.sampled_from(["1", "2", "4"]))
        claims.append((f"P{i}", status, lines))
    return claims


def test_balance_is_charge_minus_payments_minus_adjustments(tmp_path_factory, ledgers: Ledgers):
    @settings(max_examples=ledgers.examples(25), deadline=None)
    @given(scenario())
    def example(spec) -> None:
        target = ledgers.new()  # one ledger per example (PostgreSQL: a database, dropped at the end)
        try:
            _balance_is_charge_minus_payments_minus_adjustments(tmp_path_factory.mktemp("prop"), target, spec)
        finally:
            ledgers.drop(target)

    example()


def _balance_is_charge_minus_payments_minus_adjustments(tmp: Path, target: str, spec) -> None:
    conn, lcns = make_ledger(
        target, [(pcn, [("96372", (), 1, ch, None) for ch, _p, _a in lines]) for pcn, _s, lines in spec]
    )
    rclaims = []
    for pcn, status, lines in spec:
        rl = [line("96372", ch, paid, lcn, adjs=adjs) for (ch, paid, adjs), lcn in zip(lines, lcns[pcn])]
        rclaims.append(
            claim(
                pcn,
                status,
                str(sum(D(ch) for ch, _p, _a in lines)),
                str(sum(D(p) for _c, p, _a in lines)),
                lines=rl,
                icn="X" + pcn,
            )
        )
    total = sum((c.paid for c in rclaims), D(0))
    f = tmp / "p.835"
    f.write_text(write_835([remit(rclaims, str(total))]))
    for _ in range(2):  # posting twice changes nothing
        post_files(conn, [f])
    by_pcn = {s["patient_control_number"]: s for s in claim_summaries(conn)}
    for pcn, _status, lines in spec:
        s = by_pcn[pcn]
        charge = sum(D(ch) for ch, _p, _a in lines)
        paid = sum(D(p) for _c, p, _a in lines)
        adjusted = sum(D(a[2]) for _c, _p, adjs in lines for a in adjs)
        pr = sum(D(a[2]) for _c, _p, adjs in lines for a in adjs if a[0] == "PR")
        assert (s["paid"], s["adjusted"], s["patient_responsibility"]) == (paid, adjusted, pr)
        assert s["balance"] == s["charge"] - s["paid"] - s["adjusted"] == charge - paid - adjusted == 0
    denied_lines = sum(
        1
        for _p, status, lines in spec
        for _c, paid, adjs in lines
        if (status == "4" and D(paid) == 0) or (D(paid) == 0 and any(a[0] in ("CO", "OA", "PI") for a in adjs))
    )
    assert conn.execute("SELECT COUNT(*) FROM denials").fetchone()[0] == denied_lines
    conn.close()


def _summary(rm, claims):
    pay = rm.payment
    return (
        pay.trace,
        pay.amount,
        [
            (
                c.patient_control_number,
                c.status,
                c.paid,
                c.charge,
                [(ln.code, ln.paid, ln.line_control_number) for ln in c.lines],
            )
            for c in claims
        ],
        [(p.reason, p.reference, p.amount) for p in rm.provider_adjustments],
        sorted(f.code for f in rm.findings),
    )


def test_streaming_reader_hands_over_every_claim_once(corpus_dir, tmp_path):
    """The poster's claim-batch stream over the reader gives exactly the reader's remittances."""
    from edi.x835.reader import read_835
    from reconcile.posting import remit as remit_adapter
    from reconcile.posting.remit import stream_835

    big = tmp_path / "big.835"
    _conn, lcns = make_ledger(tmp_path / "l.db", [(f"B{i}", [("96372", (), 1, "45.00", None)]) for i in range(1300)])
    big.write_text(write_835([_answer_all(lcns, {p: ["45.00"] for p in lcns})]))
    files = sorted(p for p in (corpus_dir / "835").iterdir() if p.is_file())
    files += [REPO / "fixtures" / "demo.835", big]
    batches = 0
    for f in files:
        handed: dict[int, list] = {}

        def on_claims(rem, batch):
            nonlocal batches
            batches += 1
            assert len(batch) == remit_adapter.BATCH
            handed.setdefault(id(rem), []).extend(batch)

        streamed_findings: list = []
        streamed = []
        for rm in stream_835(f, streamed_findings, on_claims):
            streamed.append(_summary(rm, handed.pop(id(rm), []) + list(rm.claims)))
        whole_findings: list = []
        whole = [_summary(rm, rm.claims) for rm in read_835(f, filename=str(f), findings=whole_findings)]
        assert streamed == whole, f.name
        assert sorted(x.code for x in streamed_findings) == sorted(x.code for x in whole_findings), f.name
    assert batches >= 2  # the big file was really streamed in batches


def test_not_an_835_posts_nothing_and_says_so(tmp_path, ledger_target):
    conn = ledger.connect(ledger_target)
    junk = tmp_path / "junk.835"
    junk.write_text("hello, not X12")
    res = post_files(conn, [junk]).files[0]
    assert res.status == "error" and any(f.code == "no-remittance" for f in res.findings)
    assert conn.execute("SELECT COUNT(*) FROM remit_files").fetchone()[0] == 0
    assert post_files(conn, [tmp_path / "missing.835"]).files[0].status == "error"


def test_balancing_findings_are_kept_with_the_posting(tmp_path, ledger_target):
    conn, lcns = make_ledger(ledger_target, [("E1", [("96372", (), 1, "45.00", None)])])
    bad = remit([claim("E1", "1", "45", "40", lines=[line("96372", "45", "40", lcns["E1"][0])])], "40")
    f = tmp_path / "b.835"
    f.write_text(write_835([bad]))  # 45 - 0 adjustments != 40: out of balance, still posted
    res = post_files(conn, [f]).files[0]
    assert res.status == "posted" and res.claims == 1
    codes = [r[0] for r in conn.execute("SELECT code FROM posting_findings")]
    assert "claim-out-of-balance" in codes and "service-line-out-of-balance" in codes


def test_two_processes_posting_the_same_file_post_it_once(tmp_path, ledger_target):
    db = ledger_target
    conn, lcns = make_ledger(db, [(f"C{i}", [("96372", (), 1, "45.00", None)]) for i in range(300)])
    f = tmp_path / "c.835"
    f.write_text(write_835([_answer_all(lcns, {p: ["45.00"] for p in lcns})]))
    conn.close()
    code = (
        "import sys, json; from reconcile.ledger import store as ledger; from reconcile.posting.post import post_files;"
        "print(post_files(ledger.connect(sys.argv[1]), [sys.argv[2]]).files[0].status)"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, db, str(f)], cwd=REPO, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    statuses = sorted(p.communicate(timeout=120)[0].strip() for p in procs)
    assert statuses == ["duplicate", "posted"]
    conn = ledger.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM claim_postings").fetchone()[0] == 300


def test_remit_post_exits_1_when_a_posted_file_has_error_findings(tmp_path, ledgers: Ledgers):
    from typer.testing import CliRunner

    from dripline.cli import app

    db, other = ledgers.new(), ledgers.new()
    conn, lcns = make_ledger(db, [(f"E{i}", [("96372", (), 1, "45.00", None)]) for i in range(2)])
    conn.close()
    text = write_835([_answer_all(lcns, {p: ["45.00"] for p in lcns})])
    good, bad = tmp_path / "good.835", tmp_path / "bad.835"
    good.write_text(text)
    se = next(s for s in text.split("~\n") if s.startswith("SE*"))
    bad.write_text(text.replace(se + "~", se[: se.rindex("*")] + "*9999~").replace("T1", "T2"))  # SE02 != ST02
    runner = CliRunner()
    ok = runner.invoke(app, ["remit", "post", str(good), "--ledger", db, "--json"])
    assert ok.exit_code == 0, ok.output
    res = runner.invoke(app, ["remit", "post", str(bad), "--ledger", other, "--json"])
    [f] = json.loads(res.stdout)["files"]
    assert f["status"] == "posted" and any(x["severity"] == "error" for x in f["findings"])
    assert res.exit_code == 1
