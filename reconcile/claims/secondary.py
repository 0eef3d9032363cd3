"""``claims secondary``: bill the next payer from the previous payer's posted remittance.

Every claim in status ``ready_for_secondary`` (see :mod:`reconcile.posting.cob`) becomes a claim
to the next payer of its encounter (``secondary`` after the primary, ``tertiary`` after the
secondary), written by the same 837 writer with SBR01 ``S``/``T`` and, for every payer before it,
Loop 2320/2330A/2330B (its SBR, claim-level CAS, AMT*D paid, AMT*EAF remaining patient
liability, other subscriber, other payer id and adjudication date) and per line Loop 2430 (SVD
with the procedure and units as adjudicated, the line's CAS exactly as the 835 gave them,
DTP*573). The amounts come from the ledger's postings: the last live (not reversed) posting of
each earlier claim of the chain.

Lines the last payer denied outright (nothing paid, no patient responsibility) are not
forwarded: they are a denial to rework, not a balance for the next payer. The new claim keeps the
patient control number, is recorded with ``coverage_order`` and ``prior_claim_id`` (the claim it
follows), and that claim moves to ``secondary_sent``. Files are validated (pyx12 through the
adapter, our edits including the COB balancing edit) and refused like ``claims build`` files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from coding.config import Config
from coding.findings import Finding, error, info
from coding.model import CodedEncounter, Coverage, Encounter, Patient, ServiceLine
from edi.x837.model import (
    Cas,
    ClaimPlan,
    Coordination,
    InterchangePlan,
    LineAdjudication,
    OtherPayer,
    TransactionPlan,
)
from reconcile.claims.build import BuildResult
from reconcile.ledger import store as L
from reconcile.ledger.db import Connection, Row

READY = "ready_for_secondary"
SENT = "secondary_sent"
RESPONSIBILITY = {1: "P", 2: "S", 3: "T"}
ZERO = Decimal(0)


@dataclass
class _Adjudication:
    """One earlier payer's last live posting of a claim of the chain."""

    claim: Row
    posting: Row
    payment_date: date | None
    claim_cas: list[Cas]
    lines: dict[int, tuple[Row, list[Cas]]]  # ledger line id -> (line posting, its CAS)


