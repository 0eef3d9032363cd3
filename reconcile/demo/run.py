"""``dripline demo``: the whole loop on the bundled fixtures, in a workspace with its own ledger.

Code the bundled encounters, write and validate the 837P/837I files and record them
(:func:`reconcile.claims.build.build_claims`), post the bundled 835 that answers those very claims
(``fixtures/demo.835``), bill the next payer of the claims that have one (a Medicare claim with a
supplemental plan: :func:`reconcile.claims.secondary.build_secondary`) and post that payer's
answer (``fixtures/demo_secondary.835``), and report the posting, the claims and the denial
worklist. Running it
again is safe: the claims are already recorded (not built twice) and the 835 is a duplicate
(nothing posted twice), so the totals stay the same.

:func:`answer_claims` is the payer simulator's policy that produced ``fixtures/demo.835`` (run
``python fixtures/make_demo_835.py`` after changing the fixtures): contractual payments, Medicare
coinsurance and deductible as patient responsibility, a CO-16/M119 NDC denial, a CO-4 modifier
denial, a reversal with its correction in a later payment, and a PLB recoupment plus interest.
Medicare drug lines that the demo's synthetic ASP files (``fixtures/demo_codesets``) price are
allowed at the limit × units, except one paid at the previous quarter's limit: the demo's
underpayment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from coding.config import Config
from coding.findings import Finding
from reconcile.ledger import store as L
from reconcile.ledger.db import Connection, redact_url
from reconcile.posting.records import Adj, RClaim, RLine, RPlb, RRemit

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DEMO_835 = FIXTURES / "demo.835"
DEMO_SECONDARY_835 = FIXTURES / "demo_secondary.835"  # the secondary payer's answer to the claims it was billed
# synthetic ASP-layout files (own numbers, J-codes only) giving the demo's Medicare drug lines an
# expected allowed amount: two quarters, so one line can be paid at the old rate
DEMO_CODESETS = FIXTURES / "demo_codesets"
CENT = Decimal("0.01")
# payer simulator policy (allowed share of the charge, share of the allowed amount paid)
POLICY = {"medicare": (Decimal("0.60"), Decimal("0.80")), "default": (Decimal("0.75"), Decimal("1"))}


def demo_encounter_files() -> list[Path]:
    """The bundled encounters: fixtures/encounters.json plus the home fixtures when present."""
    return [p for p in (FIXTURES / "encounters.json", FIXTURES / "home_encounters.json") if p.is_file()]


@dataclass
class DemoResult:
    workspace: str
    ledger: str
    built: Any = None  # BuildResult, or None when the claims were already recorded
    already_built: int = 0
    posting: Any = None  # PostResult
    secondary: Any = None  # BuildResult of the claims to the next payer (None: none built in this run)
    secondary_posting: Any = None  # PostResult of the next payer's 835 (None: no claim to the next payer)
    claims: list[dict[str, Any]] = field(default_factory=list)
    denials: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    underpayments: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def load_demo_fee_schedules(conn: Connection) -> None:
    """Load the synthetic demo fee schedules into ``conn`` (again: nothing changes)."""
    from reconcile.codesets import load_path

    for p in sorted(DEMO_CODESETS.glob("*.csv")):
        load_path(conn, p)


def run_demo(
    workspace: str | Path,
    cfg: Config,
    remit: Path = DEMO_835,
    secondary_remit: Path = DEMO_SECONDARY_835,
    ledger: str | Path | None = None,
) -> DemoResult:
    """Build (first run only), post the bundled 835 (duplicate on later runs), bill the next payer
    of the claims ready for it and post its 835 (duplicate on later runs), report.

    ``ledger``: the ledger to use (a SQLite path or a PostgreSQL URL); default the workspace's
    ``dripline.db``."""
    from reconcile.claims.build import build_claims
    from reconcile.denials.worklist import denial_worklist
    from reconcile.posting.matching import PayerDirectory
    from reconcile.posting.post import post_files
    from reconcile.posting.queries import claim_summaries, unmatched_queue
    from reconcile.underpay import underpayment_worklist

    ws = Path(workspace)
    ws.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = ws / "dripline.db" if ledger is None else ledger
    conn = L.connect(db)
    res = DemoResult(str(ws), redact_url(db) if isinstance(db, str) else str(db))
    recorded = conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
    load_demo_fee_schedules(conn)
    if recorded:
        res.already_built = int(recorded)
    else:
        res.built = build_claims(demo_encounter_files(), cfg, conn, ws / "claims")
        res.findings.extend(res.built.findings)
    res.posting = post_files(conn, [remit], payers=PayerDirectory.from_config(cfg))
    res.secondary, res.secondary_posting = _bill_next_payer(conn, cfg, ws, secondary_remit)
    res.claims = claim_summaries(conn)
    res.denials = denial_worklist(conn)
    res.unmatched = unmatched_queue(conn)
    res.underpayments = underpayment_worklist(conn, cfg)
    conn.close()
    return res


def _bill_next_payer(conn: Connection, cfg: Config, ws: Path, remit: Path) -> tuple[Any, Any]:
    """Claims to the next payer for every claim ready for one, then that payer's bundled 835."""
    from reconcile.claims.secondary import READY, build_secondary
    from reconcile.posting.matching import PayerDirectory
    from reconcile.posting.post import post_files

    built = None
    if conn.execute("SELECT 1 FROM claims WHERE status = ?", (READY,)).fetchone():
        built = build_secondary(cfg, conn, ws / "claims")
    if not conn.execute("SELECT 1 FROM claims WHERE coverage_order > 1").fetchone():
        return built, None
    return built, post_files(conn, [remit], payers=PayerDirectory.from_config(cfg))


