"""End to end: `dripline demo` on a fresh workspace, twice, plus the commands around it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dripline.cli import app
from reconcile.demo.run import DEMO_835, DEMO_SECONDARY_835

D = Decimal
runner = CliRunner()


def invoke(*args: str):
    res = runner.invoke(app, list(args))
    return res


def _segments(path: Path) -> list[list[str]]:
    """An independent split of the bundled 835 (it uses ~ and *)."""
    return [s.strip().split("*") for s in path.read_text().split("~") if s.strip()]


def _on_server(target: str) -> bool:
    return target.startswith("postgresql")


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory, module_ledger_target):
    """The demo run twice: in the workspace's own SQLite ledger, then with ``--ledger`` naming a
    PostgreSQL database."""
    ws = tmp_path_factory.mktemp("demo") / "ws"
    ledger = ["--ledger", module_ledger_target] if _on_server(module_ledger_target) else []
    first = invoke("demo", "--workspace", str(ws), *ledger, "--json")
    assert first.exit_code == 0, first.output
    second = invoke("demo", "--workspace", str(ws), *ledger, "--json")
    assert second.exit_code == 0, second.output
    return ws, json.loads(first.stdout), json.loads(second.stdout)


@pytest.fixture(scope="module")
def demo_db(demo_runs, module_ledger_target) -> str:
    """The demo's ledger, as ``--ledger`` names it."""
    ws = demo_runs[0]
    return module_ledger_target if _on_server(module_ledger_target) else str(ws / "dripline.db")


def test_first_run_builds_posts_and_balances(demo_runs):
    _ws, first, _ = demo_runs
    assert first["build"]["files"] and all(f["status"] == "recorded" for f in first["build"]["files"])
    assert {f["claim_type"] for f in first["build"]["files"]} == {"837P", "837I"}
    post = first["posting"]["files"][0]
    assert post["status"] == "posted" and post["unmatched"] == 0 and post["reversals"] == 1
    # every cent of the file is on the ledger: the sum of CLP04 and of PLB amounts, counted independently
    segs = _segments(DEMO_835)
    clp04 = sum(D(s[4]) for s in segs if s[0] == "CLP")
    plb = sum(D(s[i]) for s in segs if s[0] == "PLB" for i in range(4, len(s), 2))
    # the claims list also holds the claim to the secondary payer and what that payer paid
    secondary_clp04 = sum(D(s[4]) for s in _segments(DEMO_SECONDARY_835) if s[0] == "CLP")
    assert clp04 == D(post["paid"])
    assert D(first["totals"]["paid"]) == clp04 + secondary_clp04
    assert D(post["provider_adjustments"]) == plb
    assert D(first["totals"]["balance"]) == 0  # charge - paid - adjusted on every claim
    for c in first["claims"]:
        assert D(c["balance"]) == D(c["charge"]) - D(c["paid"]) - D(c["adjusted"])
    assert first["unmatched"] == []


def test_medicare_claim_is_billed_to_the_secondary_payer_and_closed(demo_runs):
    _ws, first, second = demo_runs
    built = first["secondary"]["build"]
    assert [(f["claim_type"], f["claims"], f["status"], f["errors"]) for f in built["files"]] == [
        ("837I", 1, "recorded", 0)
    ]
    assert [(c["patient_control_number"], c["payer"]) for c in built["claims"]] == [("ENC-004", "commercial")]
    assert any(f["code"] == "line-not-forwarded" for f in built["findings"])  # the CO-4 denied line
    text = Path(built["files"][0]["path"]).read_text().replace("\n", "")
    assert "SBR*S*18" in text and "NM1*PR*2*MEDICARE PART B*****PI*00952~" in text
    posted = first["secondary"]["posting"]["files"][0]
    assert posted["status"] == "posted" and posted["unmatched"] == 0
    rows = [c for c in first["claims"] if c["patient_control_number"] == "ENC-004"]
    assert [(c["payer"], c["status"]) for c in rows] == [
        ("medicare", "secondary_sent"),
        ("commercial", "paid_secondary"),
    ]
    secondary_paid = sum(D(s[4]) for s in _segments(DEMO_SECONDARY_835) if s[0] == "CLP")
    assert rows[0]["paid_by_payer"]["commercial"] == str(secondary_paid)
    assert all(D(c["patient_balance"]) == 0 for c in rows)
    # the second run builds nothing again and the secondary 835 is a duplicate
    assert second["secondary"]["build"] is None
    assert second["secondary"]["posting"]["files"][0]["status"] == "duplicate"