def _iso(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _cas(rows: list[Row]) -> list[Cas]:
    return [
        Cas(
            r["group_code"],
            r["reason"],
            Decimal(r["amount"]),
            None if r["quantity"] is None else Decimal(r["quantity"]),
        )
        for r in rows
    ]


def _adjudication(conn: Connection, claim: Row) -> _Adjudication | None:
    """The claim's last live posting (not a reversal, not reversed) with its CAS and lines."""
    cp = conn.execute(
        "SELECT cp.*, p.payment_date FROM claim_postings cp JOIN payments p ON p.id = cp.payment_id"
        " WHERE cp.claim_id = ? AND cp.status_code != '22' AND cp.reversed_by IS NULL ORDER BY cp.id DESC LIMIT 1",
        (claim["id"],),
    ).fetchone()
    if cp is None:
        return None
    claim_cas = _cas(
        conn.execute(
            "SELECT * FROM adjustments WHERE claim_posting_id = ? AND line_posting_id IS NULL ORDER BY id", (cp["id"],)
        ).fetchall()
    )
    lines: dict[int, tuple[Row, list[Cas]]] = {}
    for lp in conn.execute(
        "SELECT * FROM line_postings WHERE claim_posting_id = ? AND line_id IS NOT NULL ORDER BY id", (cp["id"],)
    ).fetchall():
        adjs = conn.execute("SELECT * FROM adjustments WHERE line_posting_id = ? ORDER BY id", (lp["id"],)).fetchall()
        lines[lp["line_id"]] = (lp, _cas(adjs))
    return _Adjudication(claim, cp, _iso(cp["payment_date"]), claim_cas, lines)


def _chain(conn: Connection, claim: Row) -> list[Row]:
    """The claims from the primary to ``claim`` (each linked to the one before by prior_claim_id)."""
    out = [claim]
    seen = {claim["id"]}
    while out[0]["prior_claim_id"] is not None and out[0]["prior_claim_id"] not in seen:
        prior = conn.execute("SELECT * FROM claims WHERE id = ?", (out[0]["prior_claim_id"],)).fetchone()
        if prior is None:
            break
        seen.add(prior["id"])
        out.insert(0, prior)
    return out


def _key(row: Row) -> tuple:
    return (row["service_date"], row["code"], row["modifiers"], row["units"], Decimal(row["charge"]), row["ndc"])


def _line_map(conn: Connection, chain: list[Row]) -> dict[int, list[int]]:
    """Line id of the last claim -> the same line's id in each claim of the chain (claims to a later
    payer copy the lines they forward, so a line is found again by date, code, modifiers, units,
    charge and NDC, in order)."""
    per_claim = [
        conn.execute("SELECT * FROM lines WHERE claim_id = ? ORDER BY line_number", (c["id"],)).fetchall()
        for c in chain
    ]
    out: dict[int, list[int]] = {ln["id"]: [] for ln in per_claim[-1]}
    for rows in per_claim:
        free = list(rows)
        for ln in per_claim[-1]:
            hit = next((r for r in free if _key(r) == _key(ln)), None)
            if hit is not None:
                free.remove(hit)
            out[ln["id"]].append(hit["id"] if hit is not None else 0)
    return out


def _coverage_of(enc: Encounter, order: int) -> Coverage | None:
    covs = enc.coverages
    return covs[order - 1] if 0 < order <= len(covs) else None


def _insured(enc: Encounter, cov: Coverage) -> tuple[Patient, str]:
    """That payer's insured (member id of that payer) and SBR02 relationship code."""
    from edi.x837.write import relationship_code

    if cov.subscriber is None or cov.relationship in ("self", "18"):
        return replace(enc.patient, member_id=cov.member_id), "18"
    return cov.subscriber, relationship_code(cov.relationship)


def _service_line(row: Row) -> ServiceLine:
    return ServiceLine(
        code=row["code"],
        units=int(Decimal(row["units"])),
        service_date=date.fromisoformat(row["service_date"]),
        charge=Decimal(row["charge"]),
        rationale="billed to the next payer from the ledger line",
        modifiers=[m for m in (row["modifiers"] or "").split(":") if m],
        revenue_code=row["revenue_code"],
        ndc=row["ndc"],
        ndc_quantity=None if row["ndc_quantity"] is None else Decimal(row["ndc_quantity"]),
        ndc_unit=row["ndc_unit"],
    )


def _line_adjudication(adj: _Adjudication, payer_id: str, line_row: Row, line_id: int) -> LineAdjudication | None:
    got = adj.lines.get(line_id)
    if got is None:
        return None
    lp, cas = got
    code = lp["code"] or line_row["code"]
    mods = tuple(m for m in (lp["modifiers"] or "").split(":") if m)
    if code == line_row["revenue_code"] or not code:  # SVC01 was the revenue code (NU): send what we billed
        code, mods = line_row["code"], tuple(m for m in (line_row["modifiers"] or "").split(":") if m)
    units = Decimal(lp["units"]) if lp["units"] is not None else Decimal(line_row["units"])
    when = adj.payment_date or date.fromisoformat(line_row["service_date"])
    return LineAdjudication(
        payer_id, Decimal(lp["paid"]), code, mods, units, when, tuple(cas), revenue_code=line_row["revenue_code"]
    )


def coordination_for(
    conn: Connection, claim: Row, enc: Encounter, cfg: Config
) -> tuple[ClaimPlan | None, list[Finding]]:
    """The claim plan for the payer after ``claim``'s, from the chain's postings; or findings why not."""
    pcn = claim["patient_control_number"]
    order = int(claim["coverage_order"] or 1)
    dest = _coverage_of(enc, order + 1)
    if dest is None or dest.payer not in cfg.payers:
        return None, [
            error("no-next-payer", f"claim {pcn}: the encounter names no payer after this one", encounter_id=enc.id)
        ]
    chain = _chain(conn, claim)
    adjs: list[_Adjudication] = []
    for c in chain:
        a = _adjudication(conn, c)
        if a is None:
            return None, [
                error("no-adjudication", f"claim {pcn}: payer {c['payer']} has no live posting", encounter_id=enc.id)
            ]
        adjs.append(a)
    line_ids = _line_map(conn, chain)
    last_rows = conn.execute("SELECT * FROM lines WHERE claim_id = ? ORDER BY line_number", (claim["id"],)).fetchall()
    findings: list[Finding] = []
    kept: list[Row] = []
    last = adjs[-1]
    with_lines = any(a.lines for a in adjs)
    for row in last_rows:
        got = last.lines.get(row["id"])
        if got is not None and not last.claim_cas:
            lp, cas = got
            if Decimal(lp["paid"]) == ZERO and not any(c.group == "PR" and c.amount for c in cas):
                findings.append(
                    info(
                        "line-not-forwarded",
                        f"claim {pcn}: line {row['line_number']} ({row['code']}) was denied by {claim['payer']}"
                        " with nothing owed by the patient; it is a denial to rework, not billed to the next payer",
                        encounter_id=enc.id,
                    )
                )
                continue
        if with_lines and any(line_ids[row["id"]][i] not in a.lines for i, a in enumerate(adjs)):
            return None, [
                error(
                    "line-not-adjudicated",
                    f"claim {pcn}: line {row['line_number']} has no adjudication"
                    " in an earlier payer's remittance; bill it by hand",
                    encounter_id=enc.id,
                )
            ]
        kept.append(row)
    if not kept:
        return None, [
            *findings,
            info("nothing-to-forward", f"claim {pcn}: no line is left for the next payer", encounter_id=enc.id),
        ]
    others: list[OtherPayer] = []
    per_line: list[list[LineAdjudication]] = [[] for _ in kept]
    for i, a in enumerate(adjs):
        c = a.claim
        profile = cfg.payers.get(c["payer"])
        cov = _coverage_of(enc, int(c["coverage_order"] or 1))
        if profile is None or cov is None:
            return None, [
                error("unknown-payer", f"claim {pcn}: payer {c['payer']} is not in the config", encounter_id=enc.id)
            ]
        payer_id = c["payer_id"] or profile.payer_id
        for n, row in enumerate(kept):
            la = _line_adjudication(a, payer_id, row, line_ids[row["id"]][i])
            if la is not None:
                per_line[n].append(la)
        line_adjs = [per_line[n][-1] for n in range(len(kept)) if per_line[n] and per_line[n][-1].payer_id == payer_id]
        # AMT*D is what the payer paid (CLP04) less what it paid on lines not forwarded
        forwarded_ids = {line_ids[row["id"]][i] for row in kept}
        dropped = sum((Decimal(lp["paid"]) for lid, (lp, _c) in a.lines.items() if lid not in forwarded_ids), ZERO)
        paid = Decimal(a.posting["paid"]) - dropped
        liability = sum((x.amount for x in a.claim_cas if x.group == "PR"), ZERO) + sum(
            (x.amount for la in line_adjs for x in la.adjustments if x.group == "PR"), ZERO
        )
        subscriber, rel = _insured(enc, cov)
        others.append(
            OtherPayer(
                responsibility=RESPONSIBILITY.get(int(c["coverage_order"] or 1), "P"),
                relationship=rel,
                filing_indicator=profile.filing_indicator,
                payer_name=profile.name,
                payer_id=payer_id,
                subscriber=subscriber,
                paid=paid,
                remaining_liability=liability,
                adjustments=tuple(a.claim_cas),
                adjudicated=a.payment_date,
                payer_claim_number=a.posting["payer_claim_number"],
            )
        )
    lines = [_service_line(r) for r in kept]
    cob = Coordination(RESPONSIBILITY[order + 1], dest.payer, dest, others, per_line, prior_claim_id=claim["id"])
    coded = CodedEncounter(enc, lines, [])
    part = int(claim["part"] or 0)
    return ClaimPlan(patient_control_number=pcn, coded=coded, lines=lines, part=part, cob=cob), findings


def _encounter(source: str | None, cfg: Config) -> tuple[Encounter | None, list[Finding]]:
    from coding.encounters.loader import validate_encounter

    if not source:
        return None, [error("no-source", "the ledger holds no source encounter for this claim")]
    try:  # numbers as Decimal, as the loader reads them
        raw = json.loads(source, parse_float=Decimal)
    except ValueError:
        return None, [error("no-source", "the ledger's source encounter for this claim is not JSON")]
    return validate_encounter(raw, cfg)


def _bill(
    conn: Connection,
    plan: InterchangePlan,
    prior: dict[int, Row],
    cfg: Config,
    out_dir: Path,
    jobs: int,
    now: datetime,
    result: BuildResult,
) -> None:
    """Write, validate and record one interchange as ``claims build`` does (temporary file renamed
    once recorded, refused with ``*.refused``); the claims it answers move to ``secondary_sent``."""
    from reconcile.claims.build import _build_one

    before = len(result.files)
    _build_one(conn, plan, cfg, out_dir, False, jobs, now, result)
    if len(result.files) > before and result.files[-1].status == "recorded":
        with L.transaction(conn):
            for cp in plan.claims:
                L.set_claim_status(conn, prior[id(cp)]["id"], SENT, "cob", {"isa13": result.files[-1].isa13}, now)


def build_secondary(
    cfg: Config,
    ledger: Connection | str | Path,
    out_dir: str | Path,
    *,
    jobs: int = 1,
    now: datetime | None = None,
) -> BuildResult:
    """Write, validate and record the claims to the next payer of every ``ready_for_secondary`` claim."""
    conn = L.connect(ledger) if isinstance(ledger, (str, Path)) else ledger
    now = now or datetime.now(UTC).replace(microsecond=0)
    result = BuildResult()
    rows = conn.execute(
        "SELECT c.*, e.source FROM claims c LEFT JOIN encounters e ON e.id = c.encounter_row"
        " WHERE c.status = ? ORDER BY c.id",
        (READY,),
    ).fetchall()
    plans: dict[str, InterchangePlan] = {}
    sets: dict[tuple[str, str], TransactionPlan] = {}
    prior: dict[int, Row] = {}
    for row in rows:
        sent = conn.execute(
            "SELECT 1 FROM claims WHERE prior_claim_id = ? AND status != 'rejected'", (row["id"],)
        ).fetchone()
        if sent:  # recorded by an earlier run that stopped before moving the status on
            with L.transaction(conn):
                L.set_claim_status(conn, row["id"], SENT, "cob", None, now)
            continue
        enc, found = _encounter(row["source"], cfg)
        if enc is None:
            result.findings.extend(replace(f, encounter_id=f.encounter_id or row["encounter_id"]) for f in found)
            continue
        cp, found = coordination_for(conn, row, enc, cfg)
        result.findings.extend(found)
        if cp is None:
            continue
        ctype = row["claim_type"]
        plan = plans.setdefault(ctype, InterchangePlan(ctype))
        key = (ctype, cp.payer_key)
        if key not in sets:
            sets[key] = TransactionPlan(cp.payer_key)
            plan.transactions.append(sets[key])
        sets[key].claims.append(cp)
        prior[id(cp)] = row
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    for ctype in ("837P", "837I"):
        if ctype in plans:
            _bill(conn, plans[ctype], prior, cfg, out, jobs, now, result)
    if not plans:
        result.findings.append(info("nothing-to-build", "no claim is ready for the next payer"))
    return result


def to_json(result: BuildResult) -> dict[str, Any]:
    """The result as ``claims secondary --json`` prints it (amounts as strings)."""
    from coding.money import money_str

    data = result.to_dict()
    for c in data["claims"]:
        c["charge"] = money_str(c["charge"])
    return dict(json.loads(json.dumps(data, default=str)))