def answer_next_payer(conn: Connection, cfg: Config, pay_date: date) -> list[RRemit]:
    """The secondary payers' remittances: each pays, per line, what the payer before it left to the
    patient (its PR adjustments), the rest being the prior payer's adjudication (OA-23), CLP02 2."""
    claims = {c.pcn + "|" + c.payer: c for c in _ledger_claims(conn)}
    rows = conn.execute(
        "SELECT c.patient_control_number, c.payer, p.patient_control_number FROM claims c"
        " JOIN claims p ON p.id = c.prior_claim_id WHERE c.coverage_order > 1 ORDER BY c.id"
    ).fetchall()
    by_payer: dict[str, list[RClaim]] = {}
    for n, (pcn, payer, _prior) in enumerate(rows, start=1):
        c = claims[pcn + "|" + payer]
        prior = conn.execute(
            "SELECT l.id, l.code || '|' || l.modifiers || '|' || l.service_date || '|' || l.charge,"
            " a.group_code, a.amount FROM claims c"
            " JOIN claims n ON n.prior_claim_id = c.id AND n.patient_control_number = ? AND n.payer = ?"
            " JOIN claim_postings cp ON cp.claim_id = c.id AND cp.status_code != '22' AND cp.reversed_by IS NULL"
            " JOIN line_postings lp ON lp.claim_posting_id = cp.id JOIN lines l ON l.id = lp.line_id"
            " JOIN adjustments a ON a.line_posting_id = lp.id ORDER BY l.line_number, a.id",
            (pcn, payer),
        ).fetchall()
        owed: dict[str, dict[int, Decimal]] = {}  # the prior claim's line (code|modifiers|date|charge) -> PR
        for line_id, key, group, amount in prior:
            per_line = owed.setdefault(key, {})
            per_line[line_id] = per_line.get(line_id, Decimal(0)) + (Decimal(amount) if group == "PR" else 0)
        lines = []
        for ln in c.lines:
            same = owed.get(f"{ln.code}|{':'.join(ln.modifiers)}|{ln.service_date}|{ln.charge}", {})
            paid = same.pop(next(iter(same)), Decimal(0)) if same else Decimal(0)
            lines.append(_rline(ln, paid, [Adj("OA", "23", ln.charge - paid)] if ln.charge != paid else []))
        by_payer.setdefault(payer, []).append(_rclaim(c, lines, f"27{pay_date:%j}{n:07d}", status="2"))
    remits = _remits(by_payer, cfg, pay_date, "S001")
    return remits


# ---------------------------------------------------------------------- the payer simulator policy


def _r(v: Decimal) -> Decimal:
    return v.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class _Line:
    lcn: str
    code: str
    modifiers: tuple[str, ...]
    units: Decimal
    charge: Decimal
    service_date: str
    ndc: str | None


@dataclass
class _Claim:
    pcn: str
    payer: str
    payer_id: str
    claim_type: str
    lines: list[_Line]

    @property
    def charge(self) -> Decimal:
        return sum((ln.charge for ln in self.lines), Decimal(0))


def _ledger_claims(conn: Connection) -> list[_Claim]:
    claims: dict[int, _Claim] = {}
    for r in conn.execute("SELECT id, patient_control_number, payer, payer_id, claim_type FROM claims ORDER BY id"):
        claims[r[0]] = _Claim(r[1], r[2], r[3], r[4], [])
    for r in conn.execute(
        "SELECT claim_id, line_control_number, code, modifiers, units, charge, service_date, ndc"
        " FROM lines ORDER BY claim_id, line_number"
    ):
        claims[r[0]].lines.append(
            _Line(r[1], r[2], tuple(m for m in r[3].split(":") if m), Decimal(r[4]), Decimal(r[5]), r[6], r[7])
        )
    return sorted(claims.values(), key=lambda c: (c.payer, c.claim_type, c.pcn))


