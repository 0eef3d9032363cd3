"""Property: random 835s against claims of two payers that share claim numbers.

Files from ``bench/gen835.py`` (balanced; reversals with corrections, denials, lines without REF*6R
matches, PLBs), posted to a ledger holding both payers' claims under the same patient control numbers
and payer claim numbers, plus a payer we never billed and a set paid a second time. No payment may
land on the other payer's claim, and every dollar of every CLP04 and SVC03 is on a claim of its
payer or in the unmatched queue.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from coding.config import parse_config
from reconcile.ledger import store as ledger
from reconcile.posting.matching import PayerDirectory
from reconcile.posting.post import post_files
from tests.reconcile.posting.support import Ledgers
from tests.reconcile.posting.two_payers import PAYERS, build, check_money


def test_no_payment_crosses_payers_and_every_dollar_is_accounted_for(tmp_path_factory, ledgers: Ledgers):
    @settings(max_examples=ledgers.examples(20), deadline=None)
    @given(seed=st.integers(0, 10_000), n=st.integers(1, 40), per_set=st.integers(1, 15))
    def example(seed: int, n: int, per_set: int) -> None:
        tmp = tmp_path_factory.mktemp("two")
        db = ledgers.new()  # one ledger per example (PostgreSQL: a database, dropped at the end)
        try:
            case = build(db, seed, n, per_set)
            f = tmp / "r.835"
            f.write_text(case.text)
            conn = ledger.connect(db)
            res = post_files(conn, [f]).files[0]
            assert res.status == "posted", [x.code for x in res.findings if x.severity == "error"]
            check_money(conn, case)
            assert post_files(conn, [f]).files[0].status == "duplicate"
            check_money(conn, case)
            conn.close()
        finally:
            ledgers.drop(db)

    example()


def test_with_payer_profiles_the_aliases_change_nothing_here(tmp_path, ledger_target):
    """The same checks when posting goes through the configured payer profiles (as the CLI does)."""
    case = build(ledger_target, seed=7, n=60, per_set=20)
    f = tmp_path / "r.835"
    f.write_text(case.text)
    cfg = parse_config(
        {
            "billing_provider": {
                "name": "X",
                "npi": "1234567893",
                "ein": "1",
                "taxonomy": "T",
                "address": {"line1": "a", "city": "b", "state": "IL", "zip": "1"},
            },
            "submitter": {"name": "S", "id": "S"},
            "receiver": {"name": "R", "id": "R"},
            "payers": {k: {"name": name, "payer_id": pid} for k, (name, pid) in PAYERS.items()},
        }
    )
    conn = ledger.connect(ledger_target)
    post_files(conn, [f], payers=PayerDirectory.from_config(cfg))
    check_money(conn, case)
    unmatched = conn.execute("SELECT reason FROM unmatched WHERE kind = 'claim'").fetchall()
    reasons = {r[0] for r in unmatched}
    assert any("another payer" in r for r in reasons) and any("already paid" in r for r in reasons)