def test_bundled_secondary_835_is_what_the_generator_makes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_demo_835", DEMO_835.parent / "make_demo_835.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.make(tmp_path / "demo.835", tmp_path / "demo_secondary.835")
    assert (tmp_path / "demo_secondary.835").read_text() == DEMO_SECONDARY_835.read_text(), (
        "fixtures/demo_secondary.835 is stale: run fixtures/make_demo_835.py"
    )
    res = invoke("validate", str(DEMO_SECONDARY_835), "--json")
    assert res.exit_code == 0, res.output
    assert [f for f in json.loads(res.stdout)["files"][0]["findings"] if f["severity"] == "error"] == []


def test_worklist_has_the_ndc_and_modifier_denials(demo_runs):
    _ws, first, _ = demo_runs
    items = first["denials"]
    assert [(d["group"], d["carc"]) for d in items] == [("CO", "16"), ("CO", "4")] or {
        (d["group"], d["carc"]) for d in items
    } == {("CO", "16"), ("CO", "4")}
    ndc = next(d for d in items if d["carc"] == "16")
    assert (ndc["rarc"], ndc["category"], ndc["action"]) == ("M119", "missing_information", "corrected_claim")
    mod = next(d for d in items if d["carc"] == "4")
    assert (mod["category"], mod["action"]) == ("coding_modifier", "corrected_claim")
    for d in items:
        assert set(d) >= {
            "patient_control_number",
            "line_control_number",
            "code",
            "group",
            "carc",
            "rarc",
            "amount",
            "category",
            "action",
            "payer",
            "age_days",
        }
        assert d["line_control_number"] and d["code"] and d["payer"]
    amounts = [D(d["amount"]) for d in items]
    assert amounts == sorted(amounts, reverse=True)


def test_the_demo_shows_the_drug_line_paid_at_last_quarters_rate(demo_runs):
    ws, first, second = demo_runs
    # the demo's synthetic ASP files: J1745 10 mg at 38.410 (2026Q1) and 37.620 (2025Q4), 40 units
    assert [
        (u["code"], u["expected_allowed"], u["allowed"], u["variance"], u["cause"]) for u in first["underpayments"]
    ] == [("J1745", "1536.40", "1504.80", "31.60", "old-fee-schedule")]
    assert second["underpayments"] == first["underpayments"]  # run again: the same worklist
    assert first["underpayments"][0]["basis"] == "ASP 2026Q1"
    html = (ws / "denials.html").read_text(encoding="utf-8")
    assert 'id="underpayments"' in html and 'data-amount="31.60"' in html
    # every claim carries the sum of its lines' expected allowed amounts (null: no line has a basis)
    expected = {c["patient_control_number"]: c["expected"] for c in first["claims"]}
    assert expected["ENC-001"] == "1536.40" and None in expected.values()


def test_reversal_nets_to_corrected_payment(demo_runs):
    _ws, first, _ = demo_runs
    segs = _segments(DEMO_835)
    rev = next(s for s in segs if s[0] == "CLP" and s[2] == "22")
    pcn = rev[1]
    payments = [D(s[4]) for s in segs if s[0] == "CLP" and s[1] == pcn]
    assert len(payments) == 3 and payments[0] == -payments[1]  # original, reversal, correction
    claim = next(c for c in first["claims"] if c["patient_control_number"] == pcn)
    assert D(claim["paid"]) == payments[2] and claim["status"] == "paid"
    assert claim["payer_claim_number"] != rev[7]  # the correction's new payer claim number


def test_plb_recoupment_linked_to_its_claim(demo_db):
    from reconcile.ledger.store import connect

    conn = connect(demo_db)
    rows = conn.execute("SELECT reason, kind, claim_id, reference FROM provider_adjustments ORDER BY id").fetchall()
    wo = next(r for r in rows if r[0] == "WO")
    assert wo[1] == "recoupment" and wo[2] is not None
    icn = conn.execute("SELECT payer_claim_number FROM claims WHERE id = ?", (wo[2],)).fetchone()[0]
    assert icn == wo[3]
    assert any(r[0] == "L6" and r[1] == "interest" for r in rows)


def test_second_run_posts_nothing_and_keeps_totals(demo_runs):
    _ws, first, second = demo_runs
    assert second["build"] == {"already_built": len(first["claims"])}
    assert second["posting"]["files"][0]["status"] == "duplicate"
    assert second["posting"]["totals"]["claims"] == 0
    assert second["totals"] == first["totals"]
    assert second["denials"] == first["denials"]


