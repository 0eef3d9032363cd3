"""Underpayments end to end: fee schedules loaded, claims built (expected allowed stored with its
basis), a payer's remittance posted, the worklist naming exactly the short lines and why."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from coding.config import load_config
from dripline.cli import app
from reconcile.claims.build import build_claims
from reconcile.ledger.store import connect
from reconcile.posting.post import post_remittances
from reconcile.posting.queries import claim_summaries
from reconcile.posting.records import Adj, RClaim, RLine, RRemit
from reconcile.underpay import UNDERPAYMENT_FIELDS, underpayment_worklist
from tests.reconcile.underpay.support import encounters, load_fee_schedules, write_config

D = Decimal


@pytest.fixture(scope="module")
def built(tmp_path_factory, module_ledger_target):
    tmp = tmp_path_factory.mktemp("under")
    conn = connect(module_ledger_target)
    load_fee_schedules(conn, tmp / "cms")
    cfg = load_config(write_config(tmp))
    res = build_claims([encounters(tmp, ["ENC-001", "ENC-002", "ENC-004"])], cfg, conn, tmp / "out")
    assert not res.refused_anything, [f.message for f in res.findings if f.severity == "error"]
    lines = {
        (r[0], r[1], r[2]): (r[3], r[4])
        for r in conn.execute(
            "SELECT c.patient_control_number, l.code, l.modifiers, l.line_control_number, e.amount"
            " FROM lines l JOIN claims c ON c.id = l.claim_id JOIN expected_allowed e ON e.line_id = l.id"
        )
    }
    yield conn, cfg, lines
    conn.close()


def _medicare_line(code: str, charge: str, allowed: str, lcn: str, units: str, mods=()) -> RLine:
    """A Medicare line paying ``allowed``: 20 % coinsurance, 2 % sequestration, the rest CO-45."""
    a = D(allowed)
    pay = (a * D("0.8")).quantize(D("0.01"))
    seq = (pay * D("0.02")).quantize(D("0.01"))
    coins = a - pay
    return RLine(
        code=code,
        charge=D(charge),
        paid=pay - seq,
        modifiers=tuple(mods),
        units=D(units),
        line_control_number=lcn,
        adjustments=[Adj("PR", "2", coins), Adj("CO", "253", seq), Adj("CO", "45", D(charge) - a)],
    )


def _claim(pcn: str, lines: list[RLine], status: str = "1") -> RClaim:
    charge = sum((ln.charge for ln in lines), D(0))
    paid = sum((ln.paid for ln in lines), D(0))
    pr = sum((a.amount for ln in lines for a in ln.adjustments if a.group == "PR"), D(0))
    return RClaim(pcn, status, charge, paid, pr, payer_claim_number=f"ICN-{pcn}", lines=lines)


def test_expected_allowed_is_stored_with_its_basis_at_build(built):
    conn, _cfg, _lines = built
    rows = {
        r[0]: tuple(r[1:])
        for r in conn.execute(
            "SELECT c.patient_control_number || ' ' || l.code || ' ' || l.modifiers, e.amount, e.basis, e.schedule,"
            " e.prior_amount FROM expected_allowed e JOIN lines l ON l.id = e.line_id JOIN claims c ON c.id = l.claim_id"
        )
    }
    # Medicare 837P drug: ASP 2026Q1 limit 18.215 x 40 units; the previous quarter's limit 17.802 x 40
    assert rows["ENC-001 J1745 JZ"] == ("728.60", "asp", "ASP 2026Q1", "712.08")
    # Medicare 837P service: [(0.21 x 1.007) + (1.95 x 1.005) + (0.03 x 2.295)] x 33.4009 = 74.82
    assert rows["ENC-001 96365 "][:3] == ("74.82", "pfs", "PFS 2026Q1 + GPCI 2026Q1")
    # commercial: ASP+15% = 46.350 / 1.06 x 1.15 x 70 = 3519.98; 140% PFS = 1.4 x 24.28 x 3 = 101.98
    assert rows["ENC-002 J1569 JZ"][:3] == ("3519.98", "contract-asp", "ASP+15% (ASP 2026Q1)")
    assert rows["ENC-002 96366 "][:2] == ("101.98", "contract-pfs")
    # Medicare 837I: OPPS B rate x units; 96366 is packaged (SI N): zero
    assert rows["ENC-004 96365 "][:3] == ("210.50", "opps", "OPPS B 2026Q1")
    assert rows["ENC-004 96366 "][:2] == ("0.00", "opps")
    assert rows["ENC-004 J1745 TB"][:2] == ("637.53", "opps")


def test_claims_list_carries_the_expected_total(built):
    conn, _cfg, _lines = built
    by_pcn = {r["patient_control_number"]: r["expected"] for r in claim_summaries(conn)}
    assert by_pcn["ENC-001"] == D("74.82") + D("24.28") + D("728.60")
    assert by_pcn["ENC-004"] == D("210.50") + D("0.00") + D("637.53") + D("91.08")


@pytest.fixture(scope="module")
def posted(built):
    """The claims paid by Medicare and ACME, some lines short."""
    conn, cfg, lines = built
    lcn = {k: v[0] for k, v in lines.items()}
    medicare = RRemit(
        "00952",
        "MCR-TRACE-1",
        D("0"),
        payer_name="MEDICARE PART B",
        payment_date="2026-04-10",
        claims=[
            _claim(
                "ENC-001",
                [
                    _medicare_line("96365", "350.00", "74.82", lcn[("ENC-001", "96365", "")], "1"),
                    _medicare_line("96366", "95.00", "24.28", lcn[("ENC-001", "96366", "")], "1"),
                    # paid at last quarter's ASP: 17.802 x 40 = 712.08
                    _medicare_line("J1745", "2731.60", "712.08", lcn[("ENC-001", "J1745", "JZ")], "40", ["JZ"]),
                ],
            ),
            _claim(
                "ENC-004",
                [
                    # 0.50 short of 210.50: within the tolerance (1.00)
                    _medicare_line("96365", "350.00", "210.00", lcn[("ENC-004", "96365", "")], "1"),
                    RLine(
                        "96366",
                        D("95.00"),
                        D("0"),
                        units=D(1),
                        line_control_number=lcn[("ENC-004", "96366", "")],
                        adjustments=[Adj("CO", "97", D("95.00"))],
                    ),
                    _medicare_line("J1745", "2390.15", "637.53", lcn[("ENC-004", "J1745", "TB")], "35", ["TB"]),
                    # 5 units billed, 4 paid
                    _medicare_line("J1745", "341.45", "72.86", lcn[("ENC-004", "J1745", "TB:JW")], "4", ["TB", "JW"]),
                ],
            ),
        ],
    )
    medicare.amount = sum((c.paid for c in medicare.claims), D(0))
    acme_lines = [
        # AMT*B6 stated: the allowed amount is the payer's own
        RLine(
            "96365",
            D("350.00"),
            D("104.75"),
            units=D(1),
            line_control_number=lcn[("ENC-002", "96365", "")],
            adjustments=[Adj("CO", "45", D("245.25"))],
        ),
        RLine(
            "96366",
            D("285.00"),
            D("101.98"),
            units=D(3),
            line_control_number=lcn[("ENC-002", "96366", "")],
            adjustments=[Adj("CO", "45", D("183.02"))],
        ),
        # paid at Medicare's ASP + 6 % instead of the contract's ASP + 15 %
        RLine(
            "J1569",
            D("7558.60"),
            D("3244.50"),
            modifiers=("JZ",),
            units=D(70),
            line_control_number=lcn[("ENC-002", "J1569", "JZ")],
            adjustments=[Adj("CO", "45", D("4314.10"))],
        ),
    ]
    acme_lines[0].allowed = D("104.75")
    acme = RRemit(
        "ACME01",
        "ACME-TRACE-1",
        sum((ln.paid for ln in acme_lines), D(0)),
        payer_name="ACME HEALTH PLAN",
        payment_date="2026-04-12",
        claims=[_claim("ENC-002", acme_lines)],
    )
    assert post_remittances(conn, [medicare], path="m.835", sha256="m" * 64).status == "posted"
    assert post_remittances(conn, [acme], path="a.835", sha256="a" * 64).status == "posted"

    return conn, cfg


def test_a_payer_short_on_some_lines_gives_exactly_those_lines(posted):
    conn, cfg = posted
    items = underpayment_worklist(conn, cfg)
    got = [(i["patient_control_number"], i["code"], i["variance"], i["cause"]) for i in items]
    assert got == [
        ("ENC-002", "J1569", "275.48", "wrong-fee-schedule"),
        ("ENC-004", "J1745", "18.22", "units-reduced"),
        ("ENC-001", "J1745", "16.52", "old-fee-schedule"),
    ]
    first = items[0]
    assert set(first) >= {
        "patient_control_number",
        "line_control_number",
        "code",
        "units",
        "expected_allowed",
        "allowed",
        "paid",
        "variance",
        "basis",
        "cause",
        "payer",
    }
    assert (first["expected_allowed"], first["allowed"], first["paid"], first["payer"]) == (
        "3519.98",
        "3244.50",
        "3244.50",
        "commercial",
    )
    old = items[2]
    # Medicare's expected payment on 728.60: 728.60 x 80 % = 582.88, less 2 % sequestration 11.66 = 571.22
    assert (old["allowed"], old["paid"], old["expected_paid"], old["basis"]) == (
        "712.08",
        "558.27",
        "571.22",
        "ASP 2026Q1",
    )
    # the denied line (CO-97) is the denial worklist's, not an underpayment
    assert conn.execute("SELECT count(*) FROM denials WHERE code = '96366'").fetchone()[0] == 1


def test_underpayments_command_json_csv_and_html(posted, module_ledger_target, tmp_path):
    db = module_ledger_target
    cfg_path = write_config(tmp_path)  # the configuration the claims were built with
    runner = CliRunner()
    res = runner.invoke(app, ["underpayments", "--json", "--ledger", db, "--config", str(cfg_path)])
    assert res.exit_code == 0, res.output
    items = json.loads(res.output)["underpayments"]
    assert [(i["code"], i["variance"]) for i in items] == [("J1569", "275.48"), ("J1745", "18.22"), ("J1745", "16.52")]
    res = runner.invoke(app, ["underpayments", "--csv", "--ledger", db, "--config", str(cfg_path)])
    rows = list(csv.reader(io.StringIO(res.output)))
    assert rows[0][:11] == list(UNDERPAYMENT_FIELDS) and len(rows) == 4
    page = tmp_path / "report.html"
    res = runner.invoke(app, ["underpayments", "--html", str(page), "--ledger", db, "--config", str(cfg_path)])
    assert res.exit_code == 0, res.output
    html = page.read_text(encoding="utf-8")
    assert 'id="variance-chart"' in html and 'id="underpayments"' in html and 'id="worklist"' in html
    assert 'data-payer="commercial"' in html and 'data-amount="275.48"' in html
    res = runner.invoke(app, ["underpayments", "--ledger", db, "--config", str(cfg_path)])
    assert res.exit_code == 0 and "old-fee-schedule" in res.output
