"""Claims to the next payer built from a posted primary remittance (coordination of benefits)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from coding.config import load_config
from edi.x12.tokenizer import iter_segments
from reconcile.claims.build import build_claims
from reconcile.claims.secondary import build_secondary
from reconcile.demo.simulate import write_835
from reconcile.ledger import store as L
from reconcile.posting import post_files
from reconcile.posting.matching import PayerDirectory
from reconcile.posting.queries import claim_summaries
from reconcile.posting.records import Adj, RClaim, RLine, RRemit

D = Decimal
ROOT = Path(__file__).resolve().parents[3]
CENT = D("0.01")


def _fixture(eid: str) -> dict[str, Any]:
    data = json.loads((ROOT / "fixtures" / "encounters.json").read_text())
    encs = data["encounters"] if isinstance(data, dict) else data
    return copy.deepcopy(next(e for e in encs if e["id"] == eid))


@pytest.fixture()
def cfg() -> Any:
    return load_config(ROOT / "fixtures" / "dripline.toml")


def _build(tmp_path: Path, ledger: str, cfg: Any, encounters: list[dict[str, Any]]) -> Any:
    src = tmp_path / "enc.json"
    src.write_text(json.dumps({"encounters": encounters}))
    conn = L.connect(ledger)
    res = build_claims([src], cfg, conn, tmp_path / "out")
    assert not res.refused_anything, [f.to_dict() for f in res.findings if f.is_error]
    return conn


def _lines(conn: Any, pcn: str, payer: str) -> list[Any]:
    return conn.execute(
        "SELECT l.* FROM lines l JOIN claims c ON c.id = l.claim_id WHERE c.patient_control_number = ?"
        " AND c.payer = ? ORDER BY l.line_number",
        (pcn, payer),
    ).fetchall()


def _primary_line(ln: Any, kind: str) -> RLine:
    """A primary adjudication of one line: kind 'deductible' (CO-45, PR-1 50.00, PR-2 20 %),
    'coinsurance' (CO-45, PR-2 20 %), 'denied' (CO-50 all, nothing paid)."""
    charge = D(ln["charge"])
    mods = tuple(m for m in ln["modifiers"].split(":") if m)
    if kind == "denied":
        adjs = [Adj("CO", "50", charge)]
        paid = D(0)
    else:
        co = (charge * D("0.3")).quantize(CENT)
        allowed = charge - co
        deductible = min(D("50.00"), allowed) if kind == "deductible" else D(0)
        coins = ((allowed - deductible) * D("0.2")).quantize(CENT)
        adjs = [Adj("CO", "45", co)]
        if deductible:
            adjs.append(Adj("PR", "1", deductible, D(1)))
        adjs.append(Adj("PR", "2", coins))
        paid = allowed - deductible - coins
    return RLine(
        code=ln["code"],
        charge=charge,
        paid=paid,
        modifiers=mods,
        units=D(ln["units"]),
        revenue_code=ln["revenue_code"],
        service_date=ln["service_date"],
        line_control_number=ln["line_control_number"],
        adjustments=adjs,
    )


def _claim(pcn: str, status: str, lines: list[RLine], remarks: list[str] | None = None) -> RClaim:
    pr = sum((a.amount for ln in lines for a in ln.adjustments if a.group == "PR"), D(0))
    return RClaim(
        pcn,
        status,
        sum((ln.charge for ln in lines), D(0)),
        sum((ln.paid for ln in lines), D(0)),
        pr,
        payer_claim_number=f"ICN{pcn}",
        lines=lines,
        remarks=remarks or [],
    )


def _post(conn: Any, cfg: Any, tmp_path: Path, name: str, payer_id: str, payer_name: str, claims: list[RClaim]) -> Any:
    rm = RRemit(
        payer_id,
        f"TR{name}",
        sum((c.paid for c in claims), D(0)),
        payer_name,
        "CHK",
        "2026-04-01",
        claims,
    )
    path = tmp_path / f"{name}.835"
    path.write_text(write_835([rm]))
    return post_files(conn, [path], payers=PayerDirectory.from_config(cfg))


def _status(conn: Any, pcn: str, payer: str) -> str:
    row = conn.execute(
        "SELECT status FROM claims WHERE patient_control_number = ? AND payer = ?", (pcn, payer)
    ).fetchone()
    return str(row[0])


def _segments(path: str) -> list[list[str]]:
    return [[seg.id, *[seg.get(i) for i in range(1, len(seg.elements))]] for seg in iter_segments(Path(path))]


def _with_secondary(eid: str, pcn: str) -> dict[str, Any]:
    enc = _fixture(eid)
    enc["id"] = pcn
    enc["secondary"] = {"payer": "commercial", "member_id": "SUPP778899"}
    return enc


def _primary(conn: Any, pcn: str, kinds: list[str]) -> RClaim:
    lines = _lines(conn, pcn, "medicare")
    return _claim(pcn, "1", [_primary_line(ln, kinds[i % len(kinds)]) for i, ln in enumerate(lines)])


@pytest.mark.parametrize(("eid", "claim_type"), [("ENC-001", "837P"), ("ENC-004", "837I")])
def test_secondary_claim_carries_the_primary_adjudication_to_the_cent(
    tmp_path: Path, cfg: Any, ledger_target: str, eid: str, claim_type: str
) -> None:
    conn = _build(tmp_path, ledger_target, cfg, [_with_secondary(eid, "COB-1")])
    lines = _lines(conn, "COB-1", "medicare")
    assert len(lines) >= 3
    primary = _primary(conn, "COB-1", ["deductible", "denied", "coinsurance"])
    _post(conn, cfg, tmp_path, "mcr", "00952", "MEDICARE PART B", [primary])
    assert _status(conn, "COB-1", "medicare") == "ready_for_secondary"

    res = build_secondary(cfg, conn, tmp_path / "sec")
    assert [f.status for f in res.files] == ["recorded"], [f.to_dict() for f in res.findings if f.is_error]
    assert res.files[0].claim_type == claim_type
    assert any(f.code == "line-not-forwarded" for f in res.findings)
    segs = _segments(res.files[0].path)
    sbr = [s for s in segs if s[0] == "SBR"]
    assert sbr[0][1] == "S" and sbr[1][1] == "P"  # destination SBR, then the 2320 of the primary
    clm = next(s for s in segs if s[0] == "CLM")
    assert clm[1] == "COB-1"
    forwarded = [rl for rl in primary.lines if rl.paid or any(a.group == "PR" for a in rl.adjustments)]
    assert D(clm[2]) == sum((rl.charge for rl in forwarded), D(0))
    amt_d = next(s for s in segs if s[0] == "AMT" and s[1] == "D")
    assert D(amt_d[2]) == sum((rl.paid for rl in forwarded), D(0))
    amt_eaf = next(s for s in segs if s[0] == "AMT" and s[1] == "EAF")
    pr = sum((a.amount for rl in forwarded for a in rl.adjustments if a.group == "PR"), D(0))
    assert D(amt_eaf[2]) == pr
    assert ["NM1", "PR", "2", "MEDICARE PART B", "", "", "", "", "PI", "00952"] in segs
    # every 2430: SVD amounts, units and the CAS exactly as in the 835, in order
    svd_at = [i for i, s in enumerate(segs) if s[0] == "SVD"]
    assert len(svd_at) == len(forwarded)
    for at, rl in zip(svd_at, forwarded):
        svd = segs[at]
        assert svd[1] == "00952" and D(svd[2]) == rl.paid and D(svd[5]) == rl.units
        assert svd[3].split(":")[1] == rl.code
        cas = []
        j = at + 1
        while segs[j][0] == "CAS":
            els = segs[j]
            for k in range(2, len(els), 3):
                if els[k]:
                    qty = els[k + 2] if k + 2 < len(els) and els[k + 2] else None
                    cas.append(Adj(els[1], els[k], D(els[k + 1]), None if qty is None else D(qty)))
            j += 1
        assert cas == rl.adjustments
        assert segs[j][:3] == ["DTP", "573", "D8"] and segs[j][3] == "20260401"
    row = conn.execute(
        "SELECT coverage_order, prior_claim_id, payer FROM claims WHERE patient_control_number = 'COB-1' ORDER BY id"
    ).fetchall()
    assert [tuple(r) for r in row][1][:1] == (2,) and row[1][1] is not None and row[1][2] == "commercial"
    assert _status(conn, "COB-1", "medicare") == "secondary_sent"

    # the secondary pays the remaining coinsurance and deductible: nothing is left for the patient
    sec_lines = _lines(conn, "COB-1", "commercial")
    paid_lines = []
    for rl, ln in zip(forwarded, sec_lines):
        owed = sum((a.amount for a in rl.adjustments if a.group == "PR"), D(0))
        paid_lines.append(
            RLine(
                code=ln["code"],
                charge=D(ln["charge"]),
                paid=owed,
                modifiers=rl.modifiers,
                units=rl.units,
                service_date=ln["service_date"],
                line_control_number=ln["line_control_number"],
                adjustments=[Adj("OA", "23", D(ln["charge"]) - owed)],
            )
        )
    _post(conn, cfg, tmp_path, "sec", "ACME01", "ACME HEALTH PLAN", [_claim("COB-1", "2", paid_lines)])
    summary = {(r["patient_control_number"], r["payer"]): r for r in claim_summaries(conn)}
    primary_row = summary[("COB-1", "medicare")]
    assert primary_row["paid_by_payer"] == {
        "medicare": primary.paid,
        "commercial": pr,
    }
    assert primary_row["patient_balance"] == 0
    assert summary[("COB-1", "commercial")]["status"] == "paid_secondary"


def test_crossover_moves_to_crossed_over_and_builds_nothing(tmp_path: Path, cfg: Any, ledger_target: str) -> None:
    conn = _build(tmp_path, ledger_target, cfg, [_with_secondary("ENC-001", "COB-X")])
    primary = _primary(conn, "COB-X", ["coinsurance"])
    primary.status = "19"
    primary.remarks = ["MA18"]
    res = _post(conn, cfg, tmp_path, "mcr", "00952", "MEDICARE PART B", [primary])
    assert _status(conn, "COB-X", "medicare") == "crossed_over"
    assert any(f.code == "crossed-over" for f in res.files[0].findings)
    built = build_secondary(cfg, conn, tmp_path / "sec")
    assert built.files == [] and any(f.code == "nothing-to-build" for f in built.findings)


def test_crossover_by_nm1_tt(tmp_path: Path, cfg: Any, ledger_target: str) -> None:
    conn = _build(tmp_path, ledger_target, cfg, [_with_secondary("ENC-001", "COB-T")])
    primary = _primary(conn, "COB-T", ["coinsurance"])
    rm = RRemit("00952", "TRTT", primary.paid, "MEDICARE PART B", "CHK", "2026-04-01", [primary])
    text = write_835([rm]).replace(
        "NM1*QC*1*PATIENT*DEMO****MR*COB-T~",
        "NM1*QC*1*PATIENT*DEMO****MR*COB-T~NM1*TT*2*ACME HEALTH PLAN*****PI*ACME01~",
    )
    assert "NM1*TT" in text
    path = tmp_path / "tt.835"
    path.write_text(text)
    post_files(conn, [path], payers=PayerDirectory.from_config(cfg))
    assert _status(conn, "COB-T", "medicare") == "crossed_over"


def test_no_patient_responsibility_or_no_next_payer_stays_as_posted(
    tmp_path: Path, cfg: Any, ledger_target: str
) -> None:
    enc = _fixture("ENC-001")
    enc["id"] = "NOCOB"
    conn = _build(tmp_path, ledger_target, cfg, [enc, _with_secondary("ENC-003", "DENIED")])
    _post(
        conn,
        cfg,
        tmp_path,
        "mcr",
        "00952",
        "MEDICARE PART B",
        [_primary(conn, "NOCOB", ["coinsurance"]), _primary(conn, "DENIED", ["denied"])],
    )
    assert _status(conn, "NOCOB", "medicare") == "paid"
    assert _status(conn, "DENIED", "medicare") == "denied"


def test_tertiary_claim_carries_both_earlier_payers(tmp_path: Path, cfg: Any, ledger_target: str) -> None:
    from dataclasses import replace as dc_replace

    third = dc_replace(cfg.payers["commercial"], name="STATE MEDICAID", payer_id="MCD01", filing_indicator="MC")
    cfg.payers["medicaid"] = third
    enc = _with_secondary("ENC-001", "COB-3")
    enc["tertiary"] = {"payer": "medicaid", "member_id": "MCD5551212"}
    conn = _build(tmp_path, ledger_target, cfg, [enc])
    primary = _primary(conn, "COB-3", ["deductible", "coinsurance"])
    _post(conn, cfg, tmp_path, "mcr", "00952", "MEDICARE PART B", [primary])
    assert build_secondary(cfg, conn, tmp_path / "sec").files[0].status == "recorded"
    # the secondary pays half of what is owed on each line, the rest stays coinsurance
    sec_lines = _lines(conn, "COB-3", "commercial")
    lines = []
    for rl, ln in zip(primary.lines, sec_lines):
        owed = sum((a.amount for a in rl.adjustments if a.group == "PR"), D(0))
        half = (owed / 2).quantize(CENT)
        lines.append(
            RLine(
                code=ln["code"],
                charge=D(ln["charge"]),
                paid=half,
                modifiers=rl.modifiers,
                units=rl.units,
                service_date=ln["service_date"],
                line_control_number=ln["line_control_number"],
                adjustments=[Adj("OA", "23", D(ln["charge"]) - owed), Adj("PR", "2", owed - half)],
            )
        )
    _post(conn, cfg, tmp_path, "sec", "ACME01", "ACME HEALTH PLAN", [_claim("COB-3", "2", lines)])
    assert _status(conn, "COB-3", "commercial") == "ready_for_secondary"
    res = build_secondary(cfg, conn, tmp_path / "ter")
    assert [f.status for f in res.files] == ["recorded"], [f.to_dict() for f in res.findings if f.is_error]
    segs = _segments(res.files[0].path)
    assert [s[1] for s in segs if s[0] == "SBR"] == ["T", "P", "S"]
    assert [s[9] for s in segs if s[0] == "NM1" and s[1] == "PR"] == ["MCD01", "00952", "ACME01"]
    assert {s[1] for s in segs if s[0] == "SVD"} == {"00952", "ACME01"}


def test_primary_reversal_after_secondary_sent_is_flagged(tmp_path: Path, cfg: Any, ledger_target: str) -> None:
    conn = _build(tmp_path, ledger_target, cfg, [_with_secondary("ENC-001", "COB-R")])
    primary = _primary(conn, "COB-R", ["coinsurance"])
    _post(conn, cfg, tmp_path, "mcr", "00952", "MEDICARE PART B", [primary])
    build_secondary(cfg, conn, tmp_path / "sec")
    reversal = RClaim(
        "COB-R",
        "22",
        -primary.charge,
        -primary.paid,
        -primary.patient_responsibility,
        payer_claim_number=primary.payer_claim_number,
        adjustments=[],
        lines=[
            RLine(
                code=rl.code,
                charge=-rl.charge,
                paid=-rl.paid,
                modifiers=rl.modifiers,
                units=rl.units,
                service_date=rl.service_date,
                line_control_number=rl.line_control_number,
                adjustments=[Adj(a.group, a.reason, -a.amount) for a in rl.adjustments],
            )
            for rl in primary.lines
        ],
    )
    res = _post(conn, cfg, tmp_path, "rev", "00952", "MEDICARE PART B", [reversal])
    assert _status(conn, "COB-R", "medicare") == "cob_review"
    assert any(f.code == "primary-changed-after-secondary" for f in res.files[0].findings)


def test_claim_level_only_remittance_gives_a_claim_level_2320(tmp_path: Path, cfg: Any, ledger_target: str) -> None:
    conn = _build(tmp_path, ledger_target, cfg, [_with_secondary("ENC-001", "COB-C")])
    charge = sum((D(ln["charge"]) for ln in _lines(conn, "COB-C", "medicare")), D(0))
    co = (charge * D("0.4")).quantize(CENT)
    pr = ((charge - co) * D("0.2")).quantize(CENT)
    rc = RClaim(
        "COB-C",
        "1",
        charge,
        charge - co - pr,
        pr,
        payer_claim_number="ICNC",
        adjustments=[Adj("CO", "45", co), Adj("PR", "2", pr)],
    )
    _post(conn, cfg, tmp_path, "mcr", "00952", "MEDICARE PART B", [rc])
    assert _status(conn, "COB-C", "medicare") == "ready_for_secondary"
    res = build_secondary(cfg, conn, tmp_path / "sec")
    assert [f.status for f in res.files] == ["recorded"], [f.to_dict() for f in res.findings if f.is_error]
    segs = _segments(res.files[0].path)
    assert not [s for s in segs if s[0] == "SVD"]
    assert ["CAS", "CO", "45", str(co)] in [s[:4] for s in segs] or any(
        s[0] == "CAS" and s[1] == "CO" and D(s[3]) == co for s in segs
    )
    assert D(next(s for s in segs if s[0] == "AMT" and s[1] == "D")[2]) == charge - co - pr


def test_cli_claims_secondary_and_list_json(tmp_path: Path, cfg: Any, ledger_target: str) -> None:
    from typer.testing import CliRunner

    from dripline.cli import app

    conn = _build(tmp_path, ledger_target, cfg, [_with_secondary("ENC-001", "COB-J")])
    primary = _primary(conn, "COB-J", ["deductible"])
    _post(conn, cfg, tmp_path, "mcr", "00952", "MEDICARE PART B", [primary])
    conn.close()
    db = ledger_target
    runner = CliRunner()
    out = runner.invoke(app, ["claims", "secondary", "--out", str(tmp_path / "sec"), "--ledger", db, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert [c["payer"] for c in data["claims"]] == ["commercial"] and data["files"][0]["status"] == "recorded"
    again = runner.invoke(app, ["claims", "secondary", "--out", str(tmp_path / "sec2"), "--ledger", db, "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["files"] == []  # nothing left to bill
    listed = json.loads(runner.invoke(app, ["claims", "list", "--ledger", db, "--json"]).stdout)["claims"]
    row = next(c for c in listed if c["payer"] == "medicare")
    owed = sum((a.amount for rl in primary.lines for a in rl.adjustments if a.group == "PR"), D(0))
    assert row["paid_by_payer"] == {"medicare": str(primary.paid.quantize(CENT))}
    assert D(row["patient_balance"]) == owed and row["status"] == "secondary_sent"
    table = runner.invoke(app, ["claims", "list", "--ledger", db], env={"COLUMNS": "220"}).stdout
    assert "paid by payer" in table and "medicare" in table


def test_correction_of_the_primary_uses_the_primary_payer_claim_number(
    tmp_path: Path, cfg: Any, ledger_target: str
) -> None:
    from reconcile.claims.correct import correction_source

    conn = _build(tmp_path, ledger_target, cfg, [_with_secondary("ENC-001", "COB-F")])
    primary = _primary(conn, "COB-F", ["coinsurance"])
    _post(conn, cfg, tmp_path, "mcr", "00952", "MEDICARE PART B", [primary])
    build_secondary(cfg, conn, tmp_path / "sec")
    conn.execute("UPDATE claims SET payer_claim_number = 'SECICN' WHERE payer = 'commercial'")
    assert correction_source(conn, "COB-F")["payer_claim_number"] == primary.payer_claim_number
    flags = conn.execute(
        "SELECT payer, coverage_order, next_payer FROM claims WHERE patient_control_number = 'COB-F' ORDER BY id"
    ).fetchall()
    assert [tuple(r) for r in flags] == [("medicare", 1, "commercial"), ("commercial", 2, None)]


def test_forwarded_status_without_a_crossover_remark_is_billed_with_a_warning(
    tmp_path: Path, cfg: Any, ledger_target: str
) -> None:
    conn = _build(tmp_path, ledger_target, cfg, [_with_secondary("ENC-001", "COB-W")])
    primary = _primary(conn, "COB-W", ["coinsurance"])
    primary.status = "19"
    primary.remarks = ["N130"]  # a remark, but not one saying the claim was forwarded
    res = _post(conn, cfg, tmp_path, "mcr", "00952", "MEDICARE PART B", [primary])
    assert _status(conn, "COB-W", "medicare") == "ready_for_secondary"
    assert any(f.code == "forwarded-without-remark" for f in res.files[0].findings)
    stored = conn.execute("SELECT crossover, remarks FROM claim_posting_forwards").fetchall()
    assert [tuple(r) for r in stored] == [(None, "N130")]