def test_claims_list_and_reports_on_the_demo_ledger(demo_runs, demo_db, tmp_path):
    _ws, first, _ = demo_runs
    db = demo_db
    listed = json.loads(invoke("claims", "list", "--ledger", db, "--json").stdout)["claims"]
    assert {c["patient_control_number"] for c in listed} == {c["patient_control_number"] for c in first["claims"]}
    for c in listed:
        assert {
            "patient_control_number",
            "payer",
            "charge",
            "paid",
            "adjusted",
            "patient_responsibility",
            "balance",
            "status",
        } <= set(c)
    csv_out = invoke("denials", "--ledger", db, "--csv").stdout.splitlines()
    assert csv_out[0].startswith("patient_control_number,line_control_number,code,group,carc,rarc,amount")
    assert len(csv_out) == 1 + len(first["denials"])
    html = tmp_path / "d.html"
    assert invoke("denials", "--ledger", db, "--html", str(html)).exit_code == 0
    assert html.stat().st_mode & 0o777 == 0o600 and b"<svg" in html.read_bytes()
    assert json.loads(invoke("unmatched", "--ledger", db, "--json").stdout) == {"unmatched": []}


def test_claims_correct_builds_a_replacement_with_ref_f8(demo_runs, demo_db, tmp_path):
    _ws, first, _ = demo_runs
    denial = next(d for d in first["denials"] if d["carc"] == "16")
    pcn = denial["patient_control_number"]
    icn = next(c["payer_claim_number"] for c in first["claims"] if c["patient_control_number"] == pcn)
    out = tmp_path / "corr"
    res = invoke("claims", "correct", pcn, "--ledger", demo_db, "--out", str(out), "--json")
    assert res.exit_code == 0, res.output
    built = json.loads(res.stdout)
    assert built["files"][0]["status"] == "recorded" and built["files"][0]["errors"] == 0
    text = Path(built["files"][0]["path"]).read_text()
    assert f"REF*F8*{icn}~" in text.replace("\n", "")
    clm = next(s for s in text.replace("\n", "").split("~") if s.startswith(f"CLM*{pcn}*"))
    assert clm.split("*")[5].endswith(":7")
    void = invoke("claims", "correct", pcn, "--void", "--ledger", demo_db, "--out", str(out), "--json")
    assert void.exit_code == 0, void.output
    vtext = Path(json.loads(void.stdout)["files"][0]["path"]).read_text().replace("\n", "")
    assert next(s for s in vtext.split("~") if s.startswith(f"CLM*{pcn}*")).split("*")[5].endswith(":8")


def test_correct_unknown_claim_is_a_clean_user_error(tmp_path, ledger_target):
    res = invoke("claims", "correct", "NOPE", "--ledger", ledger_target, "--out", str(tmp_path))
    assert res.exit_code == 2 and "NOPE" in res.output and "Traceback" not in res.output


def test_remit_post_cli_json_and_missing_file(tmp_path, ledger_target):
    db = ledger_target
    res = invoke("remit", "post", str(DEMO_835), "--ledger", db, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    # an empty ledger: every claim is kept in the unmatched queue, nothing is dropped
    assert data["totals"]["unmatched"] == data["totals"]["claims"] > 0
    again = json.loads(invoke("remit", "post", str(DEMO_835), "--ledger", db, "--json").stdout)
    assert again["files"][0]["status"] == "duplicate"
    missing = invoke("remit", "post", str(tmp_path / "nope.835"), "--ledger", db)
    assert missing.exit_code == 2 and "Traceback" not in missing.output


def test_bundled_835_is_what_the_generator_makes(tmp_path):
    """fixtures/demo.835 answers the claims the demo builds today (regenerate with make_demo_835.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_demo_835", DEMO_835.parent / "make_demo_835.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fresh = mod.make(tmp_path / "demo.835")
    assert fresh == DEMO_835.read_text(), "fixtures/demo.835 is stale: run fixtures/make_demo_835.py"


def test_bundled_835_validates_with_pyx12_and_balances():
    res = invoke("validate", str(DEMO_835), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    findings = [f for f in data["files"][0]["findings"] if f["severity"] == "error"]
    assert findings == []


def test_correct_without_a_payer_claim_number_names_the_field(tmp_path, ledger_target):
    ws = tmp_path / "ws"
    from coding.config import load_config
    from reconcile.demo.run import run_demo

    run_demo(ws, load_config(), remit=tmp_path / "none.835", ledger=ledger_target)  # claims built, nothing posted
    res = invoke("claims", "correct", "ENC-001", "--ledger", ledger_target, "--out", str(tmp_path))
    assert res.exit_code == 2 and "payer_claim_number" in res.output and "Traceback" not in res.output
    empty = json.loads(invoke("denials", "--ledger", ledger_target, "--json").stdout)
    assert empty == {"denials": []}
