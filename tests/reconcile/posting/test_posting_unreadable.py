"""An 835 with a segment the reader cannot read to its end: no money lands on the claim before it;
the lines of the claim it belonged to go to the unmatched queue, and ``remit post`` exits 1."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dripline.cli import app
from edi.x12 import tokenizer
from reconcile.ledger import store as ledger
from tests.edi.x835.test_cases import interchange, st_set, text
from tests.reconcile.posting.support import make_ledger

HUGE = "9" * (2 * tokenizer._MAX_SEGMENT)


def _ledger(target):
    conn, lcns = make_ledger(
        target,
        [
            ("ENC1", [("96413", (), 1, "100.00", None)]),
            ("ENC2", [("96415", (), 1, "200.00", None), ("96372", (), 1, "100.00", None)]),
            ("ENC3", [("96372", (), 1, "50.00", None)]),
        ],
    )
    conn.close()
    return lcns


def _claims(lcns, lost: str) -> list[str]:
    (l1,), (l2a, l2b), (l3,) = lcns["ENC1"], lcns["ENC2"], lcns["ENC3"]
    clp2 = "CLP*ENC2*1*300*250**12*PAYER2*11*1"
    svc2 = "SVC*HC:96415*200*150**1"
    if lost == "CLP":
        clp2 = f"CLP*ENC2*1*{HUGE}*250**12*PAYER2*11*1"
    else:
        svc2 = f"SVC*HC:96415*{HUGE}*150**1"
    return [
        "CLP*ENC1*1*100*80**12*PAYER1*11*1",
        "SVC*HC:96413*100*80**1",
        "CAS*CO*45*20",
        f"REF*6R*{l1}",
        clp2,
        svc2,
        "CAS*CO*45*50",
        f"REF*6R*{l2a}",
        "SVC*HC:96372*100*100**1",
        f"REF*6R*{l2b}",
        "CLP*ENC3*1*50*50**12*PAYER3*11*1",
        "SVC*HC:96372*50*50**1",
        f"REF*6R*{l3}",
    ]


@pytest.mark.parametrize("lost", ["CLP", "SVC"])
def test_lost_segment_sends_its_claim_to_the_unmatched_queue(tmp_path, ledger_target, lost):
    lcns = _ledger(ledger_target)
    f = tmp_path / "r.835"
    f.write_text(text(interchange([st_set(_claims(lcns, lost), "380", payer_id="ACME01")])))
    res = CliRunner().invoke(app, ["remit", "post", str(f), "--ledger", ledger_target, "--json"])

    conn = ledger.connect(ledger_target)
    # ENC1 keeps exactly its own line and its own money (today the ENC2 lines landed on it)
    rows = conn.execute(
        "SELECT c.claim_id, lp.paid FROM line_postings lp JOIN claim_postings c ON c.id = lp.claim_posting_id"
        " WHERE c.patient_control_number = 'ENC1'"
    ).fetchall()
    assert [r[1] for r in rows] == ["80"] and rows[0][0]
    # no money of the lost claim on any claim: the matched payments are ENC1's and ENC3's only
    posted = conn.execute(
        "SELECT c.patient_control_number, c.paid FROM claim_postings c WHERE c.claim_id IS NOT NULL"
        " ORDER BY c.patient_control_number"
    ).fetchall()
    assert [tuple(r) for r in posted] == [("ENC1", "80"), ("ENC3", "50")]
    queue = [tuple(r) for r in conn.execute("SELECT kind, amount, reason FROM unmatched ORDER BY id")]
    lines = [(amt, why) for kind, amt, why in queue if kind == "line"]
    # a lost SVC's own amounts are unknown (0 in the queue); the claim row keeps CLP04 when CLP was read
    assert [amt for amt, _why in lines] == (["150", "100"] if lost == "CLP" else ["0", "100"])
    assert [amt for kind, amt, _w in queue if kind == "claim"] == (["0"] if lost == "CLP" else ["250"])
    assert all("could not be read" in why for _kind, _amt, why in queue)
    assert all(kind in ("claim", "line") for kind, _a, _w in queue)
    # the file is reported as posted with errors: the reader's finding, and exit status 1
    assert res.exit_code == 1, res.output
    [out] = json.loads(res.stdout)["files"]
    assert out["status"] == "posted"
    assert any(x["code"] == "x835-unreadable-segment" and x["severity"] == "error" for x in out["findings"])