def _paid_line(
    ln: _Line, payer: str, deductible: Decimal = Decimal(0), rate: Decimal | None = None, allowed: Decimal | None = None
) -> RLine:
    """A paid line: ``allowed`` (a fee-schedule amount), else the policy's share of the charge."""
    allowed_share, paid_share = POLICY.get(payer, POLICY["default"])
    if allowed is None:
        allowed = _r(ln.charge * (rate or allowed_share))
    ded = min(deductible, allowed)
    paid = _r((allowed - ded) * paid_share)
    adjs = [Adj("CO", "45", ln.charge - allowed)] if ln.charge != allowed else []
    if ded:
        adjs.append(Adj("PR", "1", ded))
    if allowed - ded - paid:
        adjs.append(Adj("PR", "2", allowed - ded - paid))
    return _rline(ln, paid, adjs)


def _rline(ln: _Line, paid: Decimal, adjs: list[Adj], remarks: list[str] | None = None) -> RLine:
    return RLine(
        code=ln.code,
        charge=ln.charge,
        paid=paid,
        modifiers=ln.modifiers,
        units=ln.units,
        service_date=ln.service_date,
        line_control_number=ln.lcn,
        adjustments=adjs,
        remarks=remarks or [],
    )


def _remits(by_payer: dict[str, list[RClaim]], cfg: Config, pay_date: date, trace_suffix: str) -> list[RRemit]:
    """One ACH remittance per payer (sorted by payer key) paying its claims on ``pay_date``."""
    remits = []
    for payer_key in sorted(by_payer):
        prof = cfg.payers.get(payer_key)
        rcs = by_payer[payer_key]
        remits.append(
            RRemit(
                payer_id=prof.payer_id if prof else payer_key,
                trace=f"DEMO{payer_key[:4].upper()}{trace_suffix}",
                amount=sum((rc.paid for rc in rcs), Decimal(0)),
                payer_name=prof.name if prof else payer_key,
                method="ACH",
                payment_date=pay_date.isoformat(),
                claims=rcs,
            )
        )
    return remits


def _rclaim(c: _Claim, lines: list[RLine], icn: str, status: str = "1") -> RClaim:
    pr = sum((a.amount for ln in lines for a in ln.adjustments if a.group == "PR"), Decimal(0))
    return RClaim(
        patient_control_number=c.pcn,
        status=status,
        charge=c.charge,
        paid=sum((ln.paid for ln in lines), Decimal(0)),
        patient_responsibility=pr,
        payer_claim_number=icn,
        frequency="1",
        lines=lines,
    )


def _negate(rc: RClaim, icn: str) -> RClaim:
    """The reversal of an earlier payment: same claim, every amount negated, CLP02 22."""
    lines = [
        RLine(
            code=ln.code,
            charge=-ln.charge,
            paid=-ln.paid,
            modifiers=ln.modifiers,
            units=None if ln.units is None else -ln.units,
            service_date=ln.service_date,
            line_control_number=ln.line_control_number,
            adjustments=[Adj(a.group, a.reason, -a.amount) for a in ln.adjustments],
        )
        for ln in rc.lines
    ]
    return RClaim(
        patient_control_number=rc.patient_control_number,
        status="22",
        charge=-rc.charge,
        paid=-rc.paid,
        patient_responsibility=-rc.patient_responsibility,
        payer_claim_number=icn,
        frequency="1",
        lines=lines,
    )


def _medicare_drug_rates(
    conn: Connection, claims: list[_Claim], used: set[str]
) -> tuple[dict[str, Decimal], str | None]:
    """Allowed amounts of the Medicare drug lines the loaded ASP files price (limit × units),
    one of them (the first on an 837P claim without another role) at the previous quarter's limit."""
    from reconcile.codesets.fees import FeeSchedules
    from reconcile.codesets.lookup import LedgerCodeSets

    fees = FeeSchedules(LedgerCodeSets(conn))
    out: dict[str, Decimal] = {}
    old: str | None = None
    for c in claims:
        if c.payer != "medicare":
            continue
        for ln in c.lines:
            on = date.fromisoformat(ln.service_date)
            lim = fees.asp(ln.code, on)
            if lim is None:
                continue
            prev_day = fees.previous_day("asp", on)
            prev = fees.asp(ln.code, prev_day) if prev_day else None
            if old is None and prev is not None and c.pcn not in used and c.claim_type == "837P":
                old, lim = ln.lcn, prev  # the payer still pays last quarter's rate on this line
            out[ln.lcn] = _r(lim.payment_limit * ln.units)
    return out, old


def answer_claims(conn: Connection, cfg: Config) -> tuple[list[RRemit], date]:
    """The demo payers' remittances for every claim in the ledger (see the module docstring)."""
    claims = _ledger_claims(conn)
    last = max((ln.service_date for c in claims for ln in c.lines), default="2026-01-01")
    pay_date = date.fromisoformat(last) + timedelta(days=30)
    used: set[str] = set()
    ndc_claim = next((c for c in claims if any(ln.ndc for ln in c.lines)), None)
    if ndc_claim:
        used.add(ndc_claim.pcn)
    with_mods = [
        c
        for c in claims
        if c.pcn not in used and any(set(ln.modifiers) & {"JW", "JZ", "59", "XE", "XS", "XU"} for ln in c.lines)
    ]
    other_payer = [c for c in with_mods if ndc_claim is None or c.payer != ndc_claim.payer]
    mod_claim = next(iter(other_payer or with_mods), None)  # another payer when there is one: the chart shows both
    if mod_claim:
        used.add(mod_claim.pcn)
    others = [c for c in claims if c.pcn not in used and c.payer != "medicare"]
    rev_claim = max(others, key=lambda c: c.charge) if others else None
    if rev_claim:
        used.add(rev_claim.pcn)
    full_claim = next((c for c in others if c.pcn not in used), None)
    asp_allowed, _old_rate_line = _medicare_drug_rates(conn, claims, used)
    by_payer: dict[str, list[RClaim]] = {}
    icn_of: dict[str, str] = {}
    deductible_left = True
    for n, c in enumerate(claims, start=1):
        icn = f"26{pay_date:%j}{n:07d}"
        icn_of[c.pcn] = icn
        lines: list[RLine] = []
        for ln in c.lines:
            if c is ndc_claim and ln.ndc and not any(x.remarks for x in lines):
                lines.append(_rline(ln, Decimal(0), [Adj("CO", "16", ln.charge)], ["M119"]))
            elif (
                c is mod_claim
                and set(ln.modifiers) & {"JW", "JZ", "59", "XE", "XS", "XU"}
                and not any(a.reason == "4" for x in lines for a in x.adjustments)
            ):
                lines.append(_rline(ln, Decimal(0), [Adj("CO", "4", ln.charge)]))
            elif c is full_claim:
                lines.append(_rline(ln, ln.charge, []))
            else:
                ded = Decimal(0)
                if c.payer == "medicare" and deductible_left:
                    ded, deductible_left = Decimal("50"), False  # one Part B deductible, on one line
                lines.append(_paid_line(ln, c.payer, ded, allowed=asp_allowed.get(ln.lcn)))
        by_payer.setdefault(c.payer, []).append(_rclaim(c, lines, icn))
    remits = _remits(by_payer, cfg, pay_date, "0001")
    if rev_claim:  # a later payment: reversal + correction, a recoupment and interest
        prof = cfg.payers.get(rev_claim.payer)
        original = next(rc for r in remits for rc in r.claims if rc.patient_control_number == rev_claim.pcn)
        corrected = _rclaim(
            rev_claim,
            [_paid_line(ln, rev_claim.payer, rate=Decimal("0.80")) for ln in rev_claim.lines],
            icn_of[rev_claim.pcn] + "C",
        )
        target = full_claim or rev_claim
        plbs = [
            RPlb("WO", Decimal("25.00"), icn_of[target.pcn], cfg.billing_provider.npi, f"{pay_date.year}-12-31"),
            RPlb("L6", Decimal("-1.23"), None, cfg.billing_provider.npi, f"{pay_date.year}-12-31"),
        ]
        rcs = [_negate(original, original.payer_claim_number or ""), corrected]
        amount = sum((rc.paid for rc in rcs), Decimal(0)) - sum((p.amount for p in plbs), Decimal(0))
        remits.append(
            RRemit(
                payer_id=prof.payer_id if prof else rev_claim.payer,
                trace=f"DEMO{rev_claim.payer[:4].upper()}0002",
                amount=amount,
                payer_name=prof.name if prof else rev_claim.payer,
                method="ACH",
                payment_date=(pay_date + timedelta(days=14)).isoformat(),
                claims=rcs,
                plbs=plbs,
            )
        )
    return remits, pay_date
